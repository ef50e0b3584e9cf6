"""The pure steps of mirt-calibrate: which items are held fixed, the in-process fit, per-topic θ,
the rows and the fit metrics. No database, network or clock (see ``mirt_calibrate`` for the rules).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dreamseed.irt import (
    Abilities,
    ItemParameters,
    LogNormalPrior,
    Priors,
    Responses,
    calibrate,
    mean_sigma_linking,
    score,
    stocking_lord_linking,
    transform_abilities,
    transform_items,
)
from dreamseed.irt.covariance import ParameterCovariance
from dreamseed.irt.fit_report import CalibrationFigures, FitReport, fit_report
from dreamseed.irt.json_values import finite_json

#: An earlier estimate is held fixed once its standard error of b is at most this (θ units).
FREEZE_MAX_SE_B = 0.3
#: Item priors of the daily calibration: log a ~ N(0, 0.5²) (plus the engine's Beta(5, 17) on c for
#: the 3PL). A 30-day window leaves many items with a few dozen answers, where unpenalised slopes
#: wander off and EM needs hundreds of iterations (47 s instead of 0.8 s on the demo's first day);
#: with 10⁵+ answers per item the prior is negligible.
ITEM_PRIORS = Priors(a=LogNormalPrior(0.0, 0.5))


def priors_request(priors: Priors) -> dict[str, Any]:
    """The priors as the service's optional ``priors`` field (ignored by the original R service)."""
    return {
        "a": None if priors.a is None else {"mean_log": priors.a.mean_log, "sd_log": priors.a.sd_log},
        "b": None if priors.b is None else {"mean": priors.b.mean, "sd": priors.b.sd},
        "c": None if priors.c is None else {"alpha": priors.c.alpha, "beta": priors.c.beta},
    }


@dataclass(frozen=True, eq=False)
class ItemPlan:
    """Which of the window's items are held fixed, and the reference parameters for drift/linking."""

    fixed: ItemParameters  # anchors and frozen earlier items, at their known values
    anchor_ids: frozenset[Any]
    previous: ItemParameters  # the earlier run's parameters of the window's items
    seeds: ItemParameters  # question.meta.irt of items not tagged anchor (a linking reference)
    anchor_models: dict[Any, str] = field(default_factory=dict)

    def status(self, item: Any) -> str:
        if item in self.anchor_ids:
            return "anchor"
        return "frozen" if self.fixed.positions([item])[0] >= 0 else "estimated"


def _parameters(frame: pd.DataFrame, errors: bool = False) -> ItemParameters:
    se = {f"se_{k}": frame[f"se_{k}"].to_numpy() for k in "abc"} if errors else {}
    return ItemParameters.from_arrays(
        frame["item_id"].to_numpy(),
        frame["a"].fillna(1.0).to_numpy(),
        frame["b"].to_numpy(),
        frame["c"].fillna(0.0).to_numpy(),
        **se,
    )


def plan_items(
    window_items: np.ndarray, anchors: pd.DataFrame, previous: pd.DataFrame, recalibrate: bool
) -> ItemPlan:
    """The module docstring's rule; ``window_items`` are int64 ids, ``previous`` ids are text."""
    known = anchors[anchors["b"].notna() & ~(anchors["a"] <= 0) & ~((anchors["c"] < 0) | (anchors["c"] >= 1))]
    known = known[known["item_id"].isin(window_items)]
    tagged = known[known["anchor"]]
    earlier = previous.assign(item_id=previous["item_id"].astype("int64"))
    earlier = earlier[~earlier["item_id"].isin(tagged["item_id"])]
    precise = (earlier["se_b"] <= FREEZE_MAX_SE_B) & (earlier["status"].fillna("") != "extreme")
    frozen = earlier[precise & (not recalibrate)]
    parts = [
        tagged[["item_id", "a", "b", "c"]].assign(se_a=0.0, se_b=0.0, se_c=0.0),
        frozen[["item_id", "a", "b", "c", "se_a", "se_b", "se_c"]],
    ]
    fixed = pd.concat([part for part in parts if not part.empty] or parts[:1], ignore_index=True)
    return ItemPlan(
        fixed=_parameters(fixed, errors=True),
        anchor_ids=frozenset(tagged["item_id"].tolist()),
        previous=_parameters(earlier, errors=True),
        seeds=_parameters(known[~known["anchor"]]),
        anchor_models={i: m for i, m in zip(tagged["item_id"], tagged["model"], strict=True) if m},
    )


