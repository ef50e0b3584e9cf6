"""Every bank-quality statistic of a calibration in one value: model fit (M2, RMSEA, SRMSR, CFI/TLI),
item and person fit (infit/outfit with t, Zh), local dependence (LD X2, Q3), reliability
(empirical, marginal) and the EAP-sum table, each computed only where it is defined.

Which statistics are defined under missing responses (``docs/PSYCHOMETRICS.md`` has the table):

- infit/outfit, Zh, LD X2, Q3, empirical reliability: yes (sums over the observed answers, or
  over the users who answered both items of a pair);
- M2 and its RMSEA/SRMSR/CFI/TLI and the EAP-sum observed counts: complete data only. With some
  users missing items they are computed on the complete cases when at least
  ``COMPLETE_CASE_SHARE`` of the users are complete (``n_dropped`` says how many were left out);
  otherwise they are not computed and ``reason`` says why;
- marginal reliability: always computed, but for the whole bank; under missing data the
  reliability of a user answering the mean number of items is reported next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.fit import empirical_reliability
from dreamseed.irt.json_values import python_scalar
from dreamseed.irt.local_dependence import dependent_pairs, local_dependence_at
from dreamseed.irt.parameters import Abilities, ItemParameters
from dreamseed.irt.person_fit import misfitting_persons, zh_at
from dreamseed.irt.reliability import marginal_reliability
from dreamseed.irt.residual_fit import ResidualFit, pair_probabilities, residual_fits_at
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]

#: M2 and the EAP-sum counts run on the complete cases when at least this share of users is complete.
COMPLETE_CASE_SHARE = 0.5
#: LD X2 pairs above this value are listed (Chen & Thissen: > 10 is a large dependence).
LD_X2_THRESHOLD = 10.0
#: Q3 pairs more than this above the mean off-diagonal Q3 are listed (Christensen et al. 2017).
Q3_EXCESS = 0.2
#: At most this many pairs are listed per statistic (largest first); counts cover all of them.
MAX_LISTED_PAIRS = 50


@dataclass(frozen=True, eq=False)
class FitStatistics:
    """The statistics section of a ``FitReport``.

    ``item_table`` and ``person_table`` are per-item (J rows) and per-user (N rows) columns of
    equal length, for CSV files; the other fields are JSON-ready summaries. A statistic that
    was not computed is ``{"computed": False, "reason": ...}``.
    """

    model_fit: Mapping[str, Any]
    item_fit: Mapping[str, Any]
    person_fit: Mapping[str, Any]
    local_dependence: Mapping[str, Any]
    reliability: Mapping[str, Any]
    sum_scores: Mapping[str, Any]
    item_table: Mapping[str, npt.NDArray[Any]]
    person_table: Mapping[str, npt.NDArray[Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summaries (no per-user rows)."""
        return {
            "model_fit": dict(self.model_fit),
            "item_fit": dict(self.item_fit),
            "person_fit": dict(self.person_fit),
            "local_dependence": dict(self.local_dependence),
            "reliability": dict(self.reliability),
            "sum_scores": dict(self.sum_scores),
        }

    def summary_lines(self) -> list[str]:
        """A few readable lines (what ``dreamseed irt fit`` prints)."""
        m2 = self.model_fit
        if m2.get("computed", True):
            lines = [
                f"  M2 {m2['m2']:.3f} on {m2['df']} df (p {m2['p']:.4g}), RMSEA {m2['rmsea']:.4f} "
                f"[{m2['rmsea_ci'][0]:.4f}, {m2['rmsea_ci'][1]:.4f}], SRMSR {m2['srmsr']:.4f}, "
                f"CFI {_number(m2['cfi'])}, TLI {_number(m2['tli'])} ({m2['n_persons']:,} complete users)"
            ]
        else:
            lines = [f"  M2 not computed: {m2['reason']}"]
        item, person = self.item_fit, self.person_fit
        lines.append(
            f"  item fit: infit median {_median(item, 'infit')}, outfit median {_median(item, 'outfit')}, "
            f"{item['n_abs_z_infit_above_1.96']} item(s) with |t infit| > 1.96, "
            f"{item['n_abs_z_outfit_above_1.96']} with |t outfit| > 1.96"
        )
        lines.append(
            f"  person fit: {person['n_zh_flagged']:,} user(s) with Zh < {person['zh_threshold']}, "
            f"{person['n_abs_z_outfit_above_1.96']:,} with |t outfit| > 1.96"
        )
        ld = self.local_dependence
        lines.append(
            f"  local dependence: {ld['ld_x2_n_pairs_above']} pair(s) with LD X2 > {ld['ld_x2_threshold']:g}, "
            f"{ld['q3_n_pairs_above']} with Q3 > {_number(ld['q3_threshold'])} (mean Q3 {_number(ld['q3_mean'])})"
        )
        rel = self.reliability
        text = f"  reliability: empirical {rel['empirical']:.3f}, marginal {rel['marginal']:.3f}"
        if "marginal_at_mean_answers" in rel:
            text += (
                f" (whole bank; {rel['marginal_at_mean_answers']:.3f} at the mean "
                f"{rel['mean_answers_per_user']:.1f} answers per user)"
            )
        lines.append(text)
        sums = self.sum_scores
        lines.append(
            f"  EAP-sum table: {len(sums['table'])} scores, reliability {sums['reliability']:.3f}"
            if sums.get("computed")
            else f"  EAP-sum table not computed: {sums['reason']}"
        )
        return lines


