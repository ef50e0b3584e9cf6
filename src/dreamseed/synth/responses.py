"""What happens inside a session: its size and topics, which items, right or wrong, how long, hints."""

from __future__ import annotations

import dataclasses

import numpy as np

from dreamseed.irt.parameters import probability_correct
from dreamseed.synth.config import SynthModel
from dreamseed.synth.items import ItemBank
from dreamseed.synth.students import Students, theta_at

ALTERNATIVE_KEY_SHARE = 0.2  # share of question objects that say `correct` instead of `is_correct`
MIN_SECONDS, MAX_SECONDS = 2.0, 900.0
SESSION_TARGET_NOISE_SD = 0.3


@dataclasses.dataclass(frozen=True)
class SessionAnswers:
    """The questions of S sessions, grouped by session in session order.

    `size` is (S,); the other arrays are (Q,), Q = size.sum(): `session` (index 0..S−1), `item`
    (bank index), `correct`, `time_tenths` (int, tenths of a second), `hints` (count),
    `alternative_key` (True: the object uses `correct` rather than `is_correct`), `theta`
    (true θ when answering) and `p_correct` (its 3PL probability).
    """

    size: np.ndarray
    session: np.ndarray
    item: np.ndarray
    correct: np.ndarray
    time_tenths: np.ndarray
    hints: np.ndarray
    alternative_key: np.ndarray
    theta: np.ndarray
    p_correct: np.ndarray


def answer_sessions(
    user: np.ndarray,
    day: np.ndarray,
    stop_day: np.ndarray,
    students: Students,
    bank: ItemBank,
    model: SynthModel,
    rng: np.random.Generator,
) -> SessionAnswers:
    """Simulate S sessions of `user` (S,) at fractional `day` (S,) (days since the period start)."""
    first, second = _session_topics(user, students, model, rng)
    size = _session_sizes(
        user.size, two_topics=second >= 0, per_topic=bank.items_per_topic, model=model, rng=rng
    )
    theta = theta_at(students, stop_day, day, who=user)
    lagged = theta_at(students, stop_day, day - model.selection_lag_days, who=user)
    target = lagged + students.selection_bias[user] + rng.normal(0.0, SESSION_TARGET_NOISE_SD, user.size)
    item = _pick_items(size, first, second, target, bank, rng)
    session = np.repeat(np.arange(user.size), size)
    q_theta, q_user = theta[session], user[session]
    p_correct = probability_correct(q_theta, bank.a[item], bank.b[item], bank.c[item])
    correct = rng.random(item.size) < p_correct
    harder = bank.b[item] - q_theta
    return SessionAnswers(
        size=size,
        session=session,
        item=item,
        correct=correct,
        time_tenths=_time_tenths(harder, q_theta, correct, students.speed[q_user], model, rng),
        hints=_hints(harder, students.hint_propensity[q_user], model, rng),
        alternative_key=rng.random(item.size) < ALTERNATIVE_KEY_SHARE,
        theta=q_theta.astype(np.float32),
        p_correct=p_correct.astype(np.float32),
    )


def _session_topics(
    user: np.ndarray, students: Students, model: SynthModel, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """First topic (S,) and second topic (S,), −1 for one-topic sessions; drawn from interests."""
    cdf = students.topic_cdf[user]
    first = (cdf < 1.0 - rng.random(user.size)[:, None]).sum(axis=1)
    second = (cdf < 1.0 - rng.random(user.size)[:, None]).sum(axis=1)
    two = (rng.random(user.size) < model.two_topic_share) & (second != first)
    return first, np.where(two, second, -1)


def _session_sizes(
    count: int, two_topics: np.ndarray, per_topic: int, model: SynthModel, rng: np.random.Generator
) -> np.ndarray:
    """Questions per session: common fixed lengths or uniform 5–40, capped by the items available."""
    shares = np.asarray(model.fixed_session_shares)
    choice = np.searchsorted(np.cumsum(shares), rng.random(count), side="right")
    sizes = np.append(np.asarray(model.fixed_session_sizes), 0)[choice]
    sizes = np.where(choice == shares.size, rng.integers(5, 41, count), sizes)
    return np.minimum(sizes, np.where(two_topics, 2 * per_topic, per_topic)).astype(np.int64)


def _pick_items(
    size: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    target: np.ndarray,
    bank: ItemBank,
    rng: np.random.Generator,
) -> np.ndarray:
    """Distinct items per session, grouped by session (first topic's block, then the second's).

    Each (session, topic) block of m questions takes m distinct items at random from the
    window of the m + m/2 + 5 items whose b is nearest the session's target.
    """
    per_topic = bank.items_per_topic
    part_two = np.where(second >= 0, size // 2, 0)
    part_sizes = np.stack([size - part_two, part_two], axis=1).ravel()
    part_topics = np.stack([first, np.maximum(second, 0)], axis=1).ravel()
    part_target = np.repeat(target, 2)
    keep = part_sizes > 0
    m, topic, centre = part_sizes[keep], part_topics[keep], part_target[keep]
    width = np.minimum(per_topic, m + m // 2 + 5)
    nearest = _nearest_position(bank.sorted_b, topic, centre)
    window_start = np.clip(nearest - width // 2, 0, per_topic - width)
    slot_part = np.repeat(np.arange(m.size), width)
    slot_offset = np.arange(slot_part.size) - np.repeat(np.cumsum(width) - width, width)
    order = np.argsort(slot_part + rng.random(slot_part.size), kind="stable")  # random order within parts
    chosen = order[slot_offset < m[slot_part]]
    position = window_start[slot_part[chosen]] + slot_offset[chosen]
    return bank.by_difficulty[topic[slot_part[chosen]], position]


def _nearest_position(sorted_b: np.ndarray, topic: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Index into each topic's b-sorted items of the item nearest `target` (one per element)."""
    spacing = 1000.0
    flat = (sorted_b + spacing * np.arange(sorted_b.shape[0])[:, None]).ravel()
    found = (
        np.searchsorted(flat, np.clip(target, -100.0, 100.0) + spacing * topic) - topic * sorted_b.shape[1]
    )
    return np.clip(found, 0, sorted_b.shape[1] - 1)


def _time_tenths(
    harder: np.ndarray,
    theta: np.ndarray,
    correct: np.ndarray,
    speed: np.ndarray,
    model: SynthModel,
    rng: np.random.Generator,
) -> np.ndarray:
    """Response time, tenths of a second: lognormal, slower on items above θ, faster with θ and when right."""
    log_seconds = (
        model.time_log_median
        + model.time_difficulty * harder
        + model.time_ability * theta
        + model.time_correct * correct
        + speed
        + rng.normal(0.0, model.time_noise_sd, harder.size)
    )
    seconds = np.clip(np.exp(log_seconds), MIN_SECONDS, MAX_SECONDS)
    return np.rint(seconds * 10.0).astype(np.int32)


def _hints(
    harder: np.ndarray, propensity: np.ndarray, model: SynthModel, rng: np.random.Generator
) -> np.ndarray:
    """Hints used per question (0–3): more likely on items harder than θ."""
    logit = model.hint_intercept + model.hint_difficulty * harder + propensity
    used = rng.random(harder.size) < 1.0 / (1.0 + np.exp(-logit))
    extra = rng.random(harder.size)
    return (used * (1 + (extra < 0.25) + (extra < 0.07))).astype(np.int8)
