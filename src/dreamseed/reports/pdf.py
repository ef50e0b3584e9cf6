"""PDF rendering with Typst (the ``typst`` PyPI package): one template, data in a file next to it.

A `PdfRenderer` loads fonts and the template once and reuses one ``typst.Compiler`` for every
report. The report's data goes to ``data.json`` in the compiler's private directory rather than
through ``sys_inputs``: inputs are part of typst's standard library, so new inputs rebuild the
library (about 1 ms) and invalidate every cached result that touched it; a file leaves the
library unchanged from report to report. Chart labels are set by typst over the chart's shapes
(`charts.split_labels`) instead of as SVG text. Together about 1.3× fewer CPU seconds per PDF
(docs/BENCHMARKS.md, Reports). Text is set in Noto Sans KR (SIL OFL 1.1), which the PyPI package
``pylopdf-fonts-ko`` installs with the product, so every machine renders the same PDF whatever
fonts it has. A Hangul family found in ``font_dirs`` (the ``REPORT_FONT_DIR`` setting) is preferred
over it; system fonts serve only as fallbacks for glyphs the chosen font lacks.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
import multiprocessing.util
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typst

from dreamseed.reports import charts
from dreamseed.reports.view import ReportView

PDF_TEMPLATE = "weekly_report.typ"
DATA_FILE = "data.json"
"""The file the template reads its data from, in the compiler's directory."""
CHART_SECTIONS = ("theta", "items", "daily")
BUNDLED_FONT_PACKAGE = "pylopdf_fonts_ko"
BUNDLED_FAMILY = "Noto Sans KR"
"""The family the bundled font files hold (Korean, Latin, Greek and the symbols the reports use)."""
HANGUL_FAMILIES: tuple[str, ...] = (
    "NanumGothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "Noto Serif CJK KR",
    "Noto Serif KR",
    "NanumMyeongjo",
    "UnDotum",
    "Baekmuk Gulim",
)
"""Hangul-capable families looked for in ``font_dirs``, in order of preference (case-insensitive)."""
_typst_threads_pid: int | None = None
"""The process whose typst compile started typst's worker threads (they do not survive ``fork``)."""


class MissingHangulFontError(RuntimeError):
    """The bundled Hangul font is not installed, so a Korean PDF cannot be rendered."""


class ForkedAfterTypstError(RuntimeError):
    """Typst ran in a parent process before ``fork``; compiling in the child would hang."""


def check_not_forked_after_typst() -> None:
    """Raise `ForkedAfterTypstError` in a process forked after typst compiled in its parent.

    typst's compiler starts a thread pool on the first compile; a child made with ``fork``
    inherits the pool without its threads and would wait forever on its first compile.
    """
    global _typst_threads_pid
    if _typst_threads_pid is None:
        _typst_threads_pid = os.getpid()
    elif _typst_threads_pid != os.getpid():
        raise ForkedAfterTypstError(
            "typst already compiled in the parent process before this process was forked, and its "
            "threads do not survive fork. Use multiprocessing.get_context('spawn') or 'forkserver' "
            "for the worker pool, or render nothing in the parent before forking."
        )


@dataclass(frozen=True)
class FontChoice:
    """The font family reports are set in, and where it came from ("bundled" or a font directory)."""

    family: str | None
    source: str

    @property
    def hangul(self) -> str | None:
        """The Hangul-capable family (every family chosen covers Hangul)."""
        return self.family

    def families(self) -> list[str]:
        """The families to set text in; raises `MissingHangulFontError` when no font was found."""
        if self.family is None:
            raise MissingHangulFontError(
                f"the bundled report font ({BUNDLED_FAMILY}, from the PyPI package "
                f"{BUNDLED_FONT_PACKAGE.replace('_', '-')}) is not installed and no Hangul font was found "
                "in REPORT_FONT_DIR. Reinstall the product (pip install -e .) or point REPORT_FONT_DIR to a "
                "directory holding a Hangul font such as NanumGothic.ttf."
            )
        return [self.family]


def bundled_font_dirs() -> tuple[str, ...]:
    """The directory of the bundled Noto Sans KR files, or nothing when the package is missing."""
    try:
        directory = importlib.resources.files(BUNDLED_FONT_PACKAGE)
    except ModuleNotFoundError:
        return ()
    return (str(directory),)


def first_available(preferred: Iterable[str], available: Iterable[str]) -> str | None:
    """The first of ``preferred`` present in ``available`` (case-insensitive), in its available spelling."""
    by_lower = {family.lower(): family for family in available}
    return next((by_lower[name.lower()] for name in preferred if name.lower() in by_lower), None)


