"""Likelihood-ratio DIF on the joint multiple-group model (see ``dif.py`` for the definitions).

Each studied item costs one nested fit of ``multigroup.calibrate_groups``, started from the
baseline's estimates (a few dozen EM steps).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc

from dreamseed.irt.dif import FlaggedItems, benjamini_hochberg
from dreamseed.irt.item_model import ModelName
from dreamseed.irt.multigroup import MultiGroupCalibration, calibrate_groups, model_parameters
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]
Scheme = Literal["drop", "add"]


@dataclass(frozen=True, eq=False)
class LikelihoodRatioDIF(FlaggedItems):
    """Per studied item (shape (K,)): X2, df, p, Benjamini–Hochberg adjusted p, and the
    differences ΔAIC, ΔSABIC, ΔBIC (less minus more constrained model); ``flagged`` marks
    adjusted p < ``alpha``. ``anchors``: the items invariant in the baseline; ``rounds``: the
    purification rounds (1 without purification); ``baseline``: the baseline fit."""

    item_id: npt.NDArray[Any]
    statistic: FloatArray
    df: npt.NDArray[np.int64]
    p_value: FloatArray
    adjusted_p: FloatArray
    aic: FloatArray
    sabic: FloatArray
    bic: FloatArray
    converged: npt.NDArray[np.bool_]
    alpha: float
    scheme: str
    parameters: tuple[str, ...]
    anchors: tuple[Any, ...]
    baseline: MultiGroupCalibration
    rounds: int = 1
    history: list[list[Any]] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per studied item."""
        return [
            {
                "item_id": self.item_value(k),
                "X2": float(self.statistic[k]),
                "df": int(self.df[k]),
                "p": float(self.p_value[k]),
                "adj_p": float(self.adjusted_p[k]),
                "AIC": float(self.aic[k]),
                "SABIC": float(self.sabic[k]),
                "BIC": float(self.bic[k]),
                "converged": bool(self.converged[k]),
                "flagged": bool(self.flagged[k]),
            }
            for k in range(self.item_id.size)
        ]


@dataclass(frozen=True)
class _Setup:
    responses: Responses
    groups: npt.NDArray[Any]
    model: ModelName
    reference: Any
    quadrature: QuadratureGrid | None
    options: dict[str, Any]

    def fit(
        self, spec: dict[Any, tuple[str, ...]], population: bool, start: MultiGroupCalibration | None
    ) -> MultiGroupCalibration:
        return calibrate_groups(
            self.responses, self.groups, self.model, group_specific=spec, reference=self.reference,
            free_means=population, free_variances=population, quadrature=self.quadrature, start=start,
            **self.options,
        )  # fmt: skip


def lr_dif(
    responses: Responses,
    groups: Sequence[Any] | npt.NDArray[Any],
    model: ModelName = "2PL",
    *,
    scheme: Scheme = "drop",
    items: Sequence[Any] | None = None,
    anchors: Collection[Any] | None = None,
    parameters: Sequence[str] | None = None,
    reference: Any = None,
    alpha: float = 0.05,
    quadrature: QuadratureGrid | None = None,
    **options: Any,
) -> LikelihoodRatioDIF:
    """Likelihood-ratio DIF of ``items`` (default: every item) on ``parameters`` (default: all
    of the model's, e.g. ("a", "d") for the 2PL). ``scheme="drop"``: baseline with ``anchors``
    (default: every item) invariant and the focal means and variances free, each item freed in
    turn; ``scheme="add"``: baseline with only ``anchors`` (default: none, both groups N(0, 1))
    invariant, each item constrained in turn. ``options`` go to ``calibrate_groups``."""
    if scheme not in ("drop", "add"):
        raise ValueError(f"scheme must be 'drop' or 'add', not {scheme!r}")
    setup = _Setup(responses, np.asarray(groups), model, reference, quadrature, options)
    names = _parameters(model, parameters)
    item_ids = responses.item_ids.tolist()
    if anchors is None:
        anchors = item_ids if scheme == "drop" else ()
    return _run(setup, item_ids if items is None else list(items), set(anchors), names, alpha, scheme)


