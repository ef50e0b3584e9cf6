"""`dreamseed irt`: calibrate items and score users from CSV files (no database needed)."""

from __future__ import annotations

import importlib
import json
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dreamseed.cli.options import out_option

if TYPE_CHECKING:
    import pandas as pd

    from dreamseed.irt import Calibration, ItemParameters, IterationInfo, Responses
    from dreamseed.irt.fit_statistics import FitStatistics

RESPONSE_COLUMNS = ("user_id", "item_id", "correct")
ITEM_COLUMNS = ("a", "b", "c", "se_a", "se_b", "se_c")


class _IrtGroup(click.Group):
    """`export-responses` is imported when used: it needs the database layer, fit and score do not."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "export-responses", "dif"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "export-responses":
            from dreamseed.cli.irt_export import export_responses

            return export_responses
        if cmd_name == "dif":
            from dreamseed.cli.irt_dif import dif

            return dif
        return super().get_command(ctx, cmd_name)


@click.group(cls=_IrtGroup)
def irt() -> None:
    """Item response theory on long-format CSV files.

    RESPONSES.csv has one row per answer with columns user_id, item_id and correct (0/1 or
    true/false); other columns are ignored. Ids are read as text. ITEMS.csv files have columns
    item_id, a, b and optionally c (default 0), as `dreamseed irt fit` writes them.
    """


@irt.command()
@click.argument(
    "responses_csv", metavar="RESPONSES.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--model",
    type=click.Choice(["Rasch", "1PL", "2PL", "3PL"]),
    default="2PL",
    show_default=True,
    help="Item model (Rasch: slopes fixed at 1, the ability SD estimated; 1PL: one shared slope).",
)
@click.option(
    "--anchors",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="ITEMS.csv of items held fixed at the given a, b, c (keeps θ on their scale).",
)
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="ITEMS.csv of a previous calibration: fit.json then reports drift and linking constants.",
)
@out_option(kind="directory", help="Directory for items.csv, abilities.csv and fit.json (created).")
@click.option(
    "--duplicates",
    type=click.Choice(["all", "last"]),
    default="all",
    show_default=True,
    help="Repeated answers to one item by one user: keep all, or only the last row.",
)
@click.option(
    "--max-iter", type=click.IntRange(min=1), default=500, show_default=True, help="EM iteration limit."
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-4,
    show_default=True,
    help="Convergence tolerance.",
)
@click.option(
    "--quadpts",
    type=click.IntRange(min=3),
    default=41,
    show_default=True,
    help="Quadrature points of the estimation grid (equally spaced on [−L, L] in ability SDs).",
)
@click.option(
    "--theta-lim",
    type=click.FloatRange(min=0, min_open=True),
    default=6.0,
    show_default=True,
    help="L: the estimation grid spans the ability mean ± L SDs.",
)
@click.option(
    "--se",
    "covariance",
    type=click.Choice(["auto", "full", "block-diagonal"]),
    default="auto",
    show_default=True,
    help="Standard errors: full observed information, each item's own block (faster), or full while "
    "its cost is small (auto).",
)
@click.option(
    "--statistics/--no-statistics",
    default=True,
    show_default=True,
    help="Model fit (M2, RMSEA, SRMSR, CFI/TLI where defined), infit/outfit, Zh, LD X2, Q3, "
    "reliability and the EAP-sum table in fit.json, item_fit.csv and person_fit.csv.",
)
@click.option("--quiet", is_flag=True, help="No per-iteration progress lines.")
def fit(
    responses_csv: Path,
    model: str,
    anchors: Path | None,
    previous: Path | None,
    out: Path,
    duplicates: str,
    max_iter: int,
    tol: float,
    quadpts: int,
    theta_lim: float,
    covariance: str,
    statistics: bool,
    quiet: bool,
) -> None:
    """Calibrate MODEL on RESPONSES.csv by marginal maximum likelihood (EM).

    Writes DIR/items.csv (item_id,a,b,c,se_a,se_b,se_c), DIR/abilities.csv (user_id,theta,se;
    EAP with posterior SD) and DIR/fit.json (log-likelihood, AIC, BIC, iterations, convergence,
    item fit, reliability, the standard-error method, and with --previous drift and linking
    constants); with --statistics (default) also DIR/item_fit.csv and DIR/person_fit.csv (infit,
    outfit, their t, Zh). The 3PL uses a Beta(5, 17) prior on c. The estimation grid has --quadpts points on
    the ability mean ± --theta-lim SDs.
    """
    from dreamseed.cli.irt_csv import write_csv

    loading = _import_in_background("dreamseed.irt.calibration", "dreamseed.irt.fit_report")
    try:
        responses = _read_responses(responses_csv, duplicates)
    finally:
        loading.join()  # also before an error's exit: no thread left inside an import
    from dreamseed.irt import QuadratureGrid, calibrate

    fixed = _read_items(anchors) if anchors else None
    began, began_cpu = time.perf_counter(), time.process_time()
    try:
        cal = calibrate(
            responses,
            model,  # type: ignore[arg-type]
            fixed_items=fixed,
            max_iter=max_iter,
            tol=tol,
            quadrature=QuadratureGrid.normal(quadpts, theta_lim),
            covariance=covariance,  # type: ignore[arg-type]
            progress=None if quiet else _print_iteration,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    out.mkdir(parents=True, exist_ok=True)
    items = cal.items
    write_csv(out / "items.csv", {"item_id": items.item_id} | {k: getattr(items, k) for k in ITEM_COLUMNS})
    abilities = cal.abilities
    write_csv(
        out / "abilities.csv", {"user_id": abilities.user_id, "theta": abilities.theta, "se": abilities.se}
    )
    from dreamseed.runtime.blas import one_blas_thread

    with one_blas_thread():
        report, section = _fit_report(
            cal, responses, _read_items(previous) if previous else None, elapsed, statistics
        )
    if section is not None:
        write_csv(out / "item_fit.csv", dict(section.item_table))
        write_csv(out / "person_fit.csv", dict(section.person_table))
    report["cpu_seconds"] = round(cpu, 3)  # all threads: under load the wall time stretches, this less
    (out / "fit.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    state = "converged" if cal.converged else "did NOT converge"
    click.echo(
        f"Calibrated {model} on {cal.n_obs:,} answers from {cal.n_persons:,} users to {cal.n_items:,} items "
        f"in {elapsed:.1f} s: {state} after {cal.iterations} iterations, log-likelihood {cal.loglik:,.3f}"
    )
    if cal.extreme_items:
        click.echo(f"  {len(cal.extreme_items)} item(s) answered all right or all wrong (see fit.json)")
    for line in [] if section is None else section.summary_lines():
        click.echo(line)
    extra = "" if section is None else f", {out / 'item_fit.csv'}, {out / 'person_fit.csv'}"
    click.echo(f"Wrote {out / 'items.csv'}, {out / 'abilities.csv'}{extra} and {out / 'fit.json'}")


@irt.command()
@click.argument(
    "responses_csv", metavar="RESPONSES.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--items",
    "items_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="ITEMS.csv with the item parameters to score with.",
)
@click.option(
    "--method", type=click.Choice(["EAP", "MAP", "ML"]), default="EAP", show_default=True, help="Estimator."
)
@click.option(
    "--score-quadpts",
    type=click.IntRange(min=3),
    default=81,
    show_default=True,
    help="Points of the scoring grid (equally spaced on [−L, L]).",
)
@click.option(
    "--score-theta-lim",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="L: the scoring grid spans [−L, L] (ML estimates are kept within it).",
)
@out_option(kind="file", help="CSV file to write.")
def score(
    responses_csv: Path, items_csv: Path, method: str, score_quadpts: int, score_theta_lim: float, out: Path
) -> None:
    """Score every user in RESPONSES.csv with fixed item parameters.

    Writes user_id,theta,se,n_responses. EAP (default): posterior mean and SD on the scoring grid
    (--score-quadpts points over [−L, L], L = --score-theta-lim; default 81 on [−4, 4]) with an
    N(0, 1) prior; MAP: posterior mode; ML: likelihood maximum within [−L, L] (all-right or
    all-wrong users get ±L). Answers to items missing from ITEMS.csv are ignored.
    """
    from dreamseed.irt import QuadratureGrid
    from dreamseed.irt import score as score_users

    responses = _read_responses(responses_csv, "all")
    items = _read_items(items_csv)
    grid = QuadratureGrid.normal(score_quadpts, score_theta_lim)
    abilities = score_users(responses, items, method, grid=grid)  # type: ignore[arg-type]
    unknown = int((items.positions(responses.item_ids) < 0).sum())
    out.parent.mkdir(parents=True, exist_ok=True)
    _abilities_frame(abilities, with_count=True).to_csv(out, index=False)
    click.echo(f"Scored {len(abilities):,} users ({method}) with {len(items):,} items; wrote {out}")
    if unknown:
        click.echo(f"  ignored answers to {unknown:,} item(s) not in {items_csv.name}")


def _import_in_background(*modules: str) -> threading.Thread:
    """Import ``modules`` (the engine: scipy.sparse, scipy.special, ~0.3 s) on a thread while the
    caller reads the CSV, whose parser runs without the GIL; an import error surfaces again where
    the caller imports the module itself."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:
                return

    thread = threading.Thread(target=load, name="irt-imports", daemon=True)
    thread.start()
    return thread


