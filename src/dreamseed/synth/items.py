"""The item bank: topics, subjects and true 3PL parameters; the platform's `questions.csv` view of it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from dreamseed.synth.config import SynthConfig

TOPIC_NAMES = (
    "algebra",
    "functions",
    "geometry",
    "probability",
    "statistics",
    "sequences",
    "calculus",
    "vectors",
)
TOPICS_PER_SUBJECT = 4
FIRST_SUBJECT_ID = 101
FIRST_ITEM_ID = 10001


@dataclasses.dataclass(frozen=True)
class ItemBank:
    """True parameters of every item, topic-major: item k belongs to topic k // items_per_topic.

    Arrays of shape (n_items,) unless stated; `by_difficulty` is (topics, items_per_topic): the
    bank index of each topic's items sorted by b, and `sorted_b` their b values.
    """

    topic_names: tuple[str, ...]
    subject_of_topic: np.ndarray  # (topics,) exam_id of each topic
    item_id: np.ndarray
    topic: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    anchor: np.ndarray
    difficulty: np.ndarray  # what the platform shows: b for anchors, a noisy author rating otherwise
    by_difficulty: np.ndarray
    sorted_b: np.ndarray

    @property
    def items_per_topic(self) -> int:
        return int(self.by_difficulty.shape[1])


def topic_names(count: int) -> tuple[str, ...]:
    """Readable topic ids: the named math topics first, then `topic_09`, `topic_10`, …"""
    return tuple(TOPIC_NAMES[k] if k < len(TOPIC_NAMES) else f"topic_{k + 1:02d}" for k in range(count))


def item_bank(config: SynthConfig, rng: np.random.Generator) -> ItemBank:
    """Draw the bank: log a ~ N, b ~ N(0, b_sd), c ~ Beta; ~anchor_share of items are anchors."""
    model = config.model
    topics, per_topic = config.topics, config.items_per_topic
    n_items = topics * per_topic
    a = np.round(np.exp(rng.normal(model.a_log_mean, model.a_log_sd, n_items)), 4)
    b = np.round(rng.normal(0.0, model.b_sd, n_items), 4)
    c = np.round(rng.beta(model.c_alpha, model.c_beta, n_items), 4)
    anchor = rng.random(n_items) < model.anchor_share
    rating = np.round(b + rng.normal(0.0, model.difficulty_noise_sd, n_items), 2)
    topic = np.repeat(np.arange(topics, dtype=np.int16), per_topic)
    order = np.argsort(b.reshape(topics, per_topic), axis=1, kind="stable")
    by_difficulty = order + (np.arange(topics) * per_topic)[:, None]
    return ItemBank(
        topic_names=topic_names(topics),
        subject_of_topic=FIRST_SUBJECT_ID + np.arange(topics) // TOPICS_PER_SUBJECT,
        item_id=FIRST_ITEM_ID + np.arange(n_items, dtype=np.int64),
        topic=topic,
        a=a,
        b=b,
        c=c,
        anchor=anchor,
        difficulty=np.where(anchor, b, rating),
        by_difficulty=by_difficulty,
        sorted_b=b[by_difficulty],
    )


def truth_items_frame(bank: ItemBank) -> pd.DataFrame:
    """`truth/items.csv`: item_id, topic_id, a, b, c (the true parameters used to simulate)."""
    return pd.DataFrame(
        {
            "item_id": bank.item_id,
            "topic_id": np.asarray(bank.topic_names, dtype=object)[bank.topic],
            "a": bank.a,
            "b": bank.b,
            "c": bank.c,
        }
    )


def questions_frame(bank: ItemBank) -> pd.DataFrame:
    """`questions.csv`: id, topic_id, difficulty, content, a, b, c, tags.

    a, b, c are the true parameters for anchor items (tag `anchor`) and empty otherwise.
    """
    topic_id = np.asarray(bank.topic_names, dtype=object)[bank.topic]
    band = np.where(bank.difficulty < -0.5, "easy", np.where(bank.difficulty > 0.5, "hard", "medium"))
    tags = topic_id + ";" + band.astype(object) + np.where(bank.anchor, ";anchor", "").astype(object)
    content = [f"[{topic}] practice item {item}" for topic, item in zip(topic_id, bank.item_id, strict=True)]
    return pd.DataFrame(
        {
            "id": bank.item_id,
            "topic_id": topic_id,
            "difficulty": bank.difficulty,
            "content": content,
            "a": np.where(bank.anchor, bank.a, np.nan),
            "b": np.where(bank.anchor, bank.b, np.nan),
            "c": np.where(bank.anchor, bank.c, np.nan),
            "tags": tags,
        }
    )
