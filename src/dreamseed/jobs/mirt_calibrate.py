"""mirt-calibrate: item parameters (a, b, c) and abilities (θ) from the last MIRT_LOOKBACK_DAYS days.

--date D (default: yesterday) is the last data day; the window is the UTC days D − lookback + 1 .. D.
Everything this run writes is stamped ``fitted_at`` = D 23:59:59.999 UTC, so readers "as of day D"
see it and replays of past dates keep the θ history in date order. The run id is deterministic
(``mirt-<model>-<version>-<D>``, plus the topic/subject filter): re-running a date replaces its rows.

Scale continuity (which items are held fixed):
- items tagged ``anchor`` in question.meta with meta.irt parameters: always fixed at those values;
- items calibrated by an earlier run (the latest mirt_item_params_history row of this version fitted
  before D): fixed at those values once their estimate was precise (se_b ≤ FREEZE_MAX_SE_B and not
  an all-right/all-wrong item), so θ of day D is on the scale of day D − 1. Imprecise ones are
  re-estimated with the new window, as are new items. ``--recalibrate`` frees every non-anchor item;
- when nothing in the window is fixed but ≥ 2 items have earlier parameters, the fresh calibration
  is moved onto the earlier scale by Stocking–Lord linking (the constants are stored);
- items with meta.irt but no ``anchor`` tag (e.g. imported, or written back with
  IRT_UPDATE_QUESTION_META) are not held: they are the reference of the reported linking constants
  when no earlier run knows the re-estimated items.
Items are estimated Bayes-modal with log a ~ N(0, 0.5²) (``ITEM_PRIORS``): a 30-day window leaves
many items with few answers.

Calibrates in-process with the IRT engine, or with the remote service at R_IRT_BASE_URL (the R
Plumber contract; timeouts, MIRT_MAX_RETRIES retries with exponential backoff). Writes item
parameters, abilities, per-topic EAP θ, fit metrics and drift in one transaction. The fit-report
statistics (metrics.statistics) are computed for windows of at most MIRT_STATISTICS_MAX_OBS answers
(default 2·10⁶; see ``with_statistics``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
import numpy as np
import pandas as pd

from dreamseed.irt import ItemParameters, Responses, marginal_loglik
from dreamseed.irt.fit_report import CalibrationFigures
from dreamseed.irt.json_values import finite_json
from dreamseed.remote.irt_client import IrtServiceClient, RetryPolicy, calibration_request, parse_calibration
from dreamseed.runtime.blas import one_blas_thread
from dreamseed.runtime.calibration_dif import flag_dif
from dreamseed.runtime.calibration_steps import (
    FREEZE_MAX_SE_B,
    ITEM_PRIORS,
    Fitted,
    ItemPlan,
    calibration_report,
    fit_in_process,
    fit_metrics,
    item_rows,
    item_statuses,
    nothing_to_calibrate,
    plan_items,
    priors_request,
    responses_of,
    topic_thetas,
)
from dreamseed.runtime.command import main
from dreamseed.runtime.phases import Phases
from dreamseed.runtime.runner import Job, JobContext, JobResult, yesterday
from dreamseed.settings import Settings
from dreamseed.storage import calibration

END_OF_DAY = timedelta(days=1, milliseconds=-1)


def run_id_for(day: date, settings: Settings) -> str:
    """Deterministic per date, model, version and filters: a re-run replaces the same rows."""
    scope = "" if settings.mirt_topic_id is None else f"-topic:{settings.mirt_topic_id}"
    scope += "" if settings.mirt_subject_id is None else f"-subject:{settings.mirt_subject_id}"
    return f"mirt-{settings.mirt_model}-{settings.mirt_version}-{day.isoformat()}{scope}"


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def fit_remote(
    settings: Settings, observations: pd.DataFrame, responses: Responses, model: str, plan: ItemPlan, log: Any
) -> Fitted:
    """The remote service's calibration (its answer's items and abilities, as sent)."""
    base_url = settings.r_irt_base_url or ""
    token = settings.r_irt_internal_token.get_secret_value() if settings.r_irt_internal_token else None
    anchors = [
        {"item_id": str(item["item_id"]), "params": {k: item[k] for k in "abc"}, "fixed": fixed}
        for parameters, fixed in ((plan.fixed, True), (plan.seeds, False))
        for item in parameters.to_records()
    ]
    log.info(f"Calling IRT service at {base_url}...")
    policy = RetryPolicy(settings.mirt_max_retries, settings.mirt_retry_delay_secs)
    on_retry = lambda level, message: log.warn(message) if level == "WARN" else log.info(message)  # noqa: E731
    with IrtServiceClient(
        base_url, token=token, timeout=settings.r_irt_timeout_secs, retry=policy, on_retry=on_retry
    ) as client:
        request = calibration_request(observations, model, anchors) | {"priors": priors_request(ITEM_PRIORS)}
        remote = parse_calibration(client.calibrate(request))
    items = ItemParameters(**{**remote.items.__dict__, "item_id": remote.items.item_id.astype("int64")})
    meta = remote.fit_meta
    linking = meta.get("linking_constants") or (meta.get("model_spec") or {}).get("linking_constants")
    if linking:
        log.info(f"Linking constants received: {json.dumps(linking)}")
    reported = dict(meta.get("metrics") or {})
    population = reported.pop("population", None) or {"mean": 0.0, "sd": 1.0}
    if "loglik" not in reported:
        reported["loglik"] = marginal_loglik(responses.aligned_to(items.item_id), items)
    return Fitted(
        items,
        remote.abilities,
        float(population["mean"]),
        float(population["sd"]),
        CalibrationFigures.from_reported(reported),
        linking,
        frozenset(),
        f"remote {base_url}",
    )


def read_window(context: JobContext, first_day: date) -> tuple[pd.DataFrame, ItemPlan] | None:
    """The window's answers and which items are held fixed (None when there are no answers)."""
    settings, log, day = context.settings, context.log, context.run_date
    with context.engine.connect() as connection:
        observations = calibration.read_observations(
            connection,
            first_day,
            day,
            topic_id=settings.mirt_topic_id,
            subject_id=settings.mirt_subject_id,
            max_obs=settings.mirt_max_obs,
            with_times=settings.r_irt_base_url is not None,
        )
        window = f"{first_day} to {day}{_filters(settings)}"
        log.info(f"Loaded {len(observations)} observations from attempt VIEW ({window})")
        anchors = calibration.read_anchor_items(connection)
        log.info(f"Loaded {len(anchors)} anchors/seeds from question.meta")
        if observations.empty:
            return None
        window_items = np.unique(observations["item_id"].to_numpy())
        previous = calibration.read_previous_items(
            connection, [str(i) for i in window_items], start_of(day), settings.mirt_version
        )
    return observations, plan_items(window_items, anchors, previous, bool(context.options.get("recalibrate")))


