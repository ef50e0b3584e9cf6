"""Job metrics end to end: `publish` pushes to a real Pushgateway, the series carry the labels the
alert rules match on, and those pushed series trigger the rules (through promtool)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from tests.deploy.deploy_files import PROMETHEUS, require_tool

from dreamseed.runtime.metrics import publish
from dreamseed.runtime.runner import JobResult
from dreamseed.settings import Settings
from dreamseed.storage.shard import Shard

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """A real Pushgateway on a free local port; its URL."""
    binary = require_tool("prometheus-pushgateway", "pushgateway")
    port = free_port()
    log = (tmp_path / "pushgateway.log").open("w")
    # An empty --persistence.file keeps the metrics in memory: Debian's build otherwise persists
    # them to /var/lib/prometheus/pushgateway.data, shared by every run on the machine.
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Pushgateway exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the Pushgateway did not become ready")


def scrape(url: str) -> Series:
    """{(metric name, labels): value} of every dreamseed_* sample the Pushgateway exposes."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("dreamseed_")
    }


def value(series: Series, name: str, **labels: str) -> float:
    matches = [v for (metric, got), v in series.items() if metric == name and dict(got) == labels]
    assert len(matches) == 1, f"expected one {name}{labels}, got {matches}"
    return matches[0]


def group_labels(job: str, shard: str | None = None) -> dict[str, str]:
    """The labels of a pushed series as the Pushgateway exposes them (instance is empty)."""
    labels = {"job": f"dreamseed-{job}", "instance": "", "job_name": job}
    return labels | ({"shard": shard} if shard is not None else {})


def gateway_settings(url: str) -> Settings:
    return Settings(pushgateway_url=url)


KPI_RESULT = JobResult(processed=87, failed=0, metrics={"kpi_users": 87.0, "kpi_s_mean": 0.31})


def test_successful_run_pushes_duration_counts_success_time_and_domain_figures(pushgateway: str) -> None:
    before = time.time()
    publish(gateway_settings(pushgateway), "compute-daily-kpis", Shard.whole(), KPI_RESULT, 842)
    series = scrape(pushgateway)
    labels = group_labels("compute-daily-kpis")
    assert value(series, "dreamseed_job_duration_seconds", **labels) == pytest.approx(0.842)
    assert value(series, "dreamseed_job_last_run_success", **labels) == 1
    assert value(series, "dreamseed_job_processed", **labels) == 87
    assert value(series, "dreamseed_job_failed", **labels) == 0
    assert value(series, "dreamseed_kpi_users", **labels) == 87
    assert value(series, "dreamseed_kpi_s_mean", **labels) == pytest.approx(0.31)
    ended = value(series, "dreamseed_job_last_run_timestamp_seconds", **labels)
    assert before <= ended <= time.time()
    assert value(series, "dreamseed_job_last_success_timestamp_seconds", **labels) == ended


def test_failed_run_keeps_the_last_success_time(pushgateway: str) -> None:
    settings = gateway_settings(pushgateway)
    publish(settings, "compute-daily-kpis", Shard.whole(), KPI_RESULT, 842)
    labels = group_labels("compute-daily-kpis")
    succeeded_at = value(scrape(pushgateway), "dreamseed_job_last_success_timestamp_seconds", **labels)
    time.sleep(0.01)
    publish(settings, "compute-daily-kpis", Shard.whole(), None, 15)  # a crash: no result
    series = scrape(pushgateway)
    assert value(series, "dreamseed_job_last_run_success", **labels) == 0
    assert value(series, "dreamseed_job_last_run_timestamp_seconds", **labels) > succeeded_at
    assert value(series, "dreamseed_job_last_success_timestamp_seconds", **labels) == succeeded_at
    partial = JobResult(processed=80, failed=7)  # some users failed: a failed run too
    publish(settings, "compute-daily-kpis", Shard.whole(), partial, 900)
    series = scrape(pushgateway)
    assert value(series, "dreamseed_job_last_run_success", **labels) == 0
    assert value(series, "dreamseed_job_failed", **labels) == 7
    assert value(series, "dreamseed_job_last_success_timestamp_seconds", **labels) == succeeded_at


