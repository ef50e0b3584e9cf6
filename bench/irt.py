"""Benchmark the IRT engine against the Python peers on PyPI, in one run.

    nice python bench/irt.py                       # S, M, L × 2PL, 3PL, every engine
    nice python bench/irt.py --sizes S,M --models 2PL --engines dreamseed,mirt
    nice python bench/irt.py --sizes M --models 2PL --engines dreamseed,dreamseed-cli,mirt-whole

Sizes (users × items, share of cells observed): S 2,000 × 50 at 80%; M 20,000 × 200 at 25%;
L 100,000 × 500 at 10% (5 × 10⁶ answers). Data: ``dreamseed.irt.simulate_responses`` (a ~ U(0.8,
2.0), b ~ N(0, 1), c ~ U(0.1, 0.3) for the 3PL; θ ~ N(0, 1)), the same seed for every engine.

Engines, each with its package defaults, each fit in a fresh subprocess:
- ``dreamseed``: ``calibrate(responses, model)`` (41 points on [−6, 6], SQUAREM, item SEs and
  EAP abilities included in the time; the 3PL with its default Beta(5, 17) prior on c);
- ``dreamseed-ML``: the same without a prior on c, the objective the peers maximise for the 3PL
  (so its log-likelihood is the one to compare with theirs);
- ``mirt``: PyPI ``mirt`` 1.2.0 (Rust backend) ``fit_mirt(dense, model)`` with its defaults (21
  Gauss–Hermite points, standard errors on), and ``mirt-noSE`` with ``compute_standard_errors=False``;
- ``girth``: ``girth`` 0.8.0 ``twopl_mml`` / ``threepl_mml`` on a dense items × users matrix with
  ``INVALID_RESPONSE`` for missing cells;
- ``dreamseed-cli``: the whole ``dreamseed irt fit RESPONSES.csv --out DIR --quiet`` process (Python
  start, imports, reading the CSV, the fit, writing items.csv, abilities.csv, fit.json) on the same
  answers written as a CSV with string ids (``u17``, ``q3``); *fit s* is the fit the command itself
  reports in fit.json, *whole s* the process's wall time;
- ``mirt-whole``: PyPI ``mirt``'s whole process on that CSV, as a user would run it: a fresh
  ``python`` that reads it with pandas, builds the dense users × items matrix, fits with the
  defaults and scores every user by EAP (``mirt.fscores``).

Reported: fit time (the fitting call only; building each engine's input is "prep"), peak resident
memory of the subprocess (VmHWM: includes Python, the libraries and the data), the marginal
log-likelihood of each engine's estimates evaluated by ``dreamseed.irt.marginal_loglik`` on one grid
(61 points on [−6, 6], N(0, 1)) so the numbers are comparable, its gap to the best, RMSE against the
true a, b, c, and time ratios: a peer's fit time over ours for the same objective (dreamseed for
the 2PL, dreamseed-ML for the 3PL, since the peers fit the 3PL without a prior).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dreamseed.irt.item_model import ModelName

SIZES = {
    "S": (2_000, 50, 0.8),
    "M": (20_000, 200, 0.25),
    "L": (100_000, 500, 0.10),
    "XL10": (100_000, 2_000, 0.05),
    "XL": (1_000_000, 2_000, 0.05),
}
#: Sizes simulated chunk by chunk straight into CSR (no dense users × items, no per-answer Python);
#: only the sparse engine runs on them.
LARGE = {"XL10", "XL"}
DENSE_ENGINES = {"mirt", "mirt-noSE", "girth", "mirt-whole"}
ENGINES = ("dreamseed", "dreamseed-ML", "mirt", "mirt-noSE", "girth", "dreamseed-cli", "mirt-whole")
WHOLE = {"dreamseed-cli", "mirt-whole"}
SEED = 2026
#: girth fits items one by one with scipy optimisers: M 2PL takes about two minutes, L ~25× that.
SKIP = {("girth", "L"): "skipped: hopeless at this size (M 2PL already takes ~2 min; L is ~25× the work)"}
SAME_AS_DEFAULT = "the 2PL has no prior: same fit as dreamseed"


def main() -> None:
    args = _parse()
    if args.worker:
        _worker(*args.worker)
        return
    if args.check_float32:
        _check_float32(args.sizes.split(","), args.models.split(","))
        return
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            for model in args.models.split(","):
                rows.extend(_run_case(size, model, args.engines.split(","), Path(tmp), args.timeout))
                _print_table(rows[-len(args.engines.split(",")) :])
    print()
    print(_markdown(rows, " ".join(sys.argv[1:])))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--models", default="2PL,3PL")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per fit")
    parser.add_argument(
        "--check-float32",
        action="store_true",
        help="compare the float32 E-step with a float64 one on --sizes × --models (no timing)",
    )
    parser.add_argument(
        "--worker", nargs=4, metavar=("ENGINE", "MODEL", "DATA", "OUT"), help=argparse.SUPPRESS
    )
    return parser.parse_args()


def _run_case(size: str, model: str, engines: list[str], tmp: Path, timeout: float) -> list[dict[str, Any]]:
    from dreamseed.irt import ItemParameters, Responses, marginal_loglik, simulate_responses

    n_users, n_items, observed = SIZES[size]
    data = tmp / f"{size}-{model}.npz"
    if size in LARGE:
        truth, n_obs = _simulate_csr(data, n_users, n_items, observed, model)
        responses = None
    else:
        sim = simulate_responses(n_users, n_items, observed, model, seed=SEED)
        pairs = sim.responses.pairs
        np.savez(data, user=pairs.user, item=pairs.item, correct=pairs.n_correct.astype(np.int8),
                 n_users=sim.responses.n_users, n_items=sim.responses.n_items)  # fmt: skip
        responses = Responses.from_long(pairs.user, pairs.item, pairs.n_correct)
        truth, n_obs = sim.items, responses.n_obs
    rows = []
    for engine in engines:
        row: dict[str, Any] = {"size": size, "model": model, "engine": engine, "n_obs": n_obs}
        row.update(_run_worker(engine, model, size, data, tmp, timeout))
        if "a" in row and responses is None:  # large: RMSE only (no peer to compare log-likelihoods with)
            row["rmse_a"] = _rmse(np.asarray(row.pop("a")), truth.a)
            row["rmse_b"] = _rmse(np.asarray(row.pop("b")), truth.b)
            row["rmse_c"] = _rmse(np.asarray(row.pop("c")), truth.c) if model == "3PL" else None
        if "a" in row and responses is not None:
            items = ItemParameters.from_arrays(
                np.arange(responses.n_items), row.pop("a"), row.pop("b"), row.pop("c")
            )
            row["loglik"] = marginal_loglik(responses, items)
            row["rmse_a"] = _rmse(items.a, truth.a)
            row["rmse_b"] = _rmse(items.b, truth.b)
            row["rmse_c"] = _rmse(items.c, truth.c) if model == "3PL" else None
        rows.append(row)
    best = max((r["loglik"] for r in rows if "loglik" in r), default=None)
    times = {r["engine"]: r["fit_s"] for r in rows if "fit_s" in r}
    same_objective = times.get("dreamseed-ML" if model == "3PL" else "dreamseed")
    for row in rows:
        if "loglik" in row and best is not None:
            row["gap"] = best - row["loglik"]
        if "fit_s" in row and same_objective and not row["engine"].startswith("dreamseed"):
            row["ratio"] = row["fit_s"] / same_objective
    _whole_ratios(rows)
    return rows


def _check_float32(sizes: list[str], models: list[str]) -> None:
    """Largest parameter and SE differences between the float32 E-step (the default from
    ``FLOAT32_MIN_NNZ`` stored cells) and the same calibration with float64 products."""
    from dreamseed.irt import calibrate, estep, simulate_responses

    default = estep.FLOAT32_MIN_NNZ
    for size in sizes:
        for model in models:
            sim = simulate_responses(*SIZES[size], model, seed=SEED)
            fits = []
            for threshold in (default, 1 << 62):
                estep.FLOAT32_MIN_NNZ = threshold
                fits.append(calibrate(sim.responses, _model_name(model)))
            estep.FLOAT32_MIN_NNZ = default
            single, double = (fit.items for fit in fits)
            gaps = {
                k: float(np.max(np.abs(getattr(single, k) - getattr(double, k))))
                for k in ("a", "b", "c", "se_a", "se_b")
            }
            print(f"{size} {model}: float32 vs float64 E-step: " + ", ".join(f"max |Δ{k}| {v:.1e}" for k, v in gaps.items())
                  + f"; iterations {fits[0].iterations} vs {fits[1].iterations}; log-likelihood {fits[0].loglik:,.3f} vs {fits[1].loglik:,.3f}")  # fmt: skip


def _whole_ratios(rows: list[dict[str, Any]]) -> None:
    """The goal's two ratios on the dreamseed-cli row: whole ÷ its own fit, whole ÷ mirt's whole."""
    whole = {r["engine"]: r["whole_s"] for r in rows if "whole_s" in r}
    for row in rows:
        if row["engine"] == "dreamseed-cli" and "whole_s" in row:
            ratios = [f"whole ÷ own fit {row['whole_s'] / row['fit_s']:.2f}×"]
            if row.get("cpu_s"):
                ratios.append(
                    f"CPU {row['whole_cpu_s']:.2f} s, ÷ own fit's CPU {row['whole_cpu_s'] / row['cpu_s']:.2f}×"
                )
            if "mirt-whole" in whole:
                ratios.append(f"whole ÷ mirt whole {row['whole_s'] / whole['mirt-whole']:.2f}×")
            row["whole_note"] = "; ".join(ratios)


def _simulate_csr(
    path: Path, n_users: int, n_items: int, observed: float, model: str, chunk: int = 20_000
) -> tuple[Any, int]:
    """Simulate chunk by chunk of users straight into CSR arrays saved at ``path``; returns (true
    items, answers). Same design as ``simulate_responses`` (items from ``simulate_items``, θ ~ N(0,
    1), each cell observed independently with probability ``observed``), own random stream: the
    observed cells of a chunk are read off geometric gaps in row-major order, so memory is
    O(answers of a chunk) and there is no dense users × items array and no Python per answer."""
    from dreamseed.irt import probability_correct, simulate_items

    items = simulate_items(n_items, model, SEED)
    a, b, c = items.a, items.b, items.c
    rng = np.random.default_rng([SEED, 3])
    indices, row_counts = [], []
    for lo in range(0, n_users, chunk):
        rows_here = min(chunk, n_users - lo)
        cells = rows_here * n_items
        gaps = rng.geometric(observed, int(cells * observed * 1.1) + 1000)
        position = np.cumsum(gaps) - 1
        while position[-1] < cells:  # rare: the draw fell short of the chunk's end
            more = np.cumsum(rng.geometric(observed, int(cells * observed * 0.1) + 1000)) + position[-1]
            position = np.concatenate([position, more])
        position = position[position < cells]
        row, item = np.divmod(position, n_items)
        theta = rng.normal(0.0, 1.0, rows_here)
        right = rng.random(position.size) < probability_correct(theta[row], a[item], b[item], c[item])
        column = np.sort(row * (2 * n_items) + item + n_items * ~right)  # rights then wrongs per row
        indices.append((column % (2 * n_items)).astype(np.int32))
        row_counts.append(np.bincount(row, minlength=rows_here))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(row_counts))]).astype(np.int64)
    all_indices = np.concatenate(indices)
    del indices
    np.savez(path, indptr=indptr, indices=all_indices, n_users=n_users, n_items=n_items)
    return items, int(indptr[-1])


def _run_worker(engine: str, model: str, size: str, data: Path, tmp: Path, timeout: float) -> dict[str, Any]:
    if (engine, size) in SKIP:
        return {"note": SKIP[(engine, size)]}
    if size in LARGE and engine in DENSE_ENGINES | {"dreamseed-cli"}:
        n_users, n_items, _ = SIZES[size]
        if engine == "dreamseed-cli":
            return {"note": "skipped: the whole-process case is measured at M"}
        return {
            "note": f"skipped: a dense users × items matrix of {n_users * n_items * 8 / 1e9:,.0f} GB (float64)"
        }
    if engine == "dreamseed-ML" and model != "3PL":
        return {"note": SAME_AS_DEFAULT}
    if engine in WHOLE:
        return _run_whole(engine, model, data, tmp, timeout)
    out = tmp / f"{engine}-{data.stem}.json"
    command = [sys.executable, __file__, "--worker", engine, model, str(data), str(out)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"note": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0 or not out.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"note": f"error: {last[:120]}"}
    return dict(json.loads(out.read_text()))


def _run_whole(engine: str, model: str, data: Path, tmp: Path, timeout: float) -> dict[str, Any]:
    """Time one whole process on the answers of ``data`` written as a CSV with string ids."""
    csv_path = _responses_csv(data)
    out = tmp / f"{engine}-{data.stem}"
    if engine == "dreamseed-cli":
        command = [sys.executable, "-m", "dreamseed.cli.main", "irt", "fit", str(csv_path), "--model", model,
                   "--out", str(out), "--quiet"]  # fmt: skip
    else:
        command = [sys.executable, "-c", MIRT_WHOLE, str(csv_path), model, str(out.with_suffix(".json"))]
    start, cpu_start = time.perf_counter(), _children_cpu_s()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"note": f"timed out after {timeout:.0f} s"}
    whole, whole_cpu = time.perf_counter() - start, _children_cpu_s() - cpu_start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"note": f"error: {last[:120]}"}
    if engine == "mirt-whole":
        return {"whole_s": whole, "whole_cpu_s": whole_cpu} | dict(
            json.loads(out.with_suffix(".json").read_text())
        )
    return _cli_result(out, whole) | {"whole_cpu_s": whole_cpu}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli_result(out: Path, whole: float) -> dict[str, Any]:
    import pandas as pd

    report = json.loads((out / "fit.json").read_text())
    items = pd.read_csv(out / "items.csv")
    order = np.argsort([int(name[1:]) for name in items["item_id"]])
    return {"fit_s": report["seconds"], "cpu_s": report.get("cpu_seconds"), "whole_s": whole, "a": items["a"].to_numpy()[order].tolist(),
            "b": items["b"].to_numpy()[order].tolist(), "c": items["c"].to_numpy()[order].tolist(),
            "iterations": report["iterations"], "converged": report["converged"]}  # fmt: skip


def _responses_csv(data: Path) -> Path:
    """The answers of ``data`` as user_id,item_id,correct with string ids, written once per case."""
    path = data.with_suffix(".csv")
    if not path.exists():
        arrays = np.load(data)
        users = np.char.add("u", arrays["user"].astype(str))
        items = np.char.add("q", arrays["item"].astype(str))
        rows = np.char.add(
            np.char.add(np.char.add(users, ","), np.char.add(items, ",")), arrays["correct"].astype(str)
        )
        path.write_text("user_id,item_id,correct\n" + "\n".join(rows.tolist()) + "\n")
    return path


#: PyPI mirt's whole process: read the CSV, dense matrix, fit with its defaults, EAP for every user.
MIRT_WHOLE = """
import json, sys, time
import numpy as np, pandas as pd, mirt
path, model, out = sys.argv[1:]
frame = pd.read_csv(path, dtype={"user_id": str, "item_id": str})
users, user_ids = pd.factorize(frame["user_id"])
items, item_ids = pd.factorize(frame["item_id"])
matrix = np.full((len(user_ids), len(item_ids)), np.nan)
matrix[users, items] = frame["correct"].to_numpy()
start = time.perf_counter()
result = mirt.fit_mirt(matrix, model=model)
fit = time.perf_counter() - start
scores = mirt.fscores(result, matrix, method="EAP")
params = result.model.parameters
order = np.argsort([int(name[1:]) for name in item_ids])
c = np.asarray(params.get("guessing", np.zeros(len(item_ids))))
json.dump({"fit_s": fit, "a": np.asarray(params["discrimination"])[order].tolist(),
           "b": np.asarray(params["difficulty"])[order].tolist(), "c": c[order].tolist(),
           "iterations": int(result.n_iterations), "converged": bool(result.converged)}, open(out, "w"))
