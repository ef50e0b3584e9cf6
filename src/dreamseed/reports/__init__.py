"""Weekly report rendering (pure core): `ReportData` in, an HTML string and PDF bytes out.

No database, network, clock or environment access: the generation time, language and font
directories are passed in. Storage of the rendered files is the job's business.
"""

from dreamseed.reports.data import Goal, Kpis, Lang, ReportData, ThetaPoint, TopicRow
from dreamseed.reports.pdf import FontChoice, ForkedAfterTypstError, MissingHangulFontError
from dreamseed.reports.recommend import Recommendation
from dreamseed.reports.render import RenderedReport, ReportRenderer, render_html, render_pdf
from dreamseed.reports.sample import sample_report_data

__all__ = [
    "FontChoice",
    "ForkedAfterTypstError",
    "Goal",
    "Kpis",
    "Lang",
    "MissingHangulFontError",
    "Recommendation",
    "RenderedReport",
    "ReportData",
    "ReportRenderer",
    "ThetaPoint",
    "TopicRow",
    "render_html",
    "render_pdf",
    "sample_report_data",
]
