"""Differential item functioning: likelihood-ratio tests on the joint multiple-group model,
Mantel–Haenszel with the ETS A/B/C classes, and Wald tests between two calibrations; p-values
adjusted across items by Benjamini–Hochberg.

**Likelihood ratio** (``dif_lr.lr_dif``, on ``multigroup.calibrate_groups``): for each studied item, the
model with the item's ``parameters`` group-specific is compared with the model where they are
invariant, everything else as in the baseline; X2 = 2 (loglik_less − loglik_more constrained) on
df = the difference in parameter counts, and ΔAIC, ΔSABIC, ΔBIC = less − more constrained
(negative: the freed item fits better), as R mirt's ``DIF()``. ``scheme="drop"`` (all others as
anchors): the baseline holds every item invariant (or ``anchors``), focal means and variances
free, and each item is freed in turn; ``scheme="add"``: the baseline frees every item not in
``anchors`` (default none: then both groups are N(0, 1)) and each item is constrained in turn.
``dif_lr.purified_lr_dif`` iterates: the items flagged in one round are freed in the next round's
baseline, the rest are the anchors, until the flagged set repeats.

**Mantel–Haenszel** (``dif_mh.mantel_haenszel``): users matched on their total score (the studied item
included, Holland & Thayer), common odds ratio α_MH over score strata, MH D-DIF = −2.35 ln α_MH
(negative: the item is harder for the focal group at equal score), its standard error from the
Robins–Breslow–Greenland variance, the continuity-corrected MH χ² (R's ``mantelhaen.test``) and
the ETS classes: **A** when |D| < 1 or χ² p ≥ 0.05; **C** when |D| ≥ 1.5 and |D| is significantly
above 1 ((|D| − 1)/SE > 1.645); **B** otherwise. Needs complete data (every user answered every
item once): total scores over different item sets do not match users.

**Wald** (``wald_dif``, here): for each studied item, with θ_R, θ_F its (a, d) estimates in the
reference and focal calibration and Σ_R, Σ_F their full-information covariance blocks
(``calibrate(..., covariance="full")``),

    W = (θ_R − θ_F)' (Σ_R + Σ_F)⁻¹ (θ_R − θ_F)  on  len(parameters) df,

the two groups' estimates being independent. This is R mirt's ``DIF(model, Wald = TRUE)`` for a
``multipleGroup`` model without constraints across groups (both groups N(0, 1)), i.e. the test
assumes the groups share the ability distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc  # chi2.sf without importing scipy.stats (~0.5 s)

from dreamseed.irt.calibration import Calibration

FloatArray = npt.NDArray[np.float64]


class FlaggedItems:
    """What every DIF result shares: per studied item (shape (K,)) an id and a Benjamini–Hochberg
    adjusted p; an item is flagged when its adjusted p < ``alpha``."""

    item_id: npt.NDArray[Any]
    adjusted_p: FloatArray
    alpha: float

    @property
    def flagged(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.adjusted_p < self.alpha)

    def flagged_items(self) -> list[Any]:
        return self.item_id[self.flagged].tolist()

    def item_value(self, k: int) -> Any:
        """Item ``k``'s id as a plain Python value (for JSON)."""
        value = self.item_id[k]
        return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True, eq=False)
class WaldDIF(FlaggedItems):
    """Per studied item (shape (K,)): W, df, p and the Benjamini–Hochberg adjusted p; ``flagged``
    marks adjusted p < ``alpha``."""

    item_id: npt.NDArray[Any]
    statistic: FloatArray
    df: int
    p_value: FloatArray
    adjusted_p: FloatArray
    alpha: float


def benjamini_hochberg(p_values: FloatArray) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (R's ``p.adjust(p, 'fdr')``), same shape."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def wald_dif(
    reference: Calibration,
    focal: Calibration,
    *,
    items: Sequence[Any] | None = None,
    parameters: Sequence[str] = ("a", "d"),
    alpha: float = 0.05,
) -> WaldDIF:
    """Wald DIF of ``items`` (default: every item free in both calibrations) on ``parameters``
    ("a", "d" and for the 3PL "logit_c"); both calibrations need ``covariance="full"``."""
    studied = list(items) if items is not None else _free_in_both(reference, focal)
    statistic = np.array([_wald(reference, focal, item, parameters) for item in studied])
    p = np.asarray(chdtrc(len(parameters), statistic), dtype=np.float64)
    return WaldDIF(np.asarray(studied), statistic, len(parameters), p, benjamini_hochberg(p), alpha)


def _free_in_both(reference: Calibration, focal: Calibration) -> list[Any]:
    held = set(reference.fixed_items) | set(focal.fixed_items)
    held |= set(reference.extreme_items) | set(focal.extreme_items)
    focal_ids = set(focal.items.item_id.tolist())
    return [i for i in reference.items.item_id.tolist() if i in focal_ids and i not in held]


def _wald(reference: Calibration, focal: Calibration, item: Any, parameters: Sequence[str]) -> float:
    (estimate_r, covariance_r), (estimate_f, covariance_f) = (
        _item_block(calibration, item, parameters) for calibration in (reference, focal)
    )
    difference = estimate_r - estimate_f
    return float(difference @ np.linalg.solve(covariance_r + covariance_f, difference))


def _item_block(
    calibration: Calibration, item: Any, parameters: Sequence[str]
) -> tuple[FloatArray, FloatArray]:
    """The estimates and covariance of ``item``'s ``parameters`` in ``calibration``."""
    if calibration.covariance is None:
        raise ValueError("Wald DIF needs calibrations with covariance='full'")
    estimated = [i for i in calibration.items.item_id.tolist() if i not in set(calibration.extreme_items)]
    if item not in estimated or item in set(calibration.fixed_items):
        raise ValueError(f"item {item!r} was not estimated in both calibrations")
    position = estimated.index(item)
    names = calibration.covariance.names
    missing = [p for p in parameters if f"{p}[{position}]" not in names]
    if missing:
        raise ValueError(
            f"parameters {missing} of item {item!r} were not estimated (a 1PL/Rasch has no own a)"
        )
    index = [names.index(f"{p}[{position}]") for p in parameters]
    return calibration.covariance.estimates[index], calibration.covariance.matrix[np.ix_(index, index)]