@dataclass(frozen=True, eq=False)
class Fitted:
    """A calibration, in-process or remote, on the scale the run writes."""

    items: ItemParameters
    abilities: Abilities
    population_mean: float
    population_sd: float
    figures: CalibrationFigures
    linking: dict[str, Any] | None
    extreme: frozenset[Any]
    engine: str
    covariance: ParameterCovariance | None = None


def responses_of(observations: pd.DataFrame) -> tuple[Responses, np.ndarray]:
    """Responses with integer user codes (users sorted, rows in a canonical order, so the same
    answers always give the same matrix) and the user ids of the codes."""
    codes, users = pd.factorize(observations["user_id"], sort=True)
    items = observations["item_id"].to_numpy()
    order = np.lexsort((items, codes))
    return Responses.from_long(
        codes[order], items[order], observations["correct"].to_numpy()[order]
    ), np.asarray(users, dtype=object)


def nothing_to_calibrate(responses: Responses, plan: ItemPlan) -> bool:
    """True when no item is held fixed and every item was answered all right or all wrong (no
    finite estimate exists, e.g. on a platform's first days)."""
    if int((plan.fixed.positions(responses.item_ids) >= 0).sum()):
        return False
    right, total = responses.correct_per_item()
    return bool(np.all((right == 0) | (right == total)))


def fit_in_process(responses: Responses, users: np.ndarray, model: str, plan: ItemPlan) -> Fitted:
    """The engine's fixed-parameter calibration; abilities keyed by the real user ids."""
    fixed = plan.fixed if len(plan.fixed) else None
    result = calibrate(responses, model, fixed_items=fixed, priors=ITEM_PRIORS)  # type: ignore[arg-type]
    abilities = result.abilities
    fitted = Fitted(
        result.items,
        Abilities(users[abilities.user_id], abilities.theta, abilities.se, abilities.n_responses),
        result.population_mean,
        result.population_sd,
        CalibrationFigures.from_summary(result.summary()),
        None,
        frozenset(result.extreme_items),
        "in-process",
        result.covariance,
    )
    return link_to_previous(fitted, plan)


def link_to_previous(fitted: Fitted, plan: ItemPlan) -> Fitted:
    """Nothing held fixed but earlier parameters known: move the run onto the earlier scale."""
    if len(plan.fixed) or int((fitted.items.positions(plan.previous.item_id) >= 0).sum()) < 2:
        return fitted
    constants = stocking_lord_linking(plan.previous, fitted.items)
    return Fitted(
        transform_items(fitted.items, constants),
        transform_abilities(fitted.abilities, constants),
        constants.A * fitted.population_mean + constants.B,
        abs(constants.A) * fitted.population_sd,
        fitted.figures,
        {"applied": True, "reference": "previous_run", **constants.to_dict()},
        fitted.extreme,
        fitted.engine,
        fitted.covariance,
    )