def font_choice(font_dirs: Sequence[str]) -> FontChoice:
    """A Hangul family from ``font_dirs`` if there is one, else the bundled Noto Sans KR."""
    if font_dirs:
        own = typst.Fonts(include_system_fonts=False, font_paths=list(font_dirs)).families()
        family = first_available((*HANGUL_FAMILIES, BUNDLED_FAMILY), own)
        if family is not None:
            return FontChoice(family, ", ".join(font_dirs))
    bundled = bundled_font_dirs()
    if not bundled:
        return FontChoice(None, "")
    families = typst.Fonts(include_system_fonts=False, font_paths=list(bundled)).families()
    return FontChoice(first_available([BUNDLED_FAMILY], families), "bundled")


def pdf_template_source() -> bytes:
    """The Typst template's source bytes (read from the installed package)."""
    return importlib.resources.files("dreamseed.reports").joinpath("templates", PDF_TEMPLATE).read_bytes()


def typst_chart(chart: dict[str, Any] | None) -> dict[str, Any] | None:
    """A view's chart as the template draws it: SVG shapes without text, the labels apart."""
    if chart is None:
        return None
    svg, labels = charts.split_labels(chart["svg"])
    return {
        **chart,
        "svg": svg,
        "labels": labels,
        "width": charts.WIDTH,
        "height": charts.HEIGHT,
        "font_size": charts.FONT_SIZE,
    }


def view_json(view: ReportView, fonts: Sequence[str]) -> str:
    """The view as the JSON document the Typst template reads (``data.json``)."""
    document = dataclasses.asdict(view)
    document["labels"] = dict(view.labels)
    document["fonts"] = list(fonts)
    for section in CHART_SECTIONS:
        document[section]["chart"] = typst_chart(document[section]["chart"])
    return json.dumps(document, ensure_ascii=False)


@dataclass(frozen=True)
class TypstSetup:
    """What every compile reuses: the compiler (fonts loaded, the template as its main file in a
    private directory), the fonts found, and a lock (one report at a time in that directory)."""

    compiler: typst.Compiler
    fonts: FontChoice
    directory: Path
    main_file: Path
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def compile(self, data: str) -> bytes:
        """The PDF of the template for ``data`` (the JSON document of `view_json`)."""
        with self.lock:
            (self.directory / DATA_FILE).write_text(data, encoding="utf-8")
            # the main file named every time: a compile given other input keeps it as main
            pdf = self.compiler.compile(input=str(self.main_file), format="pdf")
        assert isinstance(pdf, bytes)
        return pdf


@functools.lru_cache(maxsize=4)
def typst_setup(font_dirs: tuple[str, ...], include_system_fonts: bool, pid: int) -> TypstSetup:
    """Process ``pid``'s `TypstSetup` for these font settings (fonts are scanned once per process;
    a process forked after its parent loaded one gets its own, so two never share a data file;
    the directory is removed when the process exits, a pool's worker process included; one
    killed with SIGKILL leaves it behind)."""
    directory = Path(tempfile.mkdtemp(prefix="dreamseed-typst-"))
    # multiprocessing's exit function runs this in the main process (atexit) and in its children,
    # which end with os._exit and so skip atexit
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(directory,), kwargs={"ignore_errors": True}, exitpriority=10
    )
    main_file = directory / PDF_TEMPLATE
    main_file.write_bytes(pdf_template_source())
    return TypstSetup(
        compiler=typst.Compiler(
            input=str(main_file),
            root=str(directory),
            font_paths=[*font_dirs, *bundled_font_dirs()],
            ignore_system_fonts=not include_system_fonts,
        ),
        fonts=font_choice(font_dirs),
        directory=directory,
        main_file=main_file,
    )


class PdfRenderer:
    """Renders report PDFs; fonts and the template load once per process, on first use.

    Picklable (only the font settings travel); all renderers with the same settings in one
    process share one typst compiler.
    """

    def __init__(self, font_dirs: Iterable[str | Path] = (), include_system_fonts: bool = True) -> None:
        self.font_dirs = tuple(str(path) for path in font_dirs)
        self.include_system_fonts = include_system_fonts

    def setup(self) -> TypstSetup:
        """The shared compiler, fonts and template for this renderer's font settings."""
        return typst_setup(self.font_dirs, self.include_system_fonts, os.getpid())

    def fonts(self) -> FontChoice:
        """The font families this renderer found."""
        return self.setup().fonts

    def pdf_from_view(self, view: ReportView) -> bytes:
        """The PDF document for an already built `ReportView`."""
        check_not_forked_after_typst()
        setup = self.setup()
        return setup.compile(view_json(view, setup.fonts.families()))
