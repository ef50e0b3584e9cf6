"""Golden-content checks on the HTML report, through the public render functions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from dreamseed.reports import Goal, Kpis, ReportData, render_html, sample_report_data
from dreamseed.reports.i18n import EN, KO

SECTION_HEADINGS = (
    "section_kpis",
    "section_theta",
    "section_items",
    "section_topics",
    "section_daily",
    "section_goal",
    "section_churn",
    "section_recs",
    "section_about",
)


class Collector(HTMLParser):
    """Collects tags with attributes, h2 texts and the <title> text of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.h2: list[str] = []
        self.stack: list[str] = []
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "h2":
            self.h2.append(data.strip())
        if self.stack and self.stack[-1] == "title" and "svg" not in self.stack:
            self.title += data


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def kpi_row(html: str, key: str) -> str:
    """The <tr> of one KPI in the KPI table."""
    match = re.search(rf'<tr id="kpi-{key}">.*?</tr>', html, re.S)
    assert match is not None
    return match.group(0)


def with_kpis(data: ReportData, **values: float | None) -> ReportData:
    return dataclasses.replace(data, kpis=dataclasses.replace(data.kpis, **values))


@pytest.mark.parametrize(("lang", "labels"), [("en", EN), ("ko", KO)])
def test_every_section_has_its_heading(lang: str, labels: dict[str, str]) -> None:
    html = render_html(sample_report_data(seed=1, lang=lang))  # type: ignore[arg-type]
    headings = parse(html).h2
    assert headings == [labels[key] for key in SECTION_HEADINGS]


def test_document_basics_student_week_and_title() -> None:
    data = sample_report_data("stu-42", seed=2, lang="en", display_name="Kim <Min>")
    html = render_html(data)
    doc = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert "stu-42" in doc.title
    assert "2025-03-03" in doc.title
    assert "Kim &lt;Min&gt; (stu-42)" in html  # autoescaped
    assert "2025-03-03 – 2025-03-09" in html
    assert "2025-03-10 04:00" in html  # generated_at passed in, not the clock
    assert '<meta name="viewport"' in html
    assert "@media print" in html


def test_kpis_are_formatted_with_three_decimals_and_na_when_missing() -> None:
    data = sample_report_data(seed=3, lang="en")
    data = dataclasses.replace(
        data,
        kpis=Kpis(I_t=0.0523, E_t=0.4, R_t=None, A_t=float("nan"), P=0.61789, S=0.2),
        previous_kpis=Kpis(I_t=0.0023, E_t=None),
    )
    html = render_html(data)
    assert ">+0.052<" in kpi_row(html, "I_t")
    assert ">+0.050<" in kpi_row(html, "I_t")
    assert ">0.400<" in kpi_row(html, "E_t")
    assert ">N/A<" in kpi_row(html, "E_t")
    assert "N/A" in kpi_row(html, "R_t")
    assert "N/A" in kpi_row(html, "A_t")
    assert ">0.618<" in kpi_row(html, "P")
    assert ">0.200<" in kpi_row(html, "S")
    for key, name in [
        ("I_t", "Improvement"),
        ("E_t", "Efficiency"),
        ("R_t", "Recovery"),
        ("A_t", "Engagement"),
        ("P", "Goal probability"),
        ("S", "Churn risk"),
    ]:
        assert name in kpi_row(html, key)


def test_korean_labels_with_lang_ko() -> None:
    html = render_html(sample_report_data(seed=4, lang="ko"))
    assert '<html lang="ko">' in html
    for label in (
        "향상도",
        "풀이 효율",
        "오답 회복률",
        "학습 참여도",
        "목표 달성 확률",
        "이탈 위험도",
        "주간 학습 리포트",
    ):
        assert label in html
    assert "Improvement" not in html


def test_theta_section_states_current_theta_percentile_and_level() -> None:
    data = sample_report_data(seed=5, lang="en", theta=1.2, theta_se=0.25)
    html = render_html(data)
    assert "θ = +1.20 ± 0.25" in html
    assert ">88.5<" in html  # Φ(1.2)·100 = 88.49
    assert ">Advanced<" in html  # 1.0 ≤ θ < 1.5


