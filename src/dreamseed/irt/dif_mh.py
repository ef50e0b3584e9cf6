"""Mantel–Haenszel DIF with the ETS A/B/C classes (see ``dif.py`` for the definitions).

For item j and total-score stratum k, with A, B the reference group's right and wrong answers,
C, D the focal group's, N the stratum size (strata with N < 2 dropped):

    α_MH = Σ_k A D / N  ÷  Σ_k B C / N,       MH D-DIF = −2.35 ln α_MH,
    χ²_MH = (|Σ A − Σ E(A)| − min(½, |Σ A − Σ E(A)|))² / Σ Var(A)   on 1 df,

E(A) = n_R m_1 / N, Var(A) = n_R n_F m_1 m_0 / (N² (N − 1)) (R's ``mantelhaen.test``), and
SE(ln α_MH) from the Robins–Breslow–Greenland variance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc

from dreamseed.irt.dif import FlaggedItems, benjamini_hochberg
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]

#: The ETS scale factor: MH D-DIF is on the delta scale (4 × the normal deviate of a logit / 1.7).
DELTA_SCALE = 2.35


@dataclass(frozen=True, eq=False)
class MantelHaenszelDIF(FlaggedItems):
    """Per item (shape (J,)): common odds ratio ``odds_ratio`` (> 1: easier for the reference
    group at equal score), ``d_dif`` = −2.35 ln α_MH and its ``se_d_dif``, the MH χ², its p and
    the Benjamini–Hochberg adjusted p (``flagged``: adjusted p < ``alpha``), the ETS class
    (A, B, C) and the users of each group who answered the item."""

    item_id: npt.NDArray[Any]
    odds_ratio: FloatArray
    d_dif: FloatArray
    se_d_dif: FloatArray
    statistic: FloatArray
    p_value: FloatArray
    adjusted_p: FloatArray
    ets_class: npt.NDArray[np.str_]
    n_reference: npt.NDArray[np.int64]
    n_focal: npt.NDArray[np.int64]
    reference: Any
    focal: Any
    alpha: float
    n_dropped: int = 0

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per item."""
        return [
            {
                "item_id": self.item_value(k),
                "odds_ratio": float(self.odds_ratio[k]),
                "mh_d_dif": float(self.d_dif[k]),
                "se": float(self.se_d_dif[k]),
                "X2": float(self.statistic[k]),
                "p": float(self.p_value[k]),
                "adj_p": float(self.adjusted_p[k]),
                "ets_class": str(self.ets_class[k]),
                "flagged": bool(self.flagged[k]),
            }
            for k in range(self.item_id.size)
        ]


def ets_class(d_dif: FloatArray, se: FloatArray, p_value: FloatArray) -> npt.NDArray[np.str_]:
    """ETS classes from MH D-DIF, its SE and the MH χ² p (all shape (J,)): A (negligible),
    B (moderate), C (large)."""
    size = np.abs(d_dif)
    negligible = (size < 1.0) | ~(p_value < 0.05)
    with np.errstate(divide="ignore", invalid="ignore"):
        large = (size >= 1.5) & ((size - 1.0) / se > 1.6448536269514722)
    return np.where(negligible, "A", np.where(large, "C", "B")).astype(np.str_)


def mantel_haenszel(
    responses: Responses,
    groups: Sequence[Any] | npt.NDArray[Any],
    *,
    reference: Any = None,
    focal: Any = None,
    alpha: float = 0.05,
    incomplete: Literal["error", "complete-cases"] = "error",
) -> MantelHaenszelDIF:
    """MH DIF of every item between ``reference`` and ``focal`` (defaults: the two groups in
    sorted order; more than two groups need both named), matching on the total score.
    ``groups``: one label per user (N,). Incomplete data raise ``ValueError`` unless
    ``incomplete="complete-cases"`` (then only users who answered every item once are used)."""
    labels = np.asarray(groups)
    if labels.shape != (responses.n_users,):
        raise ValueError(
            f"groups must give one label per user ({responses.n_users}), not shape {labels.shape}"
        )
    reference, focal = two_groups(labels, reference, focal)
    answers, keep = _complete_answers(responses, incomplete)
    labels = labels[keep]
    in_reference, in_focal = labels == reference, labels == focal
    if not in_reference.any() or not in_focal.any():
        raise ValueError(
            f"no complete response rows in group {reference if not in_reference.any() else focal!r}"
        )
    score = answers.sum(axis=1).astype(np.int64)
    figures = [_item(answers[:, j], score, in_reference, in_focal) for j in range(responses.n_items)]
    odds, log_var, statistic = (np.array(column) for column in zip(*figures, strict=True))
    p = np.asarray(chdtrc(1.0, statistic), dtype=np.float64)
    with np.errstate(divide="ignore"):
        d_dif = -DELTA_SCALE * np.log(odds)
    se = DELTA_SCALE * np.sqrt(log_var)
    return MantelHaenszelDIF(
        item_id=responses.item_ids, odds_ratio=odds, d_dif=d_dif, se_d_dif=se, statistic=statistic,
        p_value=p, adjusted_p=benjamini_hochberg(p), ets_class=ets_class(d_dif, se, p),
        n_reference=np.full(responses.n_items, int(in_reference.sum())),
        n_focal=np.full(responses.n_items, int(in_focal.sum())), reference=reference, focal=focal,
        alpha=alpha, n_dropped=int((~keep).sum()),
    )  # fmt: skip


