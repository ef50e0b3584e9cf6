"""The DIF section of the fit report, from each of the three DIF results, and its place in
``fit_report``; on mirt's dif1 data (tests/irt/data/mirt_dif1.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dreamseed.irt import Responses, calibrate, mirt_grid
from dreamseed.irt.dif import wald_dif
from dreamseed.irt.dif_lr import lr_dif
from dreamseed.irt.dif_mh import mantel_haenszel
from dreamseed.irt.dif_report import dif_section
from dreamseed.irt.fit_report import CalibrationFigures, fit_report

DATA = Path(__file__).parent / "data" / "mirt_dif1.csv"
IDS = [f"Item_{k}" for k in range(1, 11)]


@pytest.fixture(scope="module")
def mirt_data() -> tuple[Responses, np.ndarray]:
    rows = [line.split(",") for line in DATA.read_text().split()[1:]]
    group = np.array([row[0] for row in rows])
    matrix = np.array([[int(ch) for ch in row[1]] for row in rows], dtype=float)
    return Responses.from_matrix(matrix, item_ids=IDS), group


def test_likelihood_ratio_section_in_the_fit_report(mirt_data: tuple[Responses, np.ndarray]) -> None:
    responses, group = mirt_data
    section = dif_section(lr_dif(responses, group, "2PL", items=IDS[:3]), grouping="org_id")
    data = section.as_dict()
    json.dumps(data)  # JSON-ready
    assert data["method"] == "likelihood ratio"
    assert data["flagged"] == ["Item_1", "Item_2"]
    assert data["groups"]["D1"] == {"n": 1000, "mean": 0.0, "sd": 1.0}
    assert data["groups"]["D2"]["sd"] == pytest.approx(1.061, abs=1e-3)
    assert data["details"]["scheme"] == "drop"
    assert data["items"][0]["X2"] == pytest.approx(18.88, rel=1e-3)
    text = section.text()
    assert "2 of 3 items flagged" in text
    assert "Item_1: 18.89" in text
    calibration = calibrate(responses, "2PL", standard_errors=False)
    report = fit_report(calibration, CalibrationFigures.from_summary(calibration.summary()), dif=data)
    assert report.dif is not None
    assert report.dif["flagged"] == ["Item_1", "Item_2"]
    assert fit_report(calibration, CalibrationFigures.from_summary(calibration.summary())).dif is None


def test_mantel_haenszel_and_wald_sections(mirt_data: tuple[Responses, np.ndarray]) -> None:
    responses, group = mirt_data
    mh = dif_section(mantel_haenszel(responses, group)).as_dict()
    assert mh["details"]["ets_classes"] == {"A": 10, "B": 0, "C": 0}
    assert mh["groups"] == {"D1": {"n": 1000}, "D2": {"n": 1000}}
    fits = [
        calibrate(
            Responses(responses.user_ids[rows], responses.item_ids, responses.counts[rows]),
            "2PL",
            quadrature=mirt_grid(),
            covariance="full",
        )
        for rows in (np.flatnonzero(group == "D1"), np.flatnonzero(group == "D2"))
    ]
    wald = dif_section(wald_dif(*fits))
    assert wald.flagged == ["Item_1", "Item_2"]
    assert wald.rows[0]["adj_p"] == pytest.approx(0.02473307, rel=1e-2)  # mirt
    assert "Wald" in wald.text()