"""


def _peak_rss_mb() -> float:
    """This process's peak resident memory since its exec (Linux VmHWM), in MB.

    ru_maxrss is not used: a child started by fork + exec starts from its parent's peak, so a
    worker would report the bench's own peak (the data it simulated) when that is larger."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(engine: str, model: str, data_path: str, out_path: str) -> None:
    data = np.load(data_path)
    fits = {
        "dreamseed": _fit_dreamseed,
        "dreamseed-ML": _fit_dreamseed_ml,
        "mirt": _fit_mirt,
        "mirt-noSE": _fit_mirt_no_se,
        "girth": _fit_girth,
    }
    result = fits[engine](model, data)
    result["peak_mb"] = _peak_rss_mb()
    Path(out_path).write_text(json.dumps(result))


def _timed(prep_start: float, fit: Any) -> tuple[Any, float, float]:
    prep = time.perf_counter() - prep_start
    start = time.perf_counter()
    value = fit()
    return value, prep, time.perf_counter() - start


def _fit_dreamseed(model: str, data: Any, c_prior: bool = True) -> dict[str, Any]:
    from dreamseed.irt import Priors, Responses, calibrate

    name = _model_name(model)
    begin = time.perf_counter()
    if "indptr" in data:  # a large size: the CSR arrays as they are (one answer per cell)
        import scipy.sparse as sp

        indices = data["indices"]
        shape = (int(data["n_users"]), 2 * int(data["n_items"]))
        counts = sp.csr_matrix(
            (np.ones(indices.size, np.float32), indices, data["indptr"]), shape, copy=False
        )
        responses = Responses(np.arange(shape[0]), np.arange(shape[1] // 2), counts)
    else:
        responses = Responses.from_long(data["user"], data["item"], data["correct"])
    priors = Priors() if c_prior else Priors(c=None)
    last: list[float] = []
    progress = lambda info: last.append(time.perf_counter())  # noqa: E731 (the EM's end: last call)
    cpu = _cpu_s()
    cal, prep, seconds = _timed(begin, lambda: calibrate(responses, name, priors=priors, progress=progress))
    cpu = _cpu_s() - cpu
    em_s = last[-1] - (begin + prep) if last else None
    order = np.argsort(cal.items.item_id)
    return {"fit_s": seconds, "prep_s": prep, "a": cal.items.a[order].tolist(), "b": cal.items.b[order].tolist(),
            "c": cal.items.c[order].tolist(), "iterations": cal.iterations, "converged": cal.converged,
            "em_s": em_s, "se": cal.settings["standard_errors"], "cpu_s": cpu}  # fmt: skip


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) of this process so far: under load the wall time
    stretches with the other work, the CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _model_name(text: str) -> ModelName:
    """``text`` (from --models) as one of dreamseed's model names; ValueError if it is none."""
    from dreamseed.irt.item_model import MODEL_NAMES

    for name in MODEL_NAMES:
        if name == text:
            return name
    raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}, not {text!r}")


