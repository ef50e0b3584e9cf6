"""The console's charts: matplotlib figures rendered to SVG on the server (no JavaScript).

Text is drawn as paths (DejaVu Sans, Hangul falling back to the bundled Noto Sans KR from
pylopdf-fonts-ko), so Korean labels show in any browser without fonts installed. Each function takes
plain sequences and returns SVG bytes; the per-student and per-item charts reuse one kept figure.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

FONT_FILE = Path(str(resources.files("pylopdf_fonts_ko") / "NotoSansKR-Regular.otf"))
ACCENT, BAND, MUTED, WARN = "#1f5f99", "#9cc3e6", "#8a8f98", "#c0392b"
_setup_lock = threading.Lock()
_ready = False
_render_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def _setup() -> None:
    global _ready
    with _setup_lock:
        if _ready:
            return
        font_manager.fontManager.addfont(str(FONT_FILE))
        family = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
        matplotlib.rcParams.update(
            {
                # DejaVu Sans first: digits, Latin and θ lay out much faster than in the CFF Korean
                # font; Hangul falls back to Noto Sans KR glyph by glyph.
                "font.family": ["DejaVu Sans", family],
                "svg.fonttype": "path",
                "svg.hashsalt": "dreamseed-console",
                "axes.spines.top": False,
                "axes.spines.right": False,
                "font.size": 9,
                "axes.titlesize": 9,
                "axes.unicode_minus": False,
                # A fixed title position: matplotlib otherwise lays out every tick label twice to
                # place the title above them (a quarter of a chart's time).
                "axes.titley": 1.02,
                "xtick.labelsize": 8,
                "ytick.labelsize": 8,
            }
        )
        _ready = True


def _figure(width: float = 6.4, height: float = 2.6) -> tuple[Figure, Axes]:
    _setup()
    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(
        left=0.7 / width, right=1 - 0.55 / width, bottom=0.55 / height, top=1 - 0.35 / height
    )
    return figure, figure.add_subplot()


def _draw(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _svg(figure: Figure) -> bytes:
    with _render_lock:
        return _draw(figure)


def _x(values: Sequence[date | datetime]) -> Any:
    """Dates for matplotlib's x axis (its stubs accept only numbers)."""
    return list(values)


