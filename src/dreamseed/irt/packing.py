"""The free parameters of a calibration as one vector (what SQUAREM extrapolates), and start values.

The vector holds the free items' slopes (one shared slope for the 1PL, none for the Rasch model),
intercepts, logit(c) for the 3PL, and the population mean and log SD when those are estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import ItemModel, logistic, logit
from dreamseed.irt.mstep import INTERCEPT_BOUND, LOGIT_C_BOUNDS, SLOPE_BOUNDS, ItemArrays
from dreamseed.irt.parameters import ItemParameters, Priors
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class ParameterLayout:
    """Packs the free parameters (and the population mean, log SD) into one vector for SQUAREM.

    ``estimate_mean`` and ``estimate_sd`` say which population parameters the vector carries (the
    Rasch model estimates the SD with the mean held at 0; anchored calibrations estimate both).
    """

    model: ItemModel
    free: BoolArray
    base: ItemArrays
    estimate_mean: bool
    estimate_sd: bool

    @property
    def population(self) -> bool:
        return self.estimate_mean or self.estimate_sd

    @property
    def n_population(self) -> int:
        return int(self.estimate_mean) + int(self.estimate_sd)

    def _n_slopes(self, n_free: int) -> int:
        if self.model.fixed_slope:
            return 0
        return min(1, n_free) if self.model.common_slope else n_free

    def pack(self, items: ItemArrays, mean: float, sd: float) -> FloatArray:
        f = self.free
        parts = [items.a[f][: self._n_slopes(int(f.sum()))], items.d[f]]
        if self.model.guessing:
            parts.append(items.gamma[f])
        if self.estimate_mean:
            parts.append(np.array([mean]))
        if self.estimate_sd:
            parts.append(np.array([np.log(sd)]))
        return np.concatenate(parts)

    def unpack(self, x: FloatArray) -> tuple[ItemArrays, float, float]:
        f, n = self.free, int(self.free.sum())
        a, d, gamma = self.base.a.copy(), self.base.d.copy(), self.base.gamma.copy()
        k = self._n_slopes(n)
        if k:
            a[f] = x[:k]
        d[f] = x[k : k + n]
        if self.model.guessing:
            gamma[f] = x[k + n : k + 2 * n]
        tail = x[x.size - self.n_population :]
        mean = float(tail[0]) if self.estimate_mean else 0.0
        sd = float(np.exp(tail[-1])) if self.estimate_sd else 1.0
        return ItemArrays(a, d, gamma), mean, sd

    def change(self, new: FloatArray, old: FloatArray) -> float:
        """Largest change between two packed vectors, with logit(c) compared on the c scale (where
        an unpenalised c drifting towards 0 stops mattering long before its logit stops moving)."""
        if not self.model.guessing:
            return float(np.max(np.abs(new - old), initial=0.0))
        n = int(self.free.sum())
        gammas = slice(2 * n, 3 * n)
        rest = np.abs(np.delete(new - old, np.arange(2 * n, 3 * n)))
        c_change = np.abs(logistic(new[gammas]) - logistic(old[gammas]))
        return float(max(np.max(rest, initial=0.0), np.max(c_change, initial=0.0)))

    def project(self, x: FloatArray) -> FloatArray:
        items, mean, sd = self.unpack(x)
        low = 0.01 if self.model.common_slope else SLOPE_BOUNDS[0]
        items = ItemArrays(
            np.clip(items.a, low, SLOPE_BOUNDS[1]),
            np.clip(items.d, -INTERCEPT_BOUND, INTERCEPT_BOUND),
            np.clip(items.gamma, *LOGIT_C_BOUNDS) if self.model.guessing else items.gamma,
        )
        return self.pack(items, float(np.clip(mean, -4.0, 4.0)), float(np.clip(sd, 0.05, 20.0)))


def fixed_mask_and_start(
    responses: Responses, fixed_items: ItemParameters | None, model: ItemModel, priors: Priors
) -> tuple[BoolArray, ItemArrays]:
    """Mask of fixed items (J,) and starting values: fixed items' own, else from proportions."""
    right, total = responses.correct_per_item()
    p = np.clip((right + 0.5) / (total + 1.0), 0.02, 0.98)
    c0 = (priors.c.mode if priors.c is not None else 0.2) if model.guessing else 0.0
    p_star = np.clip((p - c0) / (1 - c0), 0.05, 0.95)
    a = np.ones(responses.n_items)
    d = logit(p_star) * np.sqrt(1 + 1 / 2.89)
    gamma = np.full(responses.n_items, logit(np.array(c0)) if c0 > 0 else -np.inf)
    fixed = np.zeros(responses.n_items, dtype=bool)
    if fixed_items is not None and len(fixed_items):
        where = fixed_items.positions(responses.item_ids)
        fixed = where >= 0
        known = fixed_items.take(where[fixed])
        a[fixed], d[fixed] = known.a, known.d
        with np.errstate(divide="ignore"):
            gamma[fixed] = np.where(known.c > 0, logit(np.maximum(known.c, 1e-300)), -np.inf)
    return fixed, ItemArrays(a, d, gamma)


def take_items(items: ItemArrays, mask: BoolArray) -> ItemArrays:
    return ItemArrays(items.a[mask], items.d[mask], items.gamma[mask])
