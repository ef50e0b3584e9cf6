"""EAP scores of summed scores (Thissen et al. 1995): the Lord–Wingersky table.

With P_j(θ_q) on a quadrature grid, the Lord–Wingersky recursion gives L(s | θ_q), the probability
of summed score s = 0 … J given θ_q. With the population weights w_q,

    P(s) = Σ_q w_q L(s | θ_q),   EAP(s) = Σ_q θ_q w_q L(s | θ_q) / P(s),   SE(s)² = posterior variance,

and N·P(s) is the expected number of users with score s. As R mirt's ``fscores(, method =
'EAPsum', full.scores = FALSE)``: observed and expected counts per score, |O − E|/√E, and the
reliability var(EAP)/(var(EAP) + mean(SE²)) over the users scored (R's ``var``, N − 1).

**Complete data only**: a summed score means something only when every user answered the same
items, so the observed counts, the std. residuals and the reliability use the users who answered
every item exactly once (``n_dropped`` says how many were left out, as mirt's ``na.rm = TRUE``);
the EAP column itself is the table for the whole test form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.marginal_moments import complete_answers
from dreamseed.irt.parameters import ItemParameters, probability_correct
from dreamseed.irt.quadrature import QuadratureGrid, mirt_grid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]

#: The recursion is O(J² Q); above this many items the table is not built.
MAX_ITEMS = 2000


@dataclass(frozen=True, eq=False)
class SumScoreTable:
    """One row per summed score 0 … J (arrays of shape (J + 1,)); ``observed`` and the rest of the
    complete cases (``n_persons`` scored, ``n_dropped`` left out)."""

    score: npt.NDArray[np.int64]
    theta: FloatArray
    se: FloatArray
    expected: FloatArray
    observed: FloatArray
    std_residual: FloatArray
    reliability: float
    n_persons: int
    n_dropped: int

    def rows(self) -> list[dict[str, float]]:
        """The table as JSON-ready rows."""
        return [
            {"score": int(s), "theta": float(t), "se": float(e), "observed": float(o), "expected": float(x)}
            for s, t, e, o, x in zip(
                self.score, self.theta, self.se, self.observed, self.expected, strict=True
            )
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "n_persons": self.n_persons,
            "n_dropped": self.n_dropped,
            "reliability": self.reliability,
            "table": self.rows(),
        }


def score_distribution(p: FloatArray) -> FloatArray:
    """Lord–Wingersky: L(s | θ_q) for s = 0 … J from P (J, Q); shape (J + 1, Q)."""
    n_items, n_points = p.shape
    dist = np.zeros((n_items + 1, n_points))
    dist[0] = 1.0
    for j in range(n_items):
        shifted = dist[: j + 1] * p[j]
        dist[: j + 1] *= 1.0 - p[j]
        dist[1 : j + 2] += shifted
    return dist


def eap_sum_table(
    responses: Responses,
    items: ItemParameters,
    *,
    mean: float = 0.0,
    sd: float = 1.0,
    grid: QuadratureGrid | None = None,
) -> SumScoreTable:
    """The EAP-sum table of ``items`` with the observed counts of the complete cases of ``responses``
    (mirt's 61-point grid on mean ± 6 SD by default). Raises ValueError above ``MAX_ITEMS`` items."""
    if len(items) > MAX_ITEMS:
        raise ValueError(f"the EAP-sum table of {len(items)} items exceeds MAX_ITEMS={MAX_ITEMS}")
    points = grid.points if grid is not None else mean + sd * mirt_grid().points
    weights = QuadratureGrid.on_points(points, mean, sd).weights
    p = probability_correct(points[None, :], items.a[:, None], items.b[:, None], items.c[:, None])
    joint = score_distribution(p) * weights
    marginal = joint.sum(axis=1)
    safe = np.maximum(marginal, 1e-300)
    theta = joint @ points / safe
    se = np.sqrt(np.maximum(joint @ points**2 / safe - theta**2, 0.0))
    answers = complete_answers(responses, items.item_id)
    totals = answers.matrix.sum(axis=1).round().astype(np.int64)
    n = totals.size
    observed = np.bincount(totals, minlength=len(items) + 1).astype(np.float64)
    expected = n * marginal
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = np.where(expected > 0, np.abs(observed - expected) / np.sqrt(expected), np.nan)
    reliability = float("nan")
    if n >= 2:
        scored, errors = theta[totals], se[totals]
        variance = float(np.var(scored, ddof=1))
        reliability = variance / (variance + float(np.mean(errors**2)))
    return SumScoreTable(
        np.arange(len(items) + 1), theta, se, expected, observed, residual, reliability, n, answers.n_dropped
    )
