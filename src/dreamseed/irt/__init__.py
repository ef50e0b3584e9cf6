"""IRT engine: 1PL/2PL/3PL calibration by marginal maximum likelihood on sparse data, scoring,
linking, fit and drift. Pure numpy/scipy: no database, network, clock or environment.

Typical use::

    responses = Responses.from_long(df.user_id, df.item_id, df.correct)
    cal = calibrate(responses, "2PL", fixed_items=previous_items)
    topic_theta = score(responses, cal.items.subset(topic_item_ids))   # EAP per topic

Names are imported on first use (PEP 562): ``from dreamseed.irt import calibrate`` loads only
what calibrating needs (``dreamseed irt fit`` skips DIF, linking, model fit, local dependence and
simulation at start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dreamseed.irt.calibration import MODELS, Calibration, calibrate
    from dreamseed.irt.dif import WaldDIF, benjamini_hochberg, wald_dif
    from dreamseed.irt.drift import ParameterDrift, parameter_drift
    from dreamseed.irt.em import IterationInfo
    from dreamseed.irt.estep import log_likelihood_by_user
    from dreamseed.irt.fit import ItemFit, empirical_reliability, item_fit
    from dreamseed.irt.linking import (
        LinkingConstants,
        mean_sigma_linking,
        stocking_lord_linking,
        transform_abilities,
        transform_items,
    )
    from dreamseed.irt.local_dependence import LocalDependence, dependent_pairs, ld_x2, yen_q3
    from dreamseed.irt.loglik import marginal_loglik
    from dreamseed.irt.model_fit import ModelFit, calibration_fit, m2_fit
    from dreamseed.irt.parameters import (
        Abilities,
        BetaPrior,
        ItemParameters,
        LogNormalPrior,
        NormalPrior,
        Priors,
        probability_correct,
    )
    from dreamseed.irt.quadrature import QuadratureGrid, mirt_grid, scoring_grid
    from dreamseed.irt.responses import Responses
    from dreamseed.irt.scoring import METHODS, AbilityEstimate, OnlineScorer, score
    from dreamseed.irt.simulate import SimulatedData, simulate_items, simulate_responses

_MODULES = {
    "Abilities": "dreamseed.irt.parameters",
    "AbilityEstimate": "dreamseed.irt.scoring",
    "BetaPrior": "dreamseed.irt.parameters",
    "Calibration": "dreamseed.irt.calibration",
    "ItemFit": "dreamseed.irt.fit",
    "ItemParameters": "dreamseed.irt.parameters",
    "IterationInfo": "dreamseed.irt.em",
    "LinkingConstants": "dreamseed.irt.linking",
    "LocalDependence": "dreamseed.irt.local_dependence",
    "LogNormalPrior": "dreamseed.irt.parameters",
    "METHODS": "dreamseed.irt.scoring",
    "MODELS": "dreamseed.irt.calibration",
    "ModelFit": "dreamseed.irt.model_fit",
    "NormalPrior": "dreamseed.irt.parameters",
    "OnlineScorer": "dreamseed.irt.scoring",
    "ParameterDrift": "dreamseed.irt.drift",
    "Priors": "dreamseed.irt.parameters",
    "QuadratureGrid": "dreamseed.irt.quadrature",
    "Responses": "dreamseed.irt.responses",
    "SimulatedData": "dreamseed.irt.simulate",
    "WaldDIF": "dreamseed.irt.dif",
    "benjamini_hochberg": "dreamseed.irt.dif",
    "calibrate": "dreamseed.irt.calibration",
    "calibration_fit": "dreamseed.irt.model_fit",
    "dependent_pairs": "dreamseed.irt.local_dependence",
    "empirical_reliability": "dreamseed.irt.fit",
    "item_fit": "dreamseed.irt.fit",
    "ld_x2": "dreamseed.irt.local_dependence",
    "log_likelihood_by_user": "dreamseed.irt.estep",
    "m2_fit": "dreamseed.irt.model_fit",
    "marginal_loglik": "dreamseed.irt.loglik",
    "mean_sigma_linking": "dreamseed.irt.linking",
    "mirt_grid": "dreamseed.irt.quadrature",
    "parameter_drift": "dreamseed.irt.drift",
    "probability_correct": "dreamseed.irt.parameters",
    "score": "dreamseed.irt.scoring",
    "scoring_grid": "dreamseed.irt.quadrature",
    "simulate_items": "dreamseed.irt.simulate",
    "simulate_responses": "dreamseed.irt.simulate",
    "stocking_lord_linking": "dreamseed.irt.linking",
    "transform_abilities": "dreamseed.irt.linking",
    "transform_items": "dreamseed.irt.linking",
    "wald_dif": "dreamseed.irt.dif",
    "yen_q3": "dreamseed.irt.local_dependence",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "METHODS",
    "MODELS",
    "Abilities",
    "AbilityEstimate",
    "BetaPrior",
    "Calibration",
    "ItemFit",
    "ItemParameters",
    "IterationInfo",
    "LinkingConstants",
    "LocalDependence",
    "LogNormalPrior",
    "ModelFit",
    "NormalPrior",
    "OnlineScorer",
    "ParameterDrift",
    "Priors",
    "QuadratureGrid",
    "Responses",
    "SimulatedData",
    "WaldDIF",
    "benjamini_hochberg",
    "calibrate",
    "calibration_fit",
    "dependent_pairs",
    "empirical_reliability",
    "item_fit",
    "ld_x2",
    "log_likelihood_by_user",
    "m2_fit",
    "marginal_loglik",
    "mean_sigma_linking",
    "mirt_grid",
    "parameter_drift",
    "probability_correct",
    "score",
    "scoring_grid",
    "simulate_items",
    "simulate_responses",
    "stocking_lord_linking",
    "transform_abilities",
    "transform_items",
    "wald_dif",
    "yen_q3",
]
