"""Reliability tables: decile bins, uniform bins, intervals, and the SVG diagram."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamseed.evaluation import expected_calibration_error, reliability_table
from dreamseed.evaluation.svg import reliability_svg


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([0.0, 1.0]), st.floats(0, 1)), min_size=1, max_size=80),
    st.integers(1, 12),
    st.sampled_from(["quantile", "uniform"]),
)
def test_bins_partition_the_forecasts_in_order(
    pairs: list[tuple[float, float]], bins: int, binning: str
) -> None:
    y, p = np.array(pairs).T
    table = reliability_table(y, p, bins, binning)  # type: ignore[arg-type]
    assert sum(b.n for b in table) == len(y)
    assert sum(b.observed_rate * b.n for b in table) == pytest.approx(y.sum())
    assert len(table) <= bins
    for b in table:
        assert b.low - 1e-12 <= b.mean_prediction <= b.high + 1e-12
        assert b.observed_low <= b.observed_rate <= b.observed_high
    assert all(a.high <= b.low for a, b in itertools.pairwise(table))


def test_deciles_hold_a_tenth_each() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(1000)
    table = reliability_table((rng.random(1000) < p).astype(float), p)
    assert [b.n for b in table] == [100] * 10


def test_uniform_bins_are_tenths_of_the_probability_scale() -> None:
    table = reliability_table([0, 1, 1, 0], [0.05, 0.15, 0.95, 1.0], binning="uniform")
    assert [(b.low, b.high, b.n) for b in table] == [(0.05, 0.05, 1), (0.15, 0.15, 1), (0.95, 1.0, 2)]


def test_equal_forecasts_share_a_bin_and_calibrated_ones_have_small_error() -> None:
    table = reliability_table([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    assert len(table) == 1
    assert table[0].observed_rate == 0.5
    assert expected_calibration_error(table) == 0.0
    rng = np.random.default_rng(4)
    p = rng.random(50_000)
    assert expected_calibration_error(reliability_table((rng.random(p.size) < p).astype(float), p)) < 0.02
    assert np.isnan(expected_calibration_error(reliability_table([], [])))


def test_the_svg_diagram_is_well_formed_with_a_point_per_bin() -> None:
    rng = np.random.default_rng(5)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    svg = reliability_svg(
        [("S", reliability_table(y, p)), ("S_v1 <&>", reliability_table(y, p**2))], "S & co"
    )
    root = ET.fromstring(svg)
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 20 + 2  # ten bins per series, one legend dot each
    assert "S_v1 &lt;&amp;&gt;" in svg