@pytest.mark.parametrize(
    ("risk", "band"),
    [(0.0, "low"), (0.29999, "low"), (0.3, "medium"), (0.69999, "medium"), (0.7, "high"), (1.0, "high")],
)
def test_churn_band_thresholds(risk: float, band: str) -> None:
    html = render_html(with_kpis(sample_report_data(seed=6, lang="en"), S=risk))
    assert f'class="band band-{band}"' in html


def test_churn_band_unknown_when_risk_missing() -> None:
    html = render_html(with_kpis(sample_report_data(seed=6, lang="en"), S=None))
    assert 'class="band band-unknown"' in html


def test_inactivity_notice_only_when_inactive() -> None:
    active = sample_report_data(seed=7, lang="en")
    inactive = dataclasses.replace(active, inactive_since=dt.date(2025, 2, 20), days_inactive=18)
    assert "inactivity-notice" not in render_html(active)
    html = render_html(inactive)
    assert "inactivity-notice" in html
    assert "No study activity since 2025-02-20 (18 days)" in html
    assert EN["rec_come_back"] in html


@pytest.mark.parametrize("risk", [0.7, 0.85, 1.0])
def test_no_great_progress_when_churn_risk_is_high(risk: float) -> None:
    data = with_kpis(sample_report_data(seed=8, lang="en"), S=risk, I_t=0.9)
    html = render_html(data)
    assert EN["rec_great_progress"] not in html
    assert EN["rec_come_back"] in html


def test_great_progress_for_a_growing_low_risk_student() -> None:
    data = with_kpis(sample_report_data(seed=8, lang="en"), S=0.1, I_t=0.3, E_t=0.9, R_t=0.9, A_t=0.9, P=0.9)
    data = dataclasses.replace(data, topics=(), goal=None)
    assert EN["rec_great_progress"] in render_html(data)


def test_two_to_four_recommendations() -> None:
    for seed in range(10):
        html = render_html(sample_report_data(seed=seed, lang="en"))
        section = html[html.index('id="recommendations"') :]
        count = section[: section.index("</ol>")].count("<li>")
        assert 2 <= count <= 4


def test_goal_section_shows_goal_or_prompt() -> None:
    data = sample_report_data(seed=9, lang="en", goal=Goal("algebra", 1.0, dt.date(2025, 5, 1), 0.42))
    html = render_html(data)
    assert "algebra" in html
    assert "2025-05-01" in html
    assert ">42%<" in html
    assert ">+1.00<" in html
    assert EN["no_goal"] in render_html(dataclasses.replace(data, goal=None))


def test_daily_attempts_table_and_total() -> None:
    html = render_html(sample_report_data(seed=10, lang="en", daily_attempts=(1, 0, 3, 0, 5, 0, 2)))
    assert '<td class="num">11</td>' in html
    assert "Mon 1, Tue 0, Wed 3, Thu 0, Fri 5, Sat 0, Sun 2; 11 in total." in html


def test_no_external_urls_scripts_or_stylesheets() -> None:
    html = render_html(sample_report_data(seed=11, lang="ko"))
    doc = parse(html)
    for _tag, attrs in doc.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"(?i)(https?:)?//", value), value
    assert not any(tag in ("script", "link", "iframe", "img") for tag, _ in doc.tags)
    assert "url(" not in html
    assert "@import" not in html


def test_every_svg_has_an_accessible_title_and_description() -> None:
    html = render_html(sample_report_data(seed=12, lang="en"))
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert 'role="img"' in svg
        labelled = re.search(r'aria-labelledby="([^"]+)"', svg)
        assert labelled is not None
        for ident in labelled.group(1).split():
            assert re.search(rf'<(title|desc) id="{ident}">[^<]+</\1>', svg)


def test_missing_data_renders_empty_states() -> None:
    data = ReportData(
        user_id="u-empty", week_start=dt.date(2025, 3, 3), generated_at=dt.datetime(2025, 3, 10, 4)
    )
    html = render_html(dataclasses.replace(data, lang="en"))
    for key in ("no_history", "no_items", "no_topics", "no_goal", "growth_unknown"):
        assert EN[key] in html
    assert html.count(">N/A<") >= 6
