"""What `POST /irt/calibrate` and `POST /irt/score` compute, from validated bodies to answers.

Calibrate: anchors with ``fixed`` (the default) are held at their values (fixed-parameter
calibration: θ lands on their scale). Anchors with ``fixed: false`` are a linking reference: with
no fixed anchor and at least 2 of them among the data's items, the run is moved onto their scale by
mean/sigma linking, as the original R service did (``linking_constants`` applied); with fixed
anchors, the constants are only reported. An anchor sent without parameters (no ``b``, e.g. a
question tagged anchor with nothing stored) is never held at invented values: it is calibrated
freely and listed in ``fit_meta.anchors_without_params`` (its item says so in ``status``). Repeated answers of one person to one item count as
separate observations (the R service rounded their mean).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np

from dreamseed.api.schemas import CalibrateRequest, PriorsIn, ScoreRequest
from dreamseed.irt import (
    BetaPrior,
    ItemParameters,
    LogNormalPrior,
    NormalPrior,
    Priors,
    Responses,
    calibrate,
    mean_sigma_linking,
    score,
    transform_abilities,
    transform_items,
)
from dreamseed.irt.fit_report import CalibrationFigures, ScaledItems, fit_report

FREE_ANCHOR = "free: anchor had no parameters"


class NotComputable(ValueError):
    """The request is well formed but its numbers give no finite estimate (answered 422)."""


def responses_of(request: CalibrateRequest) -> Responses:
    """The request's answers; raises ValueError when there are none."""
    if request.observations:
        rows = request.observations
        return Responses.from_long(
            [row.user_id for row in rows],
            [row.item_id for row in rows],
            [int(row.is_correct) for row in rows],
        )
    if request.responses:
        width = len(request.responses[0])
        matrix = np.array(
            [[np.nan if v is None else v for v in row] for row in request.responses], dtype=float
        )
        users = request.user_ids or [str(k + 1) for k in range(len(request.responses))]
        items = request.item_ids or [f"item_{j + 1}" for j in range(width)]
        if not np.isfinite(matrix).any():
            raise ValueError("responses holds no answers (only nulls)")
        return Responses.from_matrix(matrix, np.asarray(users, dtype=object), np.asarray(items, dtype=object))
    raise ValueError(
        "give observations (a list of {user_id, item_id, is_correct}) or responses (a persons × items matrix)"
    )


def _anchor_items(request: CalibrateRequest, fixed: bool) -> ItemParameters:
    """The anchors with parameters (``b`` given; a defaults to 1, c to 0) that are ``fixed`` or not."""
    chosen = {a.item_id: a.params for a in request.anchors if a.fixed == fixed and a.params.known}
    return ItemParameters.from_arrays(
        np.asarray(list(chosen), dtype=object),
        [1.0 if p.a is None else p.a for p in chosen.values()],
        [p.b for p in chosen.values()],
        [0.0 if p.c is None else p.c for p in chosen.values()],
    )


def anchors_without_params(request: CalibrateRequest) -> list[str]:
    """Anchors sent without parameters (tag-only): never held at invented values, calibrated freely."""
    return sorted({a.item_id for a in request.anchors if not a.params.known})


def priors_of(given: PriorsIn | None) -> Priors:
    """The engine's priors from the request (default: the engine's, i.e. none but c in a 3PL)."""
    if given is None:
        return Priors()
    c = BetaPrior() if "c" not in given.model_fields_set else None
    if given.c is not None:
        c = BetaPrior(given.c.alpha, given.c.beta)
    a = None if given.a is None else LogNormalPrior(given.a.mean_log, given.a.sd_log)
    b = None if given.b is None else NormalPrior(given.b.mean, given.b.sd)
    return Priors(c=c, a=a, b=b)


def calibrate_answer(request: CalibrateRequest, now: datetime | None = None) -> dict[str, Any]:
    """The Plumber answer: status, fit_meta (run_id, model_spec, linking_constants, metrics),
    item_params and abilities."""
    responses = responses_of(request)
    fixed, reference = _anchor_items(request, True), _anchor_items(request, False)
    held = fixed.subset(responses.item_ids)
    fixed_items = held if len(held) else None
    result = calibrate(responses, request.model, fixed_items=fixed_items, priors=priors_of(request.priors))
    items, abilities = result.items, result.abilities
    mean, sd = result.population_mean, result.population_sd
    linking = None
    if int((items.positions(reference.item_id) >= 0).sum()) >= 2:
        constants = mean_sigma_linking(reference, items)
        linking = {**constants.to_dict(), "applied": not len(held)}
        if not len(held):
            items, abilities = transform_items(items, constants), transform_abilities(abilities, constants)
            mean, sd = constants.A * mean + constants.B, abs(constants.A) * sd
    report = fit_report(
        ScaledItems(items, abilities, mean, sd),
        CalibrationFigures.from_summary(result.summary()),
        linking=linking,
        covariance=result.covariance,
    )
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    is_fixed = set(held.item_id.tolist())
    unknown = anchors_without_params(request)
    free_anchors = set(unknown) - is_fixed
    return {
        "status": "ok",
        "fit_meta": {
            "run_id": f"irt-fit-{stamp}-{uuid.uuid4().hex[:6]}",
            "model_spec": {
                "model": request.model,
                "n_persons": responses.n_users,
                "n_items": responses.n_items,
                "n_obs": responses.n_obs,
                "n_fixed": len(held),
            },
            "linking_constants": report.linking,
            "anchors_without_params": unknown,
            "metrics": {
                **report.figures.as_dict(),
                "population": report.population,
                "extreme_items": [str(i) for i in result.extreme_items],
            },
        },
        "item_params": [
            {
                "item_id": str(row["item_id"]),
                "params": {"a": row["a"], "b": row["b"], "c": row["c"]},
                "se": {"a": row["se_a"], "b": row["se_b"], "c": row["se_c"]},
                "fixed": row["item_id"] in is_fixed,
                **({"status": FREE_ANCHOR} if str(row["item_id"]) in free_anchors else {}),
            }
            for row in items.to_records()
        ],
        "abilities": abilities.to_records(),
    }


def score_answer(request: ScoreRequest) -> dict[str, Any]:
    """EAP θ and posterior SD per row; rows without answers get the prior (0, 1)."""
    n_rows, width = len(request.responses), len(request.item_params)
    matrix = np.array([[np.nan if v is None else v for v in row] for row in request.responses], dtype=float)
    theta, se = np.zeros(n_rows), np.ones(n_rows)
    if np.isfinite(matrix).any():
        items = ItemParameters.from_arrays(
            np.arange(width),
            [p.a for p in request.item_params],
            [p.b for p in request.item_params],
            [p.c for p in request.item_params],
        )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite θ below
            scored = score(Responses.from_matrix(matrix, np.arange(n_rows), np.arange(width)), items, "EAP")
        rows = scored.user_id.astype(np.int64)
        theta[rows], se[rows] = scored.theta, scored.se
    lost = np.flatnonzero(~(np.isfinite(theta) & np.isfinite(se)))
    if len(lost):
        raise NotComputable(
            f"theta cannot be computed for rows {lost[:10].tolist()}: the item parameters overflow "
            "(a·b and a·θ must be finite numbers)"
        )
    users: list[str | None] = list(request.user_ids) if request.user_ids else [None] * n_rows
    return {
        "status": "ok",
        "abilities": [
            {"theta": t, "se": s, **({"user_id": u} if u is not None else {})}
            for t, s, u in zip(theta.tolist(), se.tolist(), users, strict=True)
        ],
    }
