"""mirt-calibrate against the IRT service over real HTTP (R_IRT_BASE_URL): same results as in-process,
retries with exponential backoff, and clean failure."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Receive, Scope, Send
from tests.api.server import serving
from tests.factories import table_fingerprints
from tests.jobs.mirt_calibrate.calibration_data import END

from dreamseed.api.app import create_app
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_FAILED, EXIT_OK, execute
from dreamseed.settings import Settings

JOB = load_job("mirt-calibrate")
TOKEN = "calibration-token"


class Flaky:
    """Answers 503 to the first ``failures`` calibrate requests, then passes them on; records when
    each arrived."""

    def __init__(self, app: ASGIApp, failures: int) -> None:
        self.app, self.failures, self.arrivals = app, failures, list[float]()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/irt/calibrate":
            self.arrivals.append(time.monotonic())
            if len(self.arrivals) <= self.failures:
                while (await receive()).get("more_body"):
                    pass
                await send(
                    {"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"0")]}
                )
                await send({"type": "http.response.body", "body": b"busy"})
                return
        await self.app(scope, receive, send)


def remote(settings: Settings, url: str, **changes: object) -> Settings:
    update = {
        "r_irt_base_url": url,
        "r_irt_internal_token": SecretStr(TOKEN),
        "mirt_retry_delay_secs": 0.2,
        "mirt_max_retries": 3,
        **changes,
    }
    return settings.model_copy(update=update)


@pytest.fixture
def service(settings: Settings, engine: Engine) -> Iterator[tuple[str, Flaky]]:
    secured = settings.model_copy(update={"r_irt_internal_token": SecretStr(TOKEN)})
    flaky = Flaky(create_app(secured, engine), failures=2)
    with serving(flaky) as url:
        yield url, flaky


def abilities(engine: Engine) -> pd.Series:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT user_id, theta FROM mirt_ability_history ORDER BY user_id")
        ).all()
    return pd.Series({row[0]: row[1] for row in rows})


def test_over_http_with_retries_matches_in_process(
    platform: Engine,
    settings: Settings,
    service: tuple[str, Flaky],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, flaky = service
    assert execute(JOB, remote(settings, url), platform, run_date=END) == EXIT_OK
    out = capsys.readouterr().out
    assert f"[INFO] Calling IRT service at {url}..." in out
    assert "[WARN] R IRT service call failed (attempt 1/4): HTTP 503: busy" in out
    assert "[INFO] Retrying in 0.2s..." in out
    assert "[INFO] Retrying in 0.4s..." in out
    assert "Calibration upsert completed:" in out
    gaps = [later - earlier for earlier, later in zip(flaky.arrivals, flaky.arrivals[1:], strict=False)]
    assert len(flaky.arrivals) == 3
    assert gaps[0] >= 0.2
    assert gaps[1] >= 0.4
    over_http = abilities(platform)
    with platform.connect() as connection:
        spec = connection.execute(text("SELECT model_spec FROM mirt_fit_meta")).scalar_one()
    assert spec["engine"] == f"remote {url}"

    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    in_process = abilities(platform)
    assert (over_http - in_process).abs().max() < 1e-3


def test_a_service_that_keeps_failing_fails_the_job_and_writes_nothing(
    platform: Engine, settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    flaky = Flaky(create_app(settings, engine), failures=100)
    with serving(flaky) as url:
        before = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
        code = execute(
            JOB, remote(settings, url, mirt_max_retries=1, mirt_retry_delay_secs=0.05), platform, run_date=END
        )
    assert code == EXIT_FAILED
    assert len(flaky.arrivals) == 2
    assert "[FATAL] mirt-calibrate failed: IrtServiceError: POST" in capsys.readouterr().out
    assert {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"} == before


def test_a_rejected_request_is_not_retried(
    platform: Engine, settings: Settings, service: tuple[str, Flaky], capsys: pytest.CaptureFixture[str]
) -> None:
    url, flaky = service
    flaky.failures = 0
    wrong = remote(settings, url, r_irt_internal_token=SecretStr("wrong"))
    assert execute(JOB, wrong, platform, run_date=END) == EXIT_FAILED
    assert len(flaky.arrivals) == 1
    assert "HTTP 403" in capsys.readouterr().out
