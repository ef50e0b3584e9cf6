"""HTML rendering: one self-contained file (inline CSS and SVG, no scripts, no external requests)."""

from __future__ import annotations

import functools

import jinja2

from dreamseed.reports.view import ReportView

HTML_TEMPLATE = "weekly_report.html.j2"


@functools.lru_cache(maxsize=1)
def html_template() -> jinja2.Template:
    """The compiled report template (compiled once per process; autoescape on)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dreamseed.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    return environment.get_template(HTML_TEMPLATE)


def html_from_view(view: ReportView) -> str:
    """The HTML document for an already built `ReportView`."""
    return html_template().render(view=view, t=view.labels)
