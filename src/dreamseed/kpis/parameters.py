"""Settings the KPI formulas take, as one frozen value built by the caller (never read from the env)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PMethod = Literal["trend_or_static", "static", "trend"]
P_METHODS: tuple[PMethod, ...] = ("trend_or_static", "static", "trend")


@dataclass(frozen=True)
class KpiParameters:
    """Parameters of the KPI formulas (DESIGN §5); defaults are the original's settings.

    Attributes:
        churn_horizon_days: H in S's days-since-last term (`METRICS_CHURN_HORIZON_DAYS`, 14).
        default_target: θ* for users without a goal (`METRICS_DEFAULT_TARGET`, 0.0).
        use_theta: allow I_t's θ mode (`METRICS_USE_IRT_THETA`, true); false forces accuracy mode.
        process_noise_per_day: q, the random-walk variance of θ per day (θ²/day) added to the
            trend projection's variance: σ_T² = s_now² + Δt²·Var(β̂) + q·Δt. Default 0.001
            (a θ standard deviation of about 0.17 over 30 days).
        p_method: which form fills the column P: "trend_or_static" (the trend form when it is
            available, else the static one), "static" or "trend" (null where unavailable).
        trend_lookback_days: how many days of θ history (ending at as_of) the θ trend uses;
            None = all history up to as_of.
    """

    churn_horizon_days: int = 14
    default_target: float = 0.0
    use_theta: bool = True
    process_noise_per_day: float = 0.001
    p_method: PMethod = "trend_or_static"
    trend_lookback_days: int | None = None

    def __post_init__(self) -> None:
        if self.churn_horizon_days <= 0:
            raise ValueError(f"churn_horizon_days must be positive, got {self.churn_horizon_days}")
        if not self.process_noise_per_day >= 0:
            raise ValueError(f"process_noise_per_day must be >= 0, got {self.process_noise_per_day}")
        if self.p_method not in P_METHODS:
            raise ValueError(f"p_method must be one of {P_METHODS}, got {self.p_method!r}")
        if self.trend_lookback_days is not None and self.trend_lookback_days < 1:
            raise ValueError(f"trend_lookback_days must be None or >= 1, got {self.trend_lookback_days}")
