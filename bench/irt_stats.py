"""Time each fit-report statistic next to the fit, in one process per size (ratios from the same run).

    nice python bench/irt_stats.py                    # M and L, 2PL
    nice python bench/irt_stats.py --sizes M --models 2PL,3PL --repeats 2

Sizes as bench/irt.py: M 20,000 × 200 at 25 % observed, L 100,000 × 500 at 10 % (5 × 10⁶ answers),
``simulate_responses(..., seed=2026)``. For each: the fit (``calibrate(..., standard_errors=False)``,
41 points, SQUAREM), then on its estimates

- ``SE block-diagonal``: ``standard_errors.item_standard_errors`` (what ``auto`` uses above its
  budgets: the step the full form is compared with, goal ≤ 1.5×);
- ``SE full``: ``covariance.parameter_covariance(problem, "full")`` (the polynomial cross terms at
  this size) and, with ``--exact``, the exact sums;
- ``M2``: ``fit_report.model_fit_summary`` (not defined on these sparse data: it only says why);
- ``item fit``: ``fit.item_fit`` (fit.json's infit/outfit; S-X2 needs complete data) + t + item Zh;
- ``person fit``: infit/outfit with t and Zh per user;
- ``residual fit, one pass``: what the report runs instead of the two rows above: the answers'
  probabilities once (``pair_probabilities``), infit/outfit with t and Zh of items and users
  from them (``residual_fits_at``, ``zh_at``);
- ``LD``: ``ld_x2`` and ``yen_q3``;
- ``reliability + EAP-sum``; and ``fit report``: the whole ``fit_report`` statistics section.

"report / fit" is (SE full + fit report) / fit: goal ≤ 2 on L. ``--no-se`` skips the two SE rows;
``--blas-threads 1`` runs the steps after the fit with one BLAS thread, as ``dreamseed irt fit``
runs its statistics.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

SIZES = {"M": (20_000, 200, 0.25), "L": (100_000, 500, 0.10)}
SEED = 2026


def _timed(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def run_case(
    size: str, model: str, repeats: int, exact: bool, se: bool = True, blas_threads: int | None = None
) -> list[tuple[str, float, str]]:
    from dreamseed.irt import QuadratureGrid, calibrate, simulate_responses
    from dreamseed.irt.covariance import CovarianceProblem, parameter_covariance
    from dreamseed.irt.fit import item_fit
    from dreamseed.irt.fit_report import CalibrationFigures, fit_report, model_fit_summary
    from dreamseed.irt.fit_statistics import _reliability, _sum_scores
    from dreamseed.irt.item_model import ItemModel
    from dreamseed.irt.local_dependence import ld_x2, yen_q3
    from dreamseed.irt.mstep import ItemArrays
    from dreamseed.irt.parameters import Priors
    from dreamseed.irt.person_fit import item_zh, person_zh, zh_at
    from dreamseed.irt.residual_fit import (
        item_residual_fit,
        pair_probabilities,
        person_residual_fit,
        residual_fits_at,
    )
    from dreamseed.irt.standard_errors import item_standard_errors

    n_users, n_items, observed = SIZES[size]
    sim = simulate_responses(n_users, n_items, observed, model, seed=SEED)
    responses = sim.responses
    fit_s, cal = _timed(lambda: calibrate(responses, model, standard_errors=False), 1)  # type: ignore[arg-type]
    data = responses.aligned_to(cal.items.item_id)
    items = cal.items
    gamma = np.where(items.c > 0, np.log(np.maximum(items.c, 1e-300) / (1 - items.c)), -np.inf)
    arrays = ItemArrays(items.a, -items.a * items.b, gamma)
    grid = QuadratureGrid.normal(41, 6.0)
    kind, free = ItemModel.named(model), np.ones(len(items), dtype=bool)
    priors = Priors()
    problem = CovarianceProblem(data.counts, data.pairs, arrays, grid.points, 0.0, 1.0, kind, priors, free,
                                False, False)  # fmt: skip
    theta = cal.abilities.theta
    rows: list[tuple[str, float, str]] = [("fit", fit_s, f"{cal.iterations} EM iterations")]

    def add(name: str, function: Callable[[], Any], note: str = "") -> Any:
        with _blas_limit(blas_threads):
            seconds, value = _timed(function, repeats)
        rows.append((name, seconds, note))
        print(f"  {size} {model} {name:<22} {seconds:8.2f} s", flush=True)
        return value

    if se:
        add("SE block-diagonal", lambda: item_standard_errors(
            data.counts, arrays, grid.points, grid.log_weights, kind, priors, free))  # fmt: skip
        full = add("SE full", lambda: parameter_covariance(problem, "full"))
        rows[-1] = (*rows[-1][:2], f"cross terms {full.cross_terms}, condition {full.condition_number:.1f}")
        if exact:
            add("SE full (exact sums)", lambda: parameter_covariance(problem, "full", cross="exact"))
    m2 = add("M2", lambda: model_fit_summary(cal, data, model))
    rows[-1] = (*rows[-1][:2], "computed" if m2.get("computed") else f"not computed: {m2['reason']}")
    add("item fit", lambda: (item_fit(data, items, cal.abilities), item_residual_fit(data, items, theta),
                             item_zh(data, items, theta)))  # fmt: skip
    add("person fit", lambda: (person_residual_fit(data, items, theta), person_zh(data, items, theta)))

    def one_pass() -> Any:
        p = pair_probabilities(data, items, theta)
        return residual_fits_at(data, p), zh_at(data, p)

    add("residual fit, one pass", one_pass)
    add("LD (X2, Q3)", lambda: (ld_x2(data, items), yen_q3(data, items, theta)))
    add("reliability + EAP-sum", lambda: (_reliability(data, items, cal.abilities, 0.0, 1.0),
                                          _sum_scores(data, items, 0.0, 1.0)))  # fmt: skip
    figures = CalibrationFigures.from_summary(cal.summary())
    add("fit report (all stats)", lambda: fit_report(cal, figures, fit_responses=data, model=model))
    return rows


def _blas_limit(threads: int | None) -> contextlib.AbstractContextManager[object]:
    """BLAS threads for one step (threadpoolctl), or as they are when ``threads`` is None."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(threads, user_api="blas")


