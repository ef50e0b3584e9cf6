"""Marginal maximum-likelihood calibration of the 1PL, 2PL and 3PL (Bock–Aitkin EM).

θ ~ N(0, 1) on a rectangular quadrature grid (default 41 points on [−6, 6]); item parameters by
EM with SQUAREM acceleration (``em.py``); Bayes-modal where priors are given (``Priors``: Beta on
c for the 3PL by default, optional log-normal on a and normal on b).

Fixed-parameter calibration: items in ``fixed_items`` that occur in the data keep their a, b, c
exactly; the others are estimated, and the mean and SD of the ability distribution are estimated
too (unless ``estimate_population=False``), so θ and the new items land on the anchors' scale.

Items that every respondent answered correctly (or incorrectly) have no finite ML estimate. They
are left out of the EM and reported with a = 1 (the common slope in a 1PL), c = 0 and the b at
which the marginal probability of a correct answer under the ability distribution is (n − ½)/n
(or ½/n) for their n answers, with se_b from that binomial's information; ``extreme_items`` lists
them. Users with a single answer need no special treatment: their EAP is finite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dreamseed.irt.em import IterationInfo, run_em
from dreamseed.irt.estep import EStepper, log_likelihood_by_user
from dreamseed.irt.item_model import logistic, logit, stacked_log_table
from dreamseed.irt.mstep import (
    INTERCEPT_BOUND,
    LOGIT_C_BOUNDS,
    SLOPE_BOUNDS,
    ItemArrays,
    maximise_items,
    prior_log_density,
)
from dreamseed.irt.parameters import ItemParameters, LogNormalPrior, Priors, difficulty_from_intercept
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses
from dreamseed.irt.scoring import score
from dreamseed.irt.standard_errors import item_standard_errors

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Model = Literal["1PL", "2PL", "3PL"]
MODELS = ("1PL", "2PL", "3PL")


@dataclass(frozen=True, eq=False)
class Calibration:
    """Result of ``calibrate``: items and abilities plus fit and convergence figures.

    ``loglik`` is the marginal log-likelihood (float64, on the estimation grid) of the data used
    for estimation; ``log_posterior`` adds the item log priors. ``aic`` = −2 loglik + 2k and
    ``bic`` = −2 loglik + k log(n_persons), with k = ``n_parameters``. ``iterations`` counts EM
    map evaluations (E-step + M-step).
    """

    items: Any  # ItemParameters (typed Any to keep the dataclass repr short)
    abilities: Any  # Abilities
    model: str
    loglik: float
    log_posterior: float
    aic: float
    bic: float
    n_persons: int
    n_items: int
    n_obs: int
    n_parameters: int
    iterations: int
    converged: bool
    population_mean: float
    population_sd: float
    fixed_items: tuple[Any, ...] = ()
    extreme_items: tuple[Any, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (no item or user rows)."""
        return {
            "model": self.model,
            "loglik": self.loglik,
            "log_posterior": self.log_posterior,
            "aic": self.aic,
            "bic": self.bic,
            "n_persons": self.n_persons,
            "n_items": self.n_items,
            "n_obs": self.n_obs,
            "n_parameters": self.n_parameters,
            "iterations": self.iterations,
            "converged": self.converged,
            "population": {"mean": self.population_mean, "sd": self.population_sd},
            "fixed_items": [_plain(i) for i in self.fixed_items],
            "extreme_items": [_plain(i) for i in self.extreme_items],
            "settings": self.settings,
        }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class _Layout:
    """Packs the free parameters (and the population mean, log SD) into one vector for SQUAREM."""

    model: str
    free: BoolArray
    base: ItemArrays
    population: bool

    def pack(self, items: ItemArrays, mean: float, sd: float) -> FloatArray:
        f = self.free
        parts = [items.a[f][:1] if self.model == "1PL" else items.a[f], items.d[f]]
        if self.model == "3PL":
            parts.append(items.gamma[f])
        if self.population:
            parts.append(np.array([mean, np.log(sd)]))
        return np.concatenate(parts)

    def unpack(self, x: FloatArray) -> tuple[ItemArrays, float, float]:
        f, n = self.free, int(self.free.sum())
        a, d, gamma = self.base.a.copy(), self.base.d.copy(), self.base.gamma.copy()
        k = 1 if self.model == "1PL" else n
        a[f], d[f] = x[:k], x[k : k + n]
        if self.model == "3PL":
            gamma[f] = x[k + n : k + 2 * n]
        mean, sd = (float(x[-2]), float(np.exp(x[-1]))) if self.population else (0.0, 1.0)
        return ItemArrays(a, d, gamma), mean, sd

    def project(self, x: FloatArray) -> FloatArray:
        items, mean, sd = self.unpack(x)
        low = 0.01 if self.model == "1PL" else SLOPE_BOUNDS[0]
        items = ItemArrays(
            np.clip(items.a, low, SLOPE_BOUNDS[1]),
            np.clip(items.d, -INTERCEPT_BOUND, INTERCEPT_BOUND),
            np.clip(items.gamma, *LOGIT_C_BOUNDS) if self.model == "3PL" else items.gamma,
        )
        return self.pack(items, float(np.clip(mean, -4.0, 4.0)), float(np.clip(sd, 0.05, 20.0)))


