"""IRT engine: 1PL/2PL/3PL calibration by marginal maximum likelihood on sparse data, scoring,
linking, fit and drift. Pure numpy/scipy: no database, network, clock or environment.

Typical use::

    responses = Responses.from_long(df.user_id, df.item_id, df.correct)
    cal = calibrate(responses, "2PL", fixed_items=previous_items)
    topic_theta = score(responses, cal.items.subset(topic_item_ids))   # EAP per topic
"""

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
