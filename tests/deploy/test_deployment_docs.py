"""docs/DEPLOYMENT.md keeps up with the deployment assets: files, alerts, metrics, jobs."""

from __future__ import annotations

import re

import pytest
from tests.deploy.deploy_files import K8S, PROMETHEUS, ROOT, documents, manifest_files

from dreamseed.runtime.metrics import BASE_METRICS
from dreamseed.runtime.registry import JOB_MODULES

GUIDE = (ROOT / "docs" / "DEPLOYMENT.md").read_text(encoding="utf-8")
ALERTS = sorted(
    {rule["alert"] for group in documents(PROMETHEUS / "rules.yml")[0]["groups"] for rule in group["rules"]}
)


@pytest.mark.parametrize("alert", ALERTS)
def test_every_alert_is_explained(alert: str) -> None:
    assert f"`{alert}`" in GUIDE


@pytest.mark.parametrize("metric", BASE_METRICS)
def test_every_job_metric_is_documented(metric: str) -> None:
    assert f"`{metric}`" in GUIDE


@pytest.mark.parametrize("job", sorted(JOB_MODULES))
def test_every_job_is_deployed_in_the_guide(job: str) -> None:
    assert f"{job}.yaml" in GUIDE
    assert f"cronjob/{job}" in GUIDE


@pytest.mark.parametrize("path", [p.relative_to(K8S).as_posix() for p in manifest_files()])
def test_every_manifest_is_in_the_guide(path: str) -> None:
    assert path.split("/")[-1] in GUIDE


def test_every_deploy_path_in_the_guide_exists() -> None:
    for path in set(re.findall(r"deploy/[\w./-]+\.ya?ml", GUIDE)):
        assert (ROOT / path).is_file(), path
