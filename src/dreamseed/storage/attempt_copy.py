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

import psycopg
from sqlalchemy import Connection

from dreamseed.ingest.attempts import attempt_or_problem
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


def attempt_blocks(applied: Applied, problems: list[Quarantined]) -> Iterable[bytearray]:
    """The binary COPY data of the applied rows' attempts, in blocks of about BLOCK_BYTES
    (signature first, trailer last); malformed questions are appended to `problems`."""
    topics: dict[str | None, bytes] = {None: NULL}
    block = bytearray(SIGNATURE)
    for exam_result_id, row in applied:
        shared = shared_fields(exam_result_id, row)
        for index, question in enumerate(row.document["result_json"]["questions"], start=1):
            values = attempt_or_problem(question)
            if isinstance(values, str):
                problems.append(_problem_entry(exam_result_id, row, index, question, values))
                continue
            key, item, correct, milliseconds, hints, topic = values
            # The key is kept only when it is not item_id's plain digits: the digits (ASCII, no
            # sign or space) spell item_id unless they have a leading zero.
            plain = key[0] != "0" or len(key) == 1 if key.isascii() and key.isdigit() else key == str(item)
            topic_bytes = topics.get(topic)
            if topic_bytes is None:
                topic_bytes = topics[topic] = text_field(topic)
            block += shared
            block += _QUESTION.pack(4, index, 8, item, 1, correct, 4, milliseconds, 4, hints)
            block += topic_bytes
            block += NULL if plain else text_field(key)
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
