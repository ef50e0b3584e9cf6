"""SQL of the online θ update for many users at once (the stream consumer's batches).

The same reads and writes as the HTTP update (`dreamseed.storage.irt_service`), set-based: one
statement reads the recent answers of every user of a batch, one writes their θ rows. Unlike the
HTTP path the write keeps ``synchronous_commit``: it commits with the batch's sessions, and the
batch is acknowledged to the broker only after that commit is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class OnlineTheta:
    """One user's rescored θ, written as history row ``run_id`` and as the current ability."""

    user_id: str
    run_id: str
    theta: float
    se: float


def read_stored_versions(connection: Connection, session_ids: Sequence[str]) -> dict[str, datetime]:
    """updated_at of the stored exam_results among ``session_ids`` (one index probe per id)."""
    rows = connection.execute(
        text("SELECT session_id, updated_at FROM exam_results WHERE session_id = ANY(:sessions)"),
        {"sessions": list(session_ids)},
    )
    return {str(row[0]): row[1] for row in rows}


def read_recent_answers_of(
    connection: Connection, user_ids: Sequence[str], since: datetime, limit: int
) -> dict[str, tuple[list[int], list[bool]]]:
    """Per user: item ids and correctness of their most recent ``limit`` answers completed at or after
    ``since`` (one range scan of attempt_fact's (user_id, completed_at) index per user, one statement)."""
    rows = connection.execute(
        text(
            """
            SELECT users.user_id, recent.items, recent.correct
            FROM unnest(CAST(:users AS text[])) AS users(user_id)
            CROSS JOIN LATERAL (
                SELECT array_agg(item_id) AS items, array_agg(correct) AS correct FROM (
                    SELECT item_id, correct FROM attempt_fact
                    WHERE user_id = users.user_id AND completed_at >= :since
                    ORDER BY completed_at DESC LIMIT :limit
                ) latest
            ) recent
            """
        ),
        {"users": list(user_ids), "since": since, "limit": limit},
    )
    return {user: (list(items or []), list(correct or [])) for user, items, correct in rows}


def record_online_thetas(
    connection: Connection, estimates: Sequence[OnlineTheta], *, model: str, version: str, fitted_at: datetime
) -> None:
    """Append (or, for the same run_id, replace) θ history rows with source 'online' and move
    mirt_ability forward unless it holds something newer: two statements for the whole batch."""
    if not estimates:
        return
    arrays = {
        "users": [e.user_id for e in estimates],
        "runs": [e.run_id for e in estimates],
        "thetas": [e.theta for e in estimates],
        "ses": [e.se for e in estimates],
        "model": model,
        "version": version,
        "fitted_at": fitted_at,
    }
    rows = """
        SELECT * FROM unnest(CAST(:users AS text[]), CAST(:runs AS text[]), CAST(:thetas AS float8[]),
                             CAST(:ses AS float8[])) AS t(user_id, run_id, theta, se)
    """
    connection.execute(
        text(
            f"""
            INSERT INTO mirt_ability_history (user_id, run_id, theta, se, model, version, source, fitted_at)
            SELECT user_id, run_id, theta, se, :model, :version, 'online', :fitted_at FROM ({rows}) t
            ON CONFLICT (user_id, run_id) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
                model = EXCLUDED.model, version = EXCLUDED.version, source = EXCLUDED.source,
                fitted_at = EXCLUDED.fitted_at
            """
        ),
        arrays,
    )
    connection.execute(
        text(
            f"""
            INSERT INTO mirt_ability (user_id, version, theta, se, model, run_id, fitted_at)
            SELECT user_id, :version, theta, se, :model, run_id, :fitted_at FROM ({rows}) t
            ON CONFLICT (user_id, version) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
                model = EXCLUDED.model, run_id = EXCLUDED.run_id, fitted_at = EXCLUDED.fitted_at
            WHERE mirt_ability.fitted_at <= EXCLUDED.fitted_at
            """
        ),
        arrays,
    )
