"""Analyst-facing outputs: the nightly HTML report, the review loop, the brand ledger, drift.

Public API used by other commands:

- :func:`psi`, :func:`reference_histogram`, :func:`psi_from_reference`,
  :func:`bucket_counts` + :func:`psi_from_counts` (batch by batch), :func:`psi_table`,
  :func:`drift_payload` (the scorer writes ``drift.json``)
- :func:`verdicts_as_labels` (``fakeugc train`` reads analysts' verdicts as labels)
- :func:`resolve_store_path` (the store: ``$FAKEUGC_STORE`` or ``data/fakeugc.sqlite``)
- :func:`render_report` (``fakeugc report``)
"""

from fakeugc.reports.drift import (
    ALARM,
    WARN,
    bucket_counts,
    classify,
    drift_payload,
    psi,
    psi_from_counts,
    psi_from_reference,
    psi_table,
    reference_histogram,
)
from fakeugc.reports.store import resolve_store_path, verdicts_as_labels


def render_report(*args, **kwargs):
    """See :func:`fakeugc.reports.html.render_report`."""
    from fakeugc.reports.html import render_report as _render

    return _render(*args, **kwargs)


__all__ = [
    "ALARM",
    "WARN",
    "bucket_counts",
    "classify",
    "drift_payload",
    "psi",
    "psi_from_counts",
    "psi_from_reference",
    "psi_table",
    "reference_histogram",
    "render_report",
    "resolve_store_path",
    "verdicts_as_labels",
]
