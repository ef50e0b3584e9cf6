"""--bad-rows: exactly the listed lines and questions are malformed, each in the way it says."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from tests.synth.platform_files import SMALL, Written, read_written

from dreamseed.synth import BAD_KINDS, generate_platform, write_platform


def problems_in_line(line: str) -> list[tuple[str, int]]:
    """What a strict ingester rejects in one line: (kind, question index or −1)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return [("unparsable_json", -1)]
    found = []
    for key, kind in (("user_id", "missing_user_id"), ("session_id", "missing_session_id")):
        if not isinstance(record.get(key), str) or not record[key]:
            found.append((kind, -1))
    for index, question in enumerate(record["result_json"]["questions"]):
        found += [(kind, index) for kind in problems_in_question(question)]
    return found


def problems_in_question(question: dict[str, Any]) -> list[str]:
    found = []
    question_id = question.get("question_id")
    if not (isinstance(question_id, str) and question_id.isdigit()):
        found.append("non_numeric_question_id")
    if question["time_spent_sec"] < 0:
        found.append("negative_time_spent")
    if not isinstance(question.get("is_correct", question.get("correct")), bool):
        found.append("non_boolean_correct")
    return found


def detected(written: Written) -> set[tuple[int, str, int]]:
    return {
        (number, kind, index)
        for number, line in enumerate(written.lines, 1)
        for kind, index in problems_in_line(line)
    }


def listed(written: Written) -> set[tuple[int, str, int]]:
    return {(row.line_no, row.kind, row.question_index) for row in written.bad_rows.itertuples()}


def test_the_bad_rows_are_exactly_those_listed(written: Written) -> None:
    assert detected(written) == listed(written)
    assert (
        len(written.lines)
        == len(written.platform.exam_results) + (written.bad_rows["question_index"] < 0).sum()
    )


def test_every_kind_and_variant_appears_and_they_are_spread_out(written: Written) -> None:
    bad = written.bad_rows
    assert set(bad["kind"]) == set(BAD_KINDS)
    assert bad.groupby("kind")["detail"].nunique().min() >= 1
    assert set(bad.loc[bad["kind"] == "missing_user_id", "detail"]) == {"absent", "null", "empty"}
    assert set(bad.loc[bad["kind"] == "non_boolean_correct", "detail"]) == {"string_yes", "number_2"}
    assert bad["line_no"].is_monotonic_increasing
    assert bad["line_no"].min() < len(written.lines) / 4 < len(written.lines) * 3 / 4 < bad["line_no"].max()


def test_extra_bad_lines_carry_new_session_ids_and_question_rows_point_at_real_sessions(
    written: Written,
) -> None:
    bad = written.bad_rows
    real = set(written.platform.exam_results["session_id"])
    extra = bad[bad["question_index"] < 0]
    assert not (set(extra["session_id"]) & real)
    assert set(bad["source_session_id"]) <= real
    in_place = bad[bad["question_index"] >= 0]
    assert (in_place["session_id"] == in_place["source_session_id"]).all()
    line_of = written.platform.exam_results.set_index("session_id")["line_no"]
    assert (line_of.loc[in_place["session_id"]].to_numpy() == in_place["line_no"].to_numpy()).all()


@pytest.mark.parametrize("count", [0, 1, 7])
def test_any_count_of_bad_rows_is_listed_and_detected(tmp_path: Any, count: int) -> None:
    config = dataclasses.replace(SMALL, students=60, weeks=2, bad_rows=count)
    platform = generate_platform(config)
    write_platform(platform, tmp_path)
    written = read_written(platform, tmp_path)
    assert len(written.bad_rows) == count
    assert detected(written) == listed(written)


def test_more_bad_rows_than_sessions_is_refused() -> None:
    config = dataclasses.replace(SMALL, students=2, weeks=1, bad_rows=1000)
    with pytest.raises(ValueError, match="bad_rows=1000 exceeds"):
        generate_platform(config)
