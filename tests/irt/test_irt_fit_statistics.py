"""Infit/outfit with t, marginal reliability, the EAP-sum table and the fit report's statistics
section, against R mirt's pinned values (github.com/philchalmers/mirt tests/testthat):

- test-04-multipleGroup.R: ``personfit(mod_Rasch, Theta = EAP)`` on ``testdata/MG1.rds`` (two groups
  of 1,000, 15 items, Rasch per group with its own latent variance; converted with PyPI ``rdata``
  to ``data/mirt_mg1.csv``): outfit, z.outfit, infit, z.infit and Zh of the first and last six
  users, tolerance 1e-3;
- test-01-mirtOne.R: LSAT7 2PL ``fscores(modm1, method = 'EAPsum', full.scores = FALSE)`` (the
  table at mirt's closeEnough 1e-2, its ``rxx_F1`` 0.4319948 at 1e-4) and, with ``data[1, 1] <- NA``,
  ``fscores(, na.rm = TRUE, method = 'EAPsum')$expected[1]`` 9.931098 at 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.irt.test_irt_lsat import LSAT7, expand, fit

from dreamseed.irt import QuadratureGrid, Responses, calibrate, mirt_grid, score, simulate_responses
from dreamseed.irt.fit import item_fit
from dreamseed.irt.fit_report import CalibrationFigures, fit_report
from dreamseed.irt.fit_statistics import complete_users
from dreamseed.irt.marginal_moments import complete_answers
from dreamseed.irt.person_fit import person_zh
from dreamseed.irt.reliability import information_curve, marginal_reliability
from dreamseed.irt.residual_fit import item_residual_fit, person_residual_fit, user_sums
from dreamseed.irt.sum_scores import eap_sum_table

DATA = Path(__file__).parent / "data"

# personfit(mod_Rasch, Theta=EAP): head(pf) then tail(pf), each 6 rows x (outfit, z.outfit, infit,
# z.infit, Zh), column-major as R's as.numeric(as.matrix(...)) gives them
MIRT_PERSONFIT = [0.950921,1.142593,0.5986253,0.4390725,0.8847643,0.6006911,-0.1580319,0.4765587,-1.366033,-1.688994,-0.1716739,-1.356961,0.9657947,0.9039326,0.6798182,0.5300499,0.820473,0.6796108,-0.12207,-0.2349138,-1.365052,-1.825028,-0.5448986,-1.366125,0.1942611,0.1375458,1.282308,1.543602,0.5053975,1.280061,0.9206344,1.182217,1.033595,1.287318,0.4910474,0.365361,-0.2859851,0.6103204,0.2228756,0.8827224,-1.29217,-0.998842,0.9182596,1.20314,1.062435,1.285586,0.6090764,0.5207685,-0.37187,0.8019668,0.4074629,1.176899,-1.291869,-1.025544,0.4027076,-0.6934658,-0.2963764,-1.118536,1.201121,0.9925202]  # fmt: skip
# fscores(modm1, method='EAPsum', full.scores=FALSE): Sum.Scores, F1, SE_F1, observed, expected, std.res
MIRT_EAPSUM = [0,1,2,3,4,5,-1.86979,-1.431861,-0.9488463,-0.4131963,0.1517289,0.7271877,0.6927032,0.6838697,0.6942298,0.7210951,0.758772,0.8009335,12,40,114,205,321,308,10.08994,44.65882,109.773,207.7391,319.1854,308.5536,0.6013157,0.6971433,0.4034422,0.1900446,0.101567,0.0315184]  # fmt: skip


def _mg1_group(label: str) -> Responses:
    lines = (DATA / "mirt_mg1.csv").read_text().splitlines()
    header = lines[0].split(",")[1:]
    rows = [line.split(",") for line in lines[1:]]
    matrix = np.array([[float(x) for x in row[1:]] for row in rows if row[0] == label])
    return Responses.from_matrix(matrix, item_ids=header)


def test_person_infit_outfit_and_zh_match_mirt_personfit() -> None:
    got = []
    for label, rows in (("D1", slice(0, 6)), ("D2", slice(-6, None))):
        data = _mg1_group(label)
        cal = calibrate(data, "Rasch", quadrature=mirt_grid())
        sd = cal.population_sd
        eap = score(data, cal.items, "EAP", prior_sd=sd, grid=QuadratureGrid.normal(61, 6.0, 0.0, sd))
        fit = person_residual_fit(data, cal.items, eap.theta)
        zh = person_zh(data, cal.items, eap.theta)
        table = np.column_stack([fit.outfit, fit.z_outfit, fit.infit, fit.z_infit, zh])[rows]
        got.append(table.T.ravel())
    np.testing.assert_allclose(np.concatenate(got), MIRT_PERSONFIT, atol=1e-3)


def test_residual_fit_sums_over_observed_answers_only() -> None:
    rng = np.random.default_rng(2)
    sim = simulate_responses(300, 12, 0.6, "2PL", seed=9)
    data, items = sim.responses, sim.items
    theta = rng.normal(size=data.n_users)
    items_fit = item_residual_fit(data, items, theta)
    users_fit = person_residual_fit(data, items, theta)
    dense = data.aligned_to(items.item_id)
    x = dense.correct_counts.toarray()
    seen = dense.observed_counts.toarray() > 0
    p = items.c + (1 - items.c) / (1 + np.exp(-items.a * (theta[:, None] - items.b)))
    w = np.maximum(p * (1 - p), np.sqrt(1e-5))  # mirt floors W
    squared = np.where(seen, (x - p) ** 2, 0.0)
    np.testing.assert_allclose(items_fit.infit, squared.sum(0) / np.where(seen, w, 0).sum(0))
    np.testing.assert_allclose(items_fit.outfit, (squared / w).sum(0) / seen.sum(0))
    np.testing.assert_allclose(users_fit.n, seen.sum(1))
    np.testing.assert_allclose(users_fit.outfit, (squared / w).sum(1) / seen.sum(1))
    # the mean squares are the ones item_fit reports; t is about N(0, 1) when the model holds
    reference = item_fit(data, items, None)
    fitted = item_residual_fit(data, items, score(data, items).theta)
    np.testing.assert_allclose(fitted.infit, reference.infit, rtol=1e-6)
    np.testing.assert_allclose(fitted.outfit, reference.outfit, rtol=1e-6)
    assert abs(np.median(fitted.z_infit)) < 2.0


def test_lsat7_eap_sum_table_matches_mirt() -> None:
    data = expand(LSAT7)
    table = eap_sum_table(data, fit(data, "2PL").items)
    got = np.concatenate(
        [table.score, table.theta, table.se, table.observed, table.expected, table.std_residual]
    )
    np.testing.assert_allclose(got, MIRT_EAPSUM, atol=1e-2)
    assert table.reliability == pytest.approx(0.4319948, rel=1e-4)
    assert (table.n_persons, table.n_dropped) == (1000, 0)


def test_eap_sum_counts_use_complete_cases_as_mirt_na_rm() -> None:
    matrix = np.array([[int(ch) for ch in pattern] for pattern, n in LSAT7.items() for _ in range(n)], float)
    matrix[0, 0] = np.nan
    data = Responses.from_matrix(matrix, item_ids=[f"Item_{k}" for k in range(1, 6)])
    table = eap_sum_table(data, fit(data, "2PL").items)
    assert table.expected[0] == pytest.approx(9.931098, rel=1e-4)
    assert (table.n_persons, table.n_dropped) == (999, 1)


def test_marginal_reliability_is_the_population_average_of_the_information_share() -> None:
    data = expand(LSAT7)
    items = fit(data, "2PL").items
    theta = np.linspace(-10, 10, 4001)
    density = np.exp(-0.5 * theta**2) / np.sqrt(2 * np.pi)
    info = information_curve(items, theta)
    direct = float(
        np.sum(info / (info + 1) * density) * (theta[1] - theta[0])
    )  # mirt's marginal_rxx at σ = 1
    assert marginal_reliability(items) == pytest.approx(direct, rel=1e-6)
    assert marginal_reliability(items, answered=2) < marginal_reliability(items)
    assert marginal_reliability(items, answered=5) == pytest.approx(marginal_reliability(items))


def test_fit_report_carries_every_statistic_on_complete_data() -> None:
    data = expand(LSAT7)
    cal = fit(data, "2PL")
    report = fit_report(cal, CalibrationFigures.from_summary(cal.summary()), fit_responses=data, model="2PL")
    assert report.statistics is not None
    section = report.statistics.as_dict()
    assert section["model_fit"]["m2"] == pytest.approx(11.93841, abs=1e-2)  # mirt M2(modm1)
    assert section["model_fit"]["df"] == 5
    assert section["sum_scores"]["reliability"] == pytest.approx(0.4319948, rel=1e-4)
    assert section["local_dependence"]["ld_x2_n_pairs_above"] == 0
    assert set(section["reliability"]) == {"empirical", "marginal"}
    assert len(report.statistics.person_table["zh"]) == 1000
    assert len(report.statistics.summary_lines()) == 6


def test_fit_report_says_which_statistics_sparse_data_do_not_define() -> None:
    sim = simulate_responses(2000, 40, 0.3, "2PL", seed=6)
    cal = calibrate(sim.responses, "2PL")
    report = fit_report(cal, CalibrationFigures.from_summary(cal.summary()), fit_responses=sim.responses)
    assert report.statistics is not None
    section = report.statistics.as_dict()
    assert section["model_fit"]["computed"] is False
    assert "complete data only" in section["model_fit"]["reason"]
    assert section["sum_scores"]["computed"] is False
    assert "marginal_at_mean_answers" in section["reliability"]
    assert section["person_fit"]["n_zh_flagged"] < 0.05 * 2000
    assert section["local_dependence"]["ld_x2_n_pairs_above"] < 10
    assert np.isfinite(report.statistics.item_table["z_infit"]).all()
    without = fit_report(
        cal, CalibrationFigures.from_summary(cal.summary()), fit_responses=sim.responses, statistics=False
    )
    assert without.statistics is None


def test_complete_users_count_the_complete_cases_without_a_dense_matrix() -> None:
    matrix = np.array([[int(ch) for ch in pattern] for pattern, n in LSAT7.items() for _ in range(n)], float)
    matrix[:7, 0] = np.nan
    matrix[10:12, 3] = np.nan
    data = Responses.from_matrix(matrix, item_ids=[f"Item_{k}" for k in range(1, 6)])
    repeated = Responses.from_long(  # user 999 answers Item_2 twice: not a complete case
        np.r_[np.repeat(np.arange(1000), 5), 999], np.r_[np.tile(data.item_ids, 1000), ["Item_2"]],
        np.r_[np.nan_to_num(matrix, nan=0).reshape(-1), 1],
    )  # fmt: skip
    items = fit(expand(LSAT7), "2PL").items
    for responses, expected in ((data, 991), (repeated, 999)):
        assert complete_users(responses, items) == expected
        assert responses.n_users - complete_answers(responses, items.item_id).n_dropped == expected


def test_per_user_sums_skip_users_without_answers() -> None:
    """Users 0, 3 and 5 (the last) have no answer left once items are aligned to q1 and q2."""
    data = Responses.from_long([0, 1, 1, 2, 3, 4, 4, 5], ["q9", "q1", "q2", "q2", "q9", "q1", "q2", "q9"],
                               [1, 0, 1, 1, 0, 1, 1, 0]).aligned_to(["q1", "q2"])  # fmt: skip
    pairs = data.pairs
    terms = (pairs.n_total, np.arange(pairs.user.size, dtype=float) + 1.0)
    expected = [np.bincount(pairs.user, weights=t, minlength=6) for t in terms]
    got = user_sums(pairs, data.n_users, terms)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(got[0], [0, 2, 1, 0, 2, 0])
