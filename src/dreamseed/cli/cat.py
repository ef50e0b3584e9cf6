"""`dreamseed cat`: adaptive testing on an item bank — simulate sessions, compute exposure control."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from dreamseed.cat import ItemBank, Policy, SimulationReport

SYNTHETIC_TOPICS = ("algebra", "geometry", "numbers", "statistics", "functions")


@click.group()
def cat() -> None:
    """Computerised adaptive testing (CAT) on a calibrated item bank.

    ITEMS.csv is the items.csv that `dreamseed irt fit` writes (item_id, a, b and optionally c);
    an optional topic column enables content balancing. `--synthetic-items N` uses a seeded 3PL
    bank instead (a ~ U(0.8, 2), b ~ N(0, 1), c ~ U(0.1, 0.3), five topics).
    """


def _bank_options(function: Any) -> Any:
    options = [
        click.option(
            "--bank",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="ITEMS.csv (item_id, a, b[, c][, topic]), e.g. the items.csv of `dreamseed irt fit`.",
        ),
        click.option("--synthetic-items", type=click.IntRange(1), default=None, help="Use a synthetic bank."),
        click.option("--students", type=click.IntRange(1), default=1000, show_default=True, help="Simulees."),
        click.option(
            "--policy", type=click.Choice(["test", "practice"]), default="test", show_default=True,
            help="test: maximum information; practice: P(correct) closest to --target-p.",
        ),
        click.option("--target-p", type=float, default=0.7, show_default=True, help="Practice target."),
        click.option("--max-items", type=click.IntRange(1), default=20, show_default=True, help="Test length."),
        click.option("--se-stop", type=float, default=None, help="Stop once SE <= this (default: never)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


@cat.command()
@_bank_options
@click.option(
    "--exposure",
    type=click.Choice(["none", "randomesque", "sympson-hetter"]),
    default="none",
    show_default=True,
    help="Exposure control.",
)
@click.option(
    "--randomesque-k", type=click.IntRange(1), default=5, show_default=True, help="k of randomesque."
)
@click.option(
    "--exposure-parameters",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="K.csv of `dreamseed cat exposure` (item_id,k); without it K is computed first.",
)
@click.option(
    "--r-max", type=float, default=0.25, show_default=True, help="Target max exposure (K computed)."
)
def simulate(**options: Any) -> None:
    """Simulate adaptive sessions for simulees with known θ ~ N(0, 1), answers drawn from the bank's
    3PL, and print θ RMSE and bias by test length, SE at stop, length to SE ≤ 0.3, exposure and
    (practice) the share answered correctly."""
    from dreamseed.cat import CatInputError, simulate

    bank, policy, rng, theta = _setup(options)
    try:
        policy = _with_exposure(bank, policy, options, rng, theta)
        report = simulate(bank, theta, policy, rng)
    except CatInputError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_report_text(report, policy, len(bank), options))


@cat.command()
@_bank_options
@click.option("--r-max", type=float, default=0.25, show_default=True, help="Target maximum exposure rate.")
@click.option("--iterations", type=click.IntRange(1), default=8, show_default=True, help="Simulation rounds.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="K.csv to write (required when simulating; with --from-database also each item's rates).",
)  # fmt: skip
@click.option(
    "--from-database", is_flag=True,
    help="Exposure observed in cat_events (sessions served by next-item) instead of a simulation.",
)  # fmt: skip
@click.option(
    "--days", type=click.IntRange(1, 3650), default=28, show_default=True,
    help="--from-database: the window, the last N days up to now.",
)  # fmt: skip
@click.option(
    "--top", type=click.IntRange(0), default=10, show_default=True, help="Most exposed items shown."
)
def exposure(**options: Any) -> None:
    """Compute Sympson–Hetter exposure-control parameters K (one per item) by iterated simulation
    and write them to K.csv (item_id,k) for `cat simulate --exposure-parameters` and the service's
    CAT_EXPOSURE_PARAMETERS.

    With --from-database, read instead what the service served (cat_events of MIRT_VERSION over the
    last --days days): each item's exposure rate (share of sessions it was served in), the most
    exposed items, and (with --out) a K.csv updated from the observed rates by one Sympson–Hetter
    step, with the rates alongside (item_id,k,sessions,served,examined,exposure_rate,selection_rate).
    """
    if options["from_database"]:
        _observed_exposure(options)
        return
    if options["out"] is None:
        raise click.UsageError("give --out K.csv (or --from-database to read the observed exposure)")
    import pandas as pd

    from dreamseed.cat import CatInputError, sympson_hetter_parameters

    bank, policy, rng, theta = _setup(options)
    try:
        result = sympson_hetter_parameters(bank, theta, policy, rng, options["r_max"], options["iterations"])
    except CatInputError as error:
        raise click.ClickException(str(error)) from None
    pd.DataFrame({"item_id": bank.items.item_id, "k": result.k}).to_csv(options["out"], index=False)
    rounds = ", ".join(f"{value:.3f}" for value in result.max_exposure)
    click.echo(f"max exposure by round: {rounds}")
    click.echo(
        f"{int((result.k < 1).sum()):,} of {len(bank):,} items limited (K < 1); wrote {options['out']}"
    )


def _observed_exposure(options: dict[str, Any]) -> None:
    from datetime import UTC, datetime, timedelta

    from dreamseed.cli.context import database, load_settings
    from dreamseed.storage import cat_store

    if options["bank"] is not None or options["synthetic_items"] is not None:
        raise click.UsageError(
            "--from-database reads the served items from cat_events: drop --bank/--synthetic-items"
        )
    if not 0.0 < options["r_max"] <= 1.0:
        raise click.UsageError(f"--r-max must lie in (0, 1], not {options['r_max']}")
    settings = load_settings()
    until = datetime.now(UTC)
    since = until - timedelta(days=options["days"])
    with database(settings) as engine, engine.connect() as connection:
        sessions, frame = cat_store.read_exposure(connection, since, until, settings.mirt_version)
    window = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    if sessions == 0:
        raise click.ClickException(
            f"no adaptive sessions in cat_events from {window} (MIRT_VERSION={settings.mirt_version}): "
            "nothing was served by POST …/irt/next-item in that window; widen --days or check MIRT_VERSION"
        )
    rates = _observed_rates(frame, sessions, options["r_max"])
    click.echo(_observed_text(rates, sessions, window, options))
    if options["out"] is not None:
        rates.to_csv(options["out"], index=False, float_format="%.6g")
        click.echo(f"wrote {options['out']} (item_id,k and the rates; K.csv for CAT_EXPOSURE_PARAMETERS)")


def _observed_rates(frame: Any, sessions: int, r_max: float) -> Any:
    from dreamseed.cat import k_from_observed

    rates = frame.assign(
        k=k_from_observed(frame["examined"], sessions, r_max), sessions=sessions,
        exposure_rate=frame["served"] / sessions, selection_rate=frame["examined"] / sessions,
    )  # fmt: skip
    columns = ["item_id", "k", "sessions", "served", "examined", "exposure_rate", "selection_rate"]
    return rates[columns].sort_values(
        ["exposure_rate", "item_id"], ascending=[False, True], ignore_index=True
    )


def _observed_text(rates: Any, sessions: int, window: str, options: dict[str, Any]) -> str:
    served = rates[rates["served"] > 0]
    above = int((rates["exposure_rate"] > options["r_max"]).sum())
    lines = [
        f"{sessions:,} adaptive sessions from {window}; {len(served):,} items served",
        f"max item exposure {rates['exposure_rate'].max():.1%}; {above:,} items above --r-max "
        f"{options['r_max']:.0%}; {int((rates['k'] < 1).sum()):,} would get K < 1",
    ]
    if options["top"] > 0:
        lines.append(f"{'item':>12}  {'sessions':>8}  {'exposure':>8}  {'examined':>8}  {'K':>6}")
        for row in rates.head(options["top"]).itertuples():
            lines.append(
                f"{row.item_id:>12}  {row.served:>8,}  {row.exposure_rate:>8.1%}  "
                f"{row.selection_rate:>8.1%}  {row.k:>6.3f}"
            )
    return "\n".join(lines)


def _setup(options: dict[str, Any]) -> tuple[ItemBank, Policy, Any, Any]:
    import numpy as np

    from dreamseed.cat import CatInputError, Policy

    bank = _load_bank(options["bank"], options["synthetic_items"], options["seed"])
    rng = np.random.default_rng(options["seed"])
    theta = rng.normal(0.0, 1.0, options["students"])
    try:
        policy = Policy(
            options["policy"], target_p=options["target_p"], se_stop=options["se_stop"],
            max_items=options["max_items"], randomesque_k=options.get("randomesque_k", 5),
        )  # fmt: skip
    except CatInputError as error:
        raise click.ClickException(str(error)) from None
    return bank, policy, rng, theta


def _load_bank(path: Path | None, synthetic: int | None, seed: int) -> ItemBank:
    from dreamseed.cat import CatInputError, ItemBank
    from dreamseed.irt import simulate_items

    if (path is None) == (synthetic is None):
        raise click.UsageError("give exactly one of --bank ITEMS.csv and --synthetic-items N")
    if synthetic is not None:
        items = simulate_items(synthetic, "3PL", seed)
        topic = [SYNTHETIC_TOPICS[k % len(SYNTHETIC_TOPICS)] for k in range(synthetic)]
        return ItemBank.from_arrays(items.item_id, items.a, items.b, items.c, topic)
    assert path is not None
    frame = _read_bank_csv(path)
    try:
        return ItemBank.from_arrays(
            frame["item_id"].to_numpy(), frame["a"].to_numpy(), frame["b"].to_numpy(),
            frame["c"].to_numpy() if "c" in frame else None,
            frame["topic"].fillna("").to_numpy() if "topic" in frame else None,
        )  # fmt: skip
    except (CatInputError, ValueError) as error:
        raise click.ClickException(f"{path}: {error}") from None


def _read_bank_csv(path: Path) -> Any:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"item_id": str, "topic": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: not a CSV file ({str(error).splitlines()[0]})") from None
    missing = [name for name in ("item_id", "a", "b") if name not in frame.columns]
    if missing:
        raise click.ClickException(f"{path}: missing column(s) {', '.join(missing)}")
    for name in ("a", "b", "c"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
            if frame[name].isna().any():
                line = int(frame.index[frame[name].isna()][0]) + 2
                raise click.ClickException(f"{path}: column {name} is not a number on line {line}")
    return frame


def _with_exposure(bank: ItemBank, policy: Policy, options: dict[str, Any], rng: Any, theta: Any) -> Policy:
    from dataclasses import replace

    import pandas as pd

    from dreamseed.cat import sympson_hetter_parameters

    if options["exposure"] != "sympson-hetter":
        return replace(policy, exposure=options["exposure"])
    if options["exposure_parameters"] is not None:
        frame = pd.read_csv(options["exposure_parameters"], dtype={"item_id": str})
        k = frame.set_index("item_id")["k"].reindex(bank.items.item_id.astype(str)).fillna(1.0).to_numpy()
    else:
        k = sympson_hetter_parameters(bank, theta, policy, rng, options["r_max"]).k
    return replace(policy, exposure="sympson-hetter", exposure_parameters=k)


def _report_text(report: SimulationReport, policy: Policy, n_items: int, options: dict[str, Any]) -> str:
    lengths = range(1, report.rmse.size + 1)
    shown = [n for n in lengths if n <= 5 or n % 5 == 0 or n == report.rmse.size]
    rows = [f"{'items':>6}  {'RMSE':>7}  {'bias':>7}"]
    rows += [f"{n:>6}  {report.rmse[n - 1]:>7.3f}  {report.bias[n - 1]:>+7.3f}" for n in shown]
    to_se = (
        f"{report.mean_length_to_se:.1f} items ({report.share_reaching_se:.0%} of simulees reach it)"
        if report.share_reaching_se > 0
        else f"not reached within {policy.max_items} items"
    )
    stops = ", ".join(f"{name} {count}" for name, count in sorted(report.stop_reasons.items()))
    summary = [
        f"{report.n_simulees:,} simulees, {n_items:,} items, policy {policy.kind}, exposure {policy.exposure}",
        *rows,
        f"mean length {report.mean_length:.1f}; mean SE at stop {report.mean_se_at_stop:.3f}; stops: {stops}",
        f"length to SE <= {report.se_target}: {to_se}",
        f"max item exposure {report.max_exposure:.1%}; share of bank used {report.share_of_bank_used:.1%}",
        f"share answered correctly {report.share_correct:.1%}",
    ]
    return "\n".join(summary)
