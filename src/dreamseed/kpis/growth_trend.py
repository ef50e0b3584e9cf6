"""P's trend inputs: each user's θ now and its growth per day, fitted to their own answers.

The line θ(t) = θ_now + slope·t is fitted to the user's answers of the 56 days ending at as_of on
calibrated items (``irt.growth``, item parameters from the item bank), the slope under the
population's prior (``SlopePrior``). θ grows while a student practises: θ now is θ at the user's
latest answer (nothing is added for the days since), and P projects the growth from as_of on.
Users without such answers fall back to their θ history's trend (weekly calibrations), its slope
shrunk towards the same prior.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.irt.growth import GrowthPrior, TimedAnswers, fit_growth, likelihood_slopes
from dreamseed.kpis._inputs import DAY_NS, require_columns
from dreamseed.kpis._labels import labels_where
from dreamseed.kpis.attempts import AttemptArrays
from dreamseed.kpis.slope_prior import SlopePrior, estimate_slope_prior, shrunk_slopes

ITEM_BANK_COLUMNS = ("item_id", "a", "b", "c")
PROJECTION_COLUMNS = ("mean", "sd", "slope", "slope_se", "level_slope_cov", "source")
WIDE_SLOPE_SD = 0.05
"""θ/day: the slope prior of the fit that estimates the population's prior (nearly flat)."""
MIN_SPAN_DAYS = 7.0
"""Users whose answers in the window span less than a week do not inform the population's prior:
over a few days the apparent growth reflects how the items were calibrated more than learning
(a platform's first week estimated a falling θ for students who were all improving)."""


def timed_answers(attempts: AttemptArrays, item_bank: pd.DataFrame) -> TimedAnswers:
    """The attempts with a known outcome on items of ``item_bank`` (``ITEM_BANK_COLUMNS``; a, c
    default to 1, 0 where null; items without a finite b, with a ≤ 0 or c outside [0, 1) are left
    out), timed in days from the user's latest of them (≤ 0), so that a fit's level is θ at that answer."""
    require_columns(item_bank, ITEM_BANK_COLUMNS, "item_bank")
    a, c = item_bank["a"].fillna(1.0), item_bank["c"].fillna(0.0)
    usable = np.isfinite(item_bank["b"].astype(float)) & (a > 0) & np.isfinite(a) & (c >= 0) & (c < 1)
    bank = item_bank.assign(a=a, c=c)[usable].drop_duplicates("item_id", keep="last")
    item = _bank_positions(bank["item_id"], attempts.item_id)
    keep = (item >= 0) & attempts.correct_known
    item, user, completed_ns = item[keep], attempts.user[keep], attempts.completed_ns[keep]
    latest_ns = np.full(attempts.n_users, np.iinfo(np.int64).min)
    np.maximum.at(latest_ns, user, completed_ns)
    return TimedAnswers(
        person=user,
        n_persons=attempts.n_users,
        days=(completed_ns - latest_ns[user]) / DAY_NS,
        correct=attempts.correct[keep],
        a=bank["a"].to_numpy(np.float64)[item],
        b=bank["b"].to_numpy(np.float64)[item],
        c=bank["c"].to_numpy(np.float64)[item],
    )


def growth_trend(answers: TimedAnswers, users: pd.Index, prior: SlopePrior) -> pd.DataFrame:
    """Per user (index ``users``, the persons of ``answers``): mean (θ now: at the latest answer), sd,
    slope (θ/day), slope_se, level_slope_cov and n_answers; NaN (n_answers 0) without answers."""
    fit = fit_growth(answers, GrowthPrior(slope_mean=prior.mean, slope_sd=prior.sd))
    answered = fit.n_answers > 0

    def known(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(answered, values, np.nan)

    return pd.DataFrame(
        {
            "mean": known(fit.level),
            "sd": known(np.sqrt(fit.level_variance)),
            "slope": known(fit.slope),
            "slope_se": known(np.sqrt(fit.slope_variance)),
            "level_slope_cov": known(fit.covariance),
            "n_answers": fit.n_answers,
        },
        index=users,
    )


def estimate_growth_prior(answers: TimedAnswers) -> SlopePrior:
    """The population's slope prior from these answers: a fit under a nearly flat slope prior
    (N(0, WIDE_SLOPE_SD²)), the likelihood slope and SE of each user whose answers span at least
    MIN_SPAN_DAYS, then ``estimate_slope_prior`` (the default prior with fewer than MIN_SLOPES)."""
    wide = GrowthPrior(slope_mean=0.0, slope_sd=WIDE_SLOPE_SD)
    slope, slope_se = likelihood_slopes(fit_growth(answers, wide), wide)
    earliest = np.zeros(answers.n_persons)
    np.minimum.at(earliest, answers.person, answers.days)  # days ≤ 0 from each user's latest answer
    long_enough = -earliest >= MIN_SPAN_DAYS
    return estimate_slope_prior(
        pd.DataFrame({"slope": np.where(long_enough, slope, np.nan), "slope_se": slope_se})
    )


def projection_trend(
    growth: pd.DataFrame | None, history_trend: pd.DataFrame, prior: SlopePrior | None
) -> pd.DataFrame:
    """P's trend inputs per user (index of ``history_trend``; columns ``PROJECTION_COLUMNS``).

    source "answers": the growth fit (``growth_trend``); "history": no answers on calibrated items
    in the window, so the θ history's latest point and its slope shrunk by ``prior`` (as fitted
    without one; covariance 0); None: neither.
    """
    users = history_trend.index
    slope, slope_se = history_trend["slope"].to_numpy(float), history_trend["slope_se"].to_numpy(float)
    slope, slope_variance = (slope, slope_se**2) if prior is None else shrunk_slopes(slope, slope_se, prior)
    has_history = history_trend["mean"].notna().to_numpy()
    frame = pd.DataFrame(
        {
            "mean": history_trend["mean"].to_numpy(float),
            "sd": history_trend["sd"].to_numpy(float),
            "slope": np.where(has_history, slope, np.nan),
            "slope_se": np.where(has_history, np.sqrt(slope_variance), np.nan),
            "level_slope_cov": np.where(has_history, 0.0, np.nan),
            "source": pd.Series(
                labels_where([(has_history, "history")], len(users)), index=users, dtype=object
            ),
        },
        index=users,
    )
    if growth is not None:
        fitted = growth.reindex(users)
        answered = fitted["mean"].notna().to_numpy()
        for column in PROJECTION_COLUMNS[:-1]:
            frame[column] = np.where(answered, fitted[column].to_numpy(float), frame[column].to_numpy(float))
        frame.loc[answered, "source"] = "answers"
    return frame


def _bank_positions(bank_ids: pd.Series, item_ids: NDArray[Any]) -> NDArray[np.intp]:
    """Position in the bank of each answered item (-1 where not in it). Bank ids are text; answers'
    ids may be integers (the database's attempts) or text."""
    if item_ids.dtype.kind in "iu":
        numeric = pd.to_numeric(bank_ids, errors="coerce").to_numpy(np.float64)
        usable = np.isfinite(numeric) & (numeric == np.round(numeric))
        index = pd.Index(numeric[usable].astype(np.int64))
        positions = np.flatnonzero(usable)
        found = index.get_indexer(item_ids)
        return np.where(found >= 0, positions[found], -1).astype(np.intp)
    return pd.Index(bank_ids.astype(str)).get_indexer(pd.Series(item_ids).astype(str)).astype(np.intp)
