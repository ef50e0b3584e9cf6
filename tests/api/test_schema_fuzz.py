"""Schemathesis over the service's OpenAPI schema, against the real app (uvicorn) and a real database:
no 5xx, and every answer conforms to the schema (status code, content type, body). A few examples
per operation, so it stays within a minute or two on 2 cores. Schema-valid bodies that hold nothing to
compute (e.g. `{}` to /irt/calibrate) get the documented 400, so positive-data acceptance is not
checked."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine
from tests.api.server import serving

from dreamseed.api.app import create_app
from dreamseed.settings import Settings

pytestmark = pytest.mark.slow


FUZZ = hypothesis_settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def test_the_api_keeps_its_contract(settings: Settings, engine: Engine) -> None:
    # schemathesis' pytest plugin does not run under pytest 9 here, so each operation's strategy is
    # driven by hypothesis directly.
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        schema = schemathesis.openapi.from_url(url + "/openapi.json")
        operations = [ok_operation(result) for result in schema.get_all_operations()]
        assert len(operations) >= 7
        for operation in operations:

            @FUZZ
            @given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            check()


def ok_operation(result: Ok[APIOperation] | Err[InvalidSchema]) -> APIOperation:
    """The operation of one schema entry; an entry schemathesis cannot read fails the test."""
    assert isinstance(result, Ok), result
    return result.ok()
