"""Which items may come next (eligibility, content balance) and which of them is chosen.

Scores are "higher is better", shape (J,): Fisher information (``test``) or −|P − target|
(``practice``). Masks are boolean, shape (J,).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dreamseed.cat.bank import ItemBank
from dreamseed.cat.errors import InvalidPolicyError
from dreamseed.cat.policy import Policy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Eligibility:
    """Items that may be served next (``mask``, shape (J,)) and the content rule that applied."""

    mask: BoolArray
    note: str


@dataclass(frozen=True, eq=False)
class Choice:
    """The chosen item, how it was picked, and every item examined on the way (Sympson–Hetter
    candidates that were drawn and rejected before it, plus the item itself; shape (n,)).
    ``rejected`` (shape (m,)): the examined items whose Sympson–Hetter lottery failed, which the
    standard procedure rules out for the rest of the session."""

    item: int
    how: str
    examined: IntArray
    rejected: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.intp))


def eligible_items(
    bank: ItemBank, answered: IntArray, policy: Policy, ruled_out: IntArray | None = None
) -> Eligibility:
    """Unseen, not excluded items, restricted to the policy's topic or to the topic furthest below
    its target share (``answered``: item indices so far, shape (n,); ``ruled_out``: further item
    indices this session may not serve, e.g. Sympson–Hetter rejections, shape (m,))."""
    mask = np.ones(len(bank), dtype=bool)
    mask[answered] = False
    excluded = np.fromiter(policy.excluded, dtype=np.intp, count=len(policy.excluded))
    if ruled_out is not None and ruled_out.size:
        excluded = np.concatenate([excluded, ruled_out.astype(np.intp)])
    mask[excluded[(excluded >= 0) & (excluded < len(bank))]] = False
    if policy.topic is not None:
        mask &= bank.topic_code == bank.topic_index(policy.topic)
        return Eligibility(mask, f"topic {policy.topic}")
    if policy.topic_shares:
        return _balanced(bank, answered, policy, mask)
    return Eligibility(mask, "")


def _balanced(bank: ItemBank, answered: IntArray, policy: Policy, mask: BoolArray) -> Eligibility:
    codes = [bank.topic_index(topic) for topic in policy.topic_shares]
    counts = np.bincount(bank.topic_code[answered], minlength=len(bank.topics))
    available = np.bincount(bank.topic_code[mask], minlength=len(bank.topics))
    shares = np.array(list(policy.topic_shares.values()))
    deficit = shares * (answered.size + 1) - counts[codes]
    deficit = np.where((available[codes] > 0) & (shares > 0), deficit, -np.inf)
    best = int(np.argmax(deficit))
    if not np.isfinite(deficit[best]):
        return Eligibility(np.zeros_like(mask), "no topic of topic_shares has an eligible item left")
    code = codes[best]
    topic = bank.topics[code]
    note = f"topic {topic}: {counts[code]} of {answered.size} answered, target share {shares[best]:.2f}"
    return Eligibility(mask & (bank.topic_code == code), note)


def item_scores(policy: Policy, information: FloatArray, probability: FloatArray) -> FloatArray:
    """Higher-is-better score of each item, shape (J,)."""
    if policy.kind == "test":
        return information
    return -np.abs(probability - policy.target_p)


def choose_item(
    scores: FloatArray, mask: BoolArray, policy: Policy, rng: np.random.Generator | None
) -> Choice:
    """The best eligible item, or a random one of the k best (randomesque), or the best one that
    passes its Sympson–Hetter lottery. ``mask`` must have at least one True."""
    masked = np.where(mask, scores, -np.inf)
    if policy.exposure == "none":
        best = int(np.argmax(masked))
        return Choice(best, "best eligible item", np.array([best], dtype=np.intp))
    if rng is None:
        raise InvalidPolicyError(f"exposure control {policy.exposure!r} needs a numpy Generator (rng)")
    if policy.exposure == "randomesque":
        return _randomesque(masked, min(policy.randomesque_k, int(mask.sum())), rng)
    return _sympson_hetter(masked, mask, policy, rng)


def _randomesque(masked: FloatArray, k: int, rng: np.random.Generator) -> Choice:
    top = np.argpartition(masked, masked.size - k)[masked.size - k :]
    item = int(top[rng.integers(k)])
    return Choice(item, f"random among the {k} best", np.array([item], dtype=np.intp))


def _sympson_hetter(masked: FloatArray, mask: BoolArray, policy: Policy, rng: np.random.Generator) -> Choice:
    parameters = policy.exposure_parameters
    assert parameters is not None  # checked by Policy
    if parameters.size != masked.size:
        raise InvalidPolicyError(
            f"exposure_parameters has {parameters.size} values; the bank has {masked.size}"
        )
    accepted = rng.random(masked.size) < parameters
    candidates = np.where(accepted, masked, -np.inf)
    item = int(np.argmax(candidates))
    how = "best item passing its Sympson–Hetter lottery"
    if not np.isfinite(candidates[item]):
        item, how = int(np.argmax(masked)), "best eligible item (every Sympson–Hetter lottery failed)"
    examined = np.flatnonzero(mask & (masked >= masked[item]))
    rejected = examined[~accepted[examined]] if accepted[item] else np.empty(0, dtype=np.intp)
    return Choice(item, how, examined.astype(np.intp), rejected.astype(np.intp))
