"""The model registry: versions, the ``champion``/``challenger`` aliases, and a log
of every alias move.

MLflow does not remember which version held an alias when (mlflow #2169), so
each move is written as a registered-model tag ``alias_log.<time>.<alias>``
holding who/when/why; :func:`live_version_on` answers "which version was live
on date D" from them.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

CHAMPION = "champion"
CHALLENGER = "challenger"
LOG_PREFIX = "alias_log."


def _now() -> datetime:
    return datetime.now(UTC)


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def move_alias(client: MlflowClient, name: str, alias: str, version: str, reason: str,
               forced: bool = False, evidence: dict | None = None) -> dict:
    previous = alias_version(client, name, alias)
    client.set_registered_model_alias(name, alias, str(version))
    at = _now()
    entry = {
        "alias": alias,
        "version": str(version),
        "previous": previous,
        "at": at.isoformat(),
        "by": getpass.getuser(),
        "reason": reason,
        "forced": forced,
        "evidence": evidence or {},
    }
    key = f"{LOG_PREFIX}{at.strftime('%Y%m%dT%H%M%S.%fZ')}.{alias}"
    client.set_registered_model_tag(name, key, json.dumps(entry, sort_keys=True)[:4900])
    return entry


def alias_history(client: MlflowClient, name: str) -> pd.DataFrame:
    rm = client.get_registered_model(name)
    rows = [json.loads(v) for k, v in (rm.tags or {}).items() if k.startswith(LOG_PREFIX)]
    df = pd.DataFrame(rows, columns=["at", "alias", "version", "previous", "by", "reason",
                                     "forced", "evidence"])
    if not df.empty:
        df["at"] = pd.to_datetime(df["at"], utc=True)
        df = df.sort_values("at", kind="stable").reset_index(drop=True)
    return df


def live_version_on(client: MlflowClient, name: str, when, alias: str = CHAMPION) -> str | None:
    """The version that held ``alias`` at time ``when`` (end of day for a date)."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if len(str(when)) <= 10:  # a date: the version live at the end of that day
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    hist = alias_history(client, name)
    hist = hist[(hist["alias"] == alias) & (hist["at"] <= ts)]
    return None if hist.empty else str(hist.iloc[-1]["version"])


def register_version(client: MlflowClient, name: str, model_uri: str, run_id: str,
                     tags: dict | None = None) -> str:
    """Register a new version; it becomes ``challenger``, and ``champion`` when it is
    the first version of the name."""
    import mlflow

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="fakeugc fake-UGC classifier")
    # register_model links the version to its LoggedModel (a REST server insists on it)
    mv = mlflow.register_model(model_uri, name,
                               tags={k: str(v) for k, v in (tags or {}).items()})
    version = str(mv.version)
    move_alias(client, name, CHALLENGER, version, "newly trained version")
    if alias_version(client, name, CHAMPION) is None:
        move_alias(client, name, CHAMPION, version, "first version of the model")
    return str(version)