def calibrate(
    responses: Responses,
    model: Model = "2PL",
    *,
    fixed_items: ItemParameters | None = None,
    priors: Priors | None = None,
    quadrature: QuadratureGrid | None = None,
    max_iter: int = 500,
    tol: float = 1e-4,
    loglik_tol: float = 1e-7,
    accelerate: bool = True,
    estimate_population: bool | None = None,
    standard_errors: bool = True,
    progress: Callable[[IterationInfo], None] | None = None,
    n_threads: int = 2,
) -> Calibration:
    """Calibrate ``model`` on ``responses``; see the module docstring for the treatment of anchors,
    extreme items and priors. ``tol`` bounds the largest change of any (a, d, logit c) in one EM
    step (as R mirt's TOL) and ``loglik_tol`` the relative change in log-posterior between SQUAREM
    cycles; both must hold.
    ``progress`` is called after every EM iteration.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    priors = priors or Priors()
    grid = quadrature or QuadratureGrid.normal(41, 6.0)
    fixed_mask, base = _fixed_and_start(responses, fixed_items, model, priors)
    extreme = _extreme_items(responses, fixed_mask)
    population = bool(fixed_mask.any()) if estimate_population is None else estimate_population
    used = ~extreme
    data = _estimation_data(responses, used)
    free = ~fixed_mask[used]
    layout = _Layout(model, free, _take(base, used), population)
    stepper = EStepper(data.counts, n_threads)
    try:
        update = _em_map(stepper, layout, grid.points, model, priors)
        x0 = layout.pack(layout.base, 0.0, 1.0)
        outcome = run_em(
            update,
            x0,
            project=layout.project,
            tol=tol,
            objective_tol=loglik_tol,
            max_iter=max_iter,
            accelerate=accelerate,
            progress=progress,
        )
    finally:
        stepper.close()
    items, mean, sd = layout.unpack(outcome.x)
    weights = QuadratureGrid.on_points(grid.points, mean, sd).log_weights
    table = stacked_log_table(items.a, items.d, items.c, grid.points)
    loglik = float(np.sum(log_likelihood_by_user(data.counts, table, weights)))
    log_prior = _total_log_prior(items, free, model, priors)
    ses = (
        item_standard_errors(data.counts, data.pairs, items, grid.points, weights, model, priors, free)
        if standard_errors and free.any()
        else (np.zeros(free.size),) * 3
    )
    estimated = _irt_items(data.item_ids, items, ses)
    all_items = _with_exact_anchors(
        _with_extreme_items(responses, estimated, extreme, grid, mean, sd, model, items, free), fixed_items
    )
    abilities = score(responses, all_items, "EAP", prior_mean=mean, prior_sd=sd)
    n_parameters = _count_parameters(model, int(free.sum()), population)
    return Calibration(
        items=all_items,
        abilities=abilities,
        model=model,
        loglik=loglik,
        log_posterior=loglik + log_prior,
        aic=-2 * loglik + 2 * n_parameters,
        bic=-2 * loglik + n_parameters * float(np.log(max(data.n_users, 1))),
        n_persons=responses.n_users,
        n_items=responses.n_items,
        n_obs=responses.n_obs,
        n_parameters=n_parameters,
        iterations=outcome.iterations,
        converged=outcome.converged,
        population_mean=mean,
        population_sd=sd,
        fixed_items=tuple(responses.item_ids[fixed_mask].tolist()),
        extreme_items=tuple(responses.item_ids[extreme].tolist()),
        settings=_settings(grid, tol, loglik_tol, max_iter, accelerate, priors, model),
    )


def _em_map(
    stepper: EStepper, layout: _Layout, points: FloatArray, model: str, priors: Priors
) -> Callable[[FloatArray], tuple[FloatArray, float]]:
    def update(x: FloatArray) -> tuple[FloatArray, float]:
        items, mean, sd = layout.unpack(x)
        weights = QuadratureGrid.on_points(points, mean, sd).log_weights
        e = stepper(stacked_log_table(items.a, items.d, items.c, points), weights)
        objective = e.loglik + _total_log_prior(items, layout.free, model, priors)
        new_items = maximise_items(e.right, e.wrong, points, items, layout.free, model, priors)
        if layout.population:
            total = e.mass.sum()
            mean = float(e.mass @ points / total)
            sd = float(np.sqrt(max(e.mass @ (points - mean) ** 2 / total, 1e-4)))
        return layout.pack(new_items, mean, sd), objective

    return update


def _total_log_prior(items: ItemArrays, free: BoolArray, model: str, priors: Priors) -> float:
    per_item = prior_log_density(items, priors, model, per_item_slope=model != "1PL")
    total = float(per_item[free].sum())
    if model == "1PL" and priors.a is not None and free.any():
        slope = ItemArrays(items.a[free][:1], np.zeros(1), np.zeros(1))
        total += float(prior_log_density(slope, Priors(c=None, a=priors.a), "2PL", True)[0])
    return total


def _fixed_and_start(
    responses: Responses, fixed_items: ItemParameters | None, model: str, priors: Priors
) -> tuple[BoolArray, ItemArrays]:
    """Mask of fixed items (J,) and starting values: fixed items' own, else from proportions."""
    right, total = responses.correct_per_item()
    p = np.clip((right + 0.5) / (total + 1.0), 0.02, 0.98)
    c0 = (priors.c.mode if priors.c is not None else 0.2) if model == "3PL" else 0.0
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


