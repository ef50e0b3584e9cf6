"""Limited-information model fit: M2 (Maydeu-Olivares & Joe 2006), RMSEA with its CI, SRMSR, CFI, TLI.

With e = p − π the residuals of the first- and second-order marginal proportions (s = J + J(J−1)/2
moments), Δ = ∂π/∂θ (s, k) over the k estimated parameters, Δc an orthonormal complement of Δ and
Ξ the moment covariance under the model (``marginal_moments.moment_covariance``),

    M2 = N · e' Δc (Δc' Ξ Δc)⁻¹ Δc' e,   df = s − k,

as R mirt's ``M2()``. Δ is taken by central differences in the estimation parametrisation (slope
and intercept per item, the logit of c, the population mean and log SD); M2 does not depend on
the parametrisation. RMSEA = √(max(M2/df − 1, 0)/(N − 1)); its CI inverts the non-central χ²
(mirt's ``RMSEA.CI``). SRMSR is the root mean square of observed minus model-implied
inter-item correlations. CFI and TLI compare M2 with the M2 of the independence model (slopes 0,
intercepts at the observed proportions), reported when that model fits worse, as mirt does.

**Complete data only.** M2 is defined for every respondent answering every item once. Sparse data
raise ``ValueError`` unless ``incomplete="complete-cases"``, which computes every statistic on
the users who answered every item (``ModelFit.n_dropped`` says how many were left out). Cost:
Ξ is (s, s) with s ≈ J²/2, so time and memory grow as J⁴; ``MAX_MOMENTS`` guards it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc  # chi2.sf without importing scipy.stats (~0.5 s)

from dreamseed.irt.calibration import Calibration
from dreamseed.irt.item_model import ItemModel, logit
from dreamseed.irt.marginal_moments import (
    complete_answers,
    item_curves,
    model_moments,
    moment_covariance,
    observed_moments,
    pair_index,
)
from dreamseed.irt.quadrature import QuadratureGrid, mirt_grid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Incomplete = Literal["raise", "complete-cases"]

#: The most moments (J + J(J−1)/2) M2 accepts: 2,000 is about 62 items and a 32 MB Ξ.
MAX_MOMENTS = 2000


@dataclass(frozen=True)
class ModelFit:
    """M2 and the statistics derived from it, on ``n_persons`` complete cases (``n_dropped`` left out).

    ``rmsea_ci`` is the (lower, upper) bound at ``ci_level`` (default 90 %, as mirt); ``cfi`` and
    ``tli`` are None where the independence model fits no worse than the model.
    """

    m2: float
    df: int
    p_value: float
    rmsea: float
    rmsea_ci: tuple[float, float]
    ci_level: float
    srmsr: float
    cfi: float | None
    tli: float | None
    n_persons: int
    n_dropped: int

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "m2": self.m2, "df": self.df, "p": self.p_value, "rmsea": self.rmsea,
            "rmsea_ci": list(self.rmsea_ci), "ci_level": self.ci_level, "srmsr": self.srmsr,
            "cfi": self.cfi, "tli": self.tli, "n_persons": self.n_persons, "n_dropped": self.n_dropped,
        }  # fmt: skip


@dataclass(frozen=True, eq=False)
class FitProblem:
    """What M2 needs: item values (J,) in slope–intercept form, which of them are free, and the population.

    ``gamma`` is logit(c) (−inf where c = 0 and not estimated); ``free`` marks estimated items.
    """

    a: FloatArray
    d: FloatArray
    gamma: FloatArray
    free: BoolArray
    model: ItemModel
    mean: float = 0.0
    sd: float = 1.0
    estimate_mean: bool = False
    estimate_sd: bool = False


def calibration_fit(
    responses: Responses,
    calibration: Calibration,
    *,
    grid: QuadratureGrid | None = None,
    incomplete: Incomplete = "raise",
    ci_level: float = 0.90,
) -> ModelFit:
    """M2 and friends for a ``calibrate`` result on the data it was fitted to (mirt's grid by default).

    Anchored items (``calibration.fixed_items``) count as fixed; the population mean and SD as
    estimated when there were anchors, the SD also for the Rasch model.
    """
    items, model = calibration.items, ItemModel.named(calibration.model)
    anchored = len(calibration.fixed_items) > 0
    fixed = set(calibration.fixed_items) | set(calibration.extreme_items)
    problem = FitProblem(
        a=items.a, d=items.d, gamma=logit(np.where(items.c > 0, items.c, 0.5)) if model.guessing else
        np.full(len(items), -np.inf), free=np.array([i not in fixed for i in items.item_id.tolist()]),
        model=model, mean=calibration.population_mean, sd=calibration.population_sd,
        estimate_mean=anchored, estimate_sd=anchored or model.fixed_slope,
    )  # fmt: skip
    return m2_fit(responses, items.item_id, problem, grid=grid, incomplete=incomplete, ci_level=ci_level)


def m2_fit(
    responses: Responses,
    item_ids: npt.NDArray[Any],
    problem: FitProblem,
    *,
    grid: QuadratureGrid | None = None,
    incomplete: Incomplete = "raise",
    ci_level: float = 0.90,
) -> ModelFit:
    """M2, df, p, RMSEA (CI at ``ci_level``), SRMSR, CFI and TLI; see the module docstring."""
    answers = complete_answers(responses, item_ids)
    if answers.n_dropped and incomplete != "complete-cases":
        raise ValueError(
            f"M2 needs complete data: {answers.n_dropped} of {responses.n_users} users did not answer "
            "every item exactly once; pass incomplete='complete-cases' to use the others"
        )
    n_items = len(item_ids)
    if n_items + n_items * (n_items - 1) // 2 > MAX_MOMENTS:
        raise ValueError(f"M2 on {n_items} items needs more than MAX_MOMENTS={MAX_MOMENTS} moments")
    points = (grid or mirt_grid()).points
    observed = observed_moments(answers.matrix)
    x, unpack = _free_parameters(problem)
    m2, df = _m2(observed, answers.matrix.shape[0], x, unpack, points)
    null_m2, null_df = _independence_m2(observed, answers.matrix.shape[0], points)
    return _fit_statistics(m2, df, null_m2, null_df, answers, problem, points, ci_level)


Unpack = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray, float, float]]


def _free_parameters(problem: FitProblem) -> tuple[FloatArray, Unpack]:
    """The estimated parameters as a vector and the map back to (a, d, c, mean, sd)."""
    free, model = problem.free, problem.model
    n_free = int(free.sum())
    slopes = 0 if model.fixed_slope else (min(n_free, 1) if model.common_slope else n_free)
    parts = [
        problem.a[free][:slopes],
        problem.d[free],
        problem.gamma[free] if model.guessing else np.empty(0),
        np.array([problem.mean] if problem.estimate_mean else []),
        np.array([np.log(problem.sd)] if problem.estimate_sd else []),
    ]
    sizes = np.cumsum([part.size for part in parts])[:-1]

    def unpack(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, float, float]:
        slope, intercept, gamma, mean, log_sd = np.split(x, sizes)
        a, d, g = problem.a.copy(), problem.d.copy(), problem.gamma.copy()
        if slopes:
            a[free] = slope
        d[free] = intercept
        if model.guessing:
            g[free] = gamma
        c = np.where(np.isfinite(g), 1.0 / (1.0 + np.exp(-g)), 0.0)
        return (a, d, c, float(mean[0]) if mean.size else problem.mean,
                float(np.exp(log_sd[0])) if log_sd.size else problem.sd)  # fmt: skip

    return np.concatenate(parts).astype(np.float64), unpack


def _moments_at(x: FloatArray, unpack: Unpack, points: FloatArray) -> tuple[FloatArray, FloatArray]:
    a, d, c, mean, sd = unpack(x)
    curves = item_curves(a, d, c, points)
    return curves, QuadratureGrid.on_points(points, mean, sd).weights


def _jacobian(x: FloatArray, unpack: Unpack, points: FloatArray) -> FloatArray:
    """Δ = ∂π/∂x by central differences, shape (s, k)."""
    columns = []
    for k in range(x.size):
        step = 1e-5 * max(1.0, abs(float(x[k])))
        up, down = x.copy(), x.copy()
        up[k] += step
        down[k] -= step
        columns.append((model_moments(*_moments_at(up, unpack, points))
                        - model_moments(*_moments_at(down, unpack, points))) / (2 * step))  # fmt: skip
    return np.column_stack(columns)


def _m2(observed: FloatArray, n: int, x: FloatArray, unpack: Unpack, points: FloatArray) -> tuple[float, int]:
    curves, weights = _moments_at(x, unpack, points)
    return _quadratic_form(observed - model_moments(curves, weights), n, _jacobian(x, unpack, points),
                           moment_covariance(curves, weights))  # fmt: skip


def _quadratic_form(residual: FloatArray, n: int, delta: FloatArray, xi: FloatArray) -> tuple[float, int]:
    """N e' Δc (Δc' Ξ Δc)⁻¹ Δc' e and df = s − k."""
    import scipy.linalg  # here, not at the top: scipy.linalg and .optimize cost ~0.5 s to import

    q, _ = scipy.linalg.qr(delta, mode="full")
    complement = q[:, delta.shape[1] :]
    projected = complement.T @ residual
    middle = complement.T @ xi @ complement
    m2 = float(n * projected @ np.linalg.solve(middle, projected))
    return abs(m2), int(residual.size - delta.shape[1])


