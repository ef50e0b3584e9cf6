"""Client of a remote IRT service speaking the R Plumber contract (`dreamseed serve` or the original).

Timeouts on every call; transient failures (connection errors, timeouts, HTTP 408/429/5xx) are
retried ``max_retries`` times with exponential backoff: the k-th retry waits
``first_delay · 2^(k−1)`` seconds, or the server's ``Retry-After`` when that is longer. Other 4xx
answers are not retried: the request itself is wrong. Only httpx; no FastAPI import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd

from dreamseed.irt import Abilities, ItemParameters

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECS = 300.0


class IrtServiceError(RuntimeError):
    """The service failed for good (after the retries) or rejected the request."""


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first try; delays first_delay, 2·first_delay, 4·first_delay…"""

    max_retries: int = 3
    first_delay: float = 5.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return self.first_delay * 2.0 ** (retry - 1)


class IrtServiceClient:
    """POSTs JSON to ``{base_url}/irt/calibrate`` and ``/irt/score`` with a Bearer token when given.

    ``on_retry(message)`` receives the guide's log lines (`R IRT service call failed (attempt i/n): …`,
    `Retrying in Xs...`); ``sleep`` and ``transport`` can be replaced in tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[str, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._on_retry = on_retry or (lambda _level, _message: None)
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def __enter__(self) -> IrtServiceClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def calibrate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`POST /irt/calibrate`; the decoded JSON answer (``status`` "ok")."""
        return self._post("/irt/calibrate", payload)

    def score(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`POST /irt/score`; the decoded JSON answer."""
        return self._post("/irt/score", payload)

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = self.base_url + path
        attempts = self.retry.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.post(url, json=payload)
            except httpx.TransportError as error:
                problem, wait = f"{type(error).__name__}: {error}", 0.0
            else:
                if response.status_code < 400:
                    return _decoded(response)
                if response.status_code not in RETRYABLE_STATUS:
                    raise IrtServiceError(f"POST {url} was rejected: {_describe(response)}")
                problem, wait = _describe(response), _retry_after(response)
            self._on_retry("WARN", f"R IRT service call failed (attempt {attempt}/{attempts}): {problem}")
            if attempt == attempts:
                raise IrtServiceError(f"POST {url} failed after {attempts} attempts: {problem}")
            delay = max(self.retry.delay(attempt), wait)
            self._on_retry("INFO", f"Retrying in {delay:g}s...")
            self._sleep(delay)
        raise AssertionError("unreachable")


def _decoded(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise IrtServiceError(f"the IRT service answered non-JSON: {response.text[:200]!r}") from None
    if not isinstance(body, dict):
        raise IrtServiceError("the IRT service answered JSON that is not an object")
    if body.get("status", "ok") != "ok":
        raise IrtServiceError(f"the IRT service answered status {body.get('status')!r}: {body}")
    return body


def _describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(0.0, float(value)), MAX_RETRY_AFTER_SECS)
    except ValueError:
        return 0.0


@dataclass(frozen=True, eq=False)
class RemoteCalibration:
    """A `POST /irt/calibrate` answer: items, abilities and the service's fit_meta (as sent)."""

    items: ItemParameters
    abilities: Abilities
    fit_meta: dict[str, Any]


def calibration_request(
    observations: pd.DataFrame, model: str, anchors: list[dict[str, Any]]
) -> dict[str, Any]:
    """The Plumber request body from a frame with user_id, item_id, correct, completed_epoch."""
    responded = pd.to_datetime(observations["completed_epoch"], unit="s", utc=True)
    rows = zip(
        observations["user_id"].astype(str).tolist(),
        observations["item_id"].astype(str).tolist(),
        observations["correct"].astype(bool).tolist(),
        responded.dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist(),
        strict=True,
    )
    return {
        "observations": [
            {"user_id": user, "item_id": item, "is_correct": correct, "responded_at": when}
            for user, item, correct, when in rows
        ],
        "model": model,
        "anchors": anchors,
    }


def parse_calibration(body: dict[str, Any]) -> RemoteCalibration:
    """Items (a default 1, b 0, c 0) and abilities (se default 0) from a calibrate answer."""
    try:
        items = [(str(entry["item_id"]), entry.get("params") or {}) for entry in body["item_params"]]
        people = [(str(entry["user_id"]), entry) for entry in body["abilities"]]
        item_parameters = ItemParameters.from_arrays(
            [item for item, _ in items],
            [float(params.get("a", 1.0)) for _, params in items],
            [float(params.get("b", 0.0)) for _, params in items],
            [float(params.get("c") or 0.0) for _, params in items],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise IrtServiceError(f"the IRT service's calibrate answer is malformed: {error}") from None
    abilities = Abilities(
        user_id=np.array([user for user, _ in people], dtype=object),
        theta=np.array([float(entry.get("theta") or 0.0) for _, entry in people]),
        se=np.array([float(entry.get("se") or 0.0) for _, entry in people]),
        n_responses=np.ones(len(people), dtype=np.int64),
    )
    return RemoteCalibration(item_parameters, abilities, dict(body.get("fit_meta") or {}))
