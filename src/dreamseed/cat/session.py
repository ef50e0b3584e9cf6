"""The next item of an adaptive session: θ and SE from the answers so far, then policy and stop."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.cat.bank import ItemBank
from dreamseed.cat.errors import UnknownItemError
from dreamseed.cat.information import item_information, item_probability
from dreamseed.cat.policy import Policy
from dreamseed.cat.selection import Choice, choose_item, eligible_items, item_scores
from dreamseed.cat.stopping import stop_before_selection, stop_for_bank
from dreamseed.irt import ItemParameters, OnlineScorer

IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
Answer = tuple[int, bool]


@dataclass(frozen=True)
class NextItem:
    """What to serve next and why. ``item`` is a bank index (None when ``stop``); ``theta`` and
    ``se`` (θ units) are the estimate from the answers so far; ``information`` (1/θ²) and
    ``p_correct`` describe the chosen item at ``theta`` (NaN when stopping). ``examined``: the items
    drawn for a Sympson–Hetter lottery on the way (the chosen one included); ``rejected``: those
    whose lottery failed, which the caller passes back as ``ruled_out`` for the rest of the session
    (the standard procedure: a rejected item is not a candidate again in that session)."""

    item: int | None
    item_id: object
    reason: str
    theta: float
    se: float
    n_answered: int
    stop: bool
    stop_reason: str | None
    information: float = float("nan")
    p_correct: float = float("nan")
    examined: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()


def next_item(
    bank: ItemBank,
    answers: Sequence[Answer],
    policy: Policy,
    rng: np.random.Generator | None = None,
    ruled_out: Collection[int] = (),
) -> NextItem:
    """Choose the next item for a session with ``answers`` [(item index, correct), …] so far.

    ``rng`` is needed for randomesque and Sympson–Hetter exposure control; ``ruled_out`` holds the
    item indices this session may no longer serve (the ``rejected`` of its earlier steps). Raises
    ``UnknownItemError`` for an index outside the bank or answered twice, ``EmptyTopicError`` for
    a policy topic without items, ``InvalidPolicyError`` for a policy the bank cannot serve.
    """
    answered, correct = validated_answers(bank, answers)
    theta, se = estimate(bank, answered, correct, policy)
    n = int(answered.size)
    reason = stop_before_selection(n, se, policy)
    if reason is not None:
        return _stopped(theta, se, n, reason)
    excluded = np.fromiter(ruled_out, dtype=np.intp, count=len(ruled_out))
    eligibility = eligible_items(bank, answered, policy, excluded)
    p = item_probability(bank, theta)
    information = item_information(bank, theta, p)
    best = float(np.max(information, where=eligibility.mask, initial=0.0))
    reason = stop_for_bank(int(eligibility.mask.sum()), best, policy)
    if reason is not None:
        return _stopped(theta, se, n, reason)
    choice = choose_item(item_scores(policy, information, p), eligibility.mask, policy, rng)
    k = choice.item
    text = _reason(policy, choice, float(information[k]), float(p[k]), theta, eligibility.note)
    return NextItem(
        k, _plain(bank.items.item_id[k]), text, theta, se, n, False, None,
        float(information[k]), float(p[k]), tuple(choice.examined.tolist()), tuple(choice.rejected.tolist()),
    )  # fmt: skip


def validated_answers(bank: ItemBank, answers: Sequence[Answer]) -> tuple[IntArray, BoolArray]:
    """(item indices (n,), correct (n,)); UnknownItemError for indices outside 0 … J−1 or repeated."""
    index = np.empty(len(answers), dtype=np.intp)
    correct = np.empty(len(answers), dtype=bool)
    for k, answer in enumerate(answers):
        item, outcome = _answer_pair(answer, k)
        if not 0 <= item < len(bank):
            raise UnknownItemError(f"answer {k}: item index {item} is not in the bank (0 … {len(bank) - 1})")
        index[k], correct[k] = item, outcome
    if np.unique(index).size != index.size:
        repeated = sorted({int(i) for i in index if np.count_nonzero(index == i) > 1})
        raise UnknownItemError(f"item(s) {repeated} answered more than once in one session")
    return index, correct


def _answer_pair(answer: object, k: int) -> tuple[int, bool]:
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        raise UnknownItemError(f"answer {k}: expected (item index, correct), got {answer!r}")
    item, outcome = answer
    if isinstance(item, bool) or not isinstance(item, int | np.integer):
        raise UnknownItemError(f"answer {k}: item index must be an integer, got {item!r}")
    if not isinstance(outcome, bool | np.bool_) and outcome not in (0, 1):
        raise UnknownItemError(f"answer {k}: correct must be true/false or 0/1, got {outcome!r}")
    return int(item), bool(outcome)


def estimate(bank: ItemBank, answered: IntArray, correct: BoolArray, policy: Policy) -> tuple[float, float]:
    """θ and SE from the answers: EAP (posterior SD), or MAP once both outcomes occur (``auto``),
    with the prior N(``policy.prior_mean``, 1); no answers give (prior_mean, 1)."""
    mixed = bool(correct.any() and not correct.all())
    use_map = policy.estimator == "MAP" or (policy.estimator == "auto" and mixed)
    if policy.prior_mean == 0.0:
        result = (bank.map if use_map else bank.eap).score(answered, correct)
    else:  # a scorer over the answered items only: n × 81 grid values, built in microseconds
        items = ItemParameters.from_arrays(
            np.arange(answered.size), bank.a[answered], bank.b[answered], bank.c[answered]
        )
        scorer = OnlineScorer(items, "MAP" if use_map else "EAP", prior_mean=policy.prior_mean)
        result = scorer.score(np.arange(answered.size), correct)
    return result.theta, result.se


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _stopped(theta: float, se: float, n: int, reason: str) -> NextItem:
    text = {
        "se": f"stop: SE {se:.3f} reached the threshold",
        "max_items": f"stop: {n} items answered (the maximum)",
        "no_eligible_item": "stop: no eligible item left",
        "no_informative_item": "stop: no eligible item is informative at the current θ",
    }[reason]
    return NextItem(None, None, text, theta, se, n, True, reason)


def _reason(policy: Policy, choice: Choice, information: float, p: float, theta: float, note: str) -> str:
    if policy.kind == "test":
        text = f"maximum information {information:.3f} at θ={theta:+.2f} ({choice.how})"
    else:
        text = f"P(correct)={p:.2f} closest to target {policy.target_p:.2f} at θ={theta:+.2f} ({choice.how})"
    return f"{text}; {note}" if note else text