def _number(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _median(summary: Mapping[str, Any], name: str) -> str:
    values = summary.get(name)
    return "n/a" if not values else f"{values['median']:.3f}"


def not_computed(reason: str) -> dict[str, Any]:
    return {"computed": False, "reason": reason}


def fit_statistics(
    responses: Responses,
    items: ItemParameters,
    abilities: Abilities,
    *,
    population_mean: float = 0.0,
    population_sd: float = 1.0,
    model_fit: Mapping[str, Any] | None = None,
    ld_threshold: float = LD_X2_THRESHOLD,
    q3_excess: float = Q3_EXCESS,
) -> FitStatistics:
    """All statistics of ``items`` on ``responses`` at the users' ``abilities`` (aligned with
    ``responses.user_ids``). ``model_fit`` is M2's summary as the caller computed it (it needs the
    calibration's free parameters; see ``fit_report``)."""
    aligned = responses.aligned_to(items.item_id)
    p = pair_probabilities(aligned, items, abilities.theta)  # (P,): computed once for every statistic
    item_residuals, person_residuals = residual_fits_at(aligned, p)
    zh_items, zh_persons = zh_at(aligned, p)
    flagged = misfitting_persons(zh_persons)
    ld, q3 = local_dependence_at(
        aligned, items, p, population_mean=population_mean, population_sd=population_sd
    )
    return FitStatistics(
        model_fit=model_fit if model_fit is not None else not_computed("no calibration given"),
        item_fit=_residual_summary(item_residuals) | {"zh": _quantiles(zh_items)},
        person_fit=_residual_summary(person_residuals)
        | {"zh": _quantiles(zh_persons), "zh_threshold": -1.96, "n_zh_flagged": int(flagged.sum())},
        local_dependence=_ld_summary(ld.x2, q3, items.item_id, ld_threshold, q3_excess),
        reliability=_reliability(aligned, items, abilities, population_mean, population_sd),
        sum_scores=_sum_scores(aligned, items, population_mean, population_sd),
        item_table={"item_id": items.item_id, **_columns(item_residuals), "zh": zh_items},
        person_table={
            "user_id": aligned.user_ids,
            **_columns(person_residuals),
            "zh": zh_persons,
            "zh_flagged": flagged,
        },
    )


def _columns(fit: ResidualFit) -> dict[str, npt.NDArray[Any]]:
    return {
        "n_answers": fit.n.round().astype(np.int64),
        "infit": fit.infit,
        "z_infit": fit.z_infit,
        "outfit": fit.outfit,
        "z_outfit": fit.z_outfit,
    }


def _quantiles(values: FloatArray) -> dict[str, float] | None:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    return {"min": float(finite.min()), "median": float(np.median(finite)), "max": float(finite.max())}


def _residual_summary(fit: ResidualFit) -> dict[str, Any]:
    return fit.summary() | {"n_outside_0.7_1.3": int(np.sum((fit.infit < 0.7) | (fit.infit > 1.3)))}


def _ld_summary(
    x2: FloatArray, q3: FloatArray, item_id: npt.NDArray[Any], threshold: float, excess: float
) -> dict[str, Any]:
    off = ~np.eye(q3.shape[0], dtype=bool)
    finite = q3[off & np.isfinite(q3)]
    mean_q3 = float(finite.mean()) if finite.size else float("nan")
    ld_pairs = dependent_pairs(x2, threshold, item_id)
    q3_pairs = dependent_pairs(q3, mean_q3 + excess, item_id) if finite.size else []

    def listed(pairs: list[tuple[Any, Any, float]]) -> list[list[Any]]:
        return [[python_scalar(a), python_scalar(b), value] for a, b, value in pairs[:MAX_LISTED_PAIRS]]

    return {
        "ld_x2_threshold": threshold,
        "ld_x2_n_pairs_above": len(ld_pairs),
        "ld_x2_pairs": listed(ld_pairs),
        "q3_mean": mean_q3,
        "q3_threshold": mean_q3 + excess,
        "q3_n_pairs_above": len(q3_pairs),
        "q3_pairs": listed(q3_pairs),
    }


def _reliability(
    responses: Responses, items: ItemParameters, abilities: Abilities, mean: float, sd: float
) -> dict[str, Any]:
    answered = abilities.n_responses[abilities.n_responses > 0]
    mean_answers = float(answered.mean()) if answered.size else 0.0
    out: dict[str, Any] = {
        "empirical": empirical_reliability(abilities),
        "marginal": marginal_reliability(items, mean, sd),
    }
    if not responses.is_complete():
        out["marginal_at_mean_answers"] = marginal_reliability(items, mean, sd, answered=mean_answers)
        out["mean_answers_per_user"] = mean_answers
    return out


def complete_case_reason(responses: Responses, items: ItemParameters) -> str | None:
    """Why complete-data statistics cannot be computed (None when they can)."""
    if responses.is_complete():
        return None
    complete = complete_users(responses, items)
    if complete < COMPLETE_CASE_SHARE * responses.n_users or complete < 2:
        return (
            f"complete data only: {complete:,} of {responses.n_users:,} users answered every item "
            f"exactly once (fewer than {COMPLETE_CASE_SHARE:.0%})"
        )
    return None


def complete_users(responses: Responses, items: ItemParameters) -> int:
    """How many users answered every item of ``items`` exactly once (``complete_answers``' count,
    from the pairs: no dense users × items matrix)."""
    pairs = responses.aligned_to(items.item_id).pairs
    once = np.bincount(pairs.user[pairs.n_total == 1], minlength=responses.n_users)
    return int(np.count_nonzero(once == len(items)))


def _sum_scores(responses: Responses, items: ItemParameters, mean: float, sd: float) -> dict[str, Any]:
    from dreamseed.irt.sum_scores import MAX_ITEMS, eap_sum_table

    if len(items) > MAX_ITEMS:
        return not_computed(f"more than {MAX_ITEMS} items")
    reason = complete_case_reason(responses, items)
    if reason is not None:
        return not_computed(reason)
    return {"computed": True} | eap_sum_table(responses, items, mean=mean, sd=sd).summary()
