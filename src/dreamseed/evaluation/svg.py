"""A reliability diagram as a self-contained SVG string (no plotting library needed)."""

from __future__ import annotations

from html import escape

from dreamseed.evaluation.reliability import ReliabilityBin

SIZE = 420
MARGIN = 56
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _x(value: float) -> float:
    return MARGIN + value * (SIZE - 2 * MARGIN)


def _y(value: float) -> float:
    return SIZE - MARGIN - value * (SIZE - 2 * MARGIN)


def _axes(title: str) -> list[str]:
    parts = [
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{SIZE - 2 * MARGIN}" height="{SIZE - 2 * MARGIN}" '
        'fill="white" stroke="#444"/>',
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#999" stroke-dasharray="4 4"/>',
        f'<text x="{SIZE / 2}" y="{MARGIN / 2}" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<text x="{SIZE / 2}" y="{SIZE - 14}" text-anchor="middle" font-size="12">mean forecast</text>',
        f'<text x="16" y="{SIZE / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 16 {SIZE / 2})">observed rate</text>',
    ]
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(
            f'<text x="{_x(tick):.1f}" y="{SIZE - MARGIN + 16}" text-anchor="middle" font-size="10">{tick:.1f}</text>'
        )
        parts.append(
            f'<text x="{MARGIN - 6}" y="{_y(tick) + 3:.1f}" text-anchor="end" font-size="10">{tick:.1f}</text>'
        )
    return parts


def _series(bins: tuple[ReliabilityBin, ...], colour: str) -> list[str]:
    parts = []
    points = " ".join(f"{_x(b.mean_prediction):.1f},{_y(b.observed_rate):.1f}" for b in bins)
    if len(bins) > 1:
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    for b in bins:
        x = _x(b.mean_prediction)
        parts.append(
            f'<line x1="{x:.1f}" y1="{_y(b.observed_low):.1f}" x2="{x:.1f}" y2="{_y(b.observed_high):.1f}" '
            f'stroke="{colour}" stroke-opacity="0.5"/>'
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{_y(b.observed_rate):.1f}" r="3.5" fill="{colour}">'
            f"<title>forecast {b.mean_prediction:.3f}, observed {b.observed_rate:.3f} (n={b.n})</title></circle>"
        )
    return parts


def reliability_svg(series: list[tuple[str, tuple[ReliabilityBin, ...]]], title: str) -> str:
    """An SVG reliability diagram: for each (label, bins), the bins' observed rate (with its 95%
    interval) against their mean forecast; the dashed diagonal is perfect calibration."""
    parts = _axes(title)
    for k, (label, bins) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        parts += _series(bins, colour)
        y = MARGIN + 14 + 16 * k
        parts.append(f'<circle cx="{MARGIN + 12}" cy="{y - 4}" r="4" fill="{colour}"/>')
        parts.append(f'<text x="{MARGIN + 22}" y="{y}" font-size="11">{escape(label)}</text>')
    body = "\n  ".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" font-family="sans-serif">\n  {body}\n</svg>\n'
    )