def _empty(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


class _ThetaFigure:
    """One figure for every student's θ trend, kept between requests (drawn under `_render_lock`).

    Building a figure and its axes, ticks and legend costs about as much as drawing it, so the
    artists are made once and only their data, limits and title change per request.
    """

    def __init__(self) -> None:
        self.figure, self.axes = _figure()
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        self.axes.xaxis.set_major_locator(locator)
        self.axes.xaxis.set_major_formatter(mdates.AutoDateFormatter(locator))
        self.axes.tick_params(axis="x", labelrotation=30)
        for label in self.axes.get_xticklabels():
            label.set_horizontalalignment("right")
        (self.line,) = self.axes.plot([], [], color=ACCENT, marker="o", markersize=2.5, label="θ")
        self.band: Any = None
        self.axes.set_ylabel("θ")
        self.title = self.axes.set_title("", loc="left")
        handles = [Patch(color=BAND, alpha=0.6, label="±1 SE"), self.line]
        self.axes.legend(handles=handles, loc="upper left", frameon=False)

    def draw(self, times: Sequence[datetime], values: np.ndarray, errors: np.ndarray, title: str) -> bytes:
        x = mdates.date2num(list(times))
        if self.band is not None:
            self.band.remove()
        self.band = self.axes.fill_between(x, values - errors, values + errors, color=BAND, alpha=0.6)
        self.line.set_data(x, values)
        low = np.nanmin(np.concatenate([values, values - errors]))
        high = np.nanmax(np.concatenate([values, values + errors]))
        pad = max((high - low) * 0.05, 0.05)
        self.axes.set_ylim(low - pad, high + pad)
        span = max(x[-1] - x[0], 1.0)
        self.axes.set_xlim(x[0] - span * 0.05, x[-1] + span * 0.05)
        self.title.set_text(title)
        for label in self.axes.get_xticklabels():
            label.set_horizontalalignment("right")
        return _draw(self.figure)


class _CurvesFigure:
    """One figure for every item's characteristic and information curves (see `_ThetaFigure`)."""

    theta = np.linspace(-4, 4, 81)

    def __init__(self) -> None:
        self.figure, self.axes = _figure()
        zeros = np.zeros_like(self.theta)
        (self.icc,) = self.axes.plot(self.theta, zeros, color=ACCENT, label="icc")
        self.axes.set_ylim(0, 1)
        self.axes.set_xlim(-4, 4)
        self.axes.set_xlabel("θ")
        self.axes.set_ylabel("P(θ)")
        self.other = self.axes.twinx()
        (self.information,) = self.other.plot(self.theta, zeros, color=WARN, linestyle="--", label="I")
        self.other.set_ylabel("I(θ)")
        self.b = self.axes.axvline(0, color=MUTED, linewidth=0.8)
        self.title = self.axes.set_title("", loc="left")
        self.legend = self.figure.legend(loc="upper right", frameon=False, ncols=2, fontsize=8)

    def draw(self, a: float, b: float, c: float, labels: dict[str, str]) -> bytes:
        p = c + (1 - c) / (1 + np.exp(-a * (self.theta - b)))
        information = a**2 * ((p - c) ** 2 / (1 - c) ** 2) * ((1 - p) / p)
        self.icc.set_ydata(p)
        self.information.set_ydata(information)
        top = float(np.nanmax(information)) if np.isfinite(information).any() else 1.0
        self.other.set_ylim(0, max(top, 1e-6) * 1.05)
        self.b.set_xdata([b, b])
        self.title.set_text(labels["title"])
        for text, name in zip(self.legend.get_texts(), ("icc", "information"), strict=True):
            text.set_text(labels[name])
        return _draw(self.figure)


_kept: dict[str, Any] = {}


def _kept_figure(name: str, make: Callable[[], Any]) -> Any:
    """The figure kept under `name`, made on first use; call with `_render_lock` held."""
    if name not in _kept:
        _setup()
        _kept[name] = make()
    return _kept[name]


def theta_trend(
    times: Sequence[datetime], theta: Sequence[float], se: Sequence[float | None], labels: dict[str, str]
) -> bytes:
    """θ over time with a ±1 SE band."""
    if not times:
        figure, axes = _figure()
        _empty(axes, labels["no_data"])
        return _svg(figure)
    values = np.asarray(theta, dtype=float)
    errors = np.asarray([np.nan if e is None else e for e in se], dtype=float)
    with _render_lock:
        return _kept_figure("theta", _ThetaFigure).draw(times, values, errors, labels["title"])


def weekly_lines(
    weeks: Sequence[date], series: Mapping[str, Sequence[float | None]], labels: dict[str, str]
) -> bytes:
    """Several weekly series (KPIs in [−1, 1] or [0, 1]) on one axis."""
    figure, axes = _figure()
    if not weeks:
        _empty(axes, labels["no_data"])
        return _svg(figure)
    for name, values in series.items():
        numbers = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        axes.plot(_x(weeks), numbers, marker="o", markersize=3, label=name)
    axes.set_title(labels["title"], loc="left")
    axes.legend(loc="upper left", ncols=len(series), frameon=False, fontsize=8)
    figure.autofmt_xdate()
    return _svg(figure)


def distribution(bins: Sequence[tuple[int, int]], low: float, high: float, labels: dict[str, str]) -> bytes:
    """A histogram from precomputed width_bucket counts over [low, high] (20 buckets)."""
    figure, axes = _figure(3.2, 2.2)
    counts = np.zeros(22)
    for bucket, n in bins:
        counts[min(max(int(bucket), 0), 21)] += n
    if counts.sum() == 0:
        _empty(axes, labels["no_data"])
        return _svg(figure)
    edges = np.linspace(low, high, 21)
    inside = counts[1:21].copy()
    inside[0] += counts[0]
    inside[-1] += counts[21]
    axes.bar(edges[:-1], inside, width=np.diff(edges), align="edge", color=ACCENT, edgecolor="white")
    axes.set_title(labels["title"], loc="left")
    axes.set_xlim(low, high)
    return _svg(figure)


def quantile_trend(
    weeks: Sequence[date],
    p25: Sequence[float | None],
    p50: Sequence[float | None],
    p75: Sequence[float | None],
    labels: dict[str, str],
) -> bytes:
    """A weekly median with its interquartile band."""
    figure, axes = _figure(3.2, 2.2)
    if not weeks:
        _empty(axes, labels["no_data"])
        return _svg(figure)

    def array(values: Sequence[float | None]) -> np.ndarray:
        return np.asarray([np.nan if v is None else v for v in values], dtype=float)

    axes.fill_between(_x(weeks), array(p25), array(p75), color=BAND, alpha=0.6)
    axes.plot(_x(weeks), array(p50), color=ACCENT, marker="o", markersize=2.5)
    axes.set_title(labels["title"], loc="left")
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    return _svg(figure)


def item_curves(a: float, b: float, c: float, labels: dict[str, str]) -> bytes:
    """The item characteristic curve P(θ) and its information I(θ) (3PL)."""
    with _render_lock:
        return _kept_figure("curves", _CurvesFigure).draw(a, b, c, labels)


def test_information(parameters: Sequence[tuple[float, float, float]], labels: dict[str, str]) -> bytes:
    """The sum of the items' information over θ, with the standard error 1/√I."""
    figure, axes = _figure()
    if not parameters:
        _empty(axes, labels["no_data"])
        return _svg(figure)
    theta = np.linspace(-4, 4, 161)[:, None]
    a, b, c = (np.asarray(v, dtype=float)[None, :] for v in zip(*parameters, strict=True))
    p = c + (1 - c) / (1 + np.exp(-a * (theta - b)))
    total = (a**2 * ((p - c) ** 2 / (1 - c) ** 2) * ((1 - p) / p)).sum(axis=1)
    axes.plot(theta[:, 0], total, color=ACCENT, label=labels["information"])
    axes.set_xlabel("θ")
    other = axes.twinx()
    other.plot(theta[:, 0], 1 / np.sqrt(np.maximum(total, 1e-9)), color=WARN, linestyle="--", label="SE")
    other.set_ylim(0, 2)
    axes.set_title(labels["title"], loc="left")
    figure.legend(loc="upper right", frameon=False, ncols=2, fontsize=8)
    return _svg(figure)


def parameter_history(
    times: Sequence[datetime], series: Mapping[str, Sequence[float | None]], labels: dict[str, str]
) -> bytes:
    """An item's a, b, c across calibration runs."""
    figure, axes = _figure()
    if not times:
        _empty(axes, labels["no_data"])
        return _svg(figure)
    for name, values in series.items():
        axes.plot(
            _x(times), [np.nan if v is None else v for v in values], marker="o", markersize=2.5, label=name
        )
    axes.set_title(labels["title"], loc="left")
    axes.legend(loc="upper left", frameon=False, ncols=3)
    figure.autofmt_xdate()
    return _svg(figure)


def job_runs(
    jobs: Mapping[str, tuple[Sequence[datetime], Sequence[float], Sequence[bool]]], labels: dict[str, str]
) -> bytes:
    """Each job's run durations (seconds) over time; failed runs marked in red."""
    figure, axes = _figure(6.4, 3.0)
    if not jobs:
        _empty(axes, labels["no_data"])
        return _svg(figure)
    for name, (times, seconds, ok) in jobs.items():
        line = axes.plot(_x(times), list(seconds), marker="o", markersize=2.5, label=name)[0]
        bad = [i for i, good in enumerate(ok) if not good]
        if bad:
            axes.scatter(_x([times[i] for i in bad]), [seconds[i] for i in bad], color=WARN, zorder=3, s=18)
        line.set_linewidth(1.2)
    axes.set_ylabel(labels["seconds"])
    axes.set_title(labels["title"], loc="left")
    axes.legend(loc="upper left", frameon=False, fontsize=7, ncols=2)
    figure.autofmt_xdate()
    return _svg(figure)
