"""The Prometheus assets under deploy/prometheus: promtool accepts them, every alert is unit-tested
both ways, and the rules read the metrics the jobs really push."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from typing import Any

import pytest
from tests.deploy.deploy_files import PROMETHEUS, documents, require_tool

from dreamseed.runtime.metrics import BASE_METRICS, domain_metric_name
from dreamseed.runtime.registry import JOB_MODULES
from dreamseed.stream.metrics import StreamMetrics

# Domain figures (JobResult.metrics keys) the alert rules rely on, by the job that must export them.
ALERTED_DOMAIN_FIGURES = {
    "calibration_converged": "mirt-calibrate",
    "calibration_mean_item_drift": "mirt-calibrate",
}
WEEKLY_JOBS = {"generate-weekly-report"}
RULE_TESTS = (PROMETHEUS / "rules.test.yml", PROMETHEUS / "rules.weekly.test.yml")


def alert_rules() -> list[dict[str, Any]]:
    rules = documents(PROMETHEUS / "rules.yml")[0]
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(PROMETHEUS / "rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *(str(path) for path in RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_example_configuration() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("alert", sorted({rule["alert"] for rule in alert_rules()}))
def test_every_alert_has_a_firing_and_a_quiet_test(alert: str) -> None:
    tests = [test for path in RULE_TESTS for test in documents(path)[0]["tests"]]
    cases = [case for test in tests for case in test["alert_rule_test"] if case["alertname"] == alert]
    assert any(case["exp_alerts"] for case in cases), f"no test where {alert} fires"
    assert any(not case["exp_alerts"] for case in cases), f"no test where {alert} stays quiet"


def test_every_alert_says_what_to_do() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def stream_metric_names() -> set[str]:
    """The series the stream consumer serves (a counter's sample names end in _total)."""
    registry = StreamMetrics().registry
    return {sample.name for family in registry.collect() for sample in family.samples} | {
        family.name for family in registry.collect()
    }


def test_rules_read_only_metrics_the_jobs_push() -> None:
    used = {name for rule in alert_rules() for name in re.findall(r"\bdreamseed_\w+", rule["expr"])}
    domain = {domain_metric_name(figure) for figure in ALERTED_DOMAIN_FIGURES}
    assert used <= set(BASE_METRICS) | domain | stream_metric_names()
    assert domain <= used
    assert "dreamseed_stream_consumer_pending" in used


def test_scraped_jobs_in_the_rules_are_in_the_example_configuration() -> None:
    configuration = documents(PROMETHEUS / "prometheus.yml")[0]
    scraped = {job["job_name"] for job in configuration["scrape_configs"]}
    named = {name for rule in alert_rules() for name in re.findall(r'\bjob="([^"]+)"', rule["expr"])}
    assert named <= scraped
    assert "dreamseed-stream-consumer" in named


@pytest.mark.parametrize(("figure", "job"), sorted(ALERTED_DOMAIN_FIGURES.items()))
def test_alerted_domain_figure_is_exported_by_its_job(figure: str, job: str) -> None:
    """A contract with the job modules: the key must appear in the module's JobResult.metrics."""
    spec = importlib.util.find_spec(JOB_MODULES[job])
    assert spec is not None, f"{JOB_MODULES[job]} is missing: an alert reads it"
    assert spec.origin is not None
    with open(spec.origin, encoding="utf-8") as handle:
        source = handle.read()
    assert f'"{figure}"' in source, f"{job} must export the figure {figure!r} (the alert rules use it)"


def test_rules_name_real_jobs_and_watch_every_schedule() -> None:
    expressions = "\n".join(rule["expr"] for rule in alert_rules())
    named = {job for match in re.findall(r'job_name=~?"([^"]+)"', expressions) for job in match.split("|")}
    assert named == set(JOB_MODULES)
    overdue = "\n".join(rule["expr"] for rule in alert_rules() if rule["alert"] == "DreamseedJobOverdue")
    never = "\n".join(rule["expr"] for rule in alert_rules() if rule["alert"] == "DreamseedJobNeverSucceeded")
    for job in JOB_MODULES:
        assert job in overdue
        assert never.count(f'"{job}"') == 1
    daily = next(r for r in alert_rules() if r["alert"] == "DreamseedJobOverdue" and "26 * 3600" in r["expr"])
    assert not WEEKLY_JOBS & set(re.findall(r"[a-z-]+", daily["expr"]))
