"""Readers and writers: the only code that knows paths and file formats."""

from fakeugc.io.reader import (
    ContractError,
    Export,
    TableStats,
    discover_exports,
    read_export,
    read_exports,
)

__all__ = ["ContractError", "Export", "TableStats", "discover_exports", "read_export", "read_exports"]
