"""The online θ update for every user of a batch, inside the batch's transaction.

The same computation as `POST /api/seedtest/analysis/irt/update-theta`: EAP θ from the user's most
recent answers (at most MAX_ANSWERS within LOOKBACK_DAYS) with the current calibration's items and
population prior, appended to mirt_ability_history as run ``online-<session_id>`` (the user's
latest session of the batch, so a redelivered batch replaces its own rows) and moved into
mirt_ability. Only users with a session the batch inserted or changed are rescored: an event
already landed (a redelivery) updates nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection

from dreamseed.ingest.records import ExamResultRow
from dreamseed.irt import ItemParameters, OnlineScorer
from dreamseed.storage import irt_service
from dreamseed.storage.online_theta import OnlineTheta, read_recent_answers_of, record_online_thetas

MAX_ANSWERS = 1000
LOOKBACK_DAYS = 30  # the HTTP update's default lookback_days
STAMP_CHECK_S = 2.0


@dataclass(frozen=True)
class Bank:
    """A scorer over the current items (None while none are calibrated), its model and change stamp."""

    scorer: OnlineScorer | None
    model: str
    stamp: tuple[Any, ...]


def read_bank(connection: Connection, version: str, default_version: str) -> Bank:
    """mirt_item_params of ``version``, else the items with parameters in question.meta; numeric ids only."""
    stamp = irt_service.read_item_bank_stamp(connection, version)
    frame = irt_service.read_item_bank(connection, version)
    if frame.empty and stamp[0] == 0:
        frame = irt_service.read_question_bank(connection, version, version == default_version)
    numeric = frame[frame["item_id"].astype(str).str.fullmatch(r"[0-9]{1,18}")]
    if numeric.empty:
        return Bank(None, "2PL", stamp)
    model = str(numeric["model"].mode().iloc[0]) if numeric["model"].notna().any() else "2PL"
    items = ItemParameters.from_arrays(
        numeric["item_id"].astype(np.int64).to_numpy(),
        numeric["a"].to_numpy(dtype=np.float64),
        numeric["b"].to_numpy(dtype=np.float64),
        numeric["c"].to_numpy(dtype=np.float64),
    )
    mean, sd = irt_service.read_population(connection, version) or (0.0, 1.0)
    return Bank(OnlineScorer(items, "EAP", mean, sd), model, stamp)


class BankCache:
    """The bank, re-read only when its stamp changed (checked at most every ``STAMP_CHECK_S``)."""

    def __init__(self, version: str, default_version: str) -> None:
        self.version, self.default_version = version, default_version
        self._bank: Bank | None = None
        self._checked_at = 0.0

    def get(self, connection: Connection) -> Bank:
        now = time.monotonic()
        if self._bank is not None and now - self._checked_at < STAMP_CHECK_S:
            return self._bank
        if (
            self._bank is None
            or irt_service.read_item_bank_stamp(connection, self.version) != self._bank.stamp
        ):
            self._bank = read_bank(connection, self.version, self.default_version)
        self._checked_at = now
        return self._bank


def landed_rows(rows: Sequence[ExamResultRow], stored: dict[str, datetime]) -> list[ExamResultRow]:
    """The rows the loader will write: sessions not stored, or stored with an older updated_at."""
    return [row for row in rows if row.session_id not in stored or row.updated_at > stored[row.session_id]]


def latest_session_per_user(rows: Sequence[ExamResultRow]) -> dict[str, str]:
    """Each user's latest session among ``rows`` (by updated_at, then position)."""
    latest: dict[str, ExamResultRow] = {}
    for row in rows:
        seen = latest.get(row.user_id)
        if seen is None or (row.updated_at, row.line_no) > (seen.updated_at, seen.line_no):
            latest[row.user_id] = row
    return {user: row.session_id for user, row in latest.items()}


def update_thetas(
    connection: Connection, bank: Bank, sessions: dict[str, str], version: str, now: datetime
) -> int:
    """Rescore and record θ of each user in ``sessions`` (user → session); the number updated."""
    if bank.scorer is None or not sessions:
        return 0
    answers = read_recent_answers_of(
        connection, list(sessions), now - timedelta(days=LOOKBACK_DAYS), MAX_ANSWERS
    )
    estimates = []
    for user, (items, correct) in answers.items():
        estimate = bank.scorer.score(items, correct)
        if estimate.n_responses:
            estimates.append(OnlineTheta(user, f"online-{sessions[user]}", estimate.theta, estimate.se))
    record_online_thetas(connection, estimates, model=bank.model, version=version, fitted_at=now)
    return len(estimates)