def markdown(size: str, model: str, rows: list[tuple[str, float, str]]) -> str:
    times = {name: seconds for name, seconds, _ in rows}
    fit = times["fit"]
    lines = [f"**{size} {model}**", "", "| step | s | / fit | note |", "|---|---|---|---|"]
    lines += [f"| {name} | {seconds:.2f} | {seconds / fit:.2f} | {note} |" for name, seconds, note in rows]
    if "SE full" in times:
        report = times["SE full"] + times["fit report (all stats)"]
        lines += [
            "",
            f"SE full / SE block-diagonal = {times['SE full'] / times['SE block-diagonal']:.2f} (goal ≤ 1.5); "
            f"(SE full + fit report) / fit = {report / fit:.2f} (goal ≤ 2 on L)",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="M,L")
    parser.add_argument("--models", default="2PL")
    parser.add_argument("--repeats", type=int, default=1, help="best of N for each statistic (not the fit)")
    parser.add_argument("--exact", action="store_true", help="also time the exact cross-term sums (slow)")
    parser.add_argument(
        "--no-se", action="store_true", help="skip the standard-error rows (the statistics only)"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="BLAS threads for the steps after the fit (dreamseed irt fit uses 1 for its statistics)",
    )
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"command: bench/irt_stats.py {' '.join(sys.argv[1:])}")  # fmt: skip
    tables = []
    for size in args.sizes.split(","):
        for model in args.models.split(","):
            tables.append(
                markdown(
                    size,
                    model,
                    run_case(size, model, args.repeats, args.exact, not args.no_se, args.blas_threads),
                )
            )
    print()
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
