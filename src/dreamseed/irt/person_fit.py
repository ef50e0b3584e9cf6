"""Standardised log-likelihood fit statistics Zh (lz; Drasgow, Levine & Williams 1985).

For a set of answers x with model probabilities P at the ability estimates,

    l0 = Σ x log P + (1 − x) log(1 − P),   E = Σ P log P + (1 − P) log(1 − P),
    V = Σ P (1 − P) log²(P / (1 − P)),     Zh = (l0 − E) / √V.

Summed over one person's answers it is person fit (large negative: aberrant pattern); summed
over one item's answers, item fit (as R mirt's ``itemfit(..., 'Zh')``). Defined for incomplete
data: each sum runs over the observed answers only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dreamseed.irt.parameters import ItemParameters, probability_correct
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]


def _zh_terms(responses: Responses, items: ItemParameters, theta: FloatArray) -> tuple[FloatArray, ...]:
    aligned = responses.aligned_to(items.item_id)
    pairs = aligned.pairs
    p = probability_correct(theta[pairs.user], items.a[pairs.item], items.b[pairs.item], items.c[pairs.item])
    p = np.clip(p, 1e-12, 1 - 1e-12)
    wrong = pairs.n_total - pairs.n_correct
    observed = pairs.n_correct * np.log(p) + wrong * np.log1p(-p)
    expected = pairs.n_total * (p * np.log(p) + (1 - p) * np.log1p(-p))
    variance = pairs.n_total * p * (1 - p) * np.log(p / (1 - p)) ** 2
    return pairs.user.astype(np.float64), pairs.item.astype(np.float64), observed, expected, variance


def _zh(
    groups: FloatArray, size: int, observed: FloatArray, expected: FloatArray, variance: FloatArray
) -> FloatArray:
    index = groups.astype(np.intp)
    l0, e, v = (np.bincount(index, weights=w, minlength=size) for w in (observed, expected, variance))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(v > 0, (l0 - e) / np.sqrt(v), np.nan), dtype=np.float64)


def person_zh(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """Zh of each user (N,) at abilities ``theta`` (N,, aligned with ``responses.user_ids``)."""
    user, _, observed, expected, variance = _zh_terms(responses, items, np.asarray(theta, dtype=np.float64))
    return _zh(user, responses.n_users, observed, expected, variance)


def item_zh(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """Zh of each item of ``items`` (J,) over the users who answered it."""
    _, item, observed, expected, variance = _zh_terms(responses, items, np.asarray(theta, dtype=np.float64))
    return _zh(item, len(items), observed, expected, variance)


def misfitting_persons(zh: FloatArray, threshold: float = -1.96) -> npt.NDArray[np.bool_]:
    """Users flagged as aberrant: Zh below ``threshold`` (default the one-sided 2.5% normal quantile)."""
    return np.asarray(np.nan_to_num(zh, nan=0.0) < threshold)