def _extreme_items(responses: Responses, fixed: BoolArray) -> BoolArray:
    right, total = responses.correct_per_item()
    return ~fixed & ((right == 0) | (right == total))


def _take(items: ItemArrays, mask: BoolArray) -> ItemArrays:
    return ItemArrays(items.a[mask], items.d[mask], items.gamma[mask])


def _estimation_data(responses: Responses, used: BoolArray) -> Responses:
    """Responses restricted to the estimated items and to users with at least one answer."""
    if not used.any():
        raise ValueError(
            "every item was answered correctly by everyone (or incorrectly by everyone); "
            "there is nothing to calibrate"
        )
    data = responses.aligned_to(responses.item_ids[used])
    answered = np.flatnonzero(np.diff(data.counts.indptr) > 0)
    return Responses(data.user_ids[answered], data.item_ids, data.counts[answered])


def _irt_items(
    item_ids: npt.NDArray[Any], items: ItemArrays, ses: tuple[FloatArray, FloatArray, FloatArray]
) -> ItemParameters:
    c = np.where(np.isfinite(items.gamma), logistic(items.gamma), 0.0)
    return ItemParameters.from_arrays(
        item_ids, items.a, difficulty_from_intercept(items.a, items.d), c, ses[0], ses[1], ses[2]
    )


