"""Attempt rows streamed as PostgreSQL's binary COPY format, encoded here with `struct`.

One exam result's answers share six of their twelve columns (exam result, user, completion time,
session, exam, and the row header), so those are encoded once per exam result and each question
adds one fixed-size `struct` record (index, item, correctness, milliseconds, hints) and its two
texts (the topic, encoded once per distinct topic, and the key, NULL when it is item_id's plain
digits). This replaces a 12-value `write_row` per answer (psycopg's per-value dumpers), which was
most of the loader's Python time after the line checks.

Binary COPY: a signature, then per row an int16 field count and per field an int32 byte length
(-1: NULL) and the value in network byte order; uuid is 16 bytes, timestamptz int64 microseconds
since 2000-01-01 UTC; an int16 -1 ends the data.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Connection

from dreamseed.ingest.attempts import attempt_or_problem, plain_milliseconds
from dreamseed.ingest.limits import INT4_MAX, MAX_TOPIC_LENGTH
from dreamseed.ingest.records import ExamResultRow
from dreamseed.ingest.rejected import Rejected
from dreamseed.storage.copy_writer import BLOCK_BYTES, BlockWriter
from dreamseed.storage.quarantine import Quarantined

# Shared by every question of an exam result first, then the question's own values.
ATTEMPT_COLUMNS = (
    "exam_result_id",
    "user_id",
    "completed_at",
    "session_id",
    "exam_id",
    "question_index",
    "item_id",
    "correct",
    "response_time_ms",
    "hints",
    "topic_id",
    "question_key",
)
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # flags and header extension length: 0
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HEADER_AND_ID = struct.pack(">hi", len(ATTEMPT_COLUMNS), 16)
_TIMESTAMP = struct.Struct(">iq")
_INT4 = struct.Struct(">ii")
# question_index int4, item_id int8, correct bool, response_time_ms int4, hints int4 (each with its length)
_QUESTION = struct.Struct(">iiiqi?iiii")

Applied = list[tuple[str, ExamResultRow]]  # (exam_results.id, row) of the rows written


def text_field(value: str | None) -> bytes:
    """A text field: its UTF-8 byte length and bytes, or NULL."""
    if value is None:
        return NULL
    encoded = value.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def shared_fields(exam_result_id: str, row: ExamResultRow) -> bytes:
    """The row header and the five columns every attempt of `row` shares, encoded once."""
    exam_id = row.document.get("exam_id")
    microseconds = (row.updated_at - _POSTGRES_EPOCH) // _MICROSECOND
    return b"".join(
        (
            _HEADER_AND_ID,
            uuid.UUID(exam_result_id).bytes,
            text_field(row.user_id),
            _TIMESTAMP.pack(8, microseconds),
            text_field(row.session_id),
            NULL if exam_id is None else _INT4.pack(4, exam_id),
        )
    )


def _problem_entry(
    exam_result_id: str, row: ExamResultRow, index: int, question: object, reason: str
) -> Quarantined:
    raw = json.dumps(question, ensure_ascii=False, sort_keys=True)
    rejected = Rejected(row.line_no, f"question {index}: {reason}", raw, row.session_id, index)
    return Quarantined("question", rejected, f"{exam_result_id}|{index}", reason)


class _EncodedFields:
    """The encoded fields of well-formed questions of the common shape, remembering each question
    id, time and topic already seen (a file repeats a few thousand of each).

    `of(question)` restates the fast path of `dreamseed.ingest.attempts.attempt_or_problem` (digits
    in a string or an int, a boolean, a plain number of seconds, an integer hint count, a string
    topic or none); None sends the question to `attempt_or_problem`, the definition.
    """

    def __init__(self) -> None:
        self.keys: dict[str | int, tuple[int, bytes]] = {}  # question id: (item_id, question_key field)
        self.times: dict[int | float, int] = {}  # time_spent_sec: response_time_ms
        self.topics: dict[str | None, bytes] = {None: NULL, "": NULL}

    def of(self, question: Any) -> tuple[int, bool, int, int, bytes, bytes] | None:
        """(item_id, correct, response_time_ms, hints, topic field, question_key field), or None."""
        if type(question) is not dict:
            return None
        identifier: Any = question.get("question_id")
        correct: Any = question["is_correct"] if "is_correct" in question else question.get("correct")
        seconds: Any = question.get("time_spent_sec", 0)
        hints: Any = question.get("used_hints", 0)
        topic: Any = question.get("topic")
        key = self.keys.get(identifier) if type(identifier) in (str, int) else None
        if key is None and (key := self._key(identifier)) is None:
            return None
        if type(correct) is not bool or type(hints) is not int or not 0 <= hints < INT4_MAX:
            return None
        milliseconds = self.times.get(seconds) if type(seconds) in (int, float) else None
        if milliseconds is None and (milliseconds := self._milliseconds(seconds)) is None:
            return None
        topic_field = self.topics.get(topic) if type(topic) is str else None
        if topic_field is None and (topic_field := self._topic(topic)) is None:
            return None
        return key[0], correct, milliseconds, hints, topic_field, key[1]

    def _key(self, identifier: Any) -> tuple[int, bytes] | None:
        if (
            type(identifier) is str
            and identifier.isascii()
            and identifier.isdigit()
            and len(identifier) <= 18
        ):
            # The key is kept only when it is not item_id's plain digits (a leading zero).
            plain = identifier[0] != "0" or len(identifier) == 1
            found = self.keys[identifier] = (int(identifier), NULL if plain else text_field(identifier))
            return found
        if type(identifier) is int and 0 <= identifier < 10**18:
            found = self.keys[identifier] = (identifier, NULL)
            return found
        return None

    def _milliseconds(self, seconds: Any) -> int | None:
        milliseconds = plain_milliseconds(seconds)
        if milliseconds is not None:
            self.times[seconds] = milliseconds
        return milliseconds

    def _topic(self, topic: Any) -> bytes | None:
        if topic is None:
            return NULL
        if type(topic) is not str or len(topic) > MAX_TOPIC_LENGTH:
            return None
        found = self.topics[topic] = text_field(topic)
        return found


def _question_fields(question: Any) -> tuple[int, bool, int, int, bytes, bytes] | str:
    """The encoded fields of any question through the definitions, or why it is malformed."""
    values = attempt_or_problem(question)
    if isinstance(values, str):
        return values
    key, item, correct, milliseconds, hints, topic = values
    # As above: the key is kept only when it is not item_id's plain digits.
    plain = key[0] != "0" or len(key) == 1 if key.isascii() and key.isdigit() else key == str(item)
    return item, correct, milliseconds, hints, text_field(topic), NULL if plain else text_field(key)


def attempt_blocks(applied: Applied, problems: list[Quarantined]) -> Iterable[bytearray]:
    """The binary COPY data of the applied rows' attempts, in blocks of about BLOCK_BYTES
    (signature first, trailer last); malformed questions are appended to `problems`."""
    fields = _EncodedFields()
    block = bytearray(SIGNATURE)
    for exam_result_id, row in applied:
        shared = shared_fields(exam_result_id, row)
        for index, question in enumerate(row.document["result_json"]["questions"], start=1):
            encoded = fields.of(question) or _question_fields(question)
            if isinstance(encoded, str):
                problems.append(_problem_entry(exam_result_id, row, index, question, encoded))
                continue
            item, correct, milliseconds, hints, topic, key = encoded
            block += shared
            block += _QUESTION.pack(4, index, 8, item, 1, correct, 4, milliseconds, 4, hints)
            block += topic
            block += key
        if len(block) >= BLOCK_BYTES:
            yield block
            block = bytearray()
    block += TRAILER
    yield block


def copy_attempts(connection: Connection, applied: Applied) -> list[Quarantined]:
    """COPY the attempts of the applied rows; returns the malformed questions, to be quarantined."""
    problems: list[Quarantined] = []
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    statement = f"COPY attempt_fact ({', '.join(ATTEMPT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(statement, writer=BlockWriter(cursor)) as copy:
        for block in attempt_blocks(applied, problems):
            copy.write(block)
    return problems
