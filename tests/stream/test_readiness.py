"""The consumer's /readyz, /livez and /metrics on STREAM_METRICS_PORT: ready = connected to NATS and
PostgreSQL, 503 naming what is unreachable otherwise (the broker stopped, the database refusing
connections), back to 200 when it returns; the probes of deploy/k8s/stream-consumer.yaml ask these
paths on that port."""

from __future__ import annotations

import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from tests.stream.harness import Broker, consumer_process, count, free_port, publish, sessions
from tests.stream.test_stream_faults import _allow_connections, wait_for
from tests.stream.test_theta import put_items

from dreamseed.settings import Settings

pytestmark = pytest.mark.faults
MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "stream-consumer.yaml"


def get(port: int, path: str) -> tuple[int, str]:
    """(status, body) of GET http://127.0.0.1:port/path; (0, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def sample(port: int, name: str, labels: str = "") -> float | None:
    """The value of one sample of /metrics (``labels`` as written there, e.g. ``{phase="ack"}``)."""
    _, text = get(port, "/metrics")
    for line in text.splitlines():
        if line.startswith(f"{name}{labels} "):
            return float(line.split()[-1])
    return None


def worker_log(worker: subprocess.Popen[str]) -> str:
    worker.send_signal(signal.SIGTERM)
    return worker.communicate(timeout=30)[0]


def probe_paths() -> dict[str, str]:
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if d]
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {
        probe: container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }


def test_readiness_follows_nats_and_postgresql(
    stream_settings: Settings, engine: Engine, broker: Broker, admin_url: str, database_url: str
) -> None:
    put_items(engine)  # a calibrated bank, so the θ phases run too
    port = free_port()
    settings = stream_settings.model_copy(update={"stream_metrics_port": port})
    worker = consumer_process(settings)
    try:
        wait_for(lambda: get(port, "/readyz")[0] == 200, 60)
        assert get(port, "/readyz") == (200, "ready: connected to NATS and PostgreSQL\n")
        assert get(port, "/livez") == (200, "alive\n")
        assert get(port, "/nothing")[0] == 404
        for probe, path in probe_paths().items():  # what the Deployment asks answers 200 when ready
            assert get(port, path)[0] == 200, probe
        assert sample(port, "dreamseed_stream_nats_connected") == 1.0
        assert sample(port, "dreamseed_stream_database_up") == 1.0

        publish(settings, sessions(10, 2))
        wait_for(lambda: count(engine, "SELECT count(*) FROM exam_results") == 20)
        wait_for(lambda: (sample(port, "dreamseed_stream_events_total") or 0) == 20, 10)
        for phase in (
            "fetch",
            "check",
            "sessions",
            "theta_read",
            "theta_score",
            "theta_write",
            "commit",
            "ack",
        ):
            assert (sample(port, "dreamseed_stream_batch_seconds_count", f'{{phase="{phase}"}}') or 0) >= 1, (
                phase
            )

        broker.stop()
        wait_for(lambda: get(port, "/readyz")[0] == 503, 30)
        assert get(port, "/readyz") == (503, "not ready: NATS unreachable\n"), worker_log(worker)
        assert get(port, "/livez")[0] == 200  # alive: it reconnects on its own
        assert sample(port, "dreamseed_stream_nats_connected") == 0.0
        broker.start()
        wait_for(lambda: get(port, "/readyz")[0] == 200, 60)

        engine.dispose()
        _allow_connections(admin_url, database_url, False)
        wait_for(lambda: get(port, "/readyz")[0] == 503, 30)  # the probe runs every 5 s
        assert get(port, "/readyz") == (503, "not ready: PostgreSQL unreachable\n")
        assert sample(port, "dreamseed_stream_database_up") == 0.0
        _allow_connections(admin_url, database_url, True)
        wait_for(lambda: get(port, "/readyz")[0] == 200, 30)
    finally:
        _allow_connections(admin_url, database_url, True)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "events=20" in output
