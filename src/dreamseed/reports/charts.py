"""Inline SVG charts (θ trend, item difficulty histogram, daily attempts), shared by HTML and PDF.

Each chart is a self-contained ``<svg role="img">`` string with ``<title>`` and ``<desc>`` referenced
by ``aria-labelledby``; all text is escaped here. Colours meet WCAG 3:1 (graphics) / 4.5:1 (text)
on white. Values outside the drawable range are clipped, never raised on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from html import escape, unescape

import numpy as np
import numpy.typing as npt

from dreamseed.reports.data import ThetaPoint

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 18, 32
INK, MUTED, PRIMARY, BAR, MARKER, SEEN = "#1a1a1a", "#555555", "#1f4e99", "#4a6fa5", "#b00020", "#8a5300"
THETA_LIMIT = 4.0
HISTOGRAM_BINS = 30
MAX_DATE_LABELS = 8
FONT_SIZE = 15
"""Label text size in SVG units (the viewBox is `WIDTH` × `HEIGHT`)."""


CHART_FONTS = "'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', NanumGothic, sans-serif"
"""Chart text: the bundled Noto Sans KR in PDFs (typst draws the SVG with the report's fonts), the
reader's own Hangul font in a browser."""


def svg_open(chart_id: str, title: str, desc: str) -> str:
    """The opening ``<svg>`` tag with its accessible title and description."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{CHART_FONTS}" font-size="{FONT_SIZE}" fill="{INK}">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
    )


def label(x: float, y: float, text: str, anchor: str = "middle", color: str = MUTED) -> str:
    """An escaped text label at (x, y)."""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}">{escape(text)}</text>'


LABEL_PATTERN = re.compile(
    r'<text x="(-?[0-9.]+)" y="(-?[0-9.]+)" text-anchor="(start|middle|end)" fill="(#[0-9a-f]{6})">([^<]*)</text>'
)
"""One `label` as it appears in a chart's SVG."""

ChartLabel = tuple[float, float, str, str, str]
"""A label taken out of a chart: x, y (baseline, SVG units), anchor, colour ``#rrggbb``, text."""


def split_labels(svg: str) -> tuple[str, list[ChartLabel]]:
    """A chart's SVG without its `label` texts, and those labels in drawing order (text unescaped).

    The PDF draws the shapes from the SVG and sets the labels itself: text inside an SVG costs
    typst a font lookup and shaping per label (about 8 ms a report), its own text far less.
    """
    labels = [
        (float(x), float(y), anchor, color, unescape(text))
        for x, y, anchor, color, text in LABEL_PATTERN.findall(svg)
    ]
    return LABEL_PATTERN.sub("", svg), labels


def scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    """Linear map of ``value`` from [low, high] to [out_low, out_high] (``high > low``)."""
    return out_low + (value - low) / (high - low) * (out_high - out_low)


def clip_theta(value: float) -> float:
    """θ clipped to ±`THETA_LIMIT` (the drawable range)."""
    return min(THETA_LIMIT, max(-THETA_LIMIT, value))


def theta_domain(thetas: Sequence[float], ses: Sequence[float]) -> tuple[float, float]:
    """Whole-number y range covering θ ± SE (clipped to ±4), at least one logit tall."""
    low = clip_theta(min(t - s for t, s in zip(thetas, ses, strict=True)))
    high = clip_theta(max(t + s for t, s in zip(thetas, ses, strict=True)))
    low, high = math.floor(low - 0.25), math.ceil(high + 0.25)
    return (low, high) if high > low else (low - 1, high + 1)


def y_grid(low: float, high: float, y_of: dict[str, float]) -> str:
    """Horizontal grid lines and labels at whole θ values (``y_of`` holds the pixel extent)."""
    step = 1 if high - low <= 6 else 2
    parts = []
    for tick in range(int(low), int(high) + 1, step):
        y = scale(tick, low, high, y_of["bottom"], y_of["top"])
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(label(LEFT - 6, y + 4, f"{tick:+d}" if tick else "0", anchor="end"))
    return "".join(parts)


def date_label_indices(count: int) -> list[int]:
    """Indices of at most `MAX_DATE_LABELS` evenly spread points, always the first and last."""
    if count <= MAX_DATE_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_DATE_LABELS - 1)
    return sorted({round(i * step) for i in range(MAX_DATE_LABELS)})


