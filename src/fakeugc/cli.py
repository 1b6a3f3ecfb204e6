"""The ``fakeugc`` command line: a thin layer over the library.

Each command lives in its own module under :mod:`fakeugc.commands` with two
functions, ``register(subparsers)`` and ``run(args) -> int``; this file only
finds them, so adding a command never touches another one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from fakeugc import __version__
from fakeugc.io.reader import ContractError


def build_parser() -> argparse.ArgumentParser:
    import fakeugc.commands as commands_pkg

    parser = argparse.ArgumentParser(
        prog="fakeugc",
        description="Find fake user-generated content (paid seeding) in post exports.",
    )
    parser.add_argument("--version", action="version", version=f"fakeugc {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"fakeugc.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("jieba", "mlflow", "alembic", "urllib3", "py4j", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.run(args) or 0)
    except ContractError as e:
        sys.stderr.write(f"fakeugc {args.command}: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
