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

from dreamseed.irt.parameters import ItemParameters
from dreamseed.irt.residual_fit import item_sums, pair_probabilities, user_sums
from dreamseed.irt.responses import ResponsePairs, Responses

FloatArray = npt.NDArray[np.float64]


def _zh_terms(pairs: ResponsePairs, p: FloatArray) -> tuple[FloatArray, ...]:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    log_p, log_q = np.log(p), np.log1p(-p)
    wrong = pairs.n_total - pairs.n_correct
    observed = pairs.n_correct * log_p + wrong * log_q
    expected = pairs.n_total * (p * log_p + (1 - p) * log_q)
    variance = pairs.n_total * p * (1 - p) * (log_p - log_q) ** 2
    return observed, expected, variance


def _zh(sums: list[FloatArray]) -> FloatArray:
    l0, e, v = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(v > 0, (l0 - e) / np.sqrt(v), np.nan), dtype=np.float64)


def person_zh(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """Zh of each user (N,) at abilities ``theta`` (N,, aligned with ``responses.user_ids``)."""
    aligned = responses.aligned_to(items.item_id)
    return zh_at(aligned, pair_probabilities(aligned, items, theta))[1]


def item_zh(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """Zh of each item of ``items`` (J,) over the users who answered it."""
    aligned = responses.aligned_to(items.item_id)
    return zh_at(aligned, pair_probabilities(aligned, items, theta))[0]


def zh_at(responses: Responses, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(per item (J,), per user (N,)) Zh from the probabilities ``p`` (P,) of ``responses.pairs``."""
    pairs = responses.pairs
    terms = _zh_terms(pairs, p)
    return _zh(item_sums(pairs, responses.n_items, terms)), _zh(user_sums(pairs, responses.n_users, terms))


def misfitting_persons(zh: FloatArray, threshold: float = -1.96) -> npt.NDArray[np.bool_]:
    """Users flagged as aberrant: Zh below ``threshold`` (default the one-sided 2.5% normal quantile)."""
    return np.asarray(np.nan_to_num(zh, nan=0.0) < threshold)
