"""Splitting per-user work across N workers by a stable hash of user_id.

The hash is computed the same way in SQL (`dreamseed_shard(user_id, n)`) and in Python, so a job can
filter in its bulk queries; the union of shards 0..N-1 is exactly the unsharded set.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dreamseed.settings import Settings


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based); `Shard.whole()` is the whole population."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"invalid shard {self.index}/{self.count}: need 0 <= i < N")

    @classmethod
    def whole(cls) -> Shard:
        return cls(0, 1)

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'i/N' with 0 <= i < N."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"shard must look like i/N (e.g. 0/4), got {text!r}") from None
        return cls(index, count)

    @classmethod
    def from_settings(cls, settings: Settings) -> Shard | None:
        """Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX with JOB_COMPLETION_COUNT (or SHARD_COUNT)."""
        index, count = settings.job_completion_index, settings.job_completion_count
        if index is None or count is None:
            return None
        return cls(index, count)

    @property
    def is_whole(self) -> bool:
        return self.count == 1

    def contains(self, user_id: str) -> bool:
        return self.is_whole or user_bucket(user_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def user_bucket(user_id: str, count: int) -> int:
    """The shard of a user: the first 8 hex digits of md5(user_id) as an unsigned int, mod count.

    SQL equivalent: ('x' || substr(md5(user_id), 1, 8))::bit(32)::bigint % count.
    """
    return int(hashlib.md5(user_id.encode()).hexdigest()[:8], 16) % count


SQL_SHARD_FILTER = "(('x' || substr(md5({column}), 1, 8))::bit(32)::bigint % :shard_count) = :shard_index"


def sql_filter(column: str) -> str:
    """A WHERE fragment keeping the rows of the current shard (bind shard_count and shard_index)."""
    return SQL_SHARD_FILTER.format(column=column)