def _fit_dreamseed_ml(model: str, data: Any) -> dict[str, Any]:
    return _fit_dreamseed(model, data, c_prior=False)


def _dense(data: Any, missing: float) -> np.ndarray:
    matrix = np.full((int(data["n_users"]), int(data["n_items"])), missing)
    matrix[data["user"], data["item"]] = data["correct"]
    return matrix


def _fit_mirt(model: str, data: Any, standard_errors: bool = True) -> dict[str, Any]:
    import mirt

    name = _model_name(model)
    if name == "Rasch":
        raise ValueError("mirt's fit_mirt has no 'Rasch' model")
    begin = time.perf_counter()
    matrix = _dense(data, np.nan)
    result, prep, seconds = _timed(
        begin, lambda: mirt.fit_mirt(matrix, model=name, compute_standard_errors=standard_errors)
    )
    params = result.model.parameters
    guessing = params.get("guessing", np.zeros(matrix.shape[1]))
    return {"fit_s": seconds, "prep_s": prep, "a": np.asarray(params["discrimination"]).tolist(),
            "b": np.asarray(params["difficulty"]).tolist(), "c": np.asarray(guessing).tolist(),
            "iterations": int(result.n_iterations), "converged": bool(result.converged)}  # fmt: skip


def _fit_mirt_no_se(model: str, data: Any) -> dict[str, Any]:
    return _fit_mirt(model, data, standard_errors=False)