def _with_extreme_items(
    responses: Responses,
    estimated: ItemParameters,
    extreme: BoolArray,
    grid: QuadratureGrid,
    mean: float,
    sd: float,
    model: str,
    items: ItemArrays,
    free: BoolArray,
) -> ItemParameters:
    """All items in the order of ``responses.item_ids``, extreme ones filled in (module docstring)."""
    if not extreme.any():
        return estimated
    right, total = responses.correct_per_item()
    slope = float(items.a[free][0]) if model == "1PL" and free.any() else 1.0
    target = np.where(right[extreme] > 0, (total[extreme] - 0.5) / total[extreme], 0.5 / total[extreme])
    weights = QuadratureGrid.on_points(grid.points, mean, sd).weights
    b, se_b = _difficulty_for_marginal(target, total[extreme], slope, grid.points, weights)
    a_all, b_all = np.empty(responses.n_items), np.empty(responses.n_items)
    c_all, se = np.zeros(responses.n_items), np.zeros((3, responses.n_items))
    a_all[extreme], b_all[extreme], se[1, extreme] = slope, b, se_b
    kept = ~extreme
    a_all[kept], b_all[kept], c_all[kept] = estimated.a, estimated.b, estimated.c
    se[0, kept], se[1, kept], se[2, kept] = estimated.se_a, estimated.se_b, estimated.se_c
    return ItemParameters.from_arrays(responses.item_ids, a_all, b_all, c_all, se[0], se[1], se[2])


def _with_exact_anchors(items: ItemParameters, fixed_items: ItemParameters | None) -> ItemParameters:
    """Fixed items carry exactly the given a, b, c (no round trip through the intercept)."""
    if fixed_items is None or not len(fixed_items):
        return items
    where = fixed_items.positions(items.item_id)
    held = where >= 0
    a, b, c = items.a.copy(), items.b.copy(), items.c.copy()
    a[held], b[held], c[held] = (
        fixed_items.a[where[held]],
        fixed_items.b[where[held]],
        fixed_items.c[where[held]],
    )
    return ItemParameters(items.item_id, a, b, c, items.se_a, items.se_b, items.se_c)


def _difficulty_for_marginal(
    target: FloatArray, n: FloatArray, slope: float, points: FloatArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """b with Σ_q w_q σ(slope(θ_q − b)) = target (bisection), and 1/√(binomial information of b)."""
    low, high = np.full(target.size, -30.0), np.full(target.size, 30.0)
    for _ in range(80):
        b = 0.5 * (low + high)
        marginal = logistic(slope * (points[None, :] - b[:, None])) @ weights
        low, high = np.where(marginal > target, b, low), np.where(marginal > target, high, b)
    s = logistic(slope * (points[None, :] - b[:, None]))
    marginal = s @ weights
    derivative = (slope * s * (1 - s)) @ weights
    information = n * derivative**2 / (marginal * (1 - marginal))
    return b, 1.0 / np.sqrt(np.maximum(information, 1e-12))


def _count_parameters(model: str, n_free: int, population: bool) -> int:
    per_item = {"1PL": n_free + (1 if n_free else 0), "2PL": 2 * n_free, "3PL": 3 * n_free}[model]
    return per_item + (2 if population else 0)


def _settings(
    grid: QuadratureGrid,
    tol: float,
    loglik_tol: float,
    max_iter: int,
    accelerate: bool,
    priors: Priors,
    model: str,
) -> dict[str, Any]:
    def describe(prior: Any) -> dict[str, Any] | None:
        return None if prior is None else {"family": type(prior).__name__, **prior.__dict__}

    return {
        "quadrature": {
            "n_points": int(grid.points.size),
            "min": float(grid.points[0]),
            "max": float(grid.points[-1]),
        },
        "tol": tol,
        "loglik_tol": loglik_tol,
        "max_iter": max_iter,
        "acceleration": "SQUAREM" if accelerate else "none",
        "priors": {
            "c": describe(priors.c) if model == "3PL" else None,
            "a": describe(priors.a),
            "b": describe(priors.b),
        },
    }


__all__ = ["MODELS", "Calibration", "LogNormalPrior", "Model", "calibrate"]