def _independence_m2(observed: FloatArray, n: int, points: FloatArray) -> tuple[float, int]:
    """M2 of the independence model: slopes 0, intercepts at the logits of the observed proportions."""
    n_items = int((np.sqrt(8 * observed.size + 1) - 1) / 2)
    proportions = np.clip(observed[:n_items], 1e-6, 1 - 1e-6)
    null = FitProblem(
        a=np.zeros(n_items), d=logit(proportions), gamma=np.full(n_items, -np.inf),
        free=np.ones(n_items, dtype=bool), model=ItemModel.named("Rasch"),
    )  # fmt: skip
    x, unpack = _free_parameters(null)
    return _m2(observed, n, x, unpack, points)


def _fit_statistics(
    m2: float, df: int, null_m2: float, null_df: int, answers: Any, problem: FitProblem,
    points: FloatArray, ci_level: float,
) -> ModelFit:  # fmt: skip
    n = answers.matrix.shape[0]
    worse_null = null_m2 > m2 and df > 0
    return ModelFit(
        m2=m2, df=df, p_value=float(chdtrc(df, m2)) if df > 0 else float("nan"),
        rmsea=rmsea(m2, df, n), rmsea_ci=rmsea_interval(m2, df, n, ci_level), ci_level=ci_level,
        srmsr=_srmsr(answers.matrix, problem, points),
        cfi=float(np.clip(1 - (m2 - df) / (null_m2 - null_df), 0, 1)) if worse_null else None,
        tli=float((null_m2 / null_df - m2 / df) / (null_m2 / null_df - 1)) if worse_null else None,
        n_persons=n, n_dropped=answers.n_dropped,
    )  # fmt: skip


