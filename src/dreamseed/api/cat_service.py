"""What the adaptive next-item and answer endpoints compute: the CAT core over the current bank,
with the session's state in ``cat_events`` (PostgreSQL, so a session survives a restart and may
move between replicas).

The bank of a version is mirt_item_params (with question.topic_id as the topic), turned into a
``dreamseed.cat.ItemBank`` once and held in the process's item bank cache
(``dreamseed.runtime.item_banks``, the one update-theta uses): reloaded only when the parameters
change. Sympson–Hetter K comes from the
K.csv of ``dreamseed cat exposure`` (CAT_EXPOSURE_PARAMETERS), read with the bank, as are the
items tagged retired (never served) and anchor (kept out when CAT_EXCLUDE_ANCHORS).

A session starts from the student's stored θ (mirt_ability of the version: the latest online or
calibrated value) when there is one, else from the population prior N(0, 1); the start is kept on
the session's rows so every later step scores with the same prior N(start θ, 1). Items the student
answered in the last CAT_EXCLUDE_ANSWERED_DAYS days (exams or other adaptive sessions) are not
served; that is one indexed statement per next-item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from fastapi import HTTPException
from sqlalchemy import Connection

from dreamseed.cat import CatInputError, EmptyTopicError, ItemBank, NextItem, Policy, estimate, next_item
from dreamseed.runtime.item_banks import ItemBankCache
from dreamseed.settings import Settings
from dreamseed.storage import cat_store

PolicyName = Literal["test", "practice"]
CAT_BANK_KEY = "cat"  # its key among the values of ``ItemBankCache``


@dataclass(frozen=True, eq=False)
class CatBank:
    """The bank of a version (None when it has no calibrated items), item id → bank index, the
    Sympson–Hetter K per bank index (None unless CAT_EXPOSURE=sympson-hetter), and the bank
    indices of items tagged retired and anchor in question.meta."""

    bank: ItemBank | None
    index: dict[str, int]
    k: npt.NDArray[np.float64] | None
    retired: frozenset[int] = frozenset()
    anchors: frozenset[int] = frozenset()


def load_cat_bank(connection: Connection, version: str, settings: Settings) -> CatBank:
    """Read the bank of ``version`` now (and K when Sympson–Hetter is configured)."""
    frame = cat_store.read_cat_bank(connection, version)
    if frame.empty:
        return CatBank(None, {}, None)
    ids = frame["item_id"].astype(str).to_numpy(dtype=object)
    bank = ItemBank.from_arrays(ids, frame["a"], frame["b"], frame["c"], frame["topic"])
    index = {str(item): k for k, item in enumerate(ids)}
    k = (
        exposure_parameters(settings.cat_exposure_parameters, ids)
        if settings.cat_exposure == "sympson-hetter"
        else None
    )
    retired = frozenset(np.flatnonzero(frame["retired"].to_numpy(bool)).tolist())
    anchors = frozenset(np.flatnonzero(frame["anchor"].to_numpy(bool)).tolist())
    return CatBank(bank, index, k, retired, anchors)


def exposure_parameters(path: Path | None, item_ids: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """K per item from a K.csv (item_id,k); items it does not list get 1. 503 when unreadable."""
    if path is None:
        raise HTTPException(503, "CAT_EXPOSURE=sympson-hetter needs CAT_EXPOSURE_PARAMETERS (a K.csv)")
    try:
        frame = pd.read_csv(path, dtype={"item_id": str})
        k = pd.to_numeric(frame.set_index("item_id")["k"], errors="raise")
    except (OSError, KeyError, ValueError, pd.errors.ParserError) as error:
        raise HTTPException(503, f"CAT_EXPOSURE_PARAMETERS {path}: {error}") from None
    values = k[~k.index.duplicated()].reindex(pd.Index(item_ids.astype(str))).fillna(1.0).to_numpy(np.float64)
    return np.clip(values, 0.0, 1.0)


def cat_bank(banks: ItemBankCache, connection: Connection, settings: Settings) -> CatBank:
    """The CAT bank of MIRT_VERSION from the process's item bank cache (reloaded when the bank changed)."""
    version = settings.mirt_version
    return banks.value(connection, version, CAT_BANK_KEY, lambda c: load_cat_bank(c, version, settings))


