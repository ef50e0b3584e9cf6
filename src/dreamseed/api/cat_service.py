"""What the adaptive next-item and answer endpoints compute: the CAT core over the current bank,
with the session's state in ``cat_events`` (PostgreSQL, so a session survives a restart and may
move between replicas).

The bank of a version is mirt_item_params (with question.topic_id as the topic), turned into a
``dreamseed.cat.ItemBank`` once and reloaded only when the parameters change (a cheap stamp query
at most every ``check_interval`` seconds, as for update-theta). Sympson–Hetter K comes from the
K.csv of ``dreamseed cat exposure`` (CAT_EXPOSURE_PARAMETERS), read with the bank.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from fastapi import HTTPException
from sqlalchemy import Connection

from dreamseed.cat import CatInputError, EmptyTopicError, ItemBank, NextItem, Policy, estimate, next_item
from dreamseed.settings import Settings
from dreamseed.storage import cat_store, irt_service

PolicyName = Literal["test", "practice"]


@dataclass(frozen=True, eq=False)
class CatBank:
    """The bank of a version (None when it has no calibrated items), item id → bank index, and the
    Sympson–Hetter K per bank index (None unless CAT_EXPOSURE=sympson-hetter)."""

    bank: ItemBank | None
    index: dict[str, int]
    k: npt.NDArray[np.float64] | None
    stamp: tuple[Any, ...]


def load_cat_bank(connection: Connection, version: str, settings: Settings) -> CatBank:
    """Read the bank of ``version`` now (and K when Sympson–Hetter is configured)."""
    stamp = irt_service.read_item_bank_stamp(connection, version)
    frame = cat_store.read_cat_bank(connection, version)
    if frame.empty:
        return CatBank(None, {}, None, stamp)
    ids = frame["item_id"].astype(str).to_numpy(dtype=object)
    bank = ItemBank.from_arrays(ids, frame["a"], frame["b"], frame["c"], frame["topic"])
    index = {str(item): k for k, item in enumerate(ids)}
    k = (
        exposure_parameters(settings.cat_exposure_parameters, ids)
        if settings.cat_exposure == "sympson-hetter"
        else None
    )
    return CatBank(bank, index, k, stamp)


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


class CatBankCache:
    """Thread-safe ``CatBank`` per version, checked for changes every ``check_interval`` seconds."""

    def __init__(
        self, settings: Settings, check_interval: float, clock: Callable[[], float] = time.monotonic
    ):
        self.settings, self.check_interval, self._clock = settings, check_interval, clock
        self._lock = threading.Lock()
        self._banks: dict[str, tuple[CatBank, float]] = {}

    def get(self, connection: Connection, version: str) -> CatBank:
        cached = self._banks.get(version)
        if cached is not None and self._clock() - cached[1] < self.check_interval:
            return cached[0]
        with self._lock:
            cached = self._banks.get(version)
            if cached is not None and self._clock() - cached[1] < self.check_interval:
                return cached[0]
            if (
                cached is not None
                and irt_service.read_item_bank_stamp(connection, version) == cached[0].stamp
            ):
                bank = cached[0]
            else:
                bank = load_cat_bank(connection, version, self.settings)
            self._banks[version] = (bank, self._clock())
            return bank


@dataclass(frozen=True)
class NextItemAsk:
    """A validated next-item request (answers_so_far: (item_id, correct) pairs, or None)."""

    user_id: str
    session_id: str
    policy: PolicyName
    topic: str | None
    answers_so_far: Sequence[tuple[str, bool]] | None
    max_items: int | None
    target_p: float | None


def serve_next_item(
    connection: Connection, cat: CatBank, ask: NextItemAsk, settings: Settings
) -> dict[str, Any]:
    """Choose the next item of a session and record it in cat_events (nothing when stopping)."""
    bank = _bank_of(cat, settings)
    served = cat_store.read_session(connection, ask.user_id, ask.session_id)
    if not served and not cat_store.user_is_known(connection, ask.user_id):
        raise HTTPException(404, f"unknown user {ask.user_id!r}: no sessions, answers or abilities")
    if ask.answers_so_far is None:
        answers = [
            (cat.index[s.item_id], bool(s.correct))
            for s in served
            if s.correct is not None and s.item_id in cat.index
        ]
    else:
        answers = _answers_of(cat, ask.answers_so_far)
    ruled_out = _ruled_out(cat, served, {item for item, _ in answers})
    policy = _policy(cat, ask, settings)
    try:
        step = next_item(bank, answers, policy, np.random.default_rng(), ruled_out)
    except EmptyTopicError as error:
        raise HTTPException(404, str(error)) from None
    except CatInputError as error:
        raise HTTPException(400, str(error)) from None
    topic = None if step.item is None else bank.topic[step.item] or None
    if step.item is not None:
        _record(connection, ask, step, topic, settings.mirt_version, bank)
    return _next_item_answer(ask, step, topic, settings.mirt_version)


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


def _ruled_out(cat: CatBank, served: Sequence[cat_store.ServedItem], answered: set[int]) -> list[int]:
    """Items served but not answered (never served twice) and every Sympson–Hetter rejection."""
    out = {cat.index[s.item_id] for s in served if s.item_id in cat.index} - answered
    out.update(cat.index[r] for s in served for r in s.rejected if r in cat.index)
    return sorted(out)


def _policy(cat: CatBank, ask: NextItemAsk, settings: Settings) -> Policy:
    max_items = min(ask.max_items or settings.cat_max_items, settings.cat_max_items)
    try:
        return Policy(
            ask.policy, target_p=ask.target_p or settings.cat_target_p, topic=ask.topic,
            exposure=settings.cat_exposure, randomesque_k=settings.cat_randomesque_k,
            exposure_parameters=cat.k, se_stop=settings.cat_se_stop or None, max_items=max_items,
        )  # fmt: skip
    except CatInputError as error:
        raise HTTPException(400, str(error)) from None


def _record(
    connection: Connection, ask: NextItemAsk, step: NextItem, topic: str | None, version: str, bank: ItemBank
) -> None:
    ids = bank.items.item_id
    event = {
        "user_id": ask.user_id, "session_id": ask.session_id, "item_id": str(step.item_id),
        "position": step.n_answered, "topic_id": topic, "policy": ask.policy, "reason": step.reason,
        "theta_before": step.theta, "se_before": step.se, "rejected": [str(ids[r]) for r in step.rejected],
        "version": version, "served_at": datetime.now(UTC),
    }  # fmt: skip
    if not cat_store.record_served(connection, event):
        raise HTTPException(
            409, f"item {step.item_id!r} was just served in this session by another request; retry"
        )


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
    bank = _bank_of(cat, settings)
    served = cat_store.read_session(connection, user_id, session_id)
    row = next((s for s in served if s.item_id == item_id), None)
    if row is None:
        raise HTTPException(
            404, f"item {item_id!r} was not served in session {session_id!r} of user {user_id!r}"
        )
    if row.correct is not None:
        raise HTTPException(409, f"item {item_id!r} is already answered in this session")
    answered = [(s.item_id, bool(s.correct)) for s in served if s.correct is not None] + [(item_id, correct)]
    kept = [(cat.index[i], c) for i, c in answered if i in cat.index]
    items = np.array([k for k, _ in kept], dtype=np.intp)
    outcomes = np.array([c for _, c in kept], dtype=bool)
    theta, se = estimate(bank, items, outcomes, Policy())
    now = datetime.now(UTC)
    if not cat_store.record_answer(
        connection, user_id=user_id, session_id=session_id, item_id=item_id, correct=correct,
        theta_after=theta, se_after=se, answered_at=now,
    ):  # fmt: skip
        raise HTTPException(409, f"item {item_id!r} is already answered in this session")
    return {
        "status": "ok", "user_id": user_id, "session_id": session_id, "item_id": item_id, "correct": correct,
        "theta": theta, "se": se, "n_answered": len(kept), "answered_at": now,
    }  # fmt: skip
