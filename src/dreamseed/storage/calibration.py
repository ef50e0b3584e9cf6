"""SQL of mirt-calibrate: the window's answers, anchors and the previous item bank; one atomic write.

Reads return pandas frames; `write_calibration` replaces everything one run wrote (keyed by its
run_id) and moves the "latest" tables forward only where this run is at least as recent as what
they hold, so re-running an old date never overwrites newer results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import copy_out_csv, copy_rows, read_frame

# A JSON number in question.meta.irt as float8, NULL when absent or not a number.
_META_NUMBER = "CASE WHEN jsonb_typeof(q.meta #> '{{irt,{key}}}') = 'number' THEN (q.meta #>> '{{irt,{key}}}')::float8 END"


def read_observations(
    connection: Connection,
    first_day: date,
    last_day: date,
    *,
    topic_id: str | None = None,
    subject_id: int | None = None,
    max_obs: int = 0,
    with_times: bool = True,
) -> pd.DataFrame:
    """Answers completed on UTC days first_day..last_day (optionally one topic / one exam_id).

    With ``max_obs`` > 0 only the most recent ``max_obs`` answers are kept. Columns: user_id (str),
    item_id (int64), topic_id (str or None), correct (int8 0/1), and with ``with_times``
    completed_epoch (float, Unix s).
    """
    filters = ""
    if topic_id is not None:
        filters += " AND a.topic_id = :topic_id"
    if subject_id is not None:
        filters += " AND a.exam_id = :subject_id"
    cap = (
        " ORDER BY a.completed_at DESC, a.exam_result_id, a.question_index LIMIT :max_obs"
        if max_obs > 0
        else ""
    )
    times = ", extract(epoch FROM a.completed_at) AS completed_epoch" if with_times else ""
    query = f"""
        SELECT a.user_id, a.item_id, a.topic_id, a.correct::int AS correct{times}
        FROM attempt_fact a
        WHERE a.completed_at >= :start AND a.completed_at < :end{filters}{cap}
    """
    params = {
        "start": first_day,
        "end": last_day + timedelta(days=1),
        "topic_id": topic_id,
        "subject_id": subject_id,
        "max_obs": max_obs,
    }
    frame = copy_out_csv(
        connection,
        query,
        params,
        dtype={"user_id": str, "item_id": "int64", "topic_id": str, "correct": "int8"}
        | ({"completed_epoch": "float64"} if with_times else {}),
    )
    frame["topic_id"] = frame["topic_id"].astype(object).where(frame["topic_id"].notna(), None)
    return frame


def read_anchor_items(connection: Connection) -> pd.DataFrame:
    """Items with parameters in question.meta.irt or tagged "anchor" in question.meta.tags.

    Columns: item_id (int64), topic_id, a, b, c (float, NaN where meta.irt lacks them), model,
    anchor (bool: tagged "anchor").
    """
    frame = read_frame(
        connection,
        f"""
        SELECT q.id AS item_id, q.topic_id,
               {_META_NUMBER.format(key="a")} AS a,
               {_META_NUMBER.format(key="b")} AS b,
               {_META_NUMBER.format(key="c")} AS c,
               q.meta #>> '{{irt,model}}' AS model,
               q.meta @> '{{"tags": ["anchor"]}}'::jsonb AS anchor
        FROM question q
        WHERE q.meta ? 'irt' OR q.meta @> '{{"tags": ["anchor"]}}'::jsonb
        ORDER BY q.id
        """,
    )
    if frame.empty:
        return pd.DataFrame(
            {
                "item_id": pd.Series(dtype="int64"),
                "topic_id": pd.Series(dtype=object),
                **{name: pd.Series(dtype="float64") for name in ("a", "b", "c")},
                "model": pd.Series(dtype=object),
                "anchor": pd.Series(dtype=bool),
            }
        )
    frame[["a", "b", "c"]] = frame[["a", "b", "c"]].astype("float64")
    return frame.astype({"item_id": "int64", "anchor": bool})


def read_previous_items(
    connection: Connection, item_ids: Sequence[str], before: datetime, version: str
) -> pd.DataFrame:
    """Each item's parameters from the latest run of ``version`` fitted before ``before``.

    One index lookup per item (mirt_item_params_history by item_id, fitted_at). Columns: item_id
    (str), model, a, b, c, se_a, se_b, se_c (float), status (str or None), run_id.
    """
    numbers = ", ".join(f"(h.params->>'{key}')::float8 AS {key}" for key in ("a", "b", "c"))
    errors = ", ".join(f"COALESCE((h.params->>'se_{key}')::float8, 0) AS se_{key}" for key in ("a", "b", "c"))
    frame = read_frame(
        connection,
        f"""
        SELECT i.item_id, h.model, {numbers}, {errors}, h.params->>'status' AS status, h.run_id
        FROM unnest(CAST(:item_ids AS text[])) AS i(item_id)
        CROSS JOIN LATERAL (
            SELECT h.model, h.params, h.run_id FROM mirt_item_params_history h
            WHERE h.item_id = i.item_id AND h.fitted_at < :before AND h.version = :version
            ORDER BY h.fitted_at DESC LIMIT 1
        ) h
        ORDER BY i.item_id
        """,
        {"item_ids": list(item_ids), "before": before, "version": version},
    )
    columns = ["item_id", "model", "a", "b", "c", "se_a", "se_b", "se_c", "status", "run_id"]
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    numeric = ["a", "b", "c", "se_a", "se_b", "se_c"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame[columns]


@dataclass(frozen=True)
class CalibrationRun:
    """What one calibration run writes.

    ``items``: item_id (str), model, params (JSON text); ``abilities``: user_id, theta, se;
    ``topic_thetas``: user_id, topic_id, theta, se. All rows carry this run's id, model, version
    and fitted_at.
    """

    run_id: str
    model: str
    version: str
    fitted_at: datetime
    items: pd.DataFrame
    abilities: pd.DataFrame
    topic_thetas: pd.DataFrame
    model_spec: str  # JSON
    metrics: str  # JSON
    update_question_meta: bool = False


def write_calibration(connection: Connection, run: CalibrationRun) -> dict[str, int]:
    """Replace the run's rows in every IRT table and move the latest tables forward (one transaction,
    the caller's). Returns row counts written per table."""
    counts = {
        "mirt_item_params_history": _write_item_history(connection, run),
        "mirt_ability_history": _write_ability_history(connection, run),
        "student_topic_theta_history": _write_topic_history(connection, run),
    }
    counts["mirt_item_params"] = _advance(
        connection,
        """
        INSERT INTO mirt_item_params (item_id, model, params, version, run_id, fitted_at)
        SELECT item_id, model, params, version, run_id, fitted_at FROM mirt_item_params_history
        WHERE run_id = :run_id
        ON CONFLICT (item_id) DO UPDATE SET model = EXCLUDED.model, params = EXCLUDED.params,
            version = EXCLUDED.version, run_id = EXCLUDED.run_id, fitted_at = EXCLUDED.fitted_at
        WHERE mirt_item_params.fitted_at <= EXCLUDED.fitted_at
              AND (mirt_item_params.model, mirt_item_params.params, mirt_item_params.version,
                   mirt_item_params.run_id, mirt_item_params.fitted_at)
                  IS DISTINCT FROM (EXCLUDED.model, EXCLUDED.params, EXCLUDED.version, EXCLUDED.run_id,
                                    EXCLUDED.fitted_at)
        """,
        run,
    )
    counts["mirt_ability"] = _advance(
        connection,
        """
        INSERT INTO mirt_ability (user_id, version, theta, se, model, run_id, fitted_at)
        SELECT user_id, version, theta, se, model, run_id, fitted_at FROM mirt_ability_history
        WHERE fitted_at = :fitted_at AND run_id = :run_id
        ON CONFLICT (user_id, version) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
            model = EXCLUDED.model, run_id = EXCLUDED.run_id, fitted_at = EXCLUDED.fitted_at
        WHERE mirt_ability.fitted_at <= EXCLUDED.fitted_at
              AND (mirt_ability.theta, mirt_ability.se, mirt_ability.model, mirt_ability.run_id,
                   mirt_ability.fitted_at)
                  IS DISTINCT FROM (EXCLUDED.theta, EXCLUDED.se, EXCLUDED.model, EXCLUDED.run_id,
                                    EXCLUDED.fitted_at)
        """,
        run,
    )
    counts["student_topic_theta"] = _advance(
        connection,
        """
        INSERT INTO student_topic_theta (user_id, topic_id, theta, se, model, version, run_id, fitted_at, updated_at)
        SELECT user_id, topic_id, theta, se, :model, :version, run_id, fitted_at, now()
        FROM student_topic_theta_history WHERE fitted_at = :fitted_at AND run_id = :run_id
        ON CONFLICT (user_id, topic_id) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
            model = EXCLUDED.model, version = EXCLUDED.version, run_id = EXCLUDED.run_id,
            fitted_at = EXCLUDED.fitted_at, updated_at = now()
        WHERE student_topic_theta.fitted_at <= EXCLUDED.fitted_at
              AND (student_topic_theta.theta, student_topic_theta.se, student_topic_theta.model,
                   student_topic_theta.version, student_topic_theta.run_id, student_topic_theta.fitted_at)
                  IS DISTINCT FROM (EXCLUDED.theta, EXCLUDED.se, EXCLUDED.model, EXCLUDED.version,
                                    EXCLUDED.run_id, EXCLUDED.fitted_at)
        """,
        run,
    )
    connection.execute(
        text(
            """
            INSERT INTO mirt_fit_meta (run_id, model_spec, metrics, fitted_at)
            VALUES (:run_id, CAST(:model_spec AS jsonb), CAST(:metrics AS jsonb), :fitted_at)
            ON CONFLICT (run_id) DO UPDATE SET model_spec = EXCLUDED.model_spec,
                metrics = EXCLUDED.metrics, fitted_at = EXCLUDED.fitted_at
            """
        ),
        {
            "run_id": run.run_id,
            "model_spec": run.model_spec,
            "metrics": run.metrics,
            "fitted_at": run.fitted_at,
        },
    )
    if run.update_question_meta:
        counts["question"] = _advance(connection, _QUESTION_META, run)
    return counts


