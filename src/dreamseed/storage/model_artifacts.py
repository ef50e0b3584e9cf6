"""Versioned trained models in `model_artifacts`: save, list, activate, read the active one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class StoredModel:
    """One stored model version (payload included)."""

    name: str
    version: int
    trained_at: datetime
    format: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    payload: bytes
    sha256: str
    active: bool


_COLUMNS = "name, version, trained_at, format, metrics, params, payload, sha256, active"


def _stored(row: Any) -> StoredModel:
    return StoredModel(
        name=row.name,
        version=int(row.version),
        trained_at=row.trained_at,
        format=row.format,
        metrics=dict(row.metrics),
        params=dict(row.params),
        payload=bytes(row.payload),
        sha256=row.sha256,
        active=bool(row.active),
    )


def save_model(
    connection: Connection,
    name: str,
    model_format: str,
    payload: bytes,
    metrics: dict[str, Any],
    params: dict[str, Any],
) -> int:
    """Store a new version of model `name` (inactive); returns its version number (1, 2, …)."""
    connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('model_artifacts:' || :name))"), {"name": name}
    )
    return int(
        connection.execute(
            text(
                """
                INSERT INTO model_artifacts (name, version, format, metrics, params, payload, sha256)
                SELECT :name, COALESCE(max(version), 0) + 1, :format, CAST(:metrics AS jsonb),
                       CAST(:params AS jsonb), :payload, :sha256
                FROM model_artifacts WHERE name = :name
                RETURNING version
                """
            ),
            {
                "name": name,
                "format": model_format,
                "metrics": json.dumps(metrics, default=str),
                "params": json.dumps(params, default=str),
                "payload": payload,
                "sha256": hashlib.sha256(payload).hexdigest(),
            },
        ).scalar_one()
    )


def activate_model(connection: Connection, name: str, version: int) -> bool:
    """Make `version` the only active version of `name`; False when that version does not exist."""
    exists = connection.execute(
        text("SELECT 1 FROM model_artifacts WHERE name = :name AND version = :version"),
        {"name": name, "version": version},
    ).first()
    if exists is None:
        return False
    connection.execute(
        text(
            "UPDATE model_artifacts SET active = false WHERE name = :name AND active AND version <> :version"
        ),
        {"name": name, "version": version},
    )
    connection.execute(
        text(
            """
            UPDATE model_artifacts SET active = true, activated_at = now()
            WHERE name = :name AND version = :version AND NOT active
            """
        ),
        {"name": name, "version": version},
    )
    return True


def deactivate_models(connection: Connection, name: str) -> int:
    """No active version of `name` any more; returns how many were active (0 or 1)."""
    result = connection.execute(
        text("UPDATE model_artifacts SET active = false WHERE name = :name AND active"), {"name": name}
    )
    return int(result.rowcount or 0)


def read_active_model(connection: Connection, name: str) -> StoredModel | None:
    """The active version of `name`, or None."""
    row = connection.execute(
        text(f"SELECT {_COLUMNS} FROM model_artifacts WHERE name = :name AND active"), {"name": name}
    ).first()
    return _stored(row) if row is not None else None


def read_model(connection: Connection, name: str, version: int) -> StoredModel | None:
    row = connection.execute(
        text(f"SELECT {_COLUMNS} FROM model_artifacts WHERE name = :name AND version = :version"),
        {"name": name, "version": version},
    ).first()
    return _stored(row) if row is not None else None


def list_models(connection: Connection, name: str | None = None) -> list[StoredModel]:
    """Every stored version (of `name` when given), newest first."""
    rows = connection.execute(
        text(
            f"SELECT {_COLUMNS} FROM model_artifacts WHERE (CAST(:name AS text) IS NULL OR name = :name) "
            "ORDER BY name, version DESC"
        ),
        {"name": name},
    ).all()
    return [_stored(row) for row in rows]