@dataclass(frozen=True)
class NextItemAsk:
    """A validated next-item request (answers_so_far: (item_id, correct) pairs, or None;
    exclude_answered_days None: CAT_EXCLUDE_ANSWERED_DAYS; start "auto": the stored θ if any)."""

    user_id: str
    session_id: str
    policy: PolicyName
    topic: str | None
    answers_so_far: Sequence[tuple[str, bool]] | None
    max_items: int | None
    target_p: float | None
    exclude_answered_days: int | None = None
    start: Literal["auto", "prior"] = "auto"


@dataclass(frozen=True)
class Start:
    """Where a session starts: ``kind`` "stored" (the student's θ) or "prior"; ``theta`` the mean
    of the session's N(theta, 1) prior (θ units)."""

    kind: Literal["stored", "prior"]
    theta: float


START_THETA_LIMIT = 4.0  # a stored θ beyond ±4 starts at ±4 (the edge of the population scale)
Served = Sequence[tuple[str, bool | None]]  # a session's (item_id, answer or None) in serving order


@dataclass(frozen=True)
class SessionState:
    """What next-item reads before choosing: the session's items served so far (``Served``), the
    items whose Sympson–Hetter lottery failed in it, its start (None before its first item), the
    student's stored θ (None when there is none or the session has started), whether the platform
    knows the user, and the items answered in the exclusion window (empty when it is off)."""

    served: Served
    rejected: frozenset[str]
    start: Start | None
    stored_theta: float | None
    known: bool
    recent: Sequence[str]


@dataclass(frozen=True)
class ServedStep:
    """What next-item answers, and the cat_events row to insert (None when the session stops)."""

    answer: dict[str, Any]
    event: dict[str, Any] | None


@dataclass(frozen=True)
class AnsweredStep:
    """What answer answers, and the keyword arguments of ``cat_store.record_answer``."""

    answer: dict[str, Any]
    values: dict[str, Any]


def exclusion_since(ask: NextItemAsk, settings: Settings) -> datetime | None:
    """The start of the "answered within N days" window (None when N is 0: no exclusion)."""
    days = (
        settings.cat_exclude_answered_days if ask.exclude_answered_days is None else ask.exclude_answered_days
    )
    return datetime.now(UTC) - timedelta(days=days) if days > 0 else None


def read_state(connection: Connection, ask: NextItemAsk, settings: Settings) -> SessionState:
    """The session's state from cat_events, mirt_ability and the answered-items window."""
    served = cat_store.read_session(connection, ask.user_id, ask.session_id)
    start, stored, known = None, None, True
    if served:
        start = Start("stored" if served[0].start == "stored" else "prior", served[0].prior_mean)
    else:
        row = cat_store.read_stored_theta(connection, ask.user_id, settings.mirt_version)
        stored = None if row is None else row.theta
        known = row is not None or cat_store.user_is_known(connection, ask.user_id)
    since = exclusion_since(ask, settings)
    recent = (
        []
        if since is None
        else cat_store.read_recently_answered(connection, ask.user_id, since, ask.session_id)
    )
    rejected = frozenset(r for s in served for r in s.rejected)
    return SessionState([(s.item_id, s.correct) for s in served], rejected, start, stored, known, recent)


def serve_next_item(
    connection: Connection, cat: CatBank, ask: NextItemAsk, settings: Settings
) -> dict[str, Any]:
    """Choose the next item of a session and record it in cat_events (nothing when stopping)."""
    _bank_of(cat, settings)
    step = choose_next_item(cat, ask, read_state(connection, ask, settings), settings)
    if step.event is not None and not cat_store.record_served(connection, step.event):
        raise served_conflict(step.event)
    return step.answer


def served_conflict(event: dict[str, Any]) -> HTTPException:
    """The 409 when the insert found the item already served (a concurrent request)."""
    return HTTPException(
        409, f"item {event['item_id']!r} was just served in this session by another request; retry"
    )


