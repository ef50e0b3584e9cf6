"""What the KPI jobs share: the KPI parameters from the settings, and the KPIs of a list of users
computed part by part (``kpis_in_parts``: one bulk read per part so memory stays bounded).

compute-daily-kpis, detect-inactivity, the churn training and the evaluation replay use it; no job
imports another job for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection

from dreamseed.kpis import (
    KpiParameters,
    SlopePrior,
    compute_kpis,
    default_slope_prior,
    estimate_growth_prior,
    prepare_attempts,
    theta_trend,
    timed_answers,
)
from dreamseed.kpis.attempts import LOOKBACK_DAYS
from dreamseed.runtime import churn_scoring
from dreamseed.runtime.churn_scoring import ActiveChurnModel
from dreamseed.runtime.phases import Phases
from dreamseed.runtime.runner import JobContext
from dreamseed.settings import Settings
from dreamseed.storage import activity, irt_service
from dreamseed.storage.activity import UserRange
from dreamseed.storage.shard import Shard

THETA_HISTORY_DAYS = 180
PRIOR_SAMPLE_USERS = 1000
"""Users whose answers estimate the θ slope prior: enough for its two numbers, and at most one
indexed read (``activity.SERVER_FILTER_MAX_USERS``)."""


def kpi_parameters(settings: Settings) -> KpiParameters:
    return KpiParameters(
        churn_horizon_days=settings.metrics_churn_horizon_days,
        default_target=settings.metrics_default_target,
        use_theta=settings.metrics_use_irt_theta,
        p_method=settings.metrics_p_method,
        process_noise_per_day=settings.metrics_p_process_noise,
    )


def isolate_failures(
    users: list[str],
    compute: Callable[[list[str]], pd.DataFrame],
    on_failure: Callable[[str, Exception], None],
) -> pd.DataFrame:
    """Compute for all users at once; only if that raises, split the batch in halves until the
    failing users are found, so one bad user never stops the rest. They are reported and left out."""
    try:
        return compute(users)
    except Exception as error:
        if len(users) == 1:
            on_failure(users[0], error)
            return pd.DataFrame()
    middle = len(users) // 2
    parts = [isolate_failures(part, compute, on_failure) for part in (users[:middle], users[middle:])]
    return (
        pd.concat([part for part in parts if not part.empty])
        if any(not p.empty for p in parts)
        else pd.DataFrame()
    )


@dataclass(frozen=True)
class RunModels:
    """What every user of a run shares: the active churn model, the item bank and the θ slope prior."""

    churn_model: ActiveChurnModel | None
    item_bank: pd.DataFrame
    slope_prior: SlopePrior


@dataclass(frozen=True)
class KpiInputs:
    """What the KPIs of a set of users need as of a date, read in bulk (no query per user)."""

    attempts: pd.DataFrame
    history: pd.DataFrame
    abilities: pd.DataFrame
    goals: pd.DataFrame
    models: RunModels


def read_run_models(connection: Connection, context: JobContext) -> RunModels:
    """The churn model, the item bank (MIRT_VERSION) and the θ slope prior, logged."""
    settings = context.settings
    item_bank = irt_service.read_item_bank(connection, settings.mirt_version)
    prior = read_slope_prior(connection, settings, context.run_date, item_bank)
    source = (
        f"from {prior.n_users} users' answers"
        if prior.estimated
        else f"default ({prior.n_users} users' slopes)"
    )
    context.log.info(f"θ slope prior: mean={prior.mean:.4f}/day, sd={prior.sd:.4f}/day ({source})")
    return RunModels(
        churn_model=churn_scoring.active_churn_model(connection, settings, context.log),
        item_bank=item_bank,
        slope_prior=prior,
    )


def read_slope_prior(
    connection: Connection, settings: Settings, as_of: date, item_bank: pd.DataFrame
) -> SlopePrior:
    """The population's θ slope prior as of ``as_of``, the same for every shard and job of that date:
    estimated from the answers of a fixed sample of PRIOR_SAMPLE_USERS users (all users of a smaller
    platform) on the items of ``item_bank``; the default prior when METRICS_P_SLOPE_PRIOR=off or
    there is no item bank."""
    if settings.metrics_p_slope_prior == "off" or item_bank.empty:
        return default_slope_prior()
    first_day = as_of - timedelta(days=LOOKBACK_DAYS - 1)
    sample = activity.read_user_sample(connection, first_day, as_of, PRIOR_SAMPLE_USERS)
    attempts = activity.read_attempts(connection, first_day, as_of, Shard.whole(), sample)
    return estimate_growth_prior(timed_answers(prepare_attempts(attempts, sample, as_of), item_bank))


def read_kpi_inputs(
    connection: Connection, context: JobContext, models: RunModels, between: UserRange, users: list[str]
) -> KpiInputs:
    """Attempts of the 56 days ending at the run date, θ history, latest abilities and goals of
    ``users``, all in the run's shard and ``between`` (their range: see ``user_parts``)."""
    as_of, shard = context.run_date, context.shard
    return KpiInputs(
        attempts=activity.read_attempts(
            connection, as_of - timedelta(days=LOOKBACK_DAYS - 1), as_of, shard, users, between
        ),
        history=activity.read_theta_history(
            connection, as_of - timedelta(days=THETA_HISTORY_DAYS), as_of, shard, between
        ),
        abilities=activity.read_latest_abilities(connection, as_of, shard, between),
        goals=activity.read_goals(connection, shard, between),
        models=models,
    )


