"""The batch-friendly entry point: one `ReportRenderer` per worker process, many reports.

Typical use in a job (one renderer per worker process; pools use the spawn or forkserver start method)::

    renderer = ReportRenderer(font_dirs=settings.report_font_dirs)
    for data in rows:
        report = renderer.render(data)   # RenderedReport(html=..., pdf=...)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dreamseed.reports.data import ReportData
from dreamseed.reports.html import html_from_view, html_template
from dreamseed.reports.pdf import FontChoice, PdfRenderer
from dreamseed.reports.view import report_view


@dataclass(frozen=True)
class RenderedReport:
    """One student's rendered report; a format not requested is ``None``."""

    html: str | None
    pdf: bytes | None


class ReportRenderer:
    """Renders weekly reports, reusing the compiled Jinja template and one Typst compiler.

    Create one per process (e.g. in a ``multiprocessing.Pool`` initializer, or pickle it to the
    workers: the compiler is rebuilt lazily on the other side). ``font_dirs`` are searched in
    addition to the standard system font directories.

    Pools: use the ``spawn`` or ``forkserver`` start method, or render nothing in the parent
    before forking: typst's threads do not survive ``fork``, so a PDF compile in a child forked
    after the parent compiled raises `ForkedAfterTypstError` (instead of hanging).
    """

    def __init__(self, font_dirs: Iterable[str | Path] = (), include_system_fonts: bool = True) -> None:
        self.pdf_renderer = PdfRenderer(font_dirs, include_system_fonts)

    def warm_up(self) -> FontChoice:
        """Load the template and fonts now (otherwise on the first report); returns the fonts found."""
        html_template()
        return self.pdf_renderer.fonts()

    def render(self, data: ReportData, html: bool = True, pdf: bool = True) -> RenderedReport:
        """The report for ``data`` in the requested formats (both by default)."""
        view = report_view(data)
        return RenderedReport(
            html=html_from_view(view) if html else None,
            pdf=self.pdf_renderer.pdf_from_view(view) if pdf else None,
        )

    def render_html(self, data: ReportData) -> str:
        """The report as one self-contained HTML document."""
        return html_from_view(report_view(data))

    def render_pdf(self, data: ReportData) -> bytes:
        """The report as PDF bytes."""
        return self.pdf_renderer.pdf_from_view(report_view(data))


def render_html(data: ReportData) -> str:
    """The weekly report for ``data`` as one self-contained HTML document."""
    return html_from_view(report_view(data))


def render_pdf(data: ReportData, font_dirs: Iterable[str | Path] = ()) -> bytes:
    """The weekly report for ``data`` as PDF bytes (fonts: system directories plus ``font_dirs``;
    the compiler and fonts are loaded once per process and font settings)."""
    return ReportRenderer(font_dirs).render_pdf(data)