def run(context: JobContext) -> JobResult:
    settings, log, day = context.settings, context.log, context.run_date
    if not context.shard.is_whole:
        raise ValueError(
            "mirt-calibrate fits all users jointly and cannot be sharded; run it without --shard"
        )
    model, phases = settings.mirt_model, Phases()
    first_day = day - timedelta(days=settings.mirt_lookback_days - 1)
    with phases.time("read"):
        window = read_window(context, first_day)
    if window is None:
        log.info("No observations found; exiting.")
        return JobResult(0, summary="processed=0, failed=0, observations=0")
    observations, plan = window
    n_items, n_fixed, n_anchors = observations["item_id"].nunique(), len(plan.fixed), len(plan.anchor_ids)
    log.info(f"Total observations: {len(observations)}")
    log.info(
        f"Model: {model}, Anchors: {n_fixed} ({n_anchors} tagged anchor in question.meta, {n_fixed - n_anchors} "
        f"held from the previous run); {n_items - n_fixed} of {n_items} items to estimate"
    )
    summary = f"processed=0, failed=0, observations={len(observations)}"
    if context.dry_run:
        log.info(f"[DRY_RUN] Would calibrate {len(observations)} observations with {n_fixed} anchors")
        n_users = int(observations["user_id"].nunique())
        return JobResult(n_users, summary=f"processed={n_users}, failed=0, observations={len(observations)}")
    with phases.time("fit"):
        responses, users = responses_of(observations)
        if nothing_to_calibrate(responses, plan):
            log.warn(
                "Nothing to calibrate: no anchor or earlier item in the window and every item was "
                "answered all right or all wrong; the previous results stay."
            )
            return JobResult(0, summary=summary)
        if settings.r_irt_base_url:
            fitted = fit_remote(settings, observations, responses, model, plan, log)
        else:
            fitted = fit_in_process(responses, users, model, plan)
    if fitted.figures.converged is False:
        log.warn(f"the calibration did not converge in {fitted.figures.iterations} iterations")
    record, metrics = calibration_record(context, first_day, observations, responses, plan, fitted, phases)
    with phases.time("write"), context.engine.begin() as connection:
        calibration.write_calibration(connection, record)
    n_abilities = len(record.abilities)
    log.plain(f"Calibration upsert completed: {len(record.items)} items, {n_abilities} abilities")
    summary = (
        f"processed={n_abilities}, failed=0, items={len(record.items)}, observations={len(observations)}, "
        f"topic_thetas={len(record.topic_thetas)}, converged={metrics.get('converged')}, run_id={record.run_id}"
    )
    return JobResult(n_abilities, metrics=job_metrics(metrics, record.topic_thetas, phases), summary=summary)


