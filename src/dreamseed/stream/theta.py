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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import Connection

from dreamseed.ingest.records import ExamResultRow
from dreamseed.irt import OnlineScorer, QuadratureGrid
from dreamseed.irt.item_model import stacked_log_table
from dreamseed.runtime.item_banks import ItemBankCache, load_bank
from dreamseed.storage.online_theta import OnlineTheta, read_recent_answers_of, record_online_thetas
from dreamseed.stream.phases import Phases

MAX_ANSWERS = 1000
LOOKBACK_DAYS = 30  # the HTTP update's default lookback_days
STAMP_CHECK_S = 2.0
BATCH_BANK_KEY = "batch"  # its key among the values of ``ItemBankCache``


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
    """mirt_item_params of ``version``, else the items with parameters in question.meta; numeric ids
    only (the online scorer's bank of ``dreamseed.runtime.item_banks``, with its batch scorer)."""
    bank = load_bank(connection, version, None, default_version)
    if bank.scorer is None:
        return Bank(None, "2PL", bank.stamp)
    return Bank(bank.scorer, bank.model, bank.stamp, BatchScorer(bank.scorer))


class BankCache:
    """The bank of ``version``, held in an ``ItemBankCache`` (the cache the HTTP service uses):
    re-read only when its stamp changed, checked at most every ``STAMP_CHECK_S``."""

    def __init__(self, version: str, default_version: str) -> None:
        self.version, self.default_version = version, default_version
        self._banks = ItemBankCache(STAMP_CHECK_S, default_version=default_version)

    def get(self, connection: Connection) -> Bank:
        return self._banks.value(
            connection,
            self.version,
            BATCH_BANK_KEY,
            lambda c: read_bank(c, self.version, self.default_version),
        )


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
