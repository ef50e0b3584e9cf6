"""The item bank the adaptive core selects from: 3PL parameters and a topic per item.

Items are addressed by their position 0 … J−1 in the bank ("item index"); ``item_id`` keeps the
platform's ids alongside. Arrays have shape (J,); a is the slope, b the difficulty (θ units), c the
lower asymptote, as in ``dreamseed.irt.ItemParameters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.cat.errors import EmptyBankError, EmptyTopicError
from dreamseed.irt import ItemParameters, OnlineScorer

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class ItemBank:
    """J calibrated items with a topic each; scorers over the bank are built once here.

    ``topic`` has shape (J,) (text; "" when the bank has no topics); ``topic_code`` (J,) indexes
    ``topics`` (the sorted distinct topics) so per-topic masks are one comparison.
    """

    items: ItemParameters
    topic: npt.NDArray[np.str_]
    topics: tuple[str, ...] = field(init=False)
    topic_code: IntArray = field(init=False)
    eap: OnlineScorer = field(init=False, repr=False)
    map: OnlineScorer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.items) == 0:
            raise EmptyBankError("the item bank is empty: give at least one item (a, b, c)")
        if self.topic.shape != (len(self.items),):
            raise ValueError(f"topic has {self.topic.size} values; expected {len(self.items)} (one per item)")
        topics, codes = np.unique(self.topic, return_inverse=True)
        object.__setattr__(self, "topics", tuple(str(t) for t in topics))
        object.__setattr__(self, "topic_code", codes.astype(np.intp))
        positional = ItemParameters.from_arrays(
            np.arange(len(self.items)), self.items.a, self.items.b, self.items.c
        )
        object.__setattr__(self, "eap", OnlineScorer(positional, "EAP"))
        object.__setattr__(self, "map", OnlineScorer(positional, "MAP"))

    @classmethod
    def from_arrays(cls, item_id: Any, a: Any, b: Any, c: Any = None, topic: Any = None) -> ItemBank:
        """Validate and build; c defaults to 0 and topic to "" (one value per item each)."""
        ids = np.asarray(item_id).reshape(-1)
        if ids.size == 0:
            raise EmptyBankError("the item bank is empty: give at least one item (a, b, c)")
        items = ItemParameters.from_arrays(ids, a, b, c)
        topics = np.full(ids.size, "", dtype=object) if topic is None else np.asarray(topic, dtype=object)
        return cls(items, np.asarray([str(t) for t in topics.reshape(-1)], dtype=np.str_))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def a(self) -> FloatArray:
        return self.items.a

    @property
    def b(self) -> FloatArray:
        return self.items.b

    @property
    def c(self) -> FloatArray:
        return self.items.c

    def topic_index(self, topic: str) -> int:
        """Position of ``topic`` in ``topics``; EmptyTopicError when no item has it."""
        position = int(np.searchsorted(self.topics, topic))
        if position >= len(self.topics) or self.topics[position] != topic:
            known = ", ".join(repr(t) for t in self.topics[:10]) or "none"
            raise EmptyTopicError(f"topic {topic!r} has no items in the bank (topics: {known})")
        return position