def rmsea(m2: float, df: int, n: int) -> float:
    """√(max(M2/df − 1, 0) / (N − 1)), as mirt; NaN without degrees of freedom."""
    if df <= 0:
        return float("nan")
    return float(np.sqrt(max(m2 / df - 1.0, 0.0) / (n - 1)))


def rmsea_interval(m2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """(lower, upper) RMSEA bounds √(λ/(N df)) where the non-central χ²(df, λ) puts M2 at its quantiles."""
    if df <= 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    return _rmsea_bound(m2, df, n, 1.0 - tail), _rmsea_bound(m2, df, n, tail)


def _rmsea_bound(m2: float, df: int, n: int, probability: float) -> float:
    import scipy.optimize  # here, not at the top: with scipy.stats ~0.8 s to import, only this needs them
    import scipy.stats

    def excess(ncp: float) -> float:
        cdf = scipy.stats.chi2.cdf(m2, df) if ncp == 0 else scipy.stats.ncx2.cdf(m2, df, ncp)
        return float(cdf - probability)

    if excess(0.0) <= 0:
        return 0.0
    upper = max(float(n), 5.0 * m2)
    if excess(upper) > 0:
        return float("nan")
    return float(np.sqrt(scipy.optimize.brentq(excess, 0.0, upper) / (n * df)))


def _srmsr(matrix: FloatArray, problem: FitProblem, points: FloatArray) -> float:
    """Root mean square of observed minus model-implied inter-item correlations (pairs j < k)."""
    model = model_moments(*_moments_at(*_free_parameters(problem), points))
    return float(np.sqrt(np.mean((_correlations(observed_moments(matrix)) - _correlations(model)) ** 2)))


def _correlations(moments: FloatArray) -> FloatArray:
    """φ correlations of the pairs j < k from (first, second)-order moments, shape (J(J−1)/2,)."""
    n_items = int((np.sqrt(8 * moments.size + 1) - 1) / 2)
    first, second = pair_index(n_items)
    p = moments[:n_items]
    covariance = moments[n_items:] - p[first] * p[second]
    return np.asarray(covariance / np.sqrt(p[first] * (1 - p[first]) * p[second] * (1 - p[second])))