# Items whose latest parameters are this run's, written to question.meta.irt (anchors left alone).
_QUESTION_META = """
    UPDATE question q SET meta = jsonb_set(q.meta, '{irt}', jsonb_build_object(
        'a', (p.params->>'a')::float8, 'b', (p.params->>'b')::float8, 'c', (p.params->>'c')::float8,
        'model', p.model, 'version', p.version))
    FROM mirt_item_params p
    WHERE p.run_id = :run_id AND q.id::text = p.item_id
          AND NOT q.meta @> '{"tags": ["anchor"]}'::jsonb
"""


def _advance(connection: Connection, statement: str, run: CalibrationRun) -> int:
    result = connection.execute(
        text(statement),
        {"run_id": run.run_id, "fitted_at": run.fitted_at, "model": run.model, "version": run.version},
    )
    return int(result.rowcount or 0)


def _write_item_history(connection: Connection, run: CalibrationRun) -> int:
    connection.execute(
        text("DELETE FROM mirt_item_params_history WHERE run_id = :run_id"), {"run_id": run.run_id}
    )
    rows = _rows(run.items, ["item_id", "model", "params"])
    return copy_rows(
        connection,
        "COPY mirt_item_params_history (item_id, model, params, run_id, version, fitted_at) FROM STDIN",
        ((*row, run.run_id, run.version, run.fitted_at) for row in rows),
    )


