"""Rendering never raises for missing fields and odd values (NaN, ±inf, empty or one-point histories)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pypdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dreamseed.reports import Goal, Kpis, ReportData, ReportRenderer, ThetaPoint, TopicRow, render_html

odd_floats = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-5, 5),
    st.sampled_from([0.0, 0.3, 0.7, -0.0, 1e308, -1e308, 5e-324]),
)
days = st.dates(dt.date(2024, 12, 1), dt.date(2025, 4, 1))
counts = st.integers(-5, 10**9)
text = st.text(max_size=30)

kpis = st.builds(Kpis, odd_floats, odd_floats, odd_floats, odd_floats, odd_floats, odd_floats)
points = st.builds(ThetaPoint, days, st.floats(allow_nan=True, allow_infinity=True), odd_floats)
topics = st.builds(TopicRow, text, counts, counts, odd_floats, odd_floats, st.none() | text)
goals = st.none() | st.builds(Goal, st.none() | text, odd_floats, st.none() | days, odd_floats)
difficulties = st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=50).map(tuple)

report_data = st.builds(
    ReportData,
    user_id=text,
    week_start=st.just(dt.date(2025, 3, 3)),
    generated_at=st.datetimes(dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1)),
    lang=st.sampled_from(["ko", "en"]),
    display_name=st.none() | text,
    kpis=kpis,
    previous_kpis=st.none() | kpis,
    theta_history=st.lists(points, max_size=10).map(tuple),
    theta=odd_floats,
    theta_se=odd_floats,
    item_difficulties=difficulties,
    seen_item_difficulties=difficulties,
    topics=st.lists(topics, max_size=4).map(tuple),
    daily_attempts=st.lists(counts, min_size=7, max_size=7).map(tuple),
    goal=goals,
    inactive_since=st.none() | days,
    days_inactive=st.none() | st.integers(-3, 400),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_data)
def test_html_never_raises(data: ReportData) -> None:
    html = render_html(data)
    assert html.rstrip().endswith("</html>")
    numbers = re.findall(r'<td class="num">(?:<span class="na">)?([^<]*)<', html)
    assert not [n for n in numbers if "nan" in n.lower() or "inf" in n.lower()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_data)
def test_pdf_never_raises(data: ReportData) -> None:
    pdf = PDF_RENDERER.render_pdf(data)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 1


PDF_RENDERER = ReportRenderer()