def choose_next_item(cat: CatBank, ask: NextItemAsk, state: SessionState, settings: Settings) -> ServedStep:
    """The next item of a session in ``state`` (no I/O): HTTPException 400/404/409/503 as the route
    answers them."""
    bank = _bank_of(cat, settings)
    start = _start_of(ask, state)
    if ask.answers_so_far is None:
        answers = [(cat.index[i], bool(c)) for i, c in state.served if c is not None and i in cat.index]
    else:
        answers = _answers_of(cat, ask.answers_so_far)
    ruled_out = _ruled_out(cat, state, {item for item, _ in answers})
    excluded = _excluded(cat, state, settings)
    policy = _policy(cat, ask, settings, frozenset().union(*excluded.values()), start.theta)
    try:
        step = next_item(bank, answers, policy, np.random.default_rng(), ruled_out)
    except EmptyTopicError as error:
        raise HTTPException(404, str(error)) from None
    except CatInputError as error:
        raise HTTPException(400, str(error)) from None
    topic = None if step.item is None else bank.topic[step.item] or None
    if step.n_answered == 0:
        step = replace(step, reason=f"{step.reason}; {_start_text(start)}")
    event = None if step.item is None else _event(ask, step, topic, start, settings.mirt_version, bank)
    counts = {name: len(items) for name, items in excluded.items()}
    answer = _next_item_answer(ask, step, topic, settings.mirt_version) | {
        "start": start.kind, "start_theta": start.theta, "excluded": counts,
    }  # fmt: skip
    return ServedStep(answer, event)


def _start_of(ask: NextItemAsk, state: SessionState) -> Start:
    """The session's start: kept on its rows once an item is served, else the stored θ (404 for a
    user the platform does not know)."""
    if state.start is not None:
        return state.start
    stored = state.stored_theta
    if stored is None and not state.known:
        raise HTTPException(404, f"unknown user {ask.user_id!r}: no sessions, answers or abilities")
    if ask.start == "prior" or stored is None or not math.isfinite(stored):
        return Start("prior", 0.0)
    return Start("stored", float(np.clip(stored, -START_THETA_LIMIT, START_THETA_LIMIT)))


def _start_text(start: Start) -> str:
    if start.kind == "stored":
        return f"started from the student's stored θ {start.theta:+.2f}"
    return "started from the prior θ 0 (no stored θ)"


def _excluded(cat: CatBank, state: SessionState, settings: Settings) -> dict[str, frozenset[int]]:
    """Bank indices kept out of this session, by why: answered in the last N days, retired, anchors."""
    recent = frozenset(cat.index[i] for i in state.recent if i in cat.index)
    anchors = cat.anchors if settings.cat_exclude_anchors else frozenset()
    return {"answered_recently": recent, "retired": cat.retired, "anchors": anchors}


def _bank_of(cat: CatBank, settings: Settings) -> ItemBank:
    if cat.bank is None:
        raise HTTPException(
            409, f"the item bank of version {settings.mirt_version!r} is empty: run mirt-calibrate first"
        )
    return cat.bank


def _answers_of(cat: CatBank, given: Sequence[tuple[str, bool]]) -> list[tuple[int, bool]]:
    answers, seen = [], set()
    for k, (item_id, correct) in enumerate(given):
        if item_id not in cat.index:
            raise HTTPException(400, f"answers_so_far[{k}]: item {item_id!r} is not in the item bank")
        if item_id in seen:
            raise HTTPException(400, f"answers_so_far[{k}]: item {item_id!r} is answered twice")
        seen.add(item_id)
        answers.append((cat.index[item_id], correct))
    return answers


def _ruled_out(cat: CatBank, state: SessionState, answered: set[int]) -> list[int]:
    """Items served but not answered (never served twice) and every Sympson–Hetter rejection."""
    out = {cat.index[i] for i, _ in state.served if i in cat.index} - answered
    out.update(cat.index[r] for r in state.rejected if r in cat.index)
    return sorted(out)


