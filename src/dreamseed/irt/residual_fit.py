"""Infit and outfit mean squares with their standardised t (Wright & Masters 1982), per item and per person.

For each answer x with model probability P at the ability estimate θ̂, the residual is x − P, its
variance W = P(1 − P) and its fourth central moment C = P(1 − P)⁴ + (1 − P)P⁴. Over the n answers
of an item (or of a person):

    outfit = Σ (x − P)²/W / n,                 q_out² = Σ C/W² / n² − 1/n,
    infit  = Σ (x − P)² / Σ W,                 q_in²  = Σ (C − W²) / (Σ W)²,
    t      = (MS^{1/3} − 1)·3/q + q/3          (the Wilson–Hilferty cube-root transformation).

Both mean squares are ≈ 1 under the model (a little less with plug-in EAP abilities on short
tests); t is ≈ N(0, 1). As R mirt's ``itemfit(, 'infit')`` and ``personfit()``: W is floored at
√1e-5 and q capped at √2. **Defined under missing responses**: every sum runs over the observed
answers only (repeated answers count separately). mirt's person q_out divides by J² (all items)
instead of n², which differs from this only when a person skipped items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.parameters import ItemParameters, probability_correct
from dreamseed.irt.responses import ResponsePairs, Responses

FloatArray = npt.NDArray[np.float64]

#: mirt floors W at √1e-5 and caps q at √2 (``personfit.R``).
_W_FLOOR = float(np.sqrt(1e-5))
_Q_CAP = 1.4142


@dataclass(frozen=True, eq=False)
class ResidualFit:
    """Infit/outfit mean squares and their t of each unit (item or user), arrays of shape (U,).

    ``n`` counts the answers each statistic summed over (NaN statistics where it is 0).
    """

    n: FloatArray
    infit: FloatArray
    z_infit: FloatArray
    outfit: FloatArray
    z_outfit: FloatArray

    def summary(self, threshold: float = 1.96) -> dict[str, Any]:
        """Quantiles of the four statistics and how many |t| exceed ``threshold``."""
        out: dict[str, Any] = {}
        for name in ("infit", "z_infit", "outfit", "z_outfit"):
            values = getattr(self, name)
            finite = values[np.isfinite(values)]
            out[name] = (
                {"min": float(finite.min()), "median": float(np.median(finite)), "max": float(finite.max())}
                if finite.size
                else None
            )
        for name in ("z_infit", "z_outfit"):
            values = np.nan_to_num(getattr(self, name), nan=0.0)
            out[f"n_abs_{name}_above_{threshold:g}"] = int(np.sum(np.abs(values) > threshold))
        return out


def pair_probabilities(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """P(correct) at ``theta`` (N,) of each observed pair of ``responses`` aligned to ``items``, (P,)."""
    pairs = responses.aligned_to(items.item_id).pairs
    theta = np.asarray(theta, dtype=np.float64)
    return probability_correct(
        theta[pairs.user], items.a[pairs.item], items.b[pairs.item], items.c[pairs.item]
    )


def _terms(pairs: ResponsePairs, p: FloatArray) -> tuple[FloatArray, ...]:
    """Per observed pair, the sums' terms (n, Σ(x − P)², ΣW, ΣC, ΣC/W², Σ(x − P)²/W, ΣW²),
    repeated answers counted separately."""
    n = pairs.n_total
    variance = p * (1.0 - p)
    w = np.maximum(variance, _W_FLOOR)
    fourth = variance * ((1.0 - p) ** 3 + p**3)  # P(1 − P)⁴ + (1 − P)P⁴
    squared = pairs.n_correct * (1.0 - p) ** 2 + (n - pairs.n_correct) * p**2
    return n, squared, n * w, n * fourth, n * fourth / w**2, squared / w, n * w**2


def item_sums(pairs: ResponsePairs, n_items: int, terms: tuple[FloatArray, ...]) -> list[FloatArray]:
    """Σ of each per-pair term (P,) over each item's answers, (J,) each."""
    item = pairs.item.astype(np.intp, copy=False)
    return [np.asarray(np.bincount(item, weights=t, minlength=n_items), dtype=np.float64) for t in terms]


def user_sums(pairs: ResponsePairs, n_users: int, terms: tuple[FloatArray, ...]) -> list[FloatArray]:
    """Σ of each per-pair term (P,) over each user's answers, (N,) each: the pairs are ordered by
    user, so ``np.add.reduceat`` over their runs (~6× faster than ``bincount``); 0 without answers."""
    starts = np.searchsorted(pairs.user, np.arange(n_users))
    answered = starts != np.append(starts[1:], pairs.user.size)
    runs = starts[answered]  # strictly increasing, each run ends where the next begins (or at P)
    sums = []
    for t in terms:
        total = np.zeros(n_users)
        if runs.size:
            total[answered] = np.add.reduceat(t, runs)
        sums.append(total)
    return sums


def _aggregate(sums: list[FloatArray]) -> ResidualFit:
    n, squared, w, c, c_over_w2, z2, w2 = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        outfit = np.where(n > 0, z2 / n, np.nan)
        q_out = np.minimum(np.sqrt(np.abs(c_over_w2 / n**2 - 1.0 / n)), _Q_CAP)
        infit = np.where(w > 0, squared / w, np.nan)
        q_in = np.minimum(np.sqrt(np.maximum((c - w2) / w**2, 0.0)), _Q_CAP)
        z_out = np.where(n > 0, (np.cbrt(outfit) - 1.0) * (3.0 / q_out) + q_out / 3.0, np.nan)
        z_in = np.where(n > 0, (np.cbrt(infit) - 1.0) * (3.0 / q_in) + q_in / 3.0, np.nan)
    return ResidualFit(n, infit, z_in, outfit, z_out)


def item_residual_fit(responses: Responses, items: ItemParameters, theta: FloatArray) -> ResidualFit:
    """Infit/outfit of each item of ``items`` (J,) at abilities ``theta`` (N,, aligned with user_ids)."""
    aligned = responses.aligned_to(items.item_id)
    return residual_fits_at(aligned, pair_probabilities(aligned, items, theta))[0]


def person_residual_fit(responses: Responses, items: ItemParameters, theta: FloatArray) -> ResidualFit:
    """Infit/outfit of each user of ``responses`` (N,) at abilities ``theta`` (N,)."""
    aligned = responses.aligned_to(items.item_id)
    return residual_fits_at(aligned, pair_probabilities(aligned, items, theta))[1]


def residual_fits_at(responses: Responses, p: FloatArray) -> tuple[ResidualFit, ResidualFit]:
    """(per item (J,), per user (N,)) infit/outfit from the probabilities ``p`` (P,) of
    ``responses.pairs`` (``pair_probabilities``): the terms are computed once for both."""
    pairs = responses.pairs
    terms = _terms(pairs, p)
    items = _aggregate(item_sums(pairs, responses.n_items, terms))
    return items, _aggregate(user_sums(pairs, responses.n_users, terms))