def topic_thetas(observations: pd.DataFrame, items: ItemParameters, mean: float, sd: float) -> pd.DataFrame:
    """EAP θ and posterior SD per (user, topic) with the run's items: user_id, topic_id, theta, se,
    sorted by user and topic. Each (user, topic) pair is scored as one respondent in one sparse pass."""
    answered = observations[observations["topic_id"].notna()]
    if answered.empty:
        return pd.DataFrame({"user_id": [], "topic_id": [], "theta": [], "se": []})
    user_codes, users = pd.factorize(answered["user_id"], sort=True)
    topic_codes, topics = pd.factorize(answered["topic_id"], sort=True)
    pairs = user_codes.astype(np.int64) * len(topics) + topic_codes
    item_ids = answered["item_id"].to_numpy()
    order = np.lexsort((item_ids, pairs))  # a canonical row order: same answers, same sums
    responses = Responses.from_long(pairs[order], item_ids[order], answered["correct"].to_numpy()[order])
    scored = score(responses, items, "EAP", prior_mean=mean, prior_sd=sd, n_threads=2)
    pair = scored.user_id.astype(np.int64)
    return pd.DataFrame(
        {
            "user_id": np.asarray(users, dtype=object)[pair // len(topics)],
            "topic_id": np.asarray(topics, dtype=object)[pair % len(topics)],
            "theta": scored.theta,
            "se": scored.se,
        }
    )


def item_statuses(fitted: Fitted, plan: ItemPlan) -> pd.Series:
    """Each item's status (anchor, frozen, estimated or extreme), indexed by item id."""
    ids = fitted.items.item_id
    return pd.Series(
        ["extreme" if item in fitted.extreme else plan.status(item) for item in ids.tolist()], index=ids
    )


def item_rows(
    fitted: Fitted, plan: ItemPlan, responses: Responses, model: str, statuses: pd.Series
) -> pd.DataFrame:
    """item_id (text), model, params (JSON: a, b, c, their SEs, status, n_answers), sorted by id."""
    _, answers = responses.correct_per_item()
    n_answers = dict(zip(responses.item_ids.tolist(), answers.tolist(), strict=True))
    earlier = plan.previous
    rows = []
    for record, status in zip(fitted.items.to_records(), statuses.tolist(), strict=True):
        item = record["item_id"]
        if status == "frozen":  # keep the precision of the estimate it was frozen at
            held = earlier.take(earlier.positions([item]))
            record |= {"se_a": float(held.se_a[0]), "se_b": float(held.se_b[0]), "se_c": float(held.se_c[0])}
        params = {k: record[k] for k in ("a", "b", "c", "se_a", "se_b", "se_c")}
        params |= {"status": status, "n_answers": round(n_answers.get(item, 0))}
        label = plan.anchor_models.get(item, model) if status == "anchor" else model
        rows.append((str(item), label, json.dumps(finite_json(params))))
    return pd.DataFrame(rows, columns=["item_id", "model", "params"]).sort_values(
        "item_id", ignore_index=True
    )


def calibration_report(
    fitted: Fitted, plan: ItemPlan, responses: Responses, statuses: pd.Series, statistics: bool = True
) -> FitReport:
    """The run's FitReport: item fit (with the run's abilities in-process, else EAP scores), drift of
    the estimated items from their earlier values, linking applied or else diagnosed; the
    ``FitStatistics`` section unless ``statistics`` is False."""
    estimated = fitted.items.subset(statuses.index[statuses == "estimated"])
    return fit_report(
        fitted,
        fitted.figures,
        fit_responses=responses,
        fit_abilities=fitted.engine == "in-process",
        drift_reference=plan.previous,
        drift_items=estimated,
        linking=fitted.linking or linking_diagnostics(estimated, plan),
        covariance=fitted.covariance,
        statistics=statistics,
    )


def fit_metrics(
    fitted: Fitted, report: FitReport, responses: Responses, statuses: pd.Series
) -> dict[str, Any]:
    """mirt_fit_meta.metrics: fit, counts, convergence, linking, item fit, reliability, drift."""
    return {
        **report.figures.as_dict(),
        "n_persons": len(fitted.abilities),
        "n_items": len(fitted.items),
        "n_obs": responses.n_obs,
        "population": report.population,
        "items_by_status": {k: int(v) for k, v in statuses.value_counts().sort_index().items()},
        "linking_constants": report.linking,
        "item_fit": report.item_fit,
        "reliability": report.reliability,
        "statistics": None if report.statistics is None else report.statistics.as_dict(),
        "drift": dict(report.drift or {}) | {"mean_abs_delta_b": report.mean_abs_delta_b},
    }


def linking_diagnostics(estimated: ItemParameters, plan: ItemPlan) -> dict[str, Any] | None:
    """Constants from the re-estimated items onto their earlier (else question.meta) values; ≈ (1, 0)
    when the scale held. None with fewer than 2 common items."""
    for name, reference in (("previous_run", plan.previous), ("question_meta", plan.seeds)):
        if int((estimated.positions(reference.item_id) >= 0).sum()) >= 2:
            try:
                sigma, lord = (
                    mean_sigma_linking(reference, estimated),
                    stocking_lord_linking(reference, estimated),
                )
            except ValueError:
                continue
            return {
                "applied": False,
                "reference": name,
                "mean_sigma": sigma.to_dict(),
                "stocking_lord": lord.to_dict(),
            }
    return None