def test_shards_push_to_their_own_groups(pushgateway: str) -> None:
    settings = gateway_settings(pushgateway)
    publish(settings, "generate-weekly-report", Shard(2, 4), JobResult(10, 0, {"reports_written": 20}), 5)
    publish(settings, "generate-weekly-report", Shard(3, 4), JobResult(9, 1), 5)
    series = scrape(pushgateway)
    report = "generate-weekly-report"
    assert value(series, "dreamseed_job_last_run_success", **group_labels(report, "2")) == 1
    assert value(series, "dreamseed_reports_written", **group_labels(report, "2")) == 20
    assert value(series, "dreamseed_job_last_run_success", **group_labels(report, "3")) == 0


def test_unreachable_pushgateway_does_not_fail_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    publish(gateway_settings(f"http://127.0.0.1:{free_port()}"), "detect-inactivity", Shard.whole(), None, 1)
    assert "[WARN] could not push metrics" in capsys.readouterr().out


def test_no_pushgateway_configured_pushes_nothing(pushgateway: str) -> None:
    publish(Settings(pushgateway_url=None), "detect-inactivity", Shard.whole(), KPI_RESULT, 1)
    assert scrape(pushgateway) == {}


# --------------------------------------------------------------------------- pushed series → alerts


def promtool_input(series: Series) -> list[dict[str, str]]:
    """The scraped series as promtool input, labelled as Prometheus stores them with honor_labels
    (empty labels dropped), constant over the test."""
    lines = []
    for (name, labels), sample in sorted(series.items(), key=lambda item: (item[0][0], sorted(item[0][1]))):
        selector = ", ".join(f'{key}="{text}"' for key, text in sorted(labels) if text)
        lines.append({"series": f"{name}{{{selector}}}", "values": f"{sample!r}x6"})
    return lines


def rules_without_annotations(directory: Path) -> Path:
    """rules.yml without annotations, so the test compares alert names and labels only."""
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_pushed_series_trigger_the_alert_rules(pushgateway: str, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    settings = gateway_settings(pushgateway)
    publish(settings, "compute-daily-kpis", Shard.whole(), KPI_RESULT, 842)
    publish(settings, "compute-daily-kpis", Shard.whole(), JobResult(80, 7), 900)
    publish(settings, "aggregate-features-daily", Shard.whole(), JobResult(0), 30)  # no attempts found
    calibration = {"calibration_converged": 0, "calibration_mean_item_drift": 0.5, "calibration_loglik": -1e4}
    publish(settings, "mirt-calibrate", Shard.whole(), JobResult(500, 0, calibration), 60_000)
    rules_without_annotations(tmp_path)

    def expected(alert: str, job_name: str | None, **extra: str) -> dict[str, object]:
        """A promtool case: `alert` fires for `job_name` (with `extra` labels), or not at all (None)."""
        labels = {"severity": "warning", "job_name": job_name, **extra}
        alerts = [{"exp_labels": labels}] if job_name else []
        return {"eval_time": "20m", "alertname": alert, "exp_alerts": alerts}

    kpis = "compute-daily-kpis"
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "5m",
        "tests": [
            {
                "interval": "5m",
                "input_series": promtool_input(scrape(pushgateway)),
                "alert_rule_test": [
                    expected("DreamseedJobFailed", kpis, job=f"dreamseed-{kpis}"),
                    expected("DreamseedFeaturesStale", "aggregate-features-daily"),
                    expected("DreamseedKpisStale", None),  # 80 users in the last run
                    expected("DreamseedCalibrationNotConverged", "mirt-calibrate"),
                    expected("DreamseedCalibrationDrift", "mirt-calibrate"),
                ],
            }
        ],
    }
    (tmp_path / "pushed.test.yml").write_text(yaml.safe_dump(tests), encoding="utf-8")
    result = subprocess.run(
        [promtool, "test", "rules", "pushed.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_a_job_run_pushes_its_metrics(pushgateway: str, settings: Settings, engine: Engine) -> None:
    """Through the runner: a real run of aggregate-features-daily (on an empty database) is visible."""
    from dreamseed.runtime.registry import load_job
    from dreamseed.runtime.runner import EXIT_OK, execute

    with_gateway = settings.model_copy(update={"pushgateway_url": pushgateway})
    code = execute(load_job("aggregate-features-daily"), with_gateway, engine, run_date=date(2025, 11, 2))
    assert code == EXIT_OK
    series = scrape(pushgateway)
    labels = group_labels("aggregate-features-daily")
    assert value(series, "dreamseed_job_last_run_success", **labels) == 1
    assert value(series, "dreamseed_job_processed", **labels) == 0
