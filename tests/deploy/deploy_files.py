"""Reading the deployment assets under deploy/ for the tests: manifests, pod specs, env, tools."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
PROMETHEUS = ROOT / "deploy" / "prometheus"
KUSTOMIZATION = "kustomization.yaml"

Manifest = dict[str, Any]


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest under deploy/k8s (kustomization files excluded)."""
    return sorted(path for path in K8S.rglob("*.yaml") if path.name != KUSTOMIZATION)


def documents(path: Path) -> list[Manifest]:
    """The YAML documents of a file, empty ones skipped."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return [document for document in yaml.load_all(handle, Loader=loader) if document]


@functools.cache
def _parsed_manifests() -> tuple[tuple[Path, Manifest], ...]:
    return tuple((path, document) for path in manifest_files() for document in documents(path))


def all_manifests() -> list[tuple[Path, Manifest]]:
    """(file, document) of every manifest, parsed once per test session; do not modify them."""
    return list(_parsed_manifests())


def manifest_id(path: Path, manifest: Manifest) -> str:
    name = manifest["metadata"].get("name") or manifest["metadata"].get("generateName", "")
    return f"{path.relative_to(K8S)}:{manifest['kind']}/{name}"


def of_kind(*kinds: str) -> list[tuple[Path, Manifest]]:
    return [(path, manifest) for path, manifest in all_manifests() if manifest["kind"] in kinds]


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    """The pod spec of a CronJob, Job or Deployment."""
    if manifest["kind"] == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return manifest["spec"]["template"]["spec"]


def job_spec(manifest: Manifest) -> dict[str, Any]:
    """The Job spec of a CronJob (its template) or of a Job."""
    return manifest["spec"]["jobTemplate"]["spec"] if manifest["kind"] == "CronJob" else manifest["spec"]


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(manifest)
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads() -> list[tuple[Path, Manifest]]:
    return of_kind("CronJob", "Job", "Deployment")


def env_values(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or the valueFrom reference, of a container's env."""
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}


def component(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])


def iter_env_sources(container: dict[str, Any]) -> Iterator[tuple[str, str, str | None, bool]]:
    """(kind, object name, key or None for envFrom, optional) of each Secret/ConfigMap reference."""
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        for kind, field in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
            if field in source:
                ref = source[field]
                yield kind, ref["name"], ref["key"], bool(ref.get("optional", False))
    for item in container.get("envFrom", []):
        for kind, field in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
            if field in item:
                ref = item[field]
                yield kind, ref["name"], None, bool(ref.get("optional", False))


def require_tool(*names: str) -> str:
    """The path of a system tool (first of `names` found); a failure saying how to get it when
    missing, on every machine (a skip would hide the missing part)."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    pytest.fail(
        f"{' or '.join(names)} is not installed: run scripts/install-system-packages as root "
        "(it names the Debian package), or put the tool on PATH"
    )