def theta_trend_svg(points: Sequence[ThetaPoint], title: str, desc: str) -> str:
    """θ over time with a ±1 SE band; ``points`` sorted by date with finite θ (≥ 1 point)."""
    thetas = [clip_theta(p.theta) for p in points]
    ses = [min(THETA_LIMIT, abs(p.se)) if p.se is not None and math.isfinite(p.se) else 0.0 for p in points]
    low, high = theta_domain(thetas, ses)
    bottom, top = HEIGHT - BOTTOM, TOP
    first, span = points[0].date, max(1, (points[-1].date - points[0].date).days)
    single = len(points) == 1

    def x_of(index: int) -> float:
        if single:
            return (LEFT + WIDTH - RIGHT) / 2
        return scale((points[index].date - first).days, 0, span, LEFT + 10, WIDTH - RIGHT - 10)

    def y_of(value: float) -> float:
        return scale(min(high, max(low, value)), low, high, bottom, top)

    xs = [x_of(i) for i in range(len(points))]
    upper = [f"{x:.1f},{y_of(t + s):.1f}" for x, t, s in zip(xs, thetas, ses, strict=True)]
    lower = [f"{x:.1f},{y_of(t - s):.1f}" for x, t, s in zip(xs, thetas, ses, strict=True)]
    parts = [svg_open("theta-chart", title, desc), y_grid(low, high, {"bottom": bottom, "top": top})]
    if single:
        parts.append(
            f'<line x1="{xs[0]:.1f}" x2="{xs[0]:.1f}" y1="{upper[0].split(",")[1]}" '
            f'y2="{lower[0].split(",")[1]}" stroke="{PRIMARY}" stroke-width="3" stroke-opacity="0.35"/>'
        )
    else:
        band = " ".join(upper + lower[::-1])
        parts.append(f'<polygon points="{band}" fill="{PRIMARY}" fill-opacity="0.18" stroke="none"/>')
        line = " ".join(f"{x:.1f},{y_of(t):.1f}" for x, t in zip(xs, thetas, strict=True))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{PRIMARY}" stroke-width="2.5"/>')
    parts.extend(
        f'<circle cx="{x:.1f}" cy="{y_of(t):.1f}" r="4" fill="{PRIMARY}"/>'
        for x, t in zip(xs, thetas, strict=True)
    )
    parts.extend(
        label(xs[i], HEIGHT - 10, points[i].date.strftime("%m-%d")) for i in date_label_indices(len(points))
    )
    parts.append("</svg>")
    return "".join(parts)


def difficulty_histogram_svg(
    difficulties: npt.NDArray[np.float64],
    theta: float | None,
    seen: npt.NDArray[np.float64],
    title: str,
    desc: str,
) -> str:
    """Histogram of item difficulties b (shape (n_items,), logits, 30 bins on [−4, 4]) with a θ line
    and ticks under the axis for the items the student saw (shape (n_seen,))."""
    counts, edges = np.histogram(
        np.clip(difficulties, -THETA_LIMIT, THETA_LIMIT), HISTOGRAM_BINS, range=(-THETA_LIMIT, THETA_LIMIT)
    )
    bottom, top = HEIGHT - BOTTOM - 8, TOP + 12
    peak = max(1, int(counts.max()))

    def x_of(value: float) -> float:
        return scale(clip_theta(value), -THETA_LIMIT, THETA_LIMIT, LEFT, WIDTH - RIGHT)

    parts = [svg_open("items-chart", title, desc)]
    bar_width = (WIDTH - RIGHT - LEFT) / HISTOGRAM_BINS
    for count, edge in zip(counts, edges[:-1], strict=True):
        bar_height = scale(int(count), 0, peak, 0, bottom - top)
        parts.append(
            f'<rect x="{x_of(float(edge)) + 0.5:.1f}" y="{bottom - bar_height:.1f}" '
            f'width="{bar_width - 1:.1f}" height="{bar_height:.1f}" fill="{BAR}"/>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}"/>')
    parts.append(label(LEFT - 6, top + 4, str(peak), anchor="end"))
    parts.append(label(LEFT - 6, bottom, "0", anchor="end"))
    parts.extend(label(x_of(tick), HEIGHT - 10, f"{tick:+d}" if tick else "0") for tick in range(-4, 5))
    parts.extend(
        f'<line x1="{x_of(float(b)):.1f}" x2="{x_of(float(b)):.1f}" y1="{bottom + 2}" '
        f'y2="{bottom + 9}" stroke="{SEEN}"/>'
        for b in seen
    )
    if theta is not None:
        x = x_of(theta)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{bottom}" stroke="{MARKER}" '
            f'stroke-width="2.5"/>'
        )
        parts.append(label(x, top - 10, "θ", color=MARKER))
    parts.append("</svg>")
    return "".join(parts)


def daily_attempts_svg(counts: Sequence[int], day_labels: Sequence[str], title: str, desc: str) -> str:
    """Bars of attempts per day (``counts`` and ``day_labels`` Monday..Sunday, 7 each)."""
    bottom, top = HEIGHT - BOTTOM, TOP + 10
    peak = max(1, *counts)
    slot = (WIDTH - RIGHT - LEFT) / len(counts)
    parts = [svg_open("daily-chart", title, desc)]
    for index, (count, day) in enumerate(zip(counts, day_labels, strict=True)):
        bar_height = scale(max(0, count), 0, peak, 0, bottom - top)
        x = LEFT + index * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{bottom - bar_height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar_height:.1f}" fill="{PRIMARY}"/>'
        )
        parts.append(label(x + slot / 2, bottom - bar_height - 4, str(count), color=INK))
        parts.append(label(x + slot / 2, HEIGHT - 10, day))
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}"/>')
    parts.append("</svg>")
    return "".join(parts)
