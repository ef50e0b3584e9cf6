"""`dreamseed irt dif`: differential item functioning between user groups, from CSV files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import numpy as np

from dreamseed.cli.options import out_option

if TYPE_CHECKING:
    import numpy.typing as npt

    from dreamseed.irt import Responses
    from dreamseed.irt.dif_lr import Scheme
    from dreamseed.irt.dif_report import DifResult, DifSection
    from dreamseed.irt.item_model import ModelName

METHODS = ("lr", "mh", "wald")


@click.command()
@click.argument(
    "responses_csv", metavar="RESPONSES.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--groups",
    "groups_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with a user_id column and the grouping column (e.g. org_id); one row per user.",
)
@click.option("--group-column", default="group", show_default=True, help="The grouping column of --groups.")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="lr",
    show_default=True,
    help="lr: likelihood ratio on the joint multiple-group model; mh: Mantel-Haenszel with ETS "
    "A/B/C (complete data); wald: Wald tests between two separate calibrations.",
)
@click.option("--model", type=click.Choice(["Rasch", "1PL", "2PL", "3PL"]), default="2PL", show_default=True)
@click.option(
    "--scheme",
    type=click.Choice(["drop", "add"]),
    default="drop",
    show_default=True,
    help="lr: drop = all other items as anchors, each item freed in turn; add = --anchors only "
    "invariant (none: every group N(0, 1)), each item constrained in turn.",
)
@click.option("--purify", is_flag=True, help="lr: iterate the anchor set (flagged items freed) until stable.")
@click.option("--anchors", default=None, help="lr: comma-separated anchor item ids (default by --scheme).")
@click.option("--reference", default=None, help="Reference group (default: the first in sorted order).")
@click.option("--focal", default=None, help="mh, wald: the focal group (needed with more than two groups).")
@click.option(
    "--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True,
    help="Flag items whose Benjamini-Hochberg adjusted p is below this.",
)  # fmt: skip
@out_option(kind="file", help="Table to write: .json for JSON (rows and summary), else CSV.")
def dif(
    responses_csv: Path,
    groups_csv: Path,
    group_column: str,
    method: str,
    model: str,
    scheme: str,
    purify: bool,
    anchors: str | None,
    reference: str | None,
    focal: str | None,
    alpha: float,
    out: Path,
) -> None:
    """Test every item of RESPONSES.csv for DIF between the groups of --groups.

    Writes one row per item (statistic, df, p, Benjamini-Hochberg adjusted p, flag; for mh the
    MH D-DIF and its ETS class) and prints the flagged items.
    """
    from dreamseed.cli.irt import _read_responses

    responses = _read_responses(responses_csv, "all")
    labels = _user_groups(responses, groups_csv, group_column)
    began = time.perf_counter()
    try:
        result = _run(method, responses, labels, model, scheme, purify, anchors, reference, focal, alpha)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    from dreamseed.irt.dif_report import dif_section

    section = dif_section(result, grouping=group_column)
    seconds = time.perf_counter() - began
    _write(out, section, {"method": method, "model": model, "seconds": seconds})
    _echo_summary(section, out)


def _user_groups(responses: Responses, path: Path, column: str) -> npt.NDArray[Any]:
    """The group label of each user in ``responses`` (N,), from the groups CSV; ClickException for
    a missing column, blank or conflicting labels, users without a group, or a single group."""
    from dreamseed.cli.irt import _lines, _read_csv

    frame = _read_csv(path, ("user_id", column), ("user_id", column))
    blank = (frame[column].str.strip() == "").to_numpy()
    if blank.any():
        raise click.ClickException(f"{path}: empty {column} ({_lines(frame.index[blank])})")
    labels = frame.groupby("user_id")[column].nunique()
    conflicting = labels.index[labels > 1].tolist()
    if conflicting:
        raise click.ClickException(
            f"{path}: user(s) {', '.join(conflicting[:5])} have more than one {column}; give one row per user"
        )
    lookup = dict(zip(frame["user_id"], frame[column], strict=True))
    users = [str(u) for u in responses.user_ids.tolist()]
    missing = [u for u in users if u not in lookup]
    if missing:
        raise click.ClickException(
            f"{path}: {len(missing):,} of {len(users):,} users in the responses have no {column} "
            f"(e.g. {', '.join(missing[:5])}); every user needs a group"
        )
    groups = np.array([lookup[u] for u in users], dtype=object)
    present = sorted(set(groups.tolist()))
    if len(present) < 2:
        raise click.ClickException(
            f"{path}: every user is in {column} {present[0]!r}; DIF needs at least two groups"
        )
    return groups


def _run(
    method: str,
    responses: Responses,
    groups: npt.NDArray[Any],
    model: str,
    scheme: str,
    purify: bool,
    anchors: str | None,
    reference: str | None,
    focal: str | None,
    alpha: float,
) -> DifResult:
    """The chosen test's result."""
    if method == "mh":
        from dreamseed.irt.dif_mh import mantel_haenszel

        return mantel_haenszel(responses, groups, reference=reference, focal=focal, alpha=alpha)
    if method == "wald":
        return _wald(responses, groups, model, reference, focal, alpha)
    from dreamseed.irt.dif_lr import lr_dif, purified_lr_dif

    anchor_ids = None if anchors is None else [a.strip() for a in anchors.split(",") if a.strip()]
    if anchor_ids is not None:
        unknown = sorted(set(anchor_ids) - {str(i) for i in responses.item_ids.tolist()})
        if unknown:
            raise ValueError(f"--anchors names item(s) not in the responses: {', '.join(unknown[:5])}")
    name = cast("ModelName", model)
    if purify:
        return purified_lr_dif(responses, groups, name, reference=reference, alpha=alpha)
    how = cast("Scheme", scheme)
    return lr_dif(responses, groups, name, scheme=how, anchors=anchor_ids, reference=reference, alpha=alpha)


