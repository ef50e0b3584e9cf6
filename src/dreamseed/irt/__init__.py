"""IRT engine: 1PL/2PL/3PL calibration by marginal maximum likelihood on sparse data, scoring,
linking, fit and drift. Pure numpy/scipy: no database, network, clock or environment.

Typical use::

    responses = Responses.from_long(df.user_id, df.item_id, df.correct)
    cal = calibrate(responses, "2PL", fixed_items=previous_items)
    topic_theta = score(responses, cal.items.subset(topic_item_ids))   # EAP per topic
"""

from dreamseed.irt.calibration import MODELS, Calibration, calibrate
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
from dreamseed.irt.loglik import marginal_loglik
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
from dreamseed.irt.scoring import METHODS, AbilityEstimate, OnlineScorer, score, score_by_group
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
    "LogNormalPrior",
    "NormalPrior",
    "OnlineScorer",
    "ParameterDrift",
    "Priors",
    "QuadratureGrid",
    "Responses",
    "SimulatedData",
    "calibrate",
    "empirical_reliability",
    "item_fit",
    "log_likelihood_by_user",
    "marginal_loglik",
    "mean_sigma_linking",
    "mirt_grid",
    "parameter_drift",
    "probability_correct",
    "score",
    "score_by_group",
    "scoring_grid",
    "simulate_items",
    "simulate_responses",
    "stocking_lord_linking",
    "transform_abilities",
    "transform_items",
]
