"""Joint multiple-group calibration of the 1PL, 2PL, 3PL and Rasch models (Bock–Aitkin EM).

G groups of users answer the same item pool. Group g's abilities are θ ~ N(μ_g, σ_g²); the
reference group (``reference``, default the first label in sorted order) has μ = 0, σ = 1 (the
Rasch model: μ = 0, σ free, as R mirt), the focal groups' μ_g and σ_g are estimated when
``free_means`` / ``free_variances`` (default: whenever at least one item parameter is held equal
across groups, which is what identifies them). Each item parameter is either **invariant** (one
value shared by every group) or **group-specific** (one value per group): ``group_specific`` maps
an item id to the names of its group-specific parameters ("a", "d", "c"; the 1PL and the Rasch
model have only "d", their slope being common or 1); items not in the mapping are invariant, i.e.
anchors. ``anchored(item_ids, anchors, model)`` builds the mapping "anchors invariant, every other
item free". This is R mirt's ``multipleGroup(data, 1, group, invariance = c(anchor names,
'free_means', 'free_var'))``.

E-step: one sparse product per group on that group's rows of ``Responses.counts`` (the engine's
``EStepper``) with the group's item table and prior. M-step: for each item, Fisher scoring on its
unique parameters — the gradient and expected information of each group's expected complete-data
log-likelihood, summed over the groups that share a parameter — with step halving on the item's
total objective; the 1PL's common slope takes its own scoring step afterwards (a generalised EM
step); each free population mean and SD is the posterior moment of its group. SQUAREM
acceleration as in ``calibrate``.

Not here: standard errors of the joint model (use ``dif.wald_dif`` on separate calibrations),
extreme-item handling per group (a group-specific intercept of an item everyone in that group
got right runs to the bound ±40; the likelihood is still correct).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.em import IterationInfo, run_em
from dreamseed.irt.estep import EStepper, log_likelihood_by_user
from dreamseed.irt.item_model import (
    ItemModel,
    ModelName,
    logistic,
    stacked_log_table,
)
from dreamseed.irt.mstep import INTERCEPT_BOUND, LOGIT_C_BOUNDS, SLOPE_BOUNDS, ItemArrays
from dreamseed.irt.multigroup_mstep import group_log_prior, maximise
from dreamseed.irt.packing import fixed_mask_and_start
from dreamseed.irt.parameters import ItemParameters, Priors, difficulty_from_intercept
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PARAMETER_NAMES = ("a", "d", "c")
GroupSpecific = Mapping[Any, Collection[str]]


@dataclass(frozen=True, eq=False)
class MultiGroupCalibration:
    """Result of ``calibrate_groups``.

    ``a``, ``d``, ``c``: (G, J) slope–intercept parameters per group (rows in ``groups`` order,
    columns in ``item_ids`` order; invariant parameters are equal across rows); ``means``,
    ``sds``: (G,) ability distribution per group; ``loglik``: the joint marginal log-likelihood
    (float64, on the estimation grid); ``aic`` = −2 loglik + 2k, ``bic`` = −2 loglik + k log N
    and ``sabic`` (mirt's SABIC: log((N + 2)/24) in place of log N), k = ``n_parameters``.
    ``group_specific`` is the constraint pattern that was fitted.
    """

    groups: npt.NDArray[Any]
    item_ids: npt.NDArray[Any]
    model: str
    a: FloatArray
    d: FloatArray
    c: FloatArray
    means: FloatArray
    sds: FloatArray
    loglik: float
    n_parameters: int
    n_persons: FloatArray
    iterations: int
    converged: bool
    group_specific: dict[Any, tuple[str, ...]]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2 * self.loglik + self.n_parameters * float(np.log(self.n_persons.sum()))

    @property
    def sabic(self) -> float:
        return -2 * self.loglik + self.n_parameters * float(np.log((self.n_persons.sum() + 2) / 24))

    def items(self, group: Any) -> ItemParameters:
        """Group ``group``'s item parameters in IRT form (a, b, c), no standard errors."""
        g = self.groups.tolist().index(group)
        return ItemParameters.from_arrays(
            self.item_ids, self.a[g], difficulty_from_intercept(self.a[g], self.d[g]), self.c[g]
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (no item rows)."""
        return {
            "model": self.model,
            "groups": [str(g) for g in self.groups.tolist()],
            "loglik": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "n_parameters": self.n_parameters,
            "n_persons": [int(n) for n in self.n_persons],
            "means": self.means.tolist(),
            "sds": self.sds.tolist(),
            "iterations": self.iterations,
            "converged": self.converged,
        }


def anchored(
    item_ids: Sequence[Any], anchors: Collection[Any] | None, model: ModelName = "2PL"
) -> dict[Any, tuple[str, ...]]:
    """The ``group_specific`` mapping with ``anchors`` invariant and every other item free
    (all of its parameters); ``anchors=None`` means every item is an anchor."""
    if anchors is None:
        return {}
    held = set(anchors)
    names = model_parameters(model)
    return {item: names for item in item_ids if item not in held}


def model_parameters(model: ModelName | ItemModel) -> tuple[str, ...]:
    """The item parameters that may differ across groups under ``model``."""
    item_model = ItemModel.named(model)
    if not item_model.per_item_slope:
        return ("d",)
    return PARAMETER_NAMES if item_model.guessing else ("a", "d")


def calibrate_groups(
    responses: Responses,
    groups: Sequence[Any] | npt.NDArray[Any],
    model: ModelName = "2PL",
    *,
    group_specific: GroupSpecific | None = None,
    reference: Any = None,
    free_means: bool | None = None,
    free_variances: bool | None = None,
    priors: Priors | None = None,
    quadrature: QuadratureGrid | None = None,
    start: MultiGroupCalibration | None = None,
    max_iter: int = 2000,
    tol: float = 1e-5,
    loglik_tol: float = 1e-9,
    accelerate: bool = True,
    progress: Callable[[IterationInfo], None] | None = None,
    n_threads: int = 2,
) -> MultiGroupCalibration:
    """Jointly calibrate ``model`` in the groups given by ``groups`` (one label per user, aligned
    with ``responses.user_ids``, shape (N,)); see the module docstring for the constraints.
    ``start`` (an earlier fit of the same data and groups) gives starting values, which makes
    the nested fits of a likelihood-ratio DIF analysis cheap. ``tol`` bounds the largest change
    of any parameter in one EM step; ``loglik_tol`` the relative change of the log-posterior.
    """
    item_model = ItemModel.named(model)
    problem = _Problem.build(
        responses, np.asarray(groups), item_model, dict(group_specific or {}), reference,
        free_means, free_variances, priors or Priors(),
        quadrature or QuadratureGrid.normal(61, 6.0),
    )  # fmt: skip
    steppers = [EStepper(counts, n_threads) for counts in problem.counts]
    try:
        outcome = run_em(
            _em_map(steppers, problem),
            problem.start(start),
            project=problem.project,
            tol=tol,
            objective_tol=loglik_tol,
            max_iter=max_iter,
            accelerate=accelerate,
            progress=progress,
        )
    finally:
        for stepper in steppers:
            stepper.close()
    a, d, gamma, means, sds = problem.unpack(outcome.x)
    points = problem.grid.points
    loglik = 0.0
    for g, counts in enumerate(problem.counts):
        weights = QuadratureGrid.on_points(points, means[g], sds[g]).log_weights
        table = stacked_log_table(a[g], d[g], logistic(gamma[g]), points)
        loglik += float(np.sum(log_likelihood_by_user(counts, table, weights)))
    return MultiGroupCalibration(
        groups=problem.labels,
        item_ids=responses.item_ids,
        model=item_model.name,
        a=a,
        d=d,
        c=logistic(gamma),
        means=means,
        sds=sds,
        loglik=loglik,
        n_parameters=problem.n_parameters,
        n_persons=np.array([counts.shape[0] for counts in problem.counts], dtype=np.float64),
        iterations=outcome.iterations,
        converged=outcome.converged,
        group_specific=problem.spec,
        settings={
            "reference": problem.labels[0].item()
            if hasattr(problem.labels[0], "item")
            else problem.labels[0],
            "free_means": problem.free_means,
            "free_variances": problem.free_variances,
            "quadrature": {"n_points": int(points.size), "min": float(points[0]), "max": float(points[-1])},
            "tol": tol,
            "loglik_tol": loglik_tol,
        },
    )


@dataclass(frozen=True, eq=False)
class _Problem:
    """The data per group and the parameter structure.

    ``specific`` (J, K): parameter k of item j is group-specific; ``selector`` (J, G, K, U) maps
    each item's unique parameters (U = K shared slots then G·K group slots) to its per-group
    parameters; ``updated`` (K,): which of (a, d, γ) the item step moves.
    """

    labels: npt.NDArray[Any]
    counts: list[Any]
    model: ItemModel
    priors: Priors
    grid: QuadratureGrid
    spec: dict[Any, tuple[str, ...]]
    specific: BoolArray
    selector: FloatArray
    updated: BoolArray
    free_means: bool
    free_variances: bool
    base: ItemArrays

    @classmethod
    def build(
        cls,
        responses: Responses,
        groups: npt.NDArray[Any],
        model: ItemModel,
        spec: dict[Any, Collection[str]],
        reference: Any,
        free_means: bool | None,
        free_variances: bool | None,
        priors: Priors,
        grid: QuadratureGrid,
    ) -> _Problem:
        if groups.shape != (responses.n_users,):
            raise ValueError(
                f"groups must give one label per user ({responses.n_users}), not shape {groups.shape}"
            )
        labels = np.array(sorted(set(groups.tolist()), key=str), dtype=object)
        if reference is not None:
            if reference not in set(labels.tolist()):
                raise ValueError(f"reference group {reference!r} has no users")
            labels = np.array([reference, *[g for g in labels.tolist() if g != reference]], dtype=object)
        if labels.size < 2:
            raise ValueError("a multiple-group calibration needs at least two groups")
        answered = np.diff(responses.counts.indptr) > 0
        counts = []
        for label in labels.tolist():
            rows = np.flatnonzero((groups == label) & answered)
            if rows.size == 0:
                raise ValueError(f"group {label!r} has no users with answers")
            counts.append(responses.counts[rows])
        k = model.n_params
        allowed = model_parameters(model)
        known = {item: j for j, item in enumerate(responses.item_ids.tolist())}
        specific = np.zeros((responses.n_items, k), dtype=bool)
        clean: dict[Any, tuple[str, ...]] = {}
        for item, names in spec.items():
            if item not in known:
                raise ValueError(f"item {item!r} in group_specific is not in the responses")
            bad = sorted(set(names) - set(allowed))
            if bad:
                raise ValueError(f"{model.name} items have no group-specific {bad}; allowed: {allowed}")
            for name in names:
                specific[known[item], PARAMETER_NAMES.index(name)] = True
            if names:
                clean[item] = tuple(n for n in PARAMETER_NAMES if n in names)
        constrained = bool((~specific[:, [PARAMETER_NAMES.index(n) for n in allowed]]).any())
        free_means = constrained if free_means is None else free_means
        free_variances = constrained if free_variances is None else free_variances
        if (free_means or free_variances) and not constrained:
            raise ValueError(
                "focal means and variances are not identified when every item is free across groups; "
                "hold at least one item (an anchor) invariant"
            )
        n_groups = labels.size
        selector = np.zeros((responses.n_items, n_groups, k, k + n_groups * k))
        for g in range(n_groups):
            for p in range(k):
                selector[:, g, p, p] = ~specific[:, p]
                selector[:, g, p, k + g * k + p] = specific[:, p]
        updated = np.array([model.per_item_slope, True, model.guessing][:k])
        _, base = fixed_mask_and_start(responses, None, model, priors)
        return cls(labels, counts, model, priors, grid, clean, specific, selector, updated,
                   free_means, free_variances, base)  # fmt: skip

    @property
    def n_groups(self) -> int:
        return int(self.labels.size)

    @property
    def n_parameters(self) -> int:
        g = self.n_groups
        per_parameter = np.where(self.specific, g, 1)[:, self.updated]
        total = int(per_parameter.sum())
        if self.model.common_slope:
            total += 1
        total += (g - 1) * (int(self.free_means) + int(self.free_variances))
        return total + int(self.model.fixed_slope)  # the Rasch reference SD

    def pack(
        self, a: FloatArray, d: FloatArray, gamma: FloatArray, means: FloatArray, sds: FloatArray
    ) -> FloatArray:
        parts = [a.ravel(), d.ravel()]
        if self.model.guessing:
            parts.append(gamma.ravel())
        return np.concatenate([*parts, means, np.log(sds)])

    def unpack(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        g, j = self.n_groups, self.specific.shape[0]
        a, d = x[: g * j].reshape(g, j), x[g * j : 2 * g * j].reshape(g, j)
        offset = 2 * g * j
        if self.model.guessing:
            gamma = x[offset : offset + g * j].reshape(g, j)
            offset += g * j
        else:
            gamma = np.full((g, j), -np.inf)
        return a, d, gamma, x[offset : offset + g], np.exp(x[offset + g : offset + 2 * g])

    def start(self, previous: MultiGroupCalibration | None) -> FloatArray:
        g = self.n_groups
        if previous is not None:
            a, d, c = previous.a, previous.d, previous.c
            with np.errstate(divide="ignore"):
                gamma = np.log(c) - np.log1p(-c)
            sizes = np.array([counts.shape[0] for counts in self.counts], dtype=np.float64)
            a, d, gamma = (self._shared_equal(v, k, sizes) for k, v in enumerate((a, d, gamma)))
            return self.pack(a, d, gamma, previous.means.copy(), previous.sds.copy())
        tile = lambda v: np.tile(v, (g, 1))  # noqa: E731
        return self.pack(tile(self.base.a), tile(self.base.d), tile(self.base.gamma), np.zeros(g), np.ones(g))

    def _shared_equal(self, values: FloatArray, k: int, sizes: FloatArray) -> FloatArray:
        """``values`` (G, J) with each invariant parameter set to its size-weighted group mean."""
        out = values.copy()
        if k >= self.specific.shape[1]:
            return out
        shared = ~self.specific[:, k]
        with np.errstate(invalid="ignore"):
            pooled = sizes @ values[:, shared] / sizes.sum()
        out[:, shared] = np.where(np.isfinite(pooled), pooled, values[0, shared])
        return out

    def project(self, x: FloatArray) -> FloatArray:
        a, d, gamma, means, sds = self.unpack(x)
        if self.model.per_item_slope:
            a = np.clip(a, *SLOPE_BOUNDS)
        elif self.model.common_slope:
            a = np.full_like(a, float(np.clip(a.flat[0], 0.01, SLOPE_BOUNDS[1])))
        else:
            a = np.ones_like(a)
        d = np.clip(d, -INTERCEPT_BOUND, INTERCEPT_BOUND)
        if self.model.guessing:
            gamma = np.clip(gamma, *LOGIT_C_BOUNDS)
        return self.pack(a, d, gamma, means, np.clip(sds, 1e-2, 1e2))


def _em_map(steppers: list[EStepper], problem: _Problem) -> Callable[[FloatArray], tuple[FloatArray, float]]:
    points = problem.grid.points

    def update(x: FloatArray) -> tuple[FloatArray, float]:
        a, d, gamma, means, sds = problem.unpack(x)
        rights, wrongs, objective = [], [], 0.0
        means, sds = means.copy(), sds.copy()
        for g, stepper in enumerate(steppers):
            weights = QuadratureGrid.on_points(points, means[g], sds[g]).log_weights
            e = stepper(stacked_log_table(a[g], d[g], logistic(gamma[g]), points), weights)
            objective += e.loglik
            rights.append(e.right)
            wrongs.append(e.wrong)
            total = e.mass.sum()
            reference = g == 0
            if problem.free_means and not reference:
                means[g] = float(e.mass @ points / total)
            if (problem.free_variances and not reference) or (problem.model.fixed_slope and reference):
                sds[g] = float(np.sqrt(max(e.mass @ (points - means[g]) ** 2 / total, 1e-4)))
        right, wrong = np.stack(rights), np.stack(wrongs)
        objective += float(group_log_prior(problem, a, d, gamma).sum())
        a, d, gamma = maximise(problem, right, wrong, a, d, gamma)
        return problem.pack(a, d, gamma, means, sds), objective

    return update


__all__ = ["MultiGroupCalibration", "anchored", "calibrate_groups", "model_parameters"]
