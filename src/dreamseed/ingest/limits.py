"""What PostgreSQL (or Python) would refuse, checked before a value reaches COPY.

Every check returns the reason a value cannot be stored, or None. Text may not hold NUL or
unpaired surrogates (PostgreSQL's text and jsonb refuse the first, UTF-8 cannot encode the
second); identifiers and topics have a length limit well under a btree index entry (~2.7 kB);
integers for `integer` columns fit 32 bits; numbers are finite; dates lie in a plausible window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT2_MIN, INT2_MAX = -(2**15), 2**15 - 1
MAX_ID_LENGTH = 256  # session_id, user_id: indexed text
MAX_TOPIC_LENGTH = 256  # topic ids are keys of features_topic_daily
MAX_SHORT_TEXT_LENGTH = 256  # status, model, version, tags
DEFAULT_MIN_DATE = date(2000, 1, 1)
DEFAULT_MAX_FUTURE_DAYS = 2
GOAL_MAX_YEARS_AHEAD = 20
STATIC_EARLIEST = datetime(DEFAULT_MIN_DATE.year, DEFAULT_MIN_DATE.month, DEFAULT_MIN_DATE.day, tzinfo=UTC)
STATIC_LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNDECODED = re.compile("[\udc80-\udcff]")  # what `errors="surrogateescape"` makes of invalid bytes


@dataclass(frozen=True)
class DateWindow:
    """The plausible time range of an event: from `earliest` to `latest` (both UTC).

    The default is a static sanity range for callers without a clock (tests, synthetic data);
    the CLI and the API use `DateWindow.around(now, INGEST_MIN_DATE, INGEST_MAX_FUTURE_DAYS)`.
    """

    earliest: datetime = STATIC_EARLIEST
    latest: datetime = STATIC_LATEST

    @classmethod
    def around(cls, now: datetime, min_date: date, max_future_days: int) -> DateWindow:
        """From midnight UTC of `min_date` to `max_future_days` days after `now`."""
        return cls(datetime.combine(min_date, time(), tzinfo=UTC), now + timedelta(days=max_future_days))

    def describe(self) -> str:
        return f"{self.earliest.date().isoformat()} .. {self.latest.date().isoformat()}"


def text_problem(value: str, name: str, max_length: int | None = None) -> str | None:
    """Why `value` cannot be stored as PostgreSQL text (NUL, unpaired surrogate, too long), or None."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character (\\u0000)" if found.group() == "\x00" else "an unpaired surrogate"
        return f"{name} contains {what} (at character {found.start() + 1})"
    if max_length is not None and len(value) > max_length:
        return f"{name} is longer than {max_length} characters ({len(value)})"
    return None


def undecoded_problem(value: str, name: str = "line") -> str | None:
    """Why text decoded with `errors="surrogateescape"` was not valid UTF-8, or None."""
    if value.isascii():  # the common case, without scanning the text with a regex
        return None
    found = _UNDECODED.search(value)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    return f"{name} is not valid UTF-8 (byte 0x{byte:02x} at character {found.start() + 1})"


def int4_problem(value: int, name: str) -> str | None:
    if not INT4_MIN <= value <= INT4_MAX:
        return f"{name} is out of range for a 32-bit integer: {value}"
    return None


def _has_unstorable(document: Any) -> bool:
    """Whether any text (key or value) or number in `document` is one jsonb cannot hold (fast, no paths)."""
    pending = [document]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is str:
            if _UNSTORABLE.search(value):
                return True
        elif kind is float:
            if not math.isfinite(value):
                return True
        elif kind is dict:
            for key, item in value.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return True
                pending.append(item)
        elif kind is list:
            pending.extend(value)
    return False


def _located_problem(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return text_problem(value, f"text at {path}")
    if isinstance(value, float) and not math.isfinite(value):
        return f"non-finite number ({value}) at {path}"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and (problem := text_problem(key, f"a key at {path}")):
            return problem
        where = f"{path}.{key[:40]}" if isinstance(key, str) else f"{path}[{key}]"
        if problem := _located_problem(item, where):
            return problem
    return None


def json_problem(document: Any) -> str | None:
    """The first value PostgreSQL's jsonb would refuse (text with NUL or an unpaired surrogate, a
    non-finite number), with its path; None when everything can be stored."""
    if not _has_unstorable(document):
        return None
    try:
        return _located_problem(document, "$")
    except RecursionError:
        return "JSON holds text or a number PostgreSQL cannot store (nested too deeply to say where)"


def timestamp_problem(value: datetime, name: str, window: DateWindow) -> str | None:
    try:
        inside = window.earliest <= value <= window.latest
    except OverflowError:
        inside = False
    if not inside:
        return f"{name} {value.isoformat()} is outside the plausible window {window.describe()}"
    return None


def target_date_problem(value: date, window: DateWindow) -> str | None:
    """A goal's target date: not before the window, at most GOAL_MAX_YEARS_AHEAD years ahead."""
    earliest = window.earliest.date()
    latest = window.latest.date() + timedelta(days=365 * GOAL_MAX_YEARS_AHEAD)
    if not earliest <= value <= latest:
        return (
            f"target_date {value.isoformat()} is outside the plausible window "
            f"{earliest.isoformat()} .. {latest.isoformat()}"
        )
    return None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 timestamp; naive values are taken as UTC. None when absent or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def escaped(value: str) -> str:
    """`value` with what PostgreSQL text cannot hold spelled out: NUL as \\u0000, an unpaired
    surrogate as \\udXXX, a byte that was not UTF-8 (see `undecoded_problem`) as \\xNN."""
    return _UNSTORABLE.sub(_escape, value)
