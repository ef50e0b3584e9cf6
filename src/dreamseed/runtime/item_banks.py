"""The calibrated item bank, cached in the process: one cache for the HTTP service and the stream.

What a caller builds from the bank of a version — the online θ scorer (``ItemBank``, for
update-theta), the CAT bank (next-item and answer), the stream consumer's batch scorer — is a
*value* of the cache under its own key, loaded once and reloaded only when the bank changed. At
most every ``check_interval`` seconds one cheap stamp query per version (count, latest fitted_at,
newest row version of mirt_item_params) tells whether it did; every value of that version is
then reloaded on its next use. So a call normally costs no query for the bank at all.

The scorer's bank is mirt_item_params of the version, or question.meta's parameters while no
calibration has run, with the population mean and SD of the latest calibration as the EAP prior.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from dreamseed.irt import ItemParameters, OnlineScorer
from dreamseed.storage import irt_service

Value = TypeVar("Value")
Stamp = tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class ItemBank:
    """A scorer over the bank's items (None when there are none), its model label and origin."""

    scorer: OnlineScorer | None
    model: str
    version: str
    n_items: int
    source: str  # "mirt_item_params", "question.meta" or "empty"
    stamp: Stamp


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
    """Thread-safe values built from the item bank, per (version, key), reloaded when the bank's
    stamp changed; the stamp of a version is checked at most every ``check_interval`` seconds (0:
    before every use). ``default_version``: the version question.meta items without one belong to."""

    def __init__(
        self,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        default_version: str = "v1",
    ) -> None:
        self.check_interval, self.default_version = check_interval, default_version
        self._clock = clock
        self._lock = threading.RLock()
        self._stamps: dict[str, tuple[Stamp, float]] = {}  # version → (stamp, checked at)
        self._values: dict[tuple[str, Hashable], tuple[Any, Stamp]] = {}  # → (value, stamp at load)

    def get(self, connection: Connection, version: str, model: str | None = None) -> ItemBank:
        """The online θ scorer's bank of (version, model)."""
        return self.value(
            connection,
            version,
            ("scorer", model),
            lambda c: load_bank(c, version, model, self.default_version),
        )

    def fresh(self, version: str, model: str | None = None) -> ItemBank | None:
        """``get`` without a connection: the bank when its version was checked less than
        ``check_interval`` seconds ago and it is loaded, else None (then call ``get``)."""
        found: ItemBank | None = self.fresh_value(version, ("scorer", model))
        return found

    def value(
        self, connection: Connection, version: str, key: Hashable, load: Callable[[Connection], Value]
    ) -> Value:
        """The value ``load(connection)`` of (version, key), loaded again once the bank changed. An
        exception from ``load`` is raised and nothing is cached (the next call loads again)."""
        cached = self.fresh_value(version, key)
        if cached is not None:
            return cached
        with self._lock:
            stamp = self._checked_stamp(connection, version)
            held = self._values.get((version, key))
            if held is not None and held[1] == stamp:
                return held[0]
            value = load(connection)
            self._values[(version, key)] = (value, stamp)
            return value

    def fresh_value(self, version: str, key: Hashable) -> Any | None:
        """The value of (version, key) when its version's stamp was checked less than
        ``check_interval`` seconds ago and the value was loaded under that stamp (no query)."""
        checked = self._stamps.get(version)
        held = self._values.get((version, key))
        if checked is None or held is None or self._clock() - checked[1] >= self.check_interval:
            return None
        return held[0] if held[1] == checked[0] else None

    def _checked_stamp(self, connection: Connection, version: str) -> Stamp:
        checked = self._stamps.get(version)
        if checked is not None and self._clock() - checked[1] < self.check_interval:
            return checked[0]
        stamp = irt_service.read_item_bank_stamp(connection, version)
        self._stamps[version] = (stamp, self._clock())
        return stamp

    def loaded(self) -> list[ItemBank]:
        """The scorers' banks held now (for metrics)."""
        return [value for value, _ in list(self._values.values()) if isinstance(value, ItemBank)]