def purified_lr_dif(
    responses: Responses,
    groups: Sequence[Any] | npt.NDArray[Any],
    model: ModelName = "2PL",
    *,
    parameters: Sequence[str] | None = None,
    reference: Any = None,
    alpha: float = 0.05,
    max_rounds: int = 10,
    quadrature: QuadratureGrid | None = None,
    **options: Any,
) -> LikelihoodRatioDIF:
    """Likelihood-ratio DIF with an iteratively purified anchor set: round 1 is ``lr_dif``'s
    all-others-as-anchors test; each later round holds the items not flagged so far invariant,
    frees the flagged ones, and tests every item against that baseline; it stops when the
    flagged set repeats (or after ``max_rounds``; ``history`` lists each round's flags)."""
    setup = _Setup(responses, np.asarray(groups), model, reference, quadrature, options)
    names = _parameters(model, parameters)
    item_ids = responses.item_ids.tolist()
    result = _run(setup, item_ids, set(item_ids), names, alpha, "drop")
    history = [result.flagged_items()]
    for round_number in range(2, max_rounds + 1):
        flagged = set(history[-1])
        if len(flagged) >= len(item_ids) - 1:
            break  # nothing (or one item) left to anchor on: keep the last round
        result = _run(setup, item_ids, set(item_ids) - flagged, names, alpha, "purified")
        result = _with_rounds(result, round_number, history)
        history.append(result.flagged_items())
        if set(history[-1]) == flagged:
            break
    return _with_rounds(result, len(history), history)


def _with_rounds(result: LikelihoodRatioDIF, rounds: int, history: list[list[Any]]) -> LikelihoodRatioDIF:
    return LikelihoodRatioDIF(**{**result.__dict__, "rounds": rounds, "history": list(history)})


def _parameters(model: ModelName, parameters: Sequence[str] | None) -> tuple[str, ...]:
    allowed = model_parameters(model)
    names = allowed if parameters is None else tuple(parameters)
    bad = sorted(set(names) - set(allowed))
    if bad or not names:
        raise ValueError(f"DIF parameters of a {model} model must be among {allowed}, not {list(names)}")
    return tuple(n for n in allowed if n in names)


def _run(
    setup: _Setup, items: list[Any], anchors: set[Any], names: tuple[str, ...], alpha: float, scheme: str
) -> LikelihoodRatioDIF:
    all_names = model_parameters(setup.model)
    spec = {item: all_names for item in setup.responses.item_ids.tolist() if item not in anchors}
    population = bool(anchors)
    baseline = setup.fit(spec, population, None)
    figures = np.array([_test(setup, baseline, spec, item, names, population) for item in items])
    figures = figures.reshape(len(items), 6)
    p = np.asarray(chdtrc(figures[:, 1], np.maximum(figures[:, 0], 0.0)), dtype=np.float64)
    return LikelihoodRatioDIF(
        item_id=np.asarray(items, dtype=object), statistic=figures[:, 0], df=figures[:, 1].astype(np.int64),
        p_value=p, adjusted_p=benjamini_hochberg(p), aic=figures[:, 2], sabic=figures[:, 3],
        bic=figures[:, 4], converged=figures[:, 5].astype(bool), alpha=alpha, scheme=scheme,
        parameters=names, anchors=tuple(i for i in setup.responses.item_ids.tolist() if i in anchors),
        baseline=baseline,
    )  # fmt: skip


def _test(
    setup: _Setup,
    baseline: MultiGroupCalibration,
    spec: dict[Any, tuple[str, ...]],
    item: Any,
    names: tuple[str, ...],
    population: bool,
) -> list[float]:
    """[X2, df, ΔAIC, ΔSABIC, ΔBIC, converged] for ``item``: freed if its ``names`` are invariant
    in the baseline, else constrained."""
    current = set(spec.get(item, ()))
    freeing = not set(names) <= current
    changed = current | set(names) if freeing else current - set(names)
    nested = dict(spec)
    nested[item] = tuple(n for n in model_parameters(setup.model) if n in changed)
    if not nested[item]:
        del nested[item]
    other = setup.fit(nested, population, baseline)
    less, more = (other, baseline) if freeing else (baseline, other)
    return [
        2 * (less.loglik - more.loglik),
        less.n_parameters - more.n_parameters,
        less.aic - more.aic,
        less.sabic - more.sabic,
        less.bic - more.bic,
        float(other.converged and baseline.converged),
    ]


__all__ = ["LikelihoodRatioDIF", "lr_dif", "purified_lr_dif"]
