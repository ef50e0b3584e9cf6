"""How the next item is chosen and when a session stops: one frozen value per session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from dreamseed.cat.errors import InvalidPolicyError

Kind = Literal["test", "practice"]
Exposure = Literal["none", "randomesque", "sympson-hetter"]
Estimator = Literal["auto", "EAP", "MAP"]
KINDS = ("test", "practice")
EXPOSURES = ("none", "randomesque", "sympson-hetter")
ESTIMATORS = ("auto", "EAP", "MAP")


@dataclass(frozen=True, eq=False)
class Policy:
    """A selection policy.

    - ``kind``: ``test`` picks the item of maximum Fisher information at the current θ;
      ``practice`` the unseen item whose P(correct) is closest to ``target_p``.
    - ``topic`` restricts the session to one topic; ``topic_shares`` (topic → target share, summing
      to 1) balances content: each item comes from the topic furthest below its share.
    - ``excluded``: item indices never served (answered within N days, retired, anchors kept aside).
    - ``exposure``: ``randomesque`` picks uniformly among the ``randomesque_k`` best items;
      ``sympson-hetter`` accepts a candidate with probability ``exposure_parameters[i]`` (shape
      (J,), from ``sympson_hetter_parameters``), else tries the next best.
    - stopping: SE ≤ ``se_stop`` (None: never), ``max_items`` answers, or (``test``) no eligible
      item with information ≥ ``min_information`` (1/θ²).
    - ``estimator``: ``auto`` = EAP until the answers hold both a right and a wrong one, then MAP.
    - ``prior_mean``: where the session starts (θ units): the mean of the N(prior_mean, 1) prior of
      EAP/MAP, so also θ before the first answer. 0 is the population prior; the service passes
      the student's stored θ when there is one.
    """

    kind: Kind = "test"
    target_p: float = 0.7
    topic: str | None = None
    topic_shares: Mapping[str, float] = field(default_factory=dict)
    excluded: frozenset[int] = frozenset()
    exposure: Exposure = "none"
    randomesque_k: int = 5
    exposure_parameters: npt.NDArray[np.float64] | None = None
    se_stop: float | None = 0.3
    max_items: int = 20
    min_information: float = 0.01
    estimator: Estimator = "auto"
    prior_mean: float = 0.0

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, KINDS)
        _check_choice("exposure", self.exposure, EXPOSURES)
        _check_choice("estimator", self.estimator, ESTIMATORS)
        if not 0.0 < self.target_p < 1.0:
            raise InvalidPolicyError(f"target_p must lie in (0, 1), not {self.target_p}")
        if self.max_items < 1 or self.randomesque_k < 1:
            raise InvalidPolicyError("max_items and randomesque_k must be at least 1")
        if self.se_stop is not None and self.se_stop <= 0:
            raise InvalidPolicyError(f"se_stop must be positive (or None), not {self.se_stop}")
        if not -6.0 <= self.prior_mean <= 6.0:
            raise InvalidPolicyError(f"prior_mean must lie in [-6, 6] (θ units), not {self.prior_mean}")
        if self.min_information < 0:
            raise InvalidPolicyError(f"min_information must be >= 0, not {self.min_information}")
        object.__setattr__(self, "topic_shares", _checked_shares(self.topic_shares, self.topic))
        object.__setattr__(self, "excluded", frozenset(int(i) for i in self.excluded))
        if self.exposure == "sympson-hetter":
            object.__setattr__(self, "exposure_parameters", _checked_parameters(self.exposure_parameters))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidPolicyError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _checked_shares(shares: Mapping[str, float], topic: str | None) -> Mapping[str, float]:
    if not shares:
        return MappingProxyType({})
    if topic is not None:
        raise InvalidPolicyError("give either topic or topic_shares, not both")
    values = np.array(list(shares.values()), dtype=np.float64)
    if np.any(~np.isfinite(values)) or np.any(values < 0) or abs(values.sum() - 1.0) > 1e-6:
        raise InvalidPolicyError(f"topic_shares must be non-negative and sum to 1, not {dict(shares)}")
    return MappingProxyType({str(k): float(v) for k, v in shares.items()})


def _checked_parameters(parameters: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64]:
    if parameters is None:
        raise InvalidPolicyError("sympson-hetter needs exposure_parameters (see sympson_hetter_parameters)")
    k = np.asarray(parameters, dtype=np.float64).reshape(-1)
    if np.any(~np.isfinite(k)) or np.any((k < 0) | (k > 1)):
        raise InvalidPolicyError("exposure_parameters must lie in [0, 1]")
    k.setflags(write=False)
    return k
