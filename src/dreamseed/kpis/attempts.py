"""The attempts frame, cut to the 56 UTC days ending at ``as_of`` and turned into flat arrays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._inputs import (
    DAY_NS,
    bool_and_known,
    codes_in,
    day_number,
    float_or_nan,
    require_columns,
    user_index,
    utc_nanoseconds,
)

ATTEMPT_COLUMNS = (
    "user_id",
    "item_id",
    "topic_id",
    "correct",
    "response_time_ms",
    "hint_used",
    "completed_at",
    "session_id",
)
LOOKBACK_DAYS = 56
"""The longest window any KPI reads: S's 56 days, and E_t's and R_t's two 28-day windows."""


@dataclass(frozen=True)
class AttemptArrays:
    """Attempts of the computed users in the 56 UTC days ending at ``as_of``, as parallel arrays.

    Every per-attempt array has shape (n_attempts,), in input order. Attempts after ``as_of``,
    before ``as_of`` − 55 days, with a null ``completed_at`` or of users not in ``users`` are gone.
    """

    users: pd.Index
    """The users to compute for (unique, named ``user_id``); codes below index into it."""
    as_of: date
    user: NDArray[np.intp]
    """Position of the attempt's user in ``users``."""
    days_ago: NDArray[np.int64]
    """``as_of`` minus the UTC date of ``completed_at``: 0 (that day) .. 55."""
    completed_ns: NDArray[np.int64]
    """``completed_at`` in nanoseconds since the epoch, UTC."""
    correct: NDArray[np.bool_]
    """Answered correctly (False where unknown)."""
    correct_known: NDArray[np.bool_]
    response_ms: NDArray[np.float64]
    """Response time in ms; NaN where null or negative."""
    hint_used: NDArray[np.float64]
    """1.0 / 0.0; NaN where unknown."""
    item_id: NDArray[Any]
    """The answered item's id, as given (object or integer array)."""
    item_topic: NDArray[np.int64]
    """Code of the (item_id, topic_id) pair (nulls are values of their own)."""
    session: NDArray[np.intp]
    """Code of the attempt's (user, session_id) pair; a null session id counts as the session ""."""
    session_user: NDArray[np.intp]
    """User (position in ``users``) of each session code, shape (n_sessions,)."""

    @property
    def n_users(self) -> int:
        """Number of users computed for."""
        return len(self.users)

    def sessions_in(self, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Number of distinct sessions per user among the attempts where ``mask``, shape (n_users,)."""
        seen = np.bincount(self.session[mask], minlength=len(self.session_user)) > 0
        return _grouped.counts(self.session_user[seen], self.n_users)

    def in_days(self, newest_days_ago: int, oldest_days_ago: int) -> NDArray[np.bool_]:
        """Mask of attempts dated from ``as_of − oldest_days_ago`` to ``as_of − newest_days_ago``."""
        return (self.days_ago >= newest_days_ago) & (self.days_ago <= oldest_days_ago)


def prepare_attempts(
    attempts: pd.DataFrame, users: Iterable[str] | pd.Index | pd.Series, as_of: date
) -> AttemptArrays:
    """Cut ``attempts`` (columns ``ATTEMPT_COLUMNS``) to the users and 56 days ending at ``as_of``.

    ``user_id`` and ``session_id`` may be categorical (faster for 10^7 rows).
    """
    require_columns(attempts, ATTEMPT_COLUMNS, "attempts")
    index = user_index(users)
    user = codes_in(index, attempts["user_id"])
    completed_ns, has_time = utc_nanoseconds(attempts["completed_at"])
    days_ago = day_number(as_of) - np.floor_divide(completed_ns, DAY_NS)
    keep = (user >= 0) & has_time & (days_ago >= 0) & (days_ago < LOOKBACK_DAYS)
    everything = bool(keep.all())

    def kept(column: str) -> pd.Series:
        return attempts[column] if everything else attempts[column][keep]

    correct, correct_known = bool_and_known(kept("correct"))
    hint, hint_known = bool_and_known(kept("hint_used"))
    response_ms = float_or_nan(kept("response_time_ms"))
    session, session_user = _grouped.pair_codes(user[keep], _session_codes(kept("session_id")))
    return AttemptArrays(
        users=index,
        as_of=as_of,
        user=user[keep],
        days_ago=days_ago[keep],
        completed_ns=completed_ns[keep],
        correct=correct,
        correct_known=correct_known,
        response_ms=np.where(response_ms >= 0, response_ms, np.nan),
        hint_used=np.where(hint_known, hint.astype(np.float64), np.nan),
        item_id=kept("item_id").to_numpy(),
        item_topic=_item_topic_codes(kept("item_id"), kept("topic_id")),
        session=session,
        session_user=session_user,
    )


def _item_topic_codes(item_id: pd.Series, topic_id: pd.Series) -> NDArray[np.int64]:
    """Dense codes of the (item_id, topic_id) pairs, nulls kept as values of their own."""
    item, _ = pd.factorize(item_id, use_na_sentinel=False)
    topic, topics = pd.factorize(topic_id, use_na_sentinel=False)
    pair, _ = pd.factorize(item.astype(np.int64) * (len(topics) + 1) + topic)
    return pair.astype(np.int64)


def _session_codes(session_id: pd.Series) -> NDArray[np.int64]:
    """Dense codes of session ids; null ids count as the empty id (as the original did)."""
    if isinstance(session_id.dtype, pd.CategoricalDtype) and session_id.notna().all():
        return session_id.cat.codes.to_numpy().astype(np.int64)
    if session_id.hasnans:
        session_id = session_id.astype(object).fillna("")
    codes, _ = pd.factorize(session_id)
    return codes.astype(np.int64)
