"""`dreamseed model`: train the learned churn model on this platform's history, list and (de)activate it."""

from __future__ import annotations

import datetime as dt
import sys

import click

from dreamseed.cli.context import UserError, database, echo_table, friendly_errors, load_settings
from dreamseed.cli.options import weeks_option


@click.group()
def model() -> None:
    """The learned churn model (S): train it on this database's history, list versions, activate one.

    S is the active model's probability only while CHURN_MODEL=auto and the model beat the
    heuristic S_v1 on its held-out weeks (higher ROC-AUC and lower Brier score); otherwise S = S_v1.
    """


@model.command()
@click.option(
    "--date",
    "last_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of data to use (outcomes need METRICS_CHURN_HORIZON_DAYS after the last cut-off) "
    "[default: yesterday].",
)
@weeks_option(default=12, minimum=3, maximum=104, help="Weekly cut-offs to use.")
@click.option(
    "--activate/--no-activate",
    default=True,
    show_default=True,
    help="Make the new version active if it beat S_v1 on the held-out weeks.",
)
@friendly_errors
def train(last_day: dt.datetime | None, weeks: int, activate: bool) -> None:
    """Train a new version on weekly cut-offs of the history and compare it with S_v1.

    Cut-offs are a week apart, the last one METRICS_CHURN_HORIZON_DAYS (14) days before --date so
    every outcome (no activity in the next 14 days) is known. The last third of the cut-offs is
    held out; the model is trained on the earlier ones whose outcome window closed before them
    (logistic regression, isotonic calibration on out-of-week forecasts), then stored in
    model_artifacts with its held-out figures. Exit status 0 when a version was stored (active or
    not), 1 when there was too little history.
    """
    from dreamseed.cli.progress import count_progress
    from dreamseed.evaluation.training import train_and_compare
    from dreamseed.runtime.churn_training import churn_snapshots, store_churn_model, weekly_cutoffs
    from dreamseed.runtime.kpi_parts import kpi_parameters

    settings = load_settings()
    parameters = kpi_parameters(settings)
    end = last_day.date() if last_day else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    cutoffs = weekly_cutoffs(end - dt.timedelta(days=parameters.churn_horizon_days), weeks)
    with database(settings) as engine:
        with (
            engine.connect() as connection,
            count_progress("Churn features per cut-off", len(cutoffs)) as advance,
        ):
            snapshots = churn_snapshots(connection, cutoffs, parameters, lambda _day: advance(1))
        try:
            trained = train_and_compare(snapshots, parameters.churn_horizon_days)
        except ValueError as error:
            click.echo(f"no model trained: {error}", err=True)
            sys.exit(1)
        params = {"last_day": end.isoformat(), "weeks": weeks, "cutoffs": [c.isoformat() for c in cutoffs]}
        with engine.begin() as connection:
            version = store_churn_model(connection, trained, params, activate)
    _print_comparison(trained, version, activate)


def _print_comparison(trained: object, version: int, activate: bool) -> None:
    from dreamseed.evaluation.training import TrainedChurnModel

    assert isinstance(trained, TrainedChurnModel)
    rows = []
    for name, s in (("churn model", trained.comparison.model), ("S_v1", trained.comparison.baseline)):
        rows.append(
            (
                name,
                s.n,
                f"{s.roc_auc:.3f}",
                f"{s.brier:.3f}",
                f"{s.log_loss:.3f}",
                f"{s.calibration_slope:.2f}",
            )
        )
    click.echo(
        f"Trained on {len(trained.split.train_days)} cut-offs ({trained.train_rows} rows); held out "
        f"{', '.join(d.isoformat() for d in trained.split.holdout_days)} ({trained.holdout_rows} rows):"
    )
    echo_table(rows, ("forecast", "n", "ROC-AUC", "Brier", "log loss", "slope"))
    wins = trained.comparison.model_wins
    state = "active" if wins and activate else "stored, not active"
    reason = "it beat S_v1" if wins else "it did not beat S_v1 on both ROC-AUC and Brier"
    click.echo(f"Stored churn model version {version}: {state} ({reason}).")


@model.command("list")
def list_models() -> None:
    """Stored versions with their held-out figures, newest first."""
    from dreamseed.storage.model_artifacts import list_models as stored_models

    with database(load_settings()) as engine, engine.connect() as connection:
        models = stored_models(connection, "churn")
    rows = []
    for m in models:
        held = m.metrics.get("heldout", {})
        model_scores, baseline = held.get("model", {}), held.get("S_v1", {})
        rows.append(
            (
                m.version,
                "yes" if m.active else "",
                m.trained_at.strftime("%Y-%m-%d %H:%M"),
                _figure(model_scores.get("roc_auc")),
                _figure(baseline.get("roc_auc")),
                _figure(model_scores.get("brier")),
                _figure(baseline.get("brier")),
            )
        )
    echo_table(rows, ("version", "active", "trained", "AUC", "AUC S_v1", "Brier", "Brier S_v1"))


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


@model.command()
@click.argument("version", type=int)
def activate(version: int) -> None:
    """Make VERSION the active churn model (it is used only if it beat S_v1 on its held-out weeks)."""
    from dreamseed.evaluation.selection import stored_model_wins
    from dreamseed.storage.model_artifacts import activate_model, read_model

    with database(load_settings()) as engine, engine.begin() as connection:
        stored = read_model(connection, "churn", version)
        if stored is None:
            raise UserError(f"no churn model version {version}")
        activate_model(connection, "churn", version)
    note = "" if stored_model_wins(stored.metrics) else " (it did not beat S_v1, so the jobs keep S = S_v1)"
    click.echo(f"churn model version {version} is active{note}")


@model.command()
def deactivate() -> None:
    """No active churn model: S = S_v1 from the next job run."""
    from dreamseed.storage.model_artifacts import deactivate_models

    with database(load_settings()) as engine, engine.begin() as connection:
        count = deactivate_models(connection, "churn")
    click.echo("no churn model is active" + ("" if count else " (none was)"))
