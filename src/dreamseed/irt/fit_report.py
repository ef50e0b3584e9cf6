"""The fit report of a calibration: its figures, reliability, item fit, drift, linking, how its
standard errors were computed and the bank-quality statistics (``fit_statistics``: M2/RMSEA/SRMSR/
CFI/TLI, infit/outfit, Zh, LD X2, Q3, marginal and empirical reliability, EAP-sum), as one frozen
value built by ``fit_report``.

``dreamseed irt fit`` (fit.json), the mirt-calibrate job (mirt_fit_meta.metrics) and
``POST /irt/calibrate`` (fit_meta.metrics) all build their report here and only choose which parts
they show and under which keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dreamseed.irt.covariance import ParameterCovariance
from dreamseed.irt.drift import parameter_drift
from dreamseed.irt.fit import empirical_reliability, item_fit
from dreamseed.irt.fit_statistics import FitStatistics, complete_case_reason, fit_statistics, not_computed
from dreamseed.irt.parameters import Abilities, ItemParameters
from dreamseed.irt.responses import Responses
from dreamseed.irt.scoring import score

FIGURE_NAMES = ("loglik", "log_posterior", "aic", "bic", "n_parameters", "iterations", "converged")


@dataclass(frozen=True)
class CalibrationFigures:
    """The figures of one calibration run, in-process or remote (``None`` when not reported).

    ``engine_settings`` is the engine's settings (grid, priors, tolerances); ``other`` holds any
    further figures a remote service reported, passed on as given.
    """

    loglik: float | None = None
    log_posterior: float | None = None
    aic: float | None = None
    bic: float | None = None
    n_parameters: int | None = None
    iterations: int | None = None
    converged: bool | None = None
    engine_settings: Mapping[str, Any] | None = None
    other: Mapping[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = FIGURE_NAMES  # the FIGURE_NAMES that were reported

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> CalibrationFigures:
        """From ``Calibration.summary()`` (in-process)."""
        return cls(**{name: summary[name] for name in FIGURE_NAMES}, engine_settings=summary["settings"])

    @classmethod
    def from_reported(cls, reported: Mapping[str, Any]) -> CalibrationFigures:
        """From a service's ``fit_meta.metrics`` (without ``population``): known names become
        fields, the rest ``other``."""
        known = {name: reported[name] for name in FIGURE_NAMES if name in reported}
        other = {k: v for k, v in reported.items() if k not in (*FIGURE_NAMES, "engine_settings")}
        settings = reported.get("engine_settings")
        return cls(**known, engine_settings=settings, other=other, names=tuple(known))

    def as_dict(self) -> dict[str, Any]:
        """The reported figures by name (in-process: all of FIGURE_NAMES; remote: as sent)."""
        return {name: getattr(self, name) for name in self.names} | dict(self.other)


@dataclass(frozen=True)
class StandardErrorInfo:
    """How the item standard errors were computed: ``method`` ("full" or "block-diagonal"), the
    number of parameters and the condition number of the information matrix."""

    method: str
    n_parameters: int
    condition_number: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_parameters": self.n_parameters,
            "condition_number": self.condition_number,
        }


@dataclass(frozen=True)
class FitReport:
    """A calibration's report. ``item_fit`` and ``drift`` are the JSON-ready summaries of
    ``ItemFit`` and ``ParameterDrift`` (None when not computed); ``linking`` the linking constants
    (None when there are none); ``standard_errors`` None without a full covariance; ``statistics``
    the bank-quality statistics of ``fit_statistics`` (None unless computed)."""

    figures: CalibrationFigures
    population_mean: float
    population_sd: float
    reliability: float
    item_fit: Mapping[str, Any] | None
    drift: Mapping[str, Any] | None
    mean_abs_delta_b: float | None
    linking: Mapping[str, Any] | None
    standard_errors: StandardErrorInfo | None
    #: model fit, item/person fit, local dependence, reliability, EAP-sum (None when not computed)
    statistics: FitStatistics | None = None
    dif: Mapping[str, Any] | None = None  # dif_report.DifSection.as_dict(), when groups were tested

    @property
    def population(self) -> dict[str, float]:
        return {"mean": self.population_mean, "sd": self.population_sd}


class FittedScale(Protocol):
    """What a report is built from (a ``Calibration``, or a job's result on the scale it writes):
    the items and abilities, and the population mean and SD."""

    @property
    def items(self) -> ItemParameters: ...
    @property
    def abilities(self) -> Abilities: ...
    @property
    def population_mean(self) -> float: ...
    @property
    def population_sd(self) -> float: ...


@dataclass(frozen=True, eq=False)
class ScaledItems:
    """A FittedScale from its parts (e.g. a calibration after linking moved it onto another scale)."""

    items: ItemParameters
    abilities: Abilities
    population_mean: float
    population_sd: float


def fit_report(
    fitted: FittedScale,
    figures: CalibrationFigures,
    *,
    fit_responses: Responses | None = None,
    fit_abilities: bool = True,
    model: str | None = None,
    drift_reference: ItemParameters | None = None,
    drift_items: ItemParameters | None = None,
    linking: Mapping[str, Any] | None = None,
    covariance: ParameterCovariance | None = None,
    dif: Mapping[str, Any] | None = None,
    statistics: bool = True,
) -> FitReport:
    """The report of ``fitted``.

    Item fit is computed when ``fit_responses`` is given (with the run's abilities, or EAP scores
    when ``fit_abilities`` is False; ``model`` sets the S-X2 df, see ``item_fit``). Drift compares
    ``drift_items`` (default: all items) with ``drift_reference`` when that is given. ``linking``
    is passed on as computed by the caller (its rule differs: applied, reported or refused), as is
    ``dif`` (``dif_report.dif_section(result).as_dict()``). With ``fit_responses`` and ``statistics``
    (default) the report carries ``FitStatistics``: M2 and friends where defined, infit/outfit, Zh,
    LD X2, Q3, reliability and the EAP-sum table.
    """
    fit = None
    if fit_responses is not None:
        abilities = fitted.abilities if fit_abilities else None
        fit = item_fit(fit_responses, fitted.items, abilities, model=model).summary()
    section = None
    if fit_responses is not None and statistics:
        section = _statistics(fitted, fit_responses, fit_abilities, model)
    drift, mean_abs_delta_b = None, None
    if drift_reference is not None:
        changes = parameter_drift(drift_reference, fitted.items if drift_items is None else drift_items)
        drift = changes.summary()
        mean_abs_delta_b = float(np.abs(changes.delta_b).mean()) if changes.delta_b.size else 0.0
    return FitReport(
        figures=figures,
        population_mean=fitted.population_mean,
        population_sd=fitted.population_sd,
        reliability=empirical_reliability(fitted.abilities),
        item_fit=fit,
        drift=drift,
        mean_abs_delta_b=mean_abs_delta_b,
        linking=linking,
        standard_errors=standard_error_info(covariance),
        statistics=section,
        dif=dif,
    )


def _statistics(
    fitted: FittedScale, responses: Responses, use_abilities: bool, model: str | None
) -> FitStatistics:
    """``fit_statistics`` at the run's abilities (when they are the responses' users) or EAP scores."""
    items = fitted.items
    abilities = fitted.abilities
    if not use_abilities or not np.array_equal(np.asarray(abilities.user_id), np.asarray(responses.user_ids)):
        abilities = score(responses, items, prior_mean=fitted.population_mean, prior_sd=fitted.population_sd)
    return fit_statistics(
        responses, items, abilities, population_mean=fitted.population_mean,
        population_sd=fitted.population_sd, model_fit=model_fit_summary(fitted, responses, model),
    )  # fmt: skip


def model_fit_summary(fitted: FittedScale, responses: Responses, model: str | None) -> dict[str, Any]:
    """M2, RMSEA, SRMSR, CFI/TLI where defined (complete data, or enough complete cases, and at most
    ``model_fit.MAX_MOMENTS`` moments); else ``{"computed": False, "reason": ...}``."""
    from dreamseed.irt.calibration import Calibration
    from dreamseed.irt.item_model import ItemModel, logit
    from dreamseed.irt.model_fit import MAX_MOMENTS, FitProblem, calibration_fit, m2_fit

    items = fitted.items
    j = len(items)
    if j < 3 or j + j * (j - 1) // 2 > MAX_MOMENTS:
        return not_computed(f"M2 needs 3 to about 62 items (MAX_MOMENTS={MAX_MOMENTS}); the bank has {j}")
    reason = complete_case_reason(responses, items)
    if reason is not None:
        return not_computed(reason)
    try:
        if isinstance(fitted, Calibration):
            result = calibration_fit(responses, fitted, incomplete="complete-cases")
        else:
            kind = ItemModel.named(model or ("3PL" if np.any(items.c > 0) else "2PL"))
            gamma = logit(np.where(items.c > 0, items.c, 0.5)) if kind.guessing else np.full(j, -np.inf)
            problem = FitProblem(items.a, items.d, gamma, np.ones(j, dtype=bool), kind,
                                 fitted.population_mean, fitted.population_sd)  # fmt: skip
            result = m2_fit(responses, items.item_id, problem, incomplete="complete-cases")
    except (ValueError, np.linalg.LinAlgError) as error:
        return not_computed(str(error))
    return {"computed": True} | result.summary()


def standard_error_info(covariance: ParameterCovariance | None) -> StandardErrorInfo | None:
    """The method and condition number of ``Calibration.covariance`` (None when it is absent)."""
    if covariance is None:
        return None
    return StandardErrorInfo(covariance.method, len(covariance.names), covariance.condition_number)