def two_groups(labels: npt.NDArray[Any], reference: Any, focal: Any) -> tuple[Any, Any]:
    """The (reference, focal) pair among the labels (N,); defaults: the first two in sorted order."""
    present = sorted(set(labels.tolist()), key=str)
    if len(present) < 2:
        raise ValueError(f"Mantel–Haenszel needs two groups; the data have {len(present)}: {present}")
    for name, value in (("reference", reference), ("focal", focal)):
        if value is not None and value not in present:
            raise ValueError(f"{name} group {value!r} has no users (groups: {present[:10]})")
    if len(present) > 2 and (reference is None or focal is None):
        raise ValueError(f"{len(present)} groups ({present[:10]}): name the reference and the focal group")
    reference = present[0] if reference is None else reference
    focal = next(g for g in present if g != reference) if focal is None else focal
    return reference, focal


def _complete_answers(
    responses: Responses, incomplete: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Dense (N', J) 0/1 answers of the users who answered every item once, and the mask (N,)."""
    observed = responses.observed_counts
    per_user = np.asarray(observed.sum(axis=1)).reshape(-1)
    distinct = np.diff(observed.indptr)
    keep = (distinct == responses.n_items) & (per_user == responses.n_items)
    if not keep.all() and incomplete != "complete-cases":
        raise ValueError(
            f"Mantel–Haenszel matches users on total score, which needs complete data; "
            f"{int((~keep).sum())} of {responses.n_users} users did not answer every item exactly "
            "once (use the likelihood-ratio test, or incomplete='complete-cases')"
        )
    answers = np.asarray(responses.correct_counts[keep].toarray(), dtype=np.float64)
    return answers, keep


def _item(
    correct: FloatArray,
    score: npt.NDArray[np.int64],
    in_reference: npt.NDArray[np.bool_],
    in_focal: npt.NDArray[np.bool_],
) -> tuple[float, float, float]:
    """(α_MH, RBG variance of ln α_MH, continuity-corrected χ²) of one item over score strata."""
    n_strata = int(score.max(initial=0)) + 1
    count = lambda mask: np.bincount(score[mask], minlength=n_strata).astype(np.float64)  # noqa: E731
    a, b = count(in_reference & (correct == 1)), count(in_reference & (correct == 0))
    c, d = count(in_focal & (correct == 1)), count(in_focal & (correct == 0))
    n = a + b + c + d
    use = n >= 2
    a, b, c, d, n = a[use], b[use], c[use], d[use], n[use]
    r, s = a * d / n, b * c / n
    sum_r, sum_s = r.sum(), s.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = sum_r / sum_s
        p_, q_ = (a + d) / n, (b + c) / n
        log_var = (p_ * r).sum() / (2 * sum_r**2) + (p_ * s + q_ * r).sum() / (2 * sum_r * sum_s)
        log_var += (q_ * s).sum() / (2 * sum_s**2)
    n_ref, n_foc, right, wrong = a + b, c + d, a + c, b + d
    delta = float(a.sum() - (n_ref * right / n).sum())
    variance = float((n_ref * n_foc * right * wrong / (n * n * (n - 1))).sum())
    statistic = (abs(delta) - min(0.5, abs(delta))) ** 2 / variance if variance > 0 else 0.0
    return float(odds), float(log_var), float(statistic)


__all__ = ["DELTA_SCALE", "MantelHaenszelDIF", "ets_class", "mantel_haenszel", "two_groups"]
