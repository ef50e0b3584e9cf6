"""The evaluation report as Markdown (tables of scores, reliability deciles, checks and choices)."""

from __future__ import annotations

import numpy as np

from dreamseed.evaluation.assessment import Assessment
from dreamseed.evaluation.summary import EvaluationResult

SCORE_HEADER = (
    "| forecast | population | n | outcome rate | ROC-AUC | PR-AUC | Brier | log loss | calibration slope | "
    "intercept | mean forecast |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _number(value: float, digits: int = 3) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def score_table(assessments: tuple[Assessment, ...]) -> str:
    """A Markdown table, one row per assessment."""
    rows = [SCORE_HEADER]
    for a in assessments:
        s = a.scores
        rows.append(
            f"| {a.forecast} | {a.population} | {s.n} | {_number(s.base_rate)} | {_number(s.roc_auc)} | "
            f"{_number(s.pr_auc)} | {_number(s.brier)} | {_number(s.log_loss)} | "
            f"{_number(s.calibration_slope, 2)} | {_number(s.calibration_intercept, 2)} | "
            f"{_number(s.mean_prediction)} |"
        )
    return "\n".join(rows)


def reliability_markdown(assessment: Assessment) -> str:
    """The decile reliability table of one assessment."""
    if not assessment.reliability:
        return f"_{assessment.forecast} ({assessment.population}): no forecasts._"
    rows = [
        f"**{assessment.forecast}** ({assessment.population})\n",
        "| bin | forecasts in | n | mean forecast | observed | 95% interval |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for k, b in enumerate(assessment.reliability, start=1):
        rows.append(
            f"| {k} | {b.low:.3f}–{b.high:.3f} | {b.n} | {b.mean_prediction:.3f} | {b.observed_rate:.3f} | "
            f"{b.observed_low:.3f}–{b.observed_high:.3f} |"
        )
    return "\n".join(rows)


def render_report(result: EvaluationResult, plots: tuple[tuple[str, str], ...], command: str) -> str:
    """The whole report. ``plots``: (caption, relative file name) of the SVG reliability diagrams."""
    setup = "\n".join(f"| {k} | {v} |" for k, v in result.setup)
    checks = "\n".join(
        f"| {c.goal} | {c.measured} | {'met' if c.met else '**not met**'} |" for c in result.checks
    )
    sections = [
        "# DreamSeed Analytics: evaluation of P and S",
        f"Command: `{command}`",
        "## Setup\n\n| | |\n|---|---|\n" + setup,
        "## Goals\n\n| goal | measured | |\n|---|---|---|\n" + checks,
        "## Choices\n\n" + "\n".join(f"- {d}" for d in result.decisions),
        "## S (churn risk) against no activity in the next 14 days\n\n" + score_table(result.churn),
        "## P (goal attainment) against reaching the goal by its target date\n\n" + score_table(result.goal),
        "## Reliability diagrams\n\n"
        + "\n\n".join(f"![{caption}]({name})\n\n_{caption}_" for caption, name in plots),
        "## Reliability tables (deciles of the forecast)\n\n"
        + "\n\n".join(reliability_markdown(a) for a in (*result.churn[:2], *result.goal[:2])),
    ]
    if result.notes:
        sections.append("## Notes\n\n" + "\n".join(f"- {n}" for n in result.notes))
    return "\n\n".join(sections) + "\n"
