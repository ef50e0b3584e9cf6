"""Marginal maximum-likelihood calibration of the 1PL, 2PL and 3PL (Bock–Aitkin EM).

θ ~ N(0, 1) on a rectangular quadrature grid (default 41 points on [−6, 6]); item parameters by
EM with SQUAREM acceleration (``em.py``); Bayes-modal where priors are given (``Priors``: Beta on
c for the 3PL by default, optional log-normal on a and normal on b).

Fixed-parameter calibration: items in ``fixed_items`` that occur in the data keep their a, b, c
exactly; the others are estimated, and the mean and SD of the ability distribution are estimated
too (unless ``estimate_population=False``), so θ and the new items land on the anchors' scale.

Items that every respondent answered correctly (or incorrectly) have no finite ML estimate; see
``extreme_items.py`` for their documented finite values; ``Calibration.extreme_items`` lists them.
Users with a single answer need no special treatment: their EAP is finite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dreamseed.irt.covariance import (
    CovarianceProblem,
    ParameterCovariance,
    auto_method,
    item_covariance_blocks,
    parameter_covariance,
)
from dreamseed.irt.em import EMOutcome, IterationInfo, run_em
from dreamseed.irt.estep import EStepper, log_likelihood_by_user
from dreamseed.irt.extreme_items import extreme_item_mask, with_extreme_items
from dreamseed.irt.item_model import MODEL_NAMES, ItemModel, ModelName, logistic, stacked_log_table
from dreamseed.irt.json_values import python_scalar
from dreamseed.irt.mstep import (
    ItemArrays,
    MStepProblem,
    common_slope_log_prior,
    maximise_items,
    prior_log_density,
)
from dreamseed.irt.packing import ParameterLayout, fixed_mask_and_start, take_items
from dreamseed.irt.parameters import Abilities, ItemParameters, Priors, difficulty_from_intercept
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses
from dreamseed.irt.scoring import score
from dreamseed.irt.standard_errors import (
    irt_standard_errors,
    observed_item_information,
    standard_errors_from_information,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Model = ModelName
MODELS = MODEL_NAMES
CovarianceMethod = Literal["auto", "full", "block-diagonal"]


@dataclass(frozen=True, eq=False)
class Calibration:
    """Result of ``calibrate``: items and abilities plus fit and convergence figures.

    ``loglik`` is the marginal log-likelihood (float64, on the estimation grid) of the data used
    for estimation; ``log_posterior`` adds the item log priors. ``aic`` = −2 loglik + 2k and
    ``bic`` = −2 loglik + k log(n_persons), with k = ``n_parameters``. ``iterations`` counts EM
    map evaluations (E-step + M-step).
    """

    items: ItemParameters
    abilities: Abilities
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
    covariance: ParameterCovariance | None = None

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
            "fixed_items": [python_scalar(i) for i in self.fixed_items],
            "extreme_items": [python_scalar(i) for i in self.extreme_items],
            "settings": self.settings,
            "covariance": None if self.covariance is None else self.covariance.summary(),
        }


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
    covariance: CovarianceMethod = "auto",
    progress: Callable[[IterationInfo], None] | None = None,
    n_threads: int = 2,
) -> Calibration:
    """Calibrate ``model`` on ``responses``; see the module docstring for the treatment of anchors,
    extreme items and priors. ``tol`` bounds the largest change of any a, d or c in one EM step
    (as R mirt's TOL; c on the probability scale) and ``loglik_tol`` the relative change in the
    log-posterior between SQUAREM cycles; both must hold. ``progress`` is called after every EM
    iteration. ``covariance`` picks the standard errors: ``"full"`` (the observed information of
    all parameters, ``Calibration.covariance``), ``"block-diagonal"`` (a faster approximation from
    each item's own block, no ``Calibration.covariance``) or ``"auto"`` (default: full while its
    cost stays under the budgets of ``covariance.auto_method``, else block-diagonal); the method used
    is in ``settings["standard_errors"]``.
    """
    if covariance not in ("auto", "full", "block-diagonal"):
        raise ValueError(f"covariance must be 'auto', 'full' or 'block-diagonal', not {covariance!r}")
    item_model = ItemModel.named(model)
    problem = _Problem.build(
        responses, item_model, fixed_items, priors or Priors(), quadrature or QuadratureGrid.normal(41, 6.0),
        estimate_population,
    )  # fmt: skip
    stepper = EStepper(problem.data.counts, n_threads, problem.grid.points.size)
    try:
        outcome = run_em(
            _em_map(stepper, problem),
            problem.layout.pack(problem.layout.base, 0.0, 1.0),
            project=problem.layout.project,
            tol=tol,
            objective_tol=loglik_tol,
            max_iter=max_iter,
            accelerate=accelerate,
            progress=progress,
            distance=problem.layout.change,
        )
    finally:
        stepper.close()
    settings = _settings(problem.grid, tol, loglik_tol, max_iter, accelerate, problem.priors, item_model)
    method = _covariance_method(covariance, problem) if standard_errors else None
    settings["standard_errors"] = method
    return _result(problem, outcome, fixed_items, method, settings, n_threads)


def _covariance_method(requested: str, problem: _Problem) -> str:
    if requested != "auto":
        return requested
    return auto_method(problem.data, problem.grid.points.size, problem.model.n_params)


@dataclass(frozen=True, eq=False)
class _Problem:
    """Everything a calibration run needs: the data used for estimation and the parameter layout."""

    responses: Responses
    model: ItemModel
    priors: Priors
    grid: QuadratureGrid
    fixed: BoolArray
    extreme: BoolArray
    data: Responses
    layout: ParameterLayout

    @classmethod
    def build(
        cls,
        responses: Responses,
        model: ItemModel,
        fixed_items: ItemParameters | None,
        priors: Priors,
        grid: QuadratureGrid,
        estimate_population: bool | None,
    ) -> _Problem:
        fixed, start = fixed_mask_and_start(responses, fixed_items, model, priors)
        extreme = extreme_item_mask(responses, fixed)
        population = bool(fixed.any()) if estimate_population is None else estimate_population
        estimate_sd = population or (model.fixed_slope and estimate_population is None)
        used = ~extreme
        data = _estimation_data(responses, used)
        layout = ParameterLayout(model, ~fixed[used], take_items(start, used), population, estimate_sd)
        return cls(responses, model, priors, grid, fixed, extreme, data, layout)


def _result(
    problem: _Problem,
    outcome: EMOutcome,
    fixed_items: ItemParameters | None,
    standard_errors: str | None,
    settings: dict[str, Any],
    n_threads: int,
) -> Calibration:
    items, mean, sd = problem.layout.unpack(outcome.x)
    free, grid, data, model = problem.layout.free, problem.grid, problem.data, problem.model
    weights = QuadratureGrid.on_points(grid.points, mean, sd).log_weights
    covariance, ses, loglik = None, (np.zeros(free.size),) * 3, None
    if standard_errors == "block-diagonal" and free.any():
        # one pass over the users gives the log-likelihood and the items' information blocks
        information = observed_item_information(
            data.counts, items, grid.points, weights, model.n_params, n_threads
        )
        ses = standard_errors_from_information(information.information, items, model, problem.priors, free)
        loglik = information.loglik
    if loglik is None:
        table = stacked_log_table(items.a, items.d, items.c, grid.points)
        loglik = float(np.sum(log_likelihood_by_user(data.counts, table, weights)))
    if standard_errors == "full" and (free.any() or problem.layout.population):
        covariance_problem = CovarianceProblem(
            data.counts, data.pairs, items, grid.points, mean, sd, model, problem.priors, free,
            problem.layout.estimate_mean, problem.layout.estimate_sd,
        )  # fmt: skip
        covariance = parameter_covariance(covariance_problem)
        blocks = item_covariance_blocks(covariance_problem, covariance)
        ses = irt_standard_errors(blocks, items, free, model.n_params)
    responses = problem.responses
    estimated = _irt_items(data.item_ids, items, ses)
    with_extremes = with_extreme_items(
        responses, estimated, problem.extreme, grid, mean, sd, model, items, free
    )
    all_items = _with_exact_anchors(with_extremes, fixed_items)
    n_parameters = model.free_parameter_count(int(free.sum())) + problem.layout.n_population
    return Calibration(
        items=all_items,
        abilities=score(responses, all_items, "EAP", prior_mean=mean, prior_sd=sd, n_threads=n_threads),
        model=model.name,
        loglik=loglik,
        log_posterior=loglik + _total_log_prior(items, free, model, problem.priors),
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
        fixed_items=tuple(responses.item_ids[problem.fixed].tolist()),
        extreme_items=tuple(responses.item_ids[problem.extreme].tolist()),
        settings=settings,
        covariance=covariance,
    )


def _em_map(stepper: EStepper, problem: _Problem) -> Callable[[FloatArray], tuple[FloatArray, float]]:
    """The EM map x → (F(x), log-posterior at x): one E-step, one M-step, population update."""
    layout, points, model, priors = problem.layout, problem.grid.points, problem.model, problem.priors

    def update(x: FloatArray) -> tuple[FloatArray, float]:
        items, mean, sd = layout.unpack(x)
        weights = QuadratureGrid.on_points(points, mean, sd).log_weights
        e = stepper(stacked_log_table(items.a, items.d, items.c, points), weights)
        objective = e.loglik + _total_log_prior(items, layout.free, model, priors)
        new_items = maximise_items(MStepProblem(e.right, e.wrong, points, layout.free, model, priors), items)
        total = e.mass.sum()
        if layout.estimate_mean:
            mean = float(e.mass @ points / total)
        if layout.estimate_sd:
            sd = float(np.sqrt(max(e.mass @ (points - mean) ** 2 / total, 1e-4)))
        return layout.pack(new_items, mean, sd), objective

    return update


def _total_log_prior(items: ItemArrays, free: BoolArray, model: ItemModel, priors: Priors) -> float:
    total = float(prior_log_density(items, priors, model)[free].sum())
    if model.common_slope and free.any():
        total += common_slope_log_prior(float(items.a[free][0]), priors)
    return total


def _estimation_data(responses: Responses, used: BoolArray) -> Responses:
    """Responses restricted to the estimated items and to users with at least one answer."""
    if not used.any():
        raise ValueError(
            "every item was answered correctly by everyone (or incorrectly by everyone); "
            "there is nothing to calibrate"
        )
    data = responses.aligned_to(responses.item_ids[used])
    answered = np.diff(data.counts.indptr) > 0
    if answered.all():
        return data  # the same answers: no copy
    return Responses(data.user_ids[answered], data.item_ids, data.counts[np.flatnonzero(answered)])


def _irt_items(
    item_ids: npt.NDArray[Any], items: ItemArrays, ses: tuple[FloatArray, FloatArray, FloatArray]
) -> ItemParameters:
    c = np.where(np.isfinite(items.gamma), logistic(items.gamma), 0.0)
    return ItemParameters.from_arrays(
        item_ids, items.a, difficulty_from_intercept(items.a, items.d), c, ses[0], ses[1], ses[2]
    )


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


def _settings(
    grid: QuadratureGrid,
    tol: float,
    loglik_tol: float,
    max_iter: int,
    accelerate: bool,
    priors: Priors,
    model: ItemModel,
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
            "c": describe(priors.c) if model.guessing else None,
            "a": describe(priors.a),
            "b": describe(priors.b),
        },
    }


__all__ = ["MODELS", "Calibration", "Model", "calibrate"]
