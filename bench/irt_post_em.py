"""What a calibration does after its EM on large data (log-likelihood, block-diagonal SEs, EAP),
before and after the column-wise SE pass, next to one E-step as the yardstick (issue 22, item 2).

    nice python bench/irt_post_em.py [--size XL10] [--model 2PL] [--threads 2]

Simulates ``--size`` as ``bench/irt.py`` does (straight into CSR), then at the true item
parameters times, in the same run:
  1. baseline: one E-step (the EM's unit of work; 2 threads);
  2. before: the float64 log-likelihood pass, the block-diagonal SEs of commit ``BEFORE``
     (dense users-chunk × (Q × J·K) products for the expected-score term, summed over chunks of
     4×10⁶ answers with their pairs) and EAP on one thread — the post-EM phase as it was;
  3. after: ``standard_errors.observed_item_information`` (posteriors, log-likelihood and SE
     sums in one threaded pass, the expected-score term column by column of the answers) and
     EAP on ``--threads`` threads.
Prints wall and CPU seconds of each part and the ratios to the E-step; checks that before and
after agree (SEs to 1e-4 relative, log-likelihood to 1e-9).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.irt import SIZES, _simulate_csr

#: The engine before the column-wise SE pass (its standard_errors module is loaded from git).
BEFORE = "ff7121a"
_SE_CHUNK_ANSWERS = 4_000_000


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(rows: dict[str, tuple[float, float]], name: str, function: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), _cpu()
    value = function()
    rows[name] = (time.perf_counter() - wall, _cpu() - cpu)
    print(f"  {name:<44} wall {rows[name][0]:7.2f} s  CPU {rows[name][1]:7.2f} s", flush=True)
    return value


def _module_at(commit: str, path: str, name: str) -> ModuleType:
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=root, check=True, capture_output=True)
    file = Path(tempfile.mkdtemp(prefix="dsbench-before-")) / f"{name}.py"
    file.write_bytes(source.stdout)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="XL10")
    parser.add_argument("--model", choices=["2PL", "3PL"], default="2PL")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-before", action="store_true", help="time only the baseline and after")
    args = parser.parse_args()

    from dreamseed.irt import Responses, score
    from dreamseed.irt import standard_errors as after
    from dreamseed.irt.estep import EStepper, log_likelihood_by_user
    from dreamseed.irt.item_model import ItemModel, stacked_log_table
    from dreamseed.irt.mstep import ItemArrays
    from dreamseed.irt.parameters import Priors
    from dreamseed.irt.quadrature import QuadratureGrid
    from dreamseed.irt.responses import row_blocks

    n_users, n_items, observed = SIZES[args.size]
    path = Path(tempfile.mkdtemp(prefix="dsbench-postem-")) / "data.npz"
    truth, n_obs = _simulate_csr(path, n_users, n_items, observed, args.model)
    data = np.load(path)
    shape = (n_users, 2 * n_items)
    counts = sp.csr_matrix(
        (np.ones(data["indices"].size, np.float32), data["indices"], data["indptr"]), shape
    )
    responses = Responses(np.arange(n_users), np.arange(n_items), counts)
    gamma = np.where(truth.c > 0, np.log(np.maximum(truth.c, 1e-300) / (1 - truth.c)), -np.inf)
    items = ItemArrays(truth.a, -truth.a * truth.b, gamma)
    grid, model, priors = QuadratureGrid.normal(41, 6.0), ItemModel.named(args.model), Priors()
    free = np.ones(n_items, dtype=bool)
    table = stacked_log_table(items.a, items.d, items.c, grid.points)
    print(f"{args.size} {args.model}: {n_obs:,} answers, {n_users:,} users × {n_items:,} items; "
          f"load average at start {', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip

    rows: dict[str, tuple[float, float]] = {}
    stepper = EStepper(counts, 2, grid.points.size)
    try:
        _timed(rows, "baseline: one E-step (2 threads)", lambda: stepper(table, grid.log_weights))
    finally:
        stepper.close()

    before_se = None
    if not args.skip_before:
        old = _module_at(BEFORE, "src/dreamseed/irt/standard_errors.py", "standard_errors_before")

        def old_errors() -> Any:
            users_per_chunk = max(1, int(_SE_CHUNK_ANSWERS * n_users / counts.nnz))
            information = np.zeros((n_items, model.n_params, model.n_params))
            lo = 0
            for block in row_blocks(counts, users_per_chunk):
                chunk = Responses(np.arange(lo, lo + block.shape[0]), responses.item_ids, block)
                information += old.observed_item_information(
                    block, chunk.pairs, items, grid.points, grid.log_weights, model.n_params
                )
                lo += block.shape[0]
            return old.standard_errors_from_information(information, items, model, priors, free)

        before_ll = _timed(rows, "before: log-likelihood (float64, 1 thread)",
                           lambda: float(np.sum(log_likelihood_by_user(counts, table, grid.log_weights))))  # fmt: skip
        before_se = _timed(rows, "before: block-diagonal SEs (dense products)", old_errors)
        before_eap = _timed(rows, "before: EAP (1 thread)", lambda: score(responses, truth))

    def new_errors() -> Any:
        information = after.observed_item_information(
            counts, items, grid.points, grid.log_weights, model.n_params, args.threads
        )
        ses = after.standard_errors_from_information(information.information, items, model, priors, free)
        return ses, information.loglik

    after_se, after_ll = _timed(rows, f"after: log-likelihood + SEs ({args.threads} threads)", new_errors)
    after_eap = _timed(rows, f"after: EAP ({args.threads} threads)",
                       lambda: score(responses, truth, n_threads=args.threads))  # fmt: skip

    estep = rows["baseline: one E-step (2 threads)"]
    print("\n| part | wall s | CPU s | ÷ one E-step (wall) |\n|---|---|---|---|")
    for name, (wall, cpu) in rows.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / estep[0]:.2f} |")
    after_total = sum(v[0] for k, v in rows.items() if k.startswith("after"))
    if before_se is not None:
        before_total = sum(v[0] for k, v in rows.items() if k.startswith("before"))
        print(f"\npost-EM before {before_total:.1f} s wall, after {after_total:.1f} s: "
              f"{before_total / after_total:.1f}× faster")  # fmt: skip
        worst = max(
            float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
            for a, b in zip(before_se, after_se, strict=True)
        )
        print(f"max relative SE difference {worst:.2e}; log-likelihood difference {abs(before_ll - after_ll):.2e}; "
              f"max |Δθ| EAP {float(np.max(np.abs(before_eap.theta - after_eap.theta))):.1e}")  # fmt: skip
    print(f"load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
