"""Log-log plot of how the engine's fit time and memory grow with the answers (S → XL).

    python bench/irt_plot.py RUN.md docs/img/irt_growth.png

RUN.md is the Markdown table that ``bench/irt.py --engines dreamseed`` prints at its end; the
dreamseed rows give one point per size and model: fit wall seconds, fit CPU seconds and peak MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def rows(path: Path) -> list[dict[str, str]]:
    """The table's rows as dicts by header name."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def number(text: str) -> float:
    return float(text.replace(",", ""))


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    table = [r for r in rows(source) if r["engine"] == "dreamseed" and r["fit s"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for model, colour in (("2PL", "#1f77b4"), ("3PL", "#d62728")):
        points = sorted((number(r["answers"]), r) for r in table if r["model"] == model)
        if not points:
            continue
        answers = [p[0] for p in points]
        left.plot(answers, [number(p[1]["fit s"]) for p in points], "o-", color=colour, label=f"{model} wall")
        left.plot(answers, [number(p[1]["fit CPU s"]) for p in points], "s--", color=colour, alpha=0.6,
                  label=f"{model} CPU")  # fmt: skip
        right.plot(answers, [number(p[1]["peak MB"]) for p in points], "o-", color=colour, label=model)
        for value, row in points:
            right.annotate(row["size"], (value, number(row["peak MB"])), textcoords="offset points",
                           xytext=(4, -10), fontsize=8)  # fmt: skip
    reference = [8e4, 1e8]
    left.plot(reference, [1.0, 1.0 * reference[1] / reference[0]], ":", color="grey", label="∝ answers")
    for axis, label in ((left, "seconds (fit incl. SEs and EAP)"), (right, "peak resident memory, MB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("answers")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("dreamseed calibrate: S (8×10⁴) → XL (10⁸ answers), 2 shared cores")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)


if __name__ == "__main__":
    main()
