"""Item and person parameter values, the item characteristic curve, and priors.

Item parameters are reported in the IRT parametrisation

    P(correct | θ) = c + (1 − c) / (1 + exp(−a (θ − b)))

and estimated internally in the slope–intercept form z = a·θ + d (so b = −d / a) with the lower
asymptote on the logit scale, γ = logit(c).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.json_values import python_scalar

FloatArray = npt.NDArray[np.float64]

#: The smallest |a| used when converting an intercept into a difficulty, so b stays finite.
MIN_ABS_SLOPE = 1e-3


def _as_float_array(values: Any, length: int, name: str, default: float) -> FloatArray:
    if values is None:
        return np.full(length, default, dtype=np.float64)
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape != (length,):
        raise ValueError(f"{name} has {array.size} values; expected {length} (one per item)")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


@dataclass(frozen=True, eq=False)
class ItemParameters:
    """Parameters of J items: arrays of shape (J,), aligned with ``item_id``.

    ``se_*`` are standard errors (0 for parameters that were held fixed or not estimated, e.g. c in
    a 2PL). All values are finite.
    """

    item_id: npt.NDArray[Any]
    a: FloatArray
    b: FloatArray
    c: FloatArray
    se_a: FloatArray
    se_b: FloatArray
    se_c: FloatArray

    @classmethod
    def from_arrays(
        cls,
        item_id: Any,
        a: Any = None,
        b: Any = None,
        c: Any = None,
        se_a: Any = None,
        se_b: Any = None,
        se_c: Any = None,
    ) -> ItemParameters:
        """Build and validate; a defaults to 1, b and c to 0, standard errors to 0."""
        ids = np.asarray(item_id).reshape(-1)
        n = ids.size
        if len(set(ids.tolist())) != n:
            raise ValueError("item_id contains duplicates; give each item once")
        c_values = _as_float_array(c, n, "c", 0.0)
        if np.any((c_values < 0) | (c_values >= 1)):
            raise ValueError("c must lie in [0, 1)")
        return cls(
            item_id=ids,
            a=_as_float_array(a, n, "a", 1.0),
            b=_as_float_array(b, n, "b", 0.0),
            c=c_values,
            se_a=_as_float_array(se_a, n, "se_a", 0.0),
            se_b=_as_float_array(se_b, n, "se_b", 0.0),
            se_c=_as_float_array(se_c, n, "se_c", 0.0),
        )

    def __len__(self) -> int:
        return int(self.item_id.size)

    @property
    def d(self) -> FloatArray:
        """Intercepts d = −a·b, shape (J,)."""
        return -self.a * self.b

    def subset(self, item_ids: Any) -> ItemParameters:
        """The items whose id is in ``item_ids`` (ids not present are ignored), in this order."""
        wanted = set(np.asarray(item_ids).reshape(-1).tolist())
        keep = np.array([i in wanted for i in self.item_id.tolist()], dtype=bool)
        return self.take(np.flatnonzero(keep))

    def take(self, index: npt.NDArray[np.intp]) -> ItemParameters:
        """Items at positions ``index``."""
        return ItemParameters(
            item_id=self.item_id[index],
            a=self.a[index],
            b=self.b[index],
            c=self.c[index],
            se_a=self.se_a[index],
            se_b=self.se_b[index],
            se_c=self.se_c[index],
        )

    def positions(self, item_ids: Any) -> npt.NDArray[np.intp]:
        """Position of each id of ``item_ids`` in this set, −1 where absent; shape (len(item_ids),)."""
        lookup = {item: k for k, item in enumerate(self.item_id.tolist())}
        ids = np.asarray(item_ids).reshape(-1).tolist()
        return np.fromiter((lookup.get(i, -1) for i in ids), dtype=np.intp, count=len(ids))

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per item (item_id, a, b, c, se_a, se_b, se_c) with plain Python values."""
        columns = ("a", "b", "c", "se_a", "se_b", "se_c")
        values = [getattr(self, name).tolist() for name in columns]
        return [
            {
                "item_id": python_scalar(item),
                **{name: column[k] for name, column in zip(columns, values, strict=True)},
            }
            for k, item in enumerate(self.item_id.tolist())
        ]


@dataclass(frozen=True, eq=False)
class Abilities:
    """Ability estimates of N users: arrays of shape (N,), aligned with ``user_id``.

    ``theta`` is on the calibration's scale, ``se`` is the posterior SD (EAP) or the standard error
    (MAP, ML); ``n_responses`` counts the responses that entered each estimate (0 means the estimate
    is the prior: mean and SD of the population).
    """

    user_id: npt.NDArray[Any]
    theta: FloatArray
    se: FloatArray
    n_responses: npt.NDArray[np.int64]
    method: str = "EAP"

    def __len__(self) -> int:
        return int(self.user_id.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per user (user_id, theta, se) with plain Python values."""
        return [
            {"user_id": python_scalar(u), "theta": t, "se": s}
            for u, t, s in zip(self.user_id.tolist(), self.theta.tolist(), self.se.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) prior on the lower asymptote c; mode (alpha−1)/(alpha+beta−2)."""

    alpha: float = 5.0
    beta: float = 17.0

    def __post_init__(self) -> None:
        if not (self.alpha >= 1 and self.beta >= 1):
            raise ValueError("the Beta prior on c needs alpha >= 1 and beta >= 1 (a finite mode)")

    @property
    def mode(self) -> float:
        total = self.alpha + self.beta - 2
        return 0.0 if total == 0 else (self.alpha - 1) / total


@dataclass(frozen=True)
class LogNormalPrior:
    """log(a) ~ Normal(mean_log, sd_log²), a prior on the slope a."""

    mean_log: float = 0.0
    sd_log: float = 0.5


@dataclass(frozen=True)
class NormalPrior:
    """b ~ Normal(mean, sd²), a prior on the difficulty b."""

    mean: float = 0.0
    sd: float = 2.0


@dataclass(frozen=True)
class Priors:
    """Item priors for Bayes-modal (MAP) estimation of item parameters.

    Defaults: Beta(5, 17) on c (the BILOG-MG convention for five-option items: mode 0.2), used only
    by the 3PL; no prior on a or b (pure marginal maximum likelihood, as R mirt). Pass
    ``Priors(c=None)`` for an unpenalised 3PL.
    """

    c: BetaPrior | None = BetaPrior()
    a: LogNormalPrior | None = None
    b: NormalPrior | None = None


def probability_correct(theta: npt.ArrayLike, a: Any, b: Any, c: Any = 0.0) -> FloatArray:
    """P(correct | θ) = c + (1 − c) σ(a(θ − b)); numpy broadcasting over all arguments."""
    z = np.asarray(a, dtype=np.float64) * (np.asarray(theta, dtype=np.float64) - np.asarray(b))
    return np.asarray(c + (1.0 - np.asarray(c)) / (1.0 + np.exp(-z)), dtype=np.float64)


def difficulty_from_intercept(a: FloatArray, d: FloatArray) -> FloatArray:
    """b = −d / a with |a| floored at MIN_ABS_SLOPE so b stays finite; shape of ``a``."""
    safe = np.where(a >= 0, np.maximum(a, MIN_ABS_SLOPE), np.minimum(a, -MIN_ABS_SLOPE))
    return np.asarray(-d / safe, dtype=np.float64)
