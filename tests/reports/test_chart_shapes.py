"""A chart's SVG read back as the paths the PDF template draws (`chart_shapes.chart_paths`)."""

from __future__ import annotations

import pytest

from dreamseed.reports import charts
from dreamseed.reports.chart_shapes import CIRCLE_KAPPA, ChartPath, chart_paths
from dreamseed.reports.data import DAYS_PER_WEEK


def test_lines_rects_and_polylines_keep_their_coordinates_and_paint() -> None:
    svg = (
        '<svg><rect width="640" height="240" fill="#ffffff"/>'
        '<line x1="48" x2="626" y1="208.0" y2="208.0" stroke="#dddddd"/>'
        '<text x="42.0" y="212.0" text-anchor="end" fill="#555555">0</text>'
        '<line x1="48" x2="626" y1="144.7" y2="144.7" stroke="#dddddd"/>'
        '<rect x="48.5" y="200.0" width="18.3" height="0.0" fill="#4a6fa5"/>'
        '<rect x="67.8" y="197.5" width="18.3" height="2.5" fill="#4a6fa5"/>'
        '<polygon points="58.0,74.7 137.7,87.0 137.7,140.2" fill="#1f4e99" fill-opacity="0.18" stroke="none"/>'
        '<polyline points="58.0,103.2 137.7,113.6" fill="none" stroke="#1f4e99" stroke-width="2.5"/>'
        '<line x1="1" x2="1" y1="2" y2="9" stroke="#1f4e99" stroke-width="3" stroke-opacity="0.35"/></svg>'
    )
    assert chart_paths(svg) == [
        # the two grid lines are one path (same paint, one after the other; the label is not a shape)
        ChartPath(
            None, "#ddddddff", 1.0, False, (((48.0, 208.0), (626.0, 208.0)), ((48.0, 144.7), (626.0, 144.7)))
        ),
        # the empty bar and the white background are left out
        ChartPath(
            "#4a6fa5ff", None, 1.0, True, (((67.8, 197.5), (86.1, 197.5), (86.1, 200.0), (67.8, 200.0)),)
        ),
        ChartPath("#1f4e992e", None, 1.0, True, (((58.0, 74.7), (137.7, 87.0), (137.7, 140.2)),)),
        ChartPath(None, "#1f4e99ff", 2.5, False, (((58.0, 103.2), (137.7, 113.6)),)),
        ChartPath(None, "#1f4e9959", 3.0, False, (((1.0, 2.0), (1.0, 9.0)),)),
    ]


def test_a_circle_is_four_cubic_curves_through_its_extreme_points() -> None:
    [dot] = chart_paths('<circle cx="10.0" cy="20.0" r="4" fill="#1f4e99"/>')
    [outline] = dot.subpaths
    assert dot.closed
    assert dot.fill == "#1f4e99ff"
    assert dot.stroke is None
    assert outline[0] == (14.0, 20.0)
    assert [segment[-2:] for segment in outline[1:]] == [
        (10.0, 24.0),
        (6.0, 20.0),
        (10.0, 16.0),
        (14.0, 20.0),
    ]
    assert outline[1][:2] == pytest.approx((14.0, 20.0 + 4 * CIRCLE_KAPPA))


def test_a_shape_between_two_of_one_paint_keeps_the_drawing_order() -> None:
    line = '<line x1="0" x2="1" y1="0" y2="0" stroke="#555555"/>'
    bar = '<rect x="0" y="0" width="1" height="1" fill="#1f4e99"/>'
    assert [path.stroke for path in chart_paths(line + bar + line)] == ["#555555ff", None, "#555555ff"]


def test_every_chart_the_reports_draw_becomes_paths() -> None:
    """The daily chart: seven bars in one path, then the axis; its labels are not shapes."""
    svg = charts.daily_attempts_svg([3, 0, 5, 1, 2, 0, 4], list("MTWTFSS"), "title", "desc")
    bars, axis = chart_paths(svg)
    assert len(bars.subpaths) == DAYS_PER_WEEK - 2  # the two zero days draw no bar
    assert axis == ChartPath(None, "#555555ff", 1.0, False, (((48.0, 208.0), (626.0, 208.0)),))


def test_a_filled_polyline_is_refused() -> None:
    with pytest.raises(ValueError, match="filled polyline"):
        chart_paths('<polyline points="0,0 1,1" fill="#000000"/>')
