"""A chart's SVG (`charts`) as the drawing primitives the PDF template draws with typst's ``curve``.

The SVG stays the one description of a chart (the HTML inlines it). For the PDF its shapes are
read back into paths, so typst draws them itself instead of parsing and converting an SVG image
per report (usvg): one `ChartPath` per run of consecutive shapes with the same paint, in drawing
order, so the picture and its stacking stay the same. Only the shapes `charts` writes are read:
``line``, ``rect``, ``polygon``, ``polyline`` and ``circle`` with ``fill``/``stroke`` colours,
``stroke-width``, ``fill-opacity`` and ``stroke-opacity``; the white background rectangle is left
out (the page is white). Coordinates stay in SVG units (the viewBox, `charts.WIDTH` ×
`charts.HEIGHT`); the template scales them to the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHAPE_PATTERN = re.compile(r"<(line|rect|polygon|polyline|circle) ([^>]*)/>")
ATTRIBUTE_PATTERN = re.compile(r'([a-z0-9-]+)="([^"]*)"')
BACKGROUND = "#ffffff"
CIRCLE_KAPPA = 0.5522847498
"""Control-point distance of the four cubic Béziers that draw a circle, as a fraction of r."""

Segment = tuple[float, ...]
"""(x, y): a line to that point (a move at the start of a subpath); (x1, y1, x2, y2, x, y): a cubic
Bézier with its two control points, in SVG units."""


@dataclass(frozen=True)
class ChartPath:
    """Shapes of one paint: ``fill`` and ``stroke`` as ``#rrggbbaa`` or ``None``, the stroke width in
    SVG units, whether every subpath is closed, and the subpaths (each a list of `Segment`)."""

    fill: str | None
    stroke: str | None
    width: float
    closed: bool
    subpaths: tuple[tuple[Segment, ...], ...]

    def as_json(self) -> list[object]:
        """``[fill, stroke, width, closed, subpaths]`` for the template's JSON."""
        return [self.fill, self.stroke, self.width, self.closed, [list(map(list, s)) for s in self.subpaths]]


def paint(color: str | None, opacity: str | None) -> str | None:
    """``#rrggbb`` with an opacity in [0, 1] as ``#rrggbbaa``; ``None`` or ``"none"`` as ``None``."""
    if color is None or color == "none":
        return None
    alpha = round(255 * float(opacity)) if opacity is not None else 255
    return f"{color}{alpha:02x}"


def points(text: str) -> tuple[Segment, ...]:
    """An SVG ``points`` list ("x,y x,y ...") as line segments."""
    return tuple(tuple(float(v) for v in pair.split(",")) for pair in text.split())


def circle(cx: float, cy: float, r: float) -> tuple[Segment, ...]:
    """A circle as a move and four cubic Béziers (clockwise from the rightmost point)."""
    k = CIRCLE_KAPPA * r
    return (
        (cx + r, cy),
        (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
        (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
        (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
        (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
    )


def shape_outline(kind: str, a: dict[str, str]) -> tuple[Segment, ...]:
    """The subpath of one SVG shape (``a``: its attributes)."""
    if kind == "line":
        return ((float(a["x1"]), float(a["y1"])), (float(a["x2"]), float(a["y2"])))
    if kind == "rect":
        x, y = float(a.get("x", 0)), float(a.get("y", 0))
        right, bottom = x + float(a["width"]), y + float(a["height"])
        return ((x, y), (right, y), (right, bottom), (x, bottom))
    if kind == "circle":
        return circle(float(a["cx"]), float(a["cy"]), float(a["r"]))
    return points(a["points"])


def shape_paint(kind: str, a: dict[str, str]) -> tuple[str | None, str | None, float, bool]:
    """(fill, stroke, stroke width, closed) of one SVG shape, with SVG's defaults."""
    fill = None if kind in ("line", "polyline") else paint(a.get("fill", "#000000"), a.get("fill-opacity"))
    if kind == "polyline" and a.get("fill", "none") != "none":
        raise ValueError("a filled polyline is not drawn by the PDF template")
    stroke = paint(a.get("stroke"), a.get("stroke-opacity"))
    return fill, stroke, float(a.get("stroke-width", 1)), kind not in ("line", "polyline")


def chart_paths(svg: str) -> list[ChartPath]:
    """The shapes of a chart's SVG as paths, consecutive shapes of one paint merged, in drawing
    order; empty rectangles and the white background are left out."""
    paths: list[ChartPath] = []
    for kind, attributes in SHAPE_PATTERN.findall(svg):
        a = dict(ATTRIBUTE_PATTERN.findall(attributes))
        if kind == "rect" and (a.get("fill") == BACKGROUND or float(a["width"]) * float(a["height"]) == 0):
            continue
        fill, stroke, width, closed = shape_paint(kind, a)
        outline = shape_outline(kind, a)
        last = paths[-1] if paths else None
        if last is not None and (last.fill, last.stroke, last.width, last.closed) == (
            fill,
            stroke,
            width,
            closed,
        ):
            paths[-1] = ChartPath(fill, stroke, width, closed, (*last.subpaths, outline))
        else:
            paths.append(ChartPath(fill, stroke, width, closed, (outline,)))
    return paths