def _wald(
    responses: Responses,
    groups: npt.NDArray[Any],
    model: str,
    reference: str | None,
    focal: str | None,
    alpha: float,
) -> DifResult:
    """Two separate calibrations with full covariance (mirt's grid) and their Wald tests."""
    from dreamseed.irt import calibrate, mirt_grid
    from dreamseed.irt.dif import wald_dif
    from dreamseed.irt.dif_mh import two_groups
    from dreamseed.irt.responses import Responses as ResponsesType

    if model in ("1PL", "Rasch"):
        raise ValueError(
            "--method wald needs per-item slopes (2PL or 3PL); use --method lr for the 1PL/Rasch"
        )
    fits = []
    for label in two_groups(groups, reference, focal):
        rows = np.flatnonzero(groups == label)
        part = ResponsesType(responses.user_ids[rows], responses.item_ids, responses.counts[rows])
        fits.append(calibrate(part, cast("ModelName", model), quadrature=mirt_grid(), covariance="full"))
    parameters = ("a", "d", "logit_c") if model == "3PL" else ("a", "d")
    return wald_dif(fits[0], fits[1], parameters=parameters, alpha=alpha)


def _write(out: Path, section: DifSection, summary: dict[str, Any]) -> None:
    from dreamseed.cli.irt_csv import write_csv

    out.parent.mkdir(parents=True, exist_ok=True)
    rows = section.rows
    if out.suffix.lower() == ".json":
        document = {"summary": summary, "dif": section.as_dict()}
        out.write_text(json.dumps(document, indent=2, default=str) + "\n", "utf-8")
        return
    columns = (
        {key: np.array([row[key] for row in rows]) for key in rows[0]} if rows else {"item_id": np.array([])}
    )
    write_csv(out, columns)


def _echo_summary(section: DifSection, out: Path) -> None:
    click.echo(section.text())
    click.echo(f"Wrote {out}")