def calibration_record(
    context: JobContext,
    first_day: date,
    observations: pd.DataFrame,
    responses: Responses,
    plan: ItemPlan,
    fitted: Fitted,
    phases: Phases,
) -> tuple[calibration.CalibrationRun, dict[str, Any]]:
    """Everything the run writes (items, abilities, per-topic θ, fit meta) and its metrics."""
    settings, day = context.settings, context.run_date
    with phases.time("score_topics"):
        topics = topic_thetas(observations, fitted.items, fitted.population_mean, fitted.population_sd)
    with phases.time("fit_metrics"):
        statuses = item_statuses(fitted, plan)
        items = item_rows(fitted, plan, responses, settings.mirt_model, statuses)
        statistics = with_statistics(settings, responses.n_obs)
        if not statistics:
            context.log.info(
                f"Fit-report statistics skipped: {responses.n_obs} answers > MIRT_STATISTICS_MAX_OBS="
                f"{settings.mirt_statistics_max_obs} (`dreamseed irt fit` computes them)"
            )
        with one_blas_thread():
            report = calibration_report(fitted, plan, responses, statuses, statistics)
        metrics = fit_metrics(fitted, report, responses, statuses)
    if settings.mirt_dif_group:
        with phases.time("dif"):
            user_ids = pd.factorize(observations["user_id"], sort=True)[1]  # as responses_of codes them
            items, metrics["dif"] = flag_dif(context, responses, np.asarray(user_ids), items)
    abilities = pd.DataFrame(
        {
            "user_id": fitted.abilities.user_id.astype(str),
            "theta": fitted.abilities.theta,
            "se": fitted.abilities.se,
        }
    ).sort_values("user_id", ignore_index=True)
    spec = _model_spec(settings, day, first_day, plan, fitted, context)
    record = calibration.CalibrationRun(
        run_id=run_id_for(day, settings),
        model=settings.mirt_model,
        version=settings.mirt_version,
        fitted_at=start_of(day) + END_OF_DAY,
        items=items,
        abilities=abilities,
        topic_thetas=topics,
        model_spec=json.dumps(finite_json(spec)),
        metrics=json.dumps(finite_json(metrics)),
        update_question_meta=settings.irt_update_question_meta,
    )
    return record, metrics


def with_statistics(settings: Settings, n_obs: int) -> bool:
    """Whether the run computes the fit-report statistics: windows of at most
    MIRT_STATISTICS_MAX_OBS answers (0: always). Above it they would cost more than the calibration
    (LD X2 over every pair of items a user answered grows with Σ answers per user²), and nothing
    the job writes besides mirt_fit_meta.metrics.statistics depends on them."""
    limit = settings.mirt_statistics_max_obs
    return limit == 0 or n_obs <= limit


