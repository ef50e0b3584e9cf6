"""A login rate limit: at most N failed sign-ins per client address and per user name in a window."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginLimiter:
    def __init__(self, max_failures: int, window_secs: float) -> None:
        self.max_failures = max_failures
        self.window_secs = window_secs
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures[key]
        while stamps and stamps[0] <= now - self.window_secs:
            stamps.popleft()
        return stamps

    def blocked(self, keys: list[str], now: float | None = None) -> bool:
        """Whether any key has used up its failures in the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return any(len(self._recent(key, now)) >= self.max_failures for key in keys)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of names
                self._failures.clear()