def _fit_girth(model: str, data: Any) -> dict[str, Any]:
    import girth

    begin = time.perf_counter()
    matrix = _dense(data, girth.INVALID_RESPONSE).astype(np.int32).T.copy()
    estimate = girth.twopl_mml if model == "2PL" else girth.threepl_mml
    result, prep, seconds = _timed(begin, lambda: estimate(matrix))
    guessing = result.get("Guessing", np.zeros(matrix.shape[0]))
    return {"fit_s": seconds, "prep_s": prep, "a": np.asarray(result["Discrimination"]).tolist(),
            "b": np.asarray(result["Difficulty"]).tolist(), "c": np.asarray(guessing).tolist()}  # fmt: skip


def _rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(x) - np.asarray(y)) ** 2)))


def _cells(row: dict[str, Any]) -> list[str]:
    def number(key: str, fmt: str) -> str:
        value = row.get(key)
        return "" if value is None else format(value, fmt)

    converged = row.get("converged")
    note = row.get("note", "")
    if "iterations" in row:
        note = f"{row['iterations']} iterations" + ("" if converged in (None, True) else ", not converged")
    if row.get("em_s") is not None and row["size"] in LARGE:
        note += f"; EM {row['em_s']:.1f} s, then log-likelihood + {row['se']} SEs + EAP {row['fit_s'] - row['em_s']:.1f} s"
    if "whole_note" in row:
        note += "; " + row["whole_note"]
    return [row["size"], row["model"], row["engine"], number("n_obs", ",.0f"), number("fit_s", ".1f"),
            number("cpu_s", ".1f"), number("whole_s", ".1f"),
            number("ratio", ".1f"),
            number("prep_s", ".1f"), number("peak_mb", ",.0f"), number("loglik", ",.1f"), number("gap", ".1f"),
            number("rmse_a", ".3f"), number("rmse_b", ".3f"), number("rmse_c", ".3f"), note]  # fmt: skip


HEADER = ["size", "model", "engine", "answers", "fit s", "fit CPU s", "whole s", "× ours (same objective)", "prep s", "peak MB", "log-likelihood", "gap",
          "RMSE a", "RMSE b", "RMSE c", "notes"]  # fmt: skip


def _print_table(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print("  ".join(_cells(row)), flush=True)


def _markdown(rows: list[dict[str, Any]], arguments: str) -> str:
    lines = [
        f"Command: `nice python bench/irt.py{' ' + arguments if arguments else ''}`",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
