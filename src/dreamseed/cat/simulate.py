"""Simulees with known θ through ``next_item``: answers drawn from the bank's 3PL.

Every step goes through the same ``next_item`` the service uses, so what is measured is what is
served. Randomness (answers and exposure control) only from the passed-in Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.cat.bank import ItemBank
from dreamseed.cat.information import item_probability
from dreamseed.cat.policy import Policy
from dreamseed.cat.session import Answer, next_item

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class SimulationTrace:
    """Per simulee (N) and step (L = policy.max_items): ``items`` served (N, L), −1 after the stop;
    ``correct`` (N, L); ``theta_hat`` and ``se`` after l + 1 answers (N, L), carried forward after
    the stop; ``length`` (N,); ``stop_reason`` (N,); ``examined`` (J,) how often each item was a
    candidate (Sympson–Hetter: drawn for its lottery), ``administered`` (J,) how often served."""

    theta: FloatArray
    items: IntArray
    correct: npt.NDArray[np.bool_]
    theta_hat: FloatArray
    se: FloatArray
    length: IntArray
    stop_reason: tuple[str, ...]
    examined: npt.NDArray[np.int64]
    administered: npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SimulationReport:
    """Summary of a simulation. Per test length l = 1 … L (arrays (L,)): θ ``rmse`` and ``bias``
    (estimate − truth, θ units). At the stop: mean SE, mean length. ``mean_length_to_se``: mean
    number of items until SE ≤ ``se_target`` among the ``share_reaching_se`` simulees that reached
    it (NaN if none). ``exposure_rates`` (J,): share of simulees served each item."""

    n_simulees: int
    rmse: FloatArray
    bias: FloatArray
    mean_se_at_stop: float
    mean_length: float
    se_target: float
    mean_length_to_se: float
    share_reaching_se: float
    exposure_rates: FloatArray
    max_exposure: float
    share_of_bank_used: float
    share_correct: float
    stop_reasons: dict[str, int]


def run_simulees(
    bank: ItemBank, theta: FloatArray, policy: Policy, rng: np.random.Generator
) -> SimulationTrace:
    """Run one adaptive session per true θ (shape (N,)) to its stop; see ``SimulationTrace``."""
    n, length = theta.size, policy.max_items
    items = np.full((n, length), -1, dtype=np.intp)
    correct = np.zeros((n, length), dtype=bool)
    theta_hat, se = np.zeros((n, length)), np.zeros((n, length))
    lengths, reasons = np.zeros(n, dtype=np.intp), []
    examined = np.zeros(len(bank), dtype=np.int64)
    for s in range(n):
        answers: list[Answer] = []
        ruled_out: set[int] = set()  # Sympson–Hetter rejections: out for the rest of the session
        while True:
            step = next_item(bank, answers, policy, rng, ruled_out)
            if answers:
                theta_hat[s, len(answers) - 1 :], se[s, len(answers) - 1 :] = step.theta, step.se
            if step.stop or step.item is None:
                reasons.append(step.stop_reason or "")
                break
            examined[list(step.examined)] += 1
            ruled_out.update(step.rejected)
            outcome = bool(rng.random() < item_probability_one(bank, step.item, float(theta[s])))
            items[s, len(answers)], correct[s, len(answers)] = step.item, outcome
            answers.append((step.item, outcome))
        lengths[s] = len(answers)
        if not answers:
            theta_hat[s], se[s] = step.theta, step.se
    administered = np.bincount(items[items >= 0], minlength=len(bank)).astype(np.int64)
    return SimulationTrace(
        theta, items, correct, theta_hat, se, lengths, tuple(reasons), examined, administered
    )


def item_probability_one(bank: ItemBank, item: int, theta: float) -> float:
    """P(correct | θ) of one item (the simulee's true response probability)."""
    a, b, c = bank.a[item], bank.b[item], bank.c[item]
    return float(c + (1.0 - c) / (1.0 + np.exp(-a * (theta - b))))


def simulate(
    bank: ItemBank, theta: FloatArray, policy: Policy, rng: np.random.Generator, se_target: float = 0.3
) -> SimulationReport:
    """Simulate one session per true θ (shape (N,)) and summarise (``SimulationReport``)."""
    return summarise(run_simulees(bank, np.asarray(theta, dtype=np.float64), policy, rng), se_target)


def summarise(trace: SimulationTrace, se_target: float = 0.3) -> SimulationReport:
    """The ``SimulationReport`` of a trace."""
    n = trace.theta.size
    error = trace.theta_hat - trace.theta[:, None]
    last = np.maximum(trace.length - 1, 0)
    se_at_stop = trace.se[np.arange(n), last]
    reached = (trace.se <= se_target) & (np.arange(trace.se.shape[1])[None, :] < trace.length[:, None])
    any_reached = reached.any(axis=1)
    first = np.argmax(reached, axis=1) + 1
    served = trace.items >= 0
    rates = trace.administered / max(n, 1)
    reasons: dict[str, int] = {}
    for reason in trace.stop_reason:
        reasons[reason] = reasons.get(reason, 0) + 1
    return SimulationReport(
        n_simulees=n,
        rmse=np.sqrt(np.mean(error**2, axis=0)),
        bias=np.mean(error, axis=0),
        mean_se_at_stop=float(np.mean(se_at_stop)),
        mean_length=float(np.mean(trace.length)),
        se_target=se_target,
        mean_length_to_se=float(np.mean(first[any_reached])) if any_reached.any() else float("nan"),
        share_reaching_se=float(np.mean(any_reached)),
        exposure_rates=rates,
        max_exposure=float(rates.max(initial=0.0)),
        share_of_bank_used=float(np.mean(trace.administered > 0)),
        share_correct=float(trace.correct[served].mean()) if served.any() else float("nan"),
        stop_reasons=reasons,
    )


__all__ = ["SimulationReport", "SimulationTrace", "item_probability", "run_simulees", "simulate", "summarise"]
