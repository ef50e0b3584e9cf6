"""CPU per report PDF of template and font variants against the current template, same process.

    python -m bench.reports_variants [--students 300] [--rounds 30] VARIANT [VARIANT ...]

Variants: ``current`` (the product's template and bundled font), ``no-SECTION`` (the current
template without one section: kpis, theta, items, topics, daily, goal, churn, recs, about),
``no-footer-count`` (the footer without the page count), ``file:PATH`` (a template file of your
own, reading data.json like the product's) and ``font:DIR`` (the current template with the fonts
of DIR instead of the bundled ones). The first variant is the baseline. The reports
(`sample_report_data`, Korean and English alternating) are cut into --rounds blocks; each block is
compiled by every variant, in reversed order every other block, and the figure printed is the
median of the per-block CPU ratios against the baseline with its interquartile range (robust to
load that changes from block to block on a shared machine), next to the mean CPU per PDF.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import typst

from dreamseed.reports import sample_report_data
from dreamseed.reports.pdf import DATA_FILE, PDF_TEMPLATE, bundled_font_dirs, pdf_template_source, view_json
from dreamseed.reports.view import ReportView, report_view

FOOTER_COUNT = '#counter(page).display("1 / 1", both: true)'


def without_section(source: str, section: str) -> str:
    """The template without the section headed ``== #t.section_{section}`` (up to the next one)."""
    start = source.index(f"== #t.section_{section}")
    following = source.find("\n== #t.section_", start + 1)
    return source[:start] + (source[following + 1 :] if following >= 0 else "")


def variant_source(name: str) -> tuple[str, list[str]]:
    """(template source, font directories) of a variant."""
    current = pdf_template_source().decode()
    fonts = list(bundled_font_dirs())
    if name == "current":
        return current, fonts
    if name == "no-footer-count":
        return current.replace(FOOTER_COUNT, ""), fonts
    if name.startswith("no-"):
        return without_section(current, name.removeprefix("no-")), fonts
    if name.startswith("file:"):
        return Path(name.removeprefix("file:")).read_text(encoding="utf-8"), fonts
    if name.startswith("font:"):
        return current, [name.removeprefix("font:")]
    raise SystemExit(f"unknown variant {name!r}")


class Variant:
    """One template and font set with its own compiler and directory."""

    def __init__(self, name: str) -> None:
        self.name = name
        source, fonts = variant_source(name)
        self.directory = Path(tempfile.mkdtemp(prefix="dreamseed-variant-"))
        self.main_file = self.directory / PDF_TEMPLATE
        self.main_file.write_text(source, encoding="utf-8")
        self.compiler = typst.Compiler(input=str(self.main_file), root=str(self.directory), font_paths=fonts)

    def pdf(self, view: ReportView) -> bytes:
        (self.directory / DATA_FILE).write_text(view_json(view, ["Noto Sans KR"]), encoding="utf-8")
        pdf = self.compiler.compile(input=str(self.main_file), format="pdf")
        assert isinstance(pdf, bytes)
        return pdf


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    views = [
        report_view(sample_report_data(f"student-{i:06d}", seed=i, lang="ko" if i % 2 else "en"))
        for i in range(args.students)
    ]
    variants = [Variant(name) for name in args.variants]
    for variant in variants:
        variant.pdf(views[0])  # fonts and template loaded, caches warm
    cpu = dict.fromkeys(args.variants, 0.0)
    ratios: dict[str, list[float]] = {name: [] for name in args.variants}
    size = max(1, args.students // args.rounds)
    for block, start in enumerate(range(0, args.students, size)):
        spent = {}
        for variant in variants if block % 2 == 0 else variants[::-1]:
            started = time.process_time()
            for view in views[start : start + size]:
                variant.pdf(view)
            spent[variant.name] = time.process_time() - started
            cpu[variant.name] += spent[variant.name]
        for name in args.variants:
            ratios[name].append(spent[name] / spent[args.variants[0]])
    for name in args.variants:
        values = sorted(ratios[name])
        low, high = values[len(values) // 4], values[(3 * len(values)) // 4]
        print(
            f"{name:28s} {1000 * cpu[name] / args.students:6.2f} ms CPU per PDF; vs {args.variants[0]}: "
            f"median {statistics.median(values):.3f}× (IQR {low:.3f}–{high:.3f})"
        )


if __name__ == "__main__":
    main()