def user_parts(users: list[str], n_parts: int) -> list[tuple[UserRange, list[str]]]:
    """``users``, in the database's order (as the readers return them), cut into ``n_parts``
    consecutive runs of about equal size, each with its range (first and last id)."""
    size = max(1, math.ceil(len(users) / n_parts))
    runs = [users[start : start + size] for start in range(0, len(users), size)]
    return [(UserRange(run[0], run[-1]), run) for run in runs]


def part_count(connection: Connection, context: JobContext, n_users: int) -> int:
    """Parts that keep each part's answers under KPI_BATCH_ANSWERS: the window's answers in the
    shard, pro rata of ``n_users`` among the window's users."""
    first_day = context.run_date - timedelta(days=LOOKBACK_DAYS - 1)
    answers, window_users = activity.count_attempts(connection, first_day, context.run_date, context.shard)
    expected = answers * min(1.0, n_users / max(window_users, 1))
    return max(1, math.ceil(expected / context.settings.kpi_batch_answers))


def kpis_in_parts(
    connection: Connection,
    context: JobContext,
    users: list[str],
    failures: list[str],
    phases: Phases | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """``kpis_of`` the users (in the database's order), a part at a time (``part_count``,
    ``user_parts``): what a part reads is freed before the next is read, so memory stays bounded
    whatever the platform's size, and each part reads only its users' rows (by index).
    ``phases`` (optional) times the reads and the computation."""
    phases = phases if phases is not None else Phases()
    with phases.time("read"):
        models = read_run_models(connection, context)
        parts = user_parts(users, part_count(connection, context, len(users)))
    if len(parts) > 1:
        context.log.info(
            f"{len(users)} users in {len(parts)} parts (KPI_BATCH_ANSWERS={context.settings.kpi_batch_answers})"
        )
    for between, members in parts:
        with phases.time("read"):
            inputs = read_kpi_inputs(connection, context, models, between, members)
        with phases.time("compute"):
            result = kpis_of(members, inputs, context, failures)
        del inputs
        yield result


def kpis_of(
    users: list[str], inputs: KpiInputs, context: JobContext, failures: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every KPI per user (index user_id) and the θ trend, as of the run date; S comes from the learned
    churn model when one is active. Users whose computation fails are logged, listed in `failures`
    and left out."""
    as_of, parameters = context.run_date, kpi_parameters(context.settings)

    def compute(batch: list[str]) -> pd.DataFrame:
        return compute_kpis(
            users=batch,
            attempts=inputs.attempts,
            as_of=as_of,
            theta_history=inputs.history,
            abilities=inputs.abilities,
            goals=inputs.goals,
            parameters=parameters,
            item_bank=inputs.models.item_bank,
            slope_prior=inputs.models.slope_prior,
        )

    def on_failure(user: str, error: Exception) -> None:
        failures.append(user)
        context.log.error(f"user={user} error={error}")

    values = isolate_failures(users, compute, on_failure)
    trend = theta_trend(inputs.history, values.index, as_of, parameters)
    if inputs.models.churn_model is not None and not values.empty:
        values = churn_scoring.learned_churn(
            values, inputs.models.churn_model, inputs.attempts, trend, inputs.goals, as_of, parameters
        )
    return values, trend
