"""The object store (SeaweedFS) stopped during generate-weekly-report.

State before: 8 users with a weekly_kpi row, an empty bucket, no report_artifacts rows. The store
is stopped right after the first user's report was stored and recorded: the other uploads fail,
the run fails (exit 1, job_runs failed) and report_artifacts holds exactly the stored objects.
After the store is back, the re-run succeeds and objects == rows for every user.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from tests.faults.harness import run_statuses
from tests.s3_server import PORT_FLAGS, S3Server, free_ports, wait_until_ready, weed_command

from dreamseed.jobs import generate_weekly_report
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.report_pool import RenderSettings
from dreamseed.runtime.runner import EXIT_FAILED, EXIT_OK, execute
from dreamseed.settings import Settings

pytestmark = [pytest.mark.faults, pytest.mark.slow]

WEEK = date(2026, 11, 16)
SUNDAY = date(2026, 11, 22)
USERS = [f"u{n}" for n in range(8)]


class StoppableS3:
    """`weed mini` on fixed ports and data directory, so it can be stopped and started again."""

    def __init__(self, directory: Path) -> None:
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        self.command = weed_command(directory, self.ports)
        self.log = directory / "weed.log"
        self.environment = {**os.environ, "TMPDIR": str(directory)}
        self.server = S3Server(f"http://127.0.0.1:{self.ports['s3.port']}")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command, stdout=output, stderr=subprocess.STDOUT, env=self.environment
            )
        wait_until_ready(self.server, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for port in self.ports.values():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoppableS3]:
    directory = tmp_path / "seaweedfs"
    directory.mkdir()
    store = StoppableS3(directory)
    store.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", store.server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", store.server.secret_key)
    yield store
    store.stop()


def objects(s3: StoppableS3, bucket: str) -> set[str]:
    listing = s3.server.client().list_objects_v2(Bucket=bucket)
    return {f"s3://{bucket}/{item['Key']}" for item in listing.get("Contents", ())}


def artifact_urls(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {str(url) for (url,) in connection.execute(text("SELECT url FROM report_artifacts"))}


def test_an_object_store_stopped_mid_run_fails_it_and_the_rerun_stores_every_report(
    engine: Engine, settings: Settings, s3: StoppableS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO weekly_kpi (user_id, week_start, kpis) VALUES (:u, :w, CAST(:k AS jsonb))"),
            [{"u": user, "w": WEEK, "k": json.dumps({"S": 0.2})} for user in USERS],
        )
    bucket = s3.server.new_bucket()
    in_bucket = settings.model_copy(
        update={
            "s3_bucket": bucket,
            "s3_endpoint_url": s3.server.endpoint_url,
            "aws_region": s3.server.region,
        }
    )
    quick = functools.partial(RenderSettings, upload_attempts=1, first_backoff_s=0.0)
    monkeypatch.setattr(generate_weekly_report, "RenderSettings", quick)
    stopped: list[str] = []

    def stop_after_first_chunk(name: str) -> None:
        if name == "report-chunk" and not stopped:
            s3.stop()
            stopped.append(name)

    monkeypatch.setattr(generate_weekly_report, "checkpoint", stop_after_first_chunk)
    options = {"report_format": "html", "workers": 1}
    assert execute(
        load_job("generate-weekly-report"), in_bucket, engine, run_date=SUNDAY, options=options
    ) == (EXIT_FAILED)
    assert stopped
    assert run_statuses(engine) == ["failed"]
    recorded = artifact_urls(engine)
    assert len(recorded) == 1

    s3.start()
    assert objects(s3, bucket) == recorded
    assert execute(
        load_job("generate-weekly-report"), in_bucket, engine, run_date=SUNDAY, options=options
    ) == (EXIT_OK)
    assert run_statuses(engine) == ["failed", "succeeded"]
    assert objects(s3, bucket) == artifact_urls(engine)
    assert len(artifact_urls(engine)) == len(USERS)
