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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="K.csv to write.")
def exposure(**options: Any) -> None:
    """Compute Sympson–Hetter exposure-control parameters K (one per item) by iterated simulation
    and write them to K.csv (item_id,k) for `cat simulate --exposure-parameters`."""
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