def _filters(settings: Settings) -> str:
    parts = [f"topic_id={settings.mirt_topic_id}"] if settings.mirt_topic_id is not None else []
    parts += [f"subject_id={settings.mirt_subject_id}"] if settings.mirt_subject_id is not None else []
    parts += [f"max_obs={settings.mirt_max_obs}"] if settings.mirt_max_obs else []
    return "; " + ", ".join(parts) if parts else ""


def _model_spec(
    settings: Settings, day: date, first_day: date, plan: ItemPlan, fitted: Fitted, context: JobContext
) -> dict[str, Any]:
    return {
        "model": settings.mirt_model,
        "version": settings.mirt_version,
        "engine": fitted.engine,
        "window": {"first_day": first_day.isoformat(), "last_day": day.isoformat()},
        "filters": {"topic_id": settings.mirt_topic_id, "subject_id": settings.mirt_subject_id},
        "max_obs": settings.mirt_max_obs,
        "recalibrate": bool(context.options.get("recalibrate")),
        "fixed_items": {"anchors": len(plan.anchor_ids), "frozen": len(plan.fixed) - len(plan.anchor_ids)},
        "freeze_max_se_b": FREEZE_MAX_SE_B,
        "engine_settings": fitted.figures.engine_settings,
        "linking_constants": fitted.linking,
    }


def job_metrics(metrics: dict[str, Any], topics: pd.DataFrame, phases: dict[str, float]) -> dict[str, float]:
    """Figures pushed as `dreamseed_calibration_*` (the alert rules read converged, mean_item_drift,
    loglik and iterations)."""
    drift, status = metrics["drift"], metrics["items_by_status"]
    figures = {
        "calibration_converged": float(bool(metrics.get("converged", True))),
        "calibration_iterations": float(metrics.get("iterations") or 0),
        "calibration_loglik": float(metrics["loglik"]),
        "calibration_mean_item_drift": drift["mean_abs_delta_b"],
        "calibration_max_item_drift": drift["max_abs_delta_b"],
        "calibration_drift_flagged_items": float(drift["n_flagged"]),
        "calibration_n_obs": float(metrics["n_obs"]),
        "calibration_n_persons": float(metrics["n_persons"]),
        "calibration_n_items": float(metrics["n_items"]),
        "calibration_fixed_items": float(status.get("anchor", 0) + status.get("frozen", 0)),
        "calibration_estimated_items": float(status.get("estimated", 0) + status.get("extreme", 0)),
        "calibration_reliability": float(metrics["reliability"]),
        "calibration_population_mean": float(metrics["population"]["mean"]),
        "calibration_population_sd": float(metrics["population"]["sd"]),
        "calibration_topic_thetas": float(len(topics)),
    }
    for name in ("aic", "bic"):
        if metrics.get(name) is not None:
            figures[f"calibration_{name}"] = float(metrics[name])
    figures |= {f"calibration_{name}_seconds": seconds for name, seconds in phases.items()}
    return figures


JOB = Job(
    name="mirt-calibrate",
    description=(
        "Calibrate IRT item parameters and abilities (θ) on the attempts of the last MIRT_LOOKBACK_DAYS (30) "
        "days up to --date (default: yesterday), holding anchors and earlier precise estimates fixed so θ "
        "stays on one scale, and write mirt_item_params, mirt_ability, student_topic_theta and mirt_fit_meta "
        "(with history). In-process by default; the remote IRT service when R_IRT_BASE_URL is set."
    ),
    run=run,
    default_date=yesterday,
    options=(
        click.Option(
            ["--recalibrate"],
            is_flag=True,
            help="Re-estimate every item except the question.meta anchors (default: items estimated "
            "precisely by an earlier run stay fixed).",
        ),
    ),
)

if __name__ == "__main__":
    main(JOB)