def _write_ability_history(connection: Connection, run: CalibrationRun) -> int:
    connection.execute(
        text("DELETE FROM mirt_ability_history WHERE fitted_at = :fitted_at AND run_id = :run_id"),
        {"run_id": run.run_id, "fitted_at": run.fitted_at},
    )
    rows = _rows(run.abilities, ["user_id", "theta", "se"])
    return copy_rows(
        connection,
        "COPY mirt_ability_history (user_id, theta, se, run_id, model, version, source, fitted_at) FROM STDIN",
        ((*row, run.run_id, run.model, run.version, "calibration", run.fitted_at) for row in rows),
    )


def _write_topic_history(connection: Connection, run: CalibrationRun) -> int:
    connection.execute(
        text("DELETE FROM student_topic_theta_history WHERE fitted_at = :fitted_at AND run_id = :run_id"),
        {"run_id": run.run_id, "fitted_at": run.fitted_at},
    )
    rows = _rows(run.topic_thetas, ["user_id", "topic_id", "theta", "se"])
    return copy_rows(
        connection,
        "COPY student_topic_theta_history (user_id, topic_id, theta, se, run_id, fitted_at) FROM STDIN",
        ((*row, run.run_id, run.fitted_at) for row in rows),
    )


def _rows(frame: pd.DataFrame, columns: list[str]) -> Iterable[tuple[Any, ...]]:
    """Plain Python tuples (numpy scalars converted) of the given columns."""
    return zip(*(frame[name].tolist() for name in columns), strict=True)
