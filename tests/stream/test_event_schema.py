"""docs/exam_result.schema.json describes the event the file loader and the consumer accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.stream.harness import sessions, with_org

from dreamseed.ingest.records import ExamResultRow, check_exam_result

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "exam_result.schema.json").read_text(encoding="utf-8")
)


def test_accepted_events_match_the_schema() -> None:
    for line in [*sessions(2, 2), with_org(sessions(1, 1)[0], 3)]:
        assert isinstance(check_exam_result(1, line), ExamResultRow)
        jsonschema.validate(json.loads(line), SCHEMA)


@pytest.mark.parametrize("drop", ["session_id", "user_id", "result_json"])
def test_events_the_loader_rejects_fail_the_schema(drop: str) -> None:
    document = json.loads(sessions(1, 1)[0])
    del document[drop]
    assert not isinstance(check_exam_result(1, json.dumps(document)), ExamResultRow)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
