"""The online θ update for every user of a batch, inside the batch's transaction.

The same computation as `POST /api/seedtest/analysis/irt/update-theta`: EAP θ from the user's most
recent answers (at most MAX_ANSWERS within LOOKBACK_DAYS) with the current calibration's items and
population prior, appended to mirt_ability_history as run ``online-<session_id>`` (the user's
latest session of the batch, so a redelivered batch replaces its own rows) and moved into
mirt_ability. Only users with a session the batch inserted or changed are rescored (their answers
are the only ones read): an event already landed (a redelivery) updates nothing. All the users of a
batch are scored at once (`score_many`: one gather and one EAP over a users × grid matrix), with
the same numbers as `OnlineScorer.score` one user at a time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import Connection

from dreamseed.ingest.records import ExamResultRow
from dreamseed.irt import ItemParameters, OnlineScorer, QuadratureGrid
from dreamseed.irt.item_model import stacked_log_table
from dreamseed.storage import irt_service
from dreamseed.storage.online_theta import OnlineTheta, read_recent_answers_of, record_online_thetas
from dreamseed.stream.phases import Phases

MAX_ANSWERS = 1000
LOOKBACK_DAYS = 30  # the HTTP update's default lookback_days
STAMP_CHECK_S = 2.0


@dataclass(frozen=True)
class Bank:
    """A scorer over the current items (None while none are calibrated), its model and change stamp."""

    scorer: OnlineScorer | None
    model: str
    stamp: tuple[Any, ...]
    batch: BatchScorer | None = None


class BatchScorer:
    """EAP θ and SE of many users at once against ``scorer``'s items, grid and prior.

    The bank's stacked [log P; log(1 − P)] table (shape (2J, Q)) is built once as `OnlineScorer`
    builds it. A call maps every answer of every user to its table row at once (``searchsorted``
    over the sorted bank ids), counts them in a sparse users × 2J matrix, multiplies it by the
    table (users × Q log-likelihoods) and takes the posterior mean and SD of all users together.
    Answers to items not in the bank are skipped, as `OnlineScorer.score` skips them.
    """

    def __init__(self, scorer: OnlineScorer) -> None:
        items = scorer.items
        self.grid: QuadratureGrid = scorer.grid
        self.n_items = len(items)
        self.table = stacked_log_table(items.a, items.d, items.c, self.grid.points)
        ids = np.asarray(items.item_id, dtype=np.int64)
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    def score_many(self, answers: dict[str, tuple[list[int], list[bool]]]) -> list[tuple[str, float, float]]:
        """(user, θ, SE) of each user with at least one answer to a bank item, in ``answers``' order."""
        users = list(answers)
        if not users or self.n_items == 0:
            return []
        lengths = np.fromiter((len(items) for items, _ in answers.values()), np.intp, len(users))
        total = int(lengths.sum())
        item_ids = np.fromiter(chain.from_iterable(i for i, _ in answers.values()), np.int64, total)
        correct = np.fromiter(chain.from_iterable(c for _, c in answers.values()), np.bool_, total)
        found = np.minimum(np.searchsorted(self._sorted, item_ids), self.n_items - 1)
        known = self._sorted[found] == item_ids
        rows = self._order[found] + np.where(correct, 0, self.n_items)
        owner = np.repeat(np.arange(len(users)), lengths)
        counts = sparse.csr_matrix(
            (np.ones(int(known.sum())), (owner[known], rows[known])), shape=(len(users), 2 * self.n_items)
        )
        answered = np.bincount(owner[known], minlength=len(users)) > 0
        loglik = np.asarray(counts[answered] @ self.table)
        work = loglik + self.grid.log_weights
        work -= work.max(axis=1, keepdims=True)
        np.exp(work, out=work)
        work /= work.sum(axis=1, keepdims=True)
        mean = work @ self.grid.points
        sd = np.sqrt(np.maximum(work @ (self.grid.points**2) - mean**2, 1e-12))
        scored = [user for user, kept in zip(users, answered.tolist(), strict=True) if kept]
        return list(zip(scored, mean.tolist(), sd.tolist(), strict=True))


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
    scorer = OnlineScorer(items, "EAP", mean, sd)
    return Bank(scorer, model, stamp, BatchScorer(scorer))


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
    connection: Connection,
    bank: Bank,
    sessions: dict[str, str],
    version: str,
    now: datetime,
    phases: Phases | None = None,
) -> int:
    """Rescore and record θ of each user in ``sessions`` (user → session); the number updated."""
    if bank.batch is None or not sessions:
        return 0
    phases = phases or Phases()
    with phases.timed("theta_read"):
        answers = read_recent_answers_of(
            connection, list(sessions), now - timedelta(days=LOOKBACK_DAYS), MAX_ANSWERS
        )
    with phases.timed("theta_score"):
        estimates = [
            OnlineTheta(user, f"online-{sessions[user]}", theta, se)
            for user, theta, se in bank.batch.score_many(answers)
        ]
    with phases.timed("theta_write"):
        record_online_thetas(connection, estimates, model=bank.model, version=version, fitted_at=now)
    return len(estimates)
