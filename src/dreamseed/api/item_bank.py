"""The current item parameters, cached in the process for the online θ update.

The bank of a (version, model) is loaded once (mirt_item_params, or question.meta.irt while no
calibration has run) together with the population mean and SD of the latest calibration, and
turned into an ``OnlineScorer``. At most every ``check_interval`` seconds a cheap stamp query
(count, latest fitted_at, newest row version) tells whether mirt_item_params changed; only then is
the bank reloaded. So a call normally costs no query for the bank at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from dreamseed.irt import ItemParameters, OnlineScorer
from dreamseed.storage import irt_service


@dataclass(frozen=True, eq=False)
class ItemBank:
    """A scorer over the bank's items (None when there are none), its model label and origin."""

    scorer: OnlineScorer | None
    model: str
    version: str
    n_items: int
    source: str  # "mirt_item_params", "question.meta" or "empty"
    stamp: tuple[Any, ...]


def bank_from_frame(
    frame: pd.DataFrame, version: str, model: str | None, population: tuple[float, float] | None, source: str
) -> ItemBank:
    """The scorer of a frame with item_id (numeric text or int), model, a, b, c; EAP with the
    calibration's population prior (default N(0, 1)). Non-numeric ids cannot occur in attempts and
    are skipped."""
    numeric = frame[frame["item_id"].astype(str).str.fullmatch(r"[0-9]{1,18}")]
    label = model or (str(numeric["model"].mode().iloc[0]) if numeric["model"].notna().any() else "2PL")
    if numeric.empty:
        return ItemBank(None, label, version, 0, "empty", ())
    items = ItemParameters.from_arrays(
        numeric["item_id"].astype(np.int64).to_numpy(),
        numeric["a"].to_numpy(dtype=np.float64),
        numeric["b"].to_numpy(dtype=np.float64),
        numeric["c"].to_numpy(dtype=np.float64),
    )
    mean, sd = population or (0.0, 1.0)
    return ItemBank(OnlineScorer(items, "EAP", mean, sd), label, version, len(items), source, ())


def load_bank(connection: Connection, version: str, model: str | None, default_version: str) -> ItemBank:
    """Read the bank now: mirt_item_params, else the items with parameters of ``version`` in
    question.meta (those without a version count as ``default_version``'s)."""
    stamp = irt_service.read_item_bank_stamp(connection, version)
    frame = irt_service.read_item_bank(connection, version, model)
    source = "mirt_item_params"
    if frame.empty and stamp[0] == 0:
        meta = irt_service.read_question_bank(connection, version, version == default_version)
        if model is not None:
            meta = meta[meta["model"] == model]
        frame, source = meta, "question.meta"
    population = irt_service.read_population(connection, version)
    bank = bank_from_frame(frame, version, model, population, source)
    return ItemBank(bank.scorer, bank.model, version, bank.n_items, bank.source, stamp)


class ItemBankCache:
    """Thread-safe cache of ``ItemBank`` per (version, model) with a change check every
    ``check_interval`` seconds (0: before every use)."""

    def __init__(
        self,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        default_version: str = "v1",
    ) -> None:
        self.check_interval, self.default_version = check_interval, default_version
        self._clock = clock
        self._lock = threading.Lock()
        self._banks: dict[tuple[str, str | None], tuple[ItemBank, float]] = {}

    def get(self, connection: Connection, version: str, model: str | None = None) -> ItemBank:
        key = (version, model)
        now = self._clock()
        cached = self._banks.get(key)
        if cached is not None and now - cached[1] < self.check_interval:
            return cached[0]
        with self._lock:
            cached = self._banks.get(key)
            if cached is not None and self._clock() - cached[1] < self.check_interval:
                return cached[0]
            if (
                cached is not None
                and irt_service.read_item_bank_stamp(connection, version) == cached[0].stamp
            ):
                bank = cached[0]
            else:
                bank = load_bank(connection, version, model, self.default_version)
            self._banks[key] = (bank, self._clock())
            return bank

    def fresh(self, version: str, model: str | None = None) -> ItemBank | None:
        """The cached bank when it was checked less than ``check_interval`` seconds ago (no query:
        for callers without a connection at hand), else None (then call ``get``)."""
        cached = self._banks.get((version, model))
        if cached is not None and self._clock() - cached[1] < self.check_interval:
            return cached[0]
        return None

    def loaded(self) -> list[ItemBank]:
        """The banks held now (for metrics)."""
        return [bank for bank, _ in self._banks.values()]
