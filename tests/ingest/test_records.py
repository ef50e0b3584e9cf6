"""Line checks never raise and never accept a record that lacks what loading needs."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dreamseed.ingest.records import ExamResultRow, Rejected, check_exam_result, check_goal, check_question

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.text(max_size=200))
def test_any_text_line_is_accepted_or_rejected_with_a_reason(line: str) -> None:
    outcome = check_exam_result(7, line)
    assert isinstance(outcome, ExamResultRow | Rejected)
    if isinstance(outcome, Rejected):
        assert outcome.reason
        assert outcome.line_no == 7


@given(
    st.dictionaries(
        st.sampled_from(
            ["session_id", "user_id", "exam_id", "result_json", "created_at", "updated_at", "score_raw"]
        ),
        json_values,
    )
)
def test_accepted_exam_results_have_what_loading_needs(document: dict[str, object]) -> None:
    outcome = check_exam_result(1, json.dumps(document))
    if isinstance(outcome, ExamResultRow):
        loaded = outcome.document
        assert str(loaded["session_id"]).strip()
        assert str(loaded["user_id"]).strip()
        assert isinstance(loaded["result_json"]["questions"], list)


def test_result_json_given_as_a_string_is_parsed() -> None:
    line = json.dumps(
        {
            "session_id": "s",
            "user_id": "u",
            "created_at": "2026-01-01T00:00:00",
            "result_json": json.dumps({"questions": []}),
        }
    )
    outcome = check_exam_result(1, line)
    assert isinstance(outcome, ExamResultRow)
    assert outcome.document["result_json"] == {"questions": []}


@given(
    st.dictionaries(
        st.sampled_from(["id", "topic_id", "difficulty", "a", "b", "c", "tags"]), st.text(max_size=6)
    )
)
def test_question_rows_never_raise(row: dict[str, str]) -> None:
    assert isinstance(check_question(2, dict(row), "raw"), object)


@given(
    st.dictionaries(
        st.sampled_from(["user_id", "topic_id", "target_level", "priority", "target_date", "created_at"]),
        st.text(max_size=12),
    )
)
def test_goal_rows_never_raise(row: dict[str, str]) -> None:
    assert isinstance(check_goal(2, dict(row), "raw"), object)
