"""PDF rendering with Typst (the ``typst`` PyPI package): one template, data through ``sys_inputs``.

A `PdfRenderer` loads fonts and the template once and reuses one ``typst.Compiler`` for every
report (about 10 ms per report). Fonts come from the standard system font directories (typst's own
discovery: /usr/share/fonts, /usr/local/share/fonts, ~/.local/share/fonts …) plus ``font_dirs``.
Korean needs a Hangul font; Debian package ``fonts-nanum`` provides NanumGothic.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import typst

from dreamseed.reports.data import Lang
from dreamseed.reports.view import ReportView

PDF_TEMPLATE = "weekly_report.typ"
HANGUL_FAMILIES: tuple[str, ...] = (
    "NanumGothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "Noto Serif CJK KR",
    "NanumMyeongjo",
    "UnDotum",
    "Baekmuk Gulim",
)
"""Hangul-capable families, in order of preference (matched case-insensitively)."""
LATIN_FAMILIES: tuple[str, ...] = ("DejaVu Sans", "Liberation Sans", "Noto Sans", "Libertinus Serif")
"""Latin text families for English reports; Libertinus Serif is embedded in typst itself."""
HANGUL_FONT_PACKAGE = "fonts-nanum"
_typst_threads_pid: int | None = None
"""The process whose typst compile started typst's worker threads (they do not survive ``fork``)."""


class MissingHangulFontError(RuntimeError):
    """No Hangul-capable font was found, so a Korean PDF cannot be rendered."""


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
    """The font families a report uses: a Hangul-capable one (if any) and a Latin one."""

    hangul: str | None
    latin: str | None

    def families_for(self, lang: Lang, searched: Sequence[str]) -> list[str]:
        """Font fallback list for ``lang``; raises `MissingHangulFontError` for "ko" without Hangul."""
        if lang == "ko" and self.hangul is None:
            raise MissingHangulFontError(
                f"No Hangul-capable font found (looked for {', '.join(HANGUL_FAMILIES)}) in the system "
                f"font directories and {list(searched) or 'no extra font directories'}. Install the Debian "
                f"package {HANGUL_FONT_PACKAGE} (apt-get install {HANGUL_FONT_PACKAGE}) or pass a directory "
                "holding NanumGothic.ttf as font_dirs."
            )
        ordered = [self.hangul, self.latin] if lang == "ko" else [self.latin, self.hangul]
        return [family for family in ordered if family is not None] or [LATIN_FAMILIES[-1]]


def first_available(preferred: Iterable[str], available: Iterable[str]) -> str | None:
    """The first of ``preferred`` present in ``available`` (case-insensitive), in its available spelling."""
    by_lower = {family.lower(): family for family in available}
    return next((by_lower[name.lower()] for name in preferred if name.lower() in by_lower), None)


def font_choice(font_dirs: Sequence[str], include_system_fonts: bool = True) -> FontChoice:
    """The Hangul and Latin families typst can find in the system directories and ``font_dirs``."""
    families = typst.Fonts(include_system_fonts=include_system_fonts, font_paths=list(font_dirs)).families()
    return FontChoice(first_available(HANGUL_FAMILIES, families), first_available(LATIN_FAMILIES, families))


def pdf_template_source() -> bytes:
    """The Typst template's source bytes (read from the installed package)."""
    return importlib.resources.files("dreamseed.reports").joinpath("templates", PDF_TEMPLATE).read_bytes()


def view_json(view: ReportView, fonts: Sequence[str]) -> str:
    """The view as the JSON document the Typst template reads (``sys.inputs.data``)."""
    document = dataclasses.asdict(view)
    document["labels"] = dict(view.labels)
    document["fonts"] = list(fonts)
    return json.dumps(document, ensure_ascii=False)


@dataclass(frozen=True)
class TypstSetup:
    """What every compile reuses: the compiler (fonts loaded), the fonts found, the template."""

    compiler: typst.Compiler
    fonts: FontChoice
    template: bytes


@functools.lru_cache(maxsize=4)
def typst_setup(font_dirs: tuple[str, ...], include_system_fonts: bool) -> TypstSetup:
    """The process-wide `TypstSetup` for these font settings (fonts are scanned once per process)."""
    return TypstSetup(
        compiler=typst.Compiler(font_paths=list(font_dirs), ignore_system_fonts=not include_system_fonts),
        fonts=font_choice(font_dirs, include_system_fonts),
        template=pdf_template_source(),
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
        return typst_setup(self.font_dirs, self.include_system_fonts)

    def fonts(self) -> FontChoice:
        """The font families this renderer found."""
        return self.setup().fonts

    def pdf_from_view(self, view: ReportView) -> bytes:
        """The PDF document for an already built `ReportView`."""
        check_not_forked_after_typst()
        setup = self.setup()
        families = setup.fonts.families_for(view.lang, self.font_dirs)
        data = view_json(view, families)
        pdf = setup.compiler.compile(input=setup.template, format="pdf", sys_inputs={"data": data})
        assert isinstance(pdf, bytes)
        return pdf
