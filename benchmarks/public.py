"""Public benchmarks: the real pipeline on CED, Ott and Weibo21 (issue 7).

The same as ``fakeugc benchmark``; kept here beside the other benchmark scripts::

    .venv/bin/python benchmarks/public.py [ott|weibo21|ced|all] [--data ../shared/benchmarks]
        [--quick] [--json FILE] [--no-doc] [--no-mlflow]

Reads each set through the export reader, trains and evaluates with each set's
own protocol (see docs/benchmarks.md), prints a table, writes
docs/benchmarks.json and the results table of docs/benchmarks.md, and logs one
MLflow run per set to the experiment "benchmarks".
"""

from __future__ import annotations

import sys

from fakeugc.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
