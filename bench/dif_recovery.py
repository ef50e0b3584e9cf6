"""DIF recovery on synthetic data with planted DIF: power and false-positive rate per method.

    nice python bench/dif_recovery.py                         # 50 replications, all methods
    nice python bench/dif_recovery.py --reps 10 --methods mh,lr
    nice python bench/dif_recovery.py --against-pymirt   # mirt's dif1 data: ours vs PyPI mirt's dif()

Each replication draws a 2PL item bank (``--items`` items, a ~ U(0.8, 2.0), b ~ N(0, 1)), a
reference group N(0, 1) and a focal group N(−0.5, 1.2²) of ``--n`` users each, and plants DIF
in four items: b + 0.6 and b − 0.6 in the focal group (uniform DIF), and a × 0.5 and a × 1.8 with
b unchanged (non-uniform). Methods, all at Benjamini–Hochberg adjusted p < ``--alpha``:

- ``lr``: likelihood ratio, all other items as anchors (``dif_lr.lr_dif``, scheme ``drop``,
  (a, d) on 2 df);
- ``lr-purified``: the same with the iteratively purified anchor set (``purified_lr_dif``);
- ``mh``: Mantel–Haenszel on the total score (``dif_mh.mantel_haenszel``; flagged by its adjusted
  p; the ETS C share is printed too).

Power: the share of planted (item, replication) pairs flagged, also split into uniform and
non-uniform; false-positive rate: the share of clean pairs flagged. Time: seconds per
replication and, as the machine is shared, its ratio to one single-group ``calibrate`` of the
same data measured in the same replication.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

from dreamseed.irt import Responses, calibrate, mirt_grid
from dreamseed.irt.dif_lr import lr_dif, purified_lr_dif
from dreamseed.irt.dif_mh import mantel_haenszel

PLANTED = {"uniform": (0, 1), "non-uniform": (2, 3)}


def replicate(seed: int, n_items: int, n: int) -> tuple[Responses, np.ndarray]:
    """One data set: (N = 2n users × n_items) answers and the group labels ("ref"/"foc")."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.8, 2.0, n_items), rng.normal(0, 1, n_items)
    a_focal, b_focal = a.copy(), b.copy()
    b_focal[0] += 0.6
    b_focal[1] -= 0.6
    a_focal[2] *= 0.5
    a_focal[3] *= 1.8
    theta = np.concatenate([rng.normal(0, 1, n), rng.normal(-0.5, 1.2, n)])
    focal = np.arange(2 * n) >= n
    slopes = np.where(focal[:, None], a_focal, a)
    difficulties = np.where(focal[:, None], b_focal, b)
    answers = rng.random((2 * n, n_items)) < 1 / (1 + np.exp(-slopes * (theta[:, None] - difficulties)))
    ids = [f"i{k}" for k in range(n_items)]
    return Responses.from_matrix(answers.astype(float), item_ids=ids), np.where(focal, "foc", "ref")


def flags(
    method: str, responses: Responses, groups: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Flagged mask (J,) and, for MH, the ETS-C mask (else all False)."""
    if method == "mh":
        mh = mantel_haenszel(responses, groups, reference="ref", focal="foc", alpha=alpha)
        return mh.flagged, mh.ets_class == "C"
    run = purified_lr_dif if method == "lr-purified" else lr_dif
    lr = run(responses, groups, "2PL", reference="ref", alpha=alpha)
    return lr.flagged, np.zeros(responses.n_items, dtype=bool)


def against_pymirt() -> None:
    """The LR drop scheme on mirt's dif1 data (tests/irt/data/mirt_dif1.csv): ours and PyPI mirt's
    ``dif(..., scheme='drop', n_quadpts=61)``, statistics and seconds in the same run."""
    from pathlib import Path

    import mirt  # PyPI mirt (Rust backend)

    data = Path(__file__).parents[1] / "tests" / "irt" / "data" / "mirt_dif1.csv"
    rows = [line.split(",") for line in data.read_text().split()[1:]]
    groups = np.array([row[0] for row in rows])
    matrix = np.array([[int(ch) for ch in row[1]] for row in rows])
    began = time.perf_counter()
    theirs = mirt.dif(matrix, groups, "2PL", method="likelihood_ratio", scheme="drop", n_quadpts=61)
    their_seconds = time.perf_counter() - began
    began = time.perf_counter()
    ours = lr_dif(Responses.from_matrix(matrix.astype(float)), groups, "2PL")
    our_seconds = time.perf_counter() - began
    print("| item | X2 ours | X2 PyPI mirt |\n|---|---|---|")
    for k, (a, b) in enumerate(zip(ours.statistic, theirs["statistic"].to_numpy(), strict=True)):
        print(f"| {k + 1} | {a:.6f} | {b:.6f} |")
    print(f"\nours {our_seconds:.1f} s, PyPI mirt {their_seconds:.1f} s: {their_seconds / our_seconds:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--items", type=int, default=15)
    parser.add_argument("--n", type=int, default=750, help="users per group")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--methods", default="mh,lr,lr-purified")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--against-pymirt", action="store_true", help="only the PyPI mirt comparison")
    args = parser.parse_args()
    if args.against_pymirt:
        against_pymirt()
        return
    methods = args.methods.split(",")
    hits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, list[float]] = defaultdict(list)
    clean = np.ones(args.items, dtype=bool)
    clean[[i for pair in PLANTED.values() for i in pair]] = False
    for rep in range(args.reps):
        responses, groups = replicate(args.seed + rep, args.items, args.n)
        began = time.perf_counter()
        calibrate(responses, "2PL", quadrature=mirt_grid(), standard_errors=False)
        seconds["calibrate"].append(time.perf_counter() - began)
        for method in methods:
            began = time.perf_counter()
            flagged, large = flags(method, responses, groups, args.alpha)
            seconds[method].append(time.perf_counter() - began)
            for kind, items in PLANTED.items():
                hits[method][kind].extend(flagged[list(items)].tolist())
            hits[method]["clean"].extend(flagged[clean].tolist())
            hits[method]["ets_c_planted"].extend(large[~clean].tolist())
        print(f"replication {rep + 1}/{args.reps} done", flush=True)
    print(
        f"\n{args.reps} replications, {args.items} items, {args.n} + {args.n} users, 4 planted DIF items, "
        f"BH alpha {args.alpha}\n"
    )
    print(
        "| method | power (all planted) | uniform | non-uniform | false-positive rate | s / rep | × calibrate |"
    )
    print("|---|---|---|---|---|---|---|")
    base = float(np.mean(seconds["calibrate"]))
    for method in methods:
        h = hits[method]
        power = np.mean(h["uniform"] + h["non-uniform"])
        print(
            f"| {method} | {power:.3f} | {np.mean(h['uniform']):.3f} | {np.mean(h['non-uniform']):.3f} | "
            f"{np.mean(h['clean']):.4f} ({int(np.sum(h['clean']))}/{len(h['clean'])}) | "
            f"{np.mean(seconds[method]):.2f} | {np.mean(seconds[method]) / base:.1f} |"
        )
        if method == "mh":
            print(f"|   mh: planted items in ETS class C | {np.mean(h['ets_c_planted']):.3f} | | | | | |")
    print(f"\nsingle-group 2PL calibrate: {base:.3f} s per replication (the baseline of the last column)")


if __name__ == "__main__":
    main()