def _policy(
    cat: CatBank, ask: NextItemAsk, settings: Settings, excluded: frozenset[int], prior_mean: float
) -> Policy:
    max_items = min(ask.max_items or settings.cat_max_items, settings.cat_max_items)
    try:
        return Policy(
            ask.policy, target_p=ask.target_p or settings.cat_target_p, topic=ask.topic,
            excluded=excluded, exposure=settings.cat_exposure, randomesque_k=settings.cat_randomesque_k,
            exposure_parameters=cat.k, se_stop=settings.cat_se_stop or None, max_items=max_items,
            prior_mean=prior_mean,
        )  # fmt: skip
    except CatInputError as error:
        raise HTTPException(400, str(error)) from None


def _event(
    ask: NextItemAsk, step: NextItem, topic: str | None, start: Start, version: str, bank: ItemBank
) -> dict[str, Any]:
    ids = bank.items.item_id
    return {
        "user_id": ask.user_id, "session_id": ask.session_id, "item_id": str(step.item_id),
        "position": step.n_answered, "topic_id": topic, "policy": ask.policy, "reason": step.reason,
        "theta_before": step.theta, "se_before": step.se, "rejected": [str(ids[r]) for r in step.rejected],
        "version": version, "served_at": datetime.now(UTC), "start": start.kind, "prior_mean": start.theta,
    }  # fmt: skip


def _next_item_answer(ask: NextItemAsk, step: NextItem, topic: str | None, version: str) -> dict[str, Any]:
    return {
        "status": "stop" if step.stop else "item",
        "user_id": ask.user_id,
        "session_id": ask.session_id,
        "policy": ask.policy,
        "item_id": None if step.item_id is None else str(step.item_id),
        "topic": topic,
        "reason": step.reason,
        "theta": step.theta,
        "se": step.se,
        "n_answered": step.n_answered,
        "stop": step.stop,
        "stop_reason": step.stop_reason,
        "information": None if step.stop else step.information,
        "p_correct": None if step.stop else step.p_correct,
        "version": version,
    }


def record_answer(
    connection: Connection,
    cat: CatBank,
    user_id: str,
    session_id: str,
    item_id: str,
    correct: bool,
    settings: Settings,
) -> dict[str, Any]:
    """Fill the answer of a served item and return θ and SE after it (EAP, MAP once mixed)."""
    _bank_of(cat, settings)
    served = cat_store.read_session(connection, user_id, session_id)
    prior_mean = served[0].prior_mean if served else 0.0
    step = score_answer(
        cat,
        [(s.item_id, s.correct) for s in served],
        prior_mean,
        user_id,
        session_id,
        item_id,
        correct,
        settings,
    )
    if not cat_store.record_answer(connection, **step.values):
        raise already_answered(item_id)
    return step.answer


def already_answered(item_id: str) -> HTTPException:
    return HTTPException(409, f"item {item_id!r} is already answered in this session")


def score_answer(
    cat: CatBank, served: Served, prior_mean: float, user_id: str, session_id: str, item_id: str,
    correct: bool, settings: Settings,
) -> AnsweredStep:  # fmt: skip
    """θ and SE after answering ``item_id`` in a session with ``served`` (no I/O); 404 when it was
    not served, 409 when it is already answered or the bank is empty."""
    bank = _bank_of(cat, settings)
    answers = dict(served)  # an item is served at most once in a session
    if item_id not in answers:
        raise HTTPException(
            404, f"item {item_id!r} was not served in session {session_id!r} of user {user_id!r}"
        )
    if answers[item_id] is not None:
        raise already_answered(item_id)
    answered = [(i, bool(c)) for i, c in served if c is not None] + [(item_id, correct)]
    kept = [(cat.index[i], c) for i, c in answered if i in cat.index]
    items = np.array([k for k, _ in kept], dtype=np.intp)
    outcomes = np.array([c for _, c in kept], dtype=bool)
    theta, se = estimate(bank, items, outcomes, Policy(prior_mean=prior_mean))
    now = datetime.now(UTC)
    values = {
        "user_id": user_id, "session_id": session_id, "item_id": item_id, "correct": correct,
        "theta_after": theta, "se_after": se, "answered_at": now,
    }  # fmt: skip
    answer = {
        "status": "ok", "user_id": user_id, "session_id": session_id, "item_id": item_id, "correct": correct,
        "theta": theta, "se": se, "n_answered": len(kept), "answered_at": now,
    }  # fmt: skip
    return AnsweredStep(answer, values)