def _print_iteration(info: IterationInfo) -> None:
    tag = " (extrapolated)" if info.accelerated else ""
    click.echo(
        f"iteration {info.iteration:4d}: log-posterior {info.objective:,.4f}, "
        f"largest change {info.max_change:.2e}{tag}",
        err=True,
    )


def _read_csv(path: Path, required: tuple[str, ...], text_columns: tuple[str, ...]) -> pd.DataFrame:
    """The CSV's rows, blank lines dropped; the index is the 1-based line number in the file."""
    import pandas as pd

    _refuse_json(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                dtype=dict.fromkeys(text_columns, str),
                keep_default_na=False,
                skip_blank_lines=False,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise click.ClickException(
            f"{path} is not a readable CSV file: a row has more fields than the header"
        ) from None
    except pd.errors.EmptyDataError:
        raise click.ClickException(
            f"{path} is empty; it needs a header row ({', '.join(required)})"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[-1]
        raise click.ClickException(f"{path} is not a readable CSV file: {reason}") from None
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise click.ClickException(
            f"{path} lacks column(s) {', '.join(missing)}; it needs {', '.join(required)} "
            f"(found: {', '.join(map(str, frame.columns)) or 'none'})"
        )
    frame.index = frame.index + 2  # the header is line 1
    blank = (frame == "").all(axis=1).to_numpy()
    return frame[~blank]


def _refuse_json(path: Path) -> None:
    """A clear error for JSON or JSONL input (e.g. exam_results.jsonl) instead of a tokenizer error."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip()
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None
    if not start.startswith((b"{", b"[")):
        return
    if b'"result_json"' in start or b'"session_id"' in start:
        raise click.ClickException(
            f"{path} looks like a JSONL exam-results file, not a response CSV; turn it into one with "
            f"`dreamseed irt export-responses --from-synth {path} --out responses.csv`"
        )
    raise click.ClickException(
        f"{path} looks like JSON, not a CSV; give a CSV file with a header row "
        f"({', '.join(RESPONSE_COLUMNS)} for responses)"
    )


def _lines(numbers: Any, limit: int = 5) -> str:
    shown = ", ".join(str(int(n)) for n in numbers[:limit])
    return ("line " if len(numbers) == 1 else "lines ") + shown + (", …" if len(numbers) > limit else "")


def _read_responses(path: Path, duplicates: str) -> Responses:
    from dreamseed.cli.irt_csv import read_responses

    _refuse_json(path)
    return read_responses(path, duplicates)


def _read_items(path: Path) -> ItemParameters:
    import pandas as pd

    from dreamseed.irt import ItemParameters

    frame = _read_csv(path, ("item_id", "a", "b"), ("item_id",))
    columns = {}
    for name in ("a", "b", "c"):
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name].replace({"": None}), errors="coerce")
        if values.isna().any():
            bad = frame.index.to_numpy()[values.isna().to_numpy()]
            raise click.ClickException(f"{path}: column {name} is not a number on {_lines(bad)}")
        columns[name] = values.to_numpy(dtype=float)
    try:
        return ItemParameters.from_arrays(frame["item_id"].to_numpy(), **columns)
    except ValueError as error:
        raise click.ClickException(f"{path}: {error}") from None


def _items_frame(items: ItemParameters) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(items.to_records(), columns=["item_id", "a", "b", "c", "se_a", "se_b", "se_c"])


def _abilities_frame(abilities: Any, with_count: bool) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({"user_id": abilities.user_id, "theta": abilities.theta, "se": abilities.se})
    if with_count:
        frame["n_responses"] = abilities.n_responses
    return frame


def _fit_report(
    cal: Calibration, responses: Responses, previous: ItemParameters | None, elapsed: float, statistics: bool
) -> tuple[dict[str, Any], FitStatistics | None]:
    """fit.json: the calibration's summary, the seconds it took and its FitReport; and the report's
    statistics section (None with --no-statistics)."""
    from dreamseed.irt.fit_report import CalibrationFigures, fit_report

    report = fit_report(
        cal,
        CalibrationFigures.from_summary(cal.summary()),
        fit_responses=responses,
        model=cal.model,
        drift_reference=previous,
        linking=None if previous is None else _linking_constants(previous, cal.items),
        covariance=cal.covariance,
        statistics=statistics,
    )
    written = cal.summary() | {"seconds": round(elapsed, 3)}
    written["covariance"] = None if report.standard_errors is None else report.standard_errors.as_dict()
    written |= {"empirical_reliability": report.reliability, "item_fit": report.item_fit}
    if previous is not None:
        written |= {"drift": report.drift, "linking_constants": report.linking}
    if report.statistics is not None:
        written["statistics"] = report.statistics.as_dict()
    return written, report.statistics


def _linking_constants(previous: ItemParameters, items: ItemParameters) -> dict[str, Any]:
    from dreamseed.irt import mean_sigma_linking, stocking_lord_linking

    try:
        return {
            "mean_sigma": mean_sigma_linking(previous, items).to_dict(),
            "stocking_lord": stocking_lord_linking(previous, items).to_dict(),
        }
    except ValueError as error:
        return {"error": str(error)}
