"""The Kubernetes manifests under deploy/k8s: valid, complete, hardened, and calling real commands."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices
from tests.deploy.deploy_files import (
    K8S,
    KUSTOMIZATION,
    Manifest,
    all_manifests,
    component,
    containers,
    documents,
    env_values,
    iter_env_sources,
    job_spec,
    manifest_files,
    manifest_id,
    of_kind,
    pod_spec,
    workloads,
)

from dreamseed.cli.main import SUBCOMMANDS, cli
from dreamseed.runtime.registry import JOB_MODULES
from dreamseed.settings import Settings
from dreamseed.storage.shard import Shard

# The oldest Kubernetes version the manifests promise to work on, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

GUIDE_SCHEDULES = {
    "aggregate-features-daily": "15 1 * * *",
    "compute-daily-kpis": "10 2 * * *",
    "mirt-calibrate": "0 3 * * *",
    "generate-weekly-report": "0 4 * * 1",
    "detect-inactivity": "0 5 * * *",
    "refresh-console": "30 5 * * *",
}
# (requests memory, requests cpu, limits memory, limits cpu) from the original CronJobs.
ORIGINAL_RESOURCES = {
    "aggregate-features-daily": ("512Mi", "200m", "1Gi", "1"),
    "compute-daily-kpis": ("256Mi", "100m", "512Mi", "500m"),
    "mirt-calibrate": ("1Gi", "500m", "2Gi", "2"),
    "detect-inactivity": ("512Mi", "200m", "1Gi", "1"),
    "generate-weekly-report": ("2Gi", "1", "4Gi", "2"),
    # new, not in the original deployment: detect-inactivity's modest values, not measured
    "refresh-console": ("512Mi", "200m", "1Gi", "1"),
}
SECRETS = {"seedtest-db-credentials", "seedtest-irt-credentials", "aws-s3-credentials"}
# Environment variables the pods may set that are not DreamSeed settings.
NON_SETTINGS_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "JOB_COMPLETION_COUNT"}

MANIFESTS = all_manifests()
WORKLOADS = workloads()
CRONJOBS = of_kind("CronJob")
INDEXED_JOBS = [(path, m) for path, m in of_kind("Job") if m["spec"].get("completionMode") == "Indexed"]


def ids(items: list[tuple[Path, Manifest]]) -> list[str]:
    return [manifest_id(path, manifest) for path, manifest in items]


def setting_env_names() -> set[str]:
    names: set[object] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.update(alias.choices if isinstance(alias, AliasChoices) else [alias])
    return {name for name in names if isinstance(name, str)}


# --------------------------------------------------------------------------- validity


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("path", "manifest"), MANIFESTS, ids=ids(MANIFESTS))
def test_manifest_is_valid_kubernetes(path: Path, manifest: Manifest, version: str) -> None:
    kubernetes_validate.validate(manifest, version, strict=True)


def test_strict_validation_rejects_an_unknown_field() -> None:
    _, manifest = CRONJOBS[0]
    broken = yaml.safe_load(yaml.safe_dump(manifest))
    broken["spec"]["concurrencyPolicyy"] = "Forbid"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_to_keep_deployed() -> None:
    kustomization = documents(K8S / KUSTOMIZATION)[0]
    listed = set(kustomization["resources"])
    top_level = {path.name for path in manifest_files() if path.parent == K8S}
    assert listed == top_level
    assert kustomization["namespace"] == "seedtest"
    # one-off Jobs (generated names) and example Secrets stay out of `kubectl apply -k`
    elsewhere = {path.parent.name for path in manifest_files() if path.parent != K8S}
    assert elsewhere == {"jobs", "examples"}
    images = {image["name"] for image in kustomization["images"]}
    assert images == {container["image"].split(":")[0] for _, m in WORKLOADS for container in containers(m)}


# The guide's deployment phases: `kubectl apply -k deploy/k8s -l dreamseed.io/phase=N`.
PHASES = {
    "0": {
        "Namespace/seedtest",
        "ServiceAccount/dreamseed",
        "ConfigMap/dreamseed-config",
        "ConfigMap/report-config",
    },
    "1": {"CronJob/aggregate-features-daily", "CronJob/compute-daily-kpis"},
    "2": {
        "CronJob/mirt-calibrate",
        "Deployment/dreamseed-api",
        "Service/dreamseed-api",
        "Service/dreamseed-api-pods",
    },
    "3": {"CronJob/detect-inactivity"},
    "4": {"CronJob/generate-weekly-report"},
    "5": {"CronJob/refresh-console"},
    "6": {"ConfigMap/stream-config", "Deployment/stream-consumer", "Service/stream-consumer-pods"},
}


def test_kept_resources_are_labelled_with_their_deployment_phase() -> None:
    phases: dict[str, set[str]] = {}
    for path, manifest in MANIFESTS:
        if path.parent == K8S:
            phase = manifest["metadata"]["labels"]["dreamseed.io/phase"]
            phases.setdefault(phase, set()).add(f"{manifest['kind']}/{manifest['metadata']['name']}")
    assert phases == PHASES


@pytest.mark.parametrize(("path", "manifest"), MANIFESTS, ids=ids(MANIFESTS))
def test_everything_lives_in_namespace_seedtest(path: Path, manifest: Manifest) -> None:
    if manifest["kind"] == "Namespace":
        assert manifest["metadata"]["name"] == "seedtest"
    else:
        assert manifest["metadata"]["namespace"] == "seedtest"


def test_one_image_for_every_workload() -> None:
    images = {container["image"] for _, m in WORKLOADS for container in containers(m)}
    assert len(images) == 1


# --------------------------------------------------------------------------- CronJobs


def test_one_cronjob_per_job_on_the_guides_schedule() -> None:
    schedules = {m["metadata"]["name"]: m["spec"]["schedule"] for _, m in CRONJOBS}
    assert schedules == GUIDE_SCHEDULES
    assert set(schedules) == set(JOB_MODULES)


@pytest.mark.parametrize(("path", "manifest"), CRONJOBS, ids=ids(CRONJOBS))
def test_cronjob_runs_one_at_a_time_with_the_original_limits(path: Path, manifest: Manifest) -> None:
    spec = manifest["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (2, 3)
    assert job_spec(manifest)["backoffLimit"] == 1
    assert job_spec(manifest)["activeDeadlineSeconds"] > 0
    assert pod_spec(manifest)["restartPolicy"] == "Never"
    assert component(manifest) == manifest["metadata"]["name"]


@pytest.mark.parametrize(("path", "manifest"), CRONJOBS, ids=ids(CRONJOBS))
def test_cronjob_resources_are_the_original_table(path: Path, manifest: Manifest) -> None:
    (container,) = containers(manifest)
    resources = container["resources"]
    got = (
        resources["requests"]["memory"],
        str(resources["requests"]["cpu"]),
        resources["limits"]["memory"],
        str(resources["limits"]["cpu"]),
    )
    assert got == ORIGINAL_RESOURCES[manifest["metadata"]["name"]]


# --------------------------------------------------------------------------- pods


@pytest.mark.parametrize(("path", "manifest"), WORKLOADS, ids=ids(WORKLOADS))
def test_pods_run_as_non_root_with_a_read_only_root(path: Path, manifest: Manifest) -> None:
    spec = pod_spec(manifest)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for container in containers(manifest):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        assert "emptyDir" in volumes[mounts["/var/lib/dreamseed"]], "DREAMSEED_HOME must be writable"
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}


@pytest.mark.parametrize(("path", "manifest"), WORKLOADS, ids=ids(WORKLOADS))
def test_env_names_are_dreamseed_settings(path: Path, manifest: Manifest) -> None:
    known = setting_env_names() | NON_SETTINGS_ENV
    for container in containers(manifest):
        assert set(env_values(container)) <= known


def test_configmap_keys_are_dreamseed_settings() -> None:
    for _, config_map in of_kind("ConfigMap"):
        assert set(config_map["data"]) <= setting_env_names()


@pytest.mark.parametrize(("path", "manifest"), WORKLOADS, ids=ids(WORKLOADS))
def test_secret_and_configmap_references_resolve(path: Path, manifest: Manifest) -> None:
    config_maps = {m["metadata"]["name"]: m["data"] for p, m in of_kind("ConfigMap") if p.parent == K8S}
    example_secrets = {m["metadata"]["name"]: m["stringData"] for _, m in of_kind("Secret")}
    assert set(example_secrets) == SECRETS
    for container in containers(manifest):
        for kind, name, key, _optional in iter_env_sources(container):
            source = config_maps if kind == "ConfigMap" else example_secrets
            assert name in source, f"{kind} {name} is not defined"
            if key is not None:
                assert key in source[name], f"{kind} {name} has no key {key}"
        assert env_values(container)["DATABASE_URL"] == {
            "secretKeyRef": {"name": "seedtest-db-credentials", "key": "DATABASE_URL"}
        }


def test_example_secrets_are_marked_and_hold_no_credentials() -> None:
    for path, secret in of_kind("Secret"):
        assert path.parent.name == "examples"
        assert "example" in path.name
        assert secret["metadata"]["annotations"]["dreamseed.io/example"].startswith("true")
        for key, value in secret["stringData"].items():
            assert value == "" or "CHANGE-ME" in value, f"{key} looks like a real value"


def test_no_workload_runs_in_dry_run_mode() -> None:
    """The original report CronJob hard-coded --dry-run, so nothing was ever uploaded."""
    for _, manifest in WORKLOADS:
        for container in containers(manifest):
            words = [*container.get("command", []), *container.get("args", [])]
            assert "--dry-run" not in words
            assert str(env_values(container).get("DRY_RUN", "false")).lower() in {"false", "0", ""}


def test_report_job_gets_the_report_config_and_s3_credentials() -> None:
    (report,) = [m for _, m in CRONJOBS if m["metadata"]["name"] == "generate-weekly-report"]
    (container,) = containers(report)
    # rendering processes = the CPU limit (the default would count the node's CPUs)
    assert container["args"] == ["--workers", str(container["resources"]["limits"]["cpu"])]
    sources = {(kind, name) for kind, name, _, _ in iter_env_sources(container)}
    assert {("ConfigMap", "report-config"), ("Secret", "aws-s3-credentials")} <= sources


# --------------------------------------------------------------------------- commands


def job_invocation(container: dict[str, Any]) -> tuple[str, list[str]]:
    """(job name, its arguments) of `python -m dreamseed.jobs.<module>` or `dreamseed run <job>`."""
    words = [*container["command"], *container.get("args", [])]
    if words[:2] == ["python", "-m"]:
        by_module = {module: name for name, module in JOB_MODULES.items()}
        assert words[2] in by_module, f"{words[2]} is not a job module in JOB_MODULES"
        return by_module[words[2]], words[3:]
    assert words[:2] == ["dreamseed", "run"], f"unexpected job command {shlex.join(words)}"
    assert words[2] in JOB_MODULES
    return words[2], words[3:]


JOB_WORKLOADS = [(p, m) for p, m in WORKLOADS if component(m) in JOB_MODULES]


@pytest.mark.parametrize(("path", "manifest"), JOB_WORKLOADS, ids=ids(JOB_WORKLOADS))
def test_job_command_is_a_real_job(path: Path, manifest: Manifest) -> None:
    (container,) = containers(manifest)
    name, arguments = job_invocation(container)
    assert name == component(manifest)
    assert importlib.util.find_spec(JOB_MODULES[name]) is not None, f"{JOB_MODULES[name]} is missing"
    from dreamseed.runtime.command import job_command
    from dreamseed.runtime.registry import load_job

    job_command(load_job(name)).make_context(name, list(arguments))  # raises on an unknown option


def resolve_cli(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command that `dreamseed <words>` reaches, and the words left for its options."""
    command: click.Command = cli
    context = click.Context(cli, info_name="dreamseed")
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(context, words[0])
        assert found is not None, f"no subcommand {words[0]!r}"
        context = click.Context(found, info_name=words[0], parent=context)
        command, words = found, words[1:]
    return command, words


OTHER_WORKLOADS = [(p, m) for p, m in WORKLOADS if component(m) not in JOB_MODULES]


@pytest.mark.parametrize(("path", "manifest"), OTHER_WORKLOADS, ids=ids(OTHER_WORKLOADS))
def test_dreamseed_command_is_a_real_subcommand(path: Path, manifest: Manifest) -> None:
    (container,) = containers(manifest)
    words = [*container["command"], *container.get("args", [])]
    assert words[0] == "dreamseed"
    assert words[1] in SUBCOMMANDS, (
        f"`dreamseed {words[1]}` is not registered (dreamseed.cli.main.SUBCOMMANDS)"
    )
    module = SUBCOMMANDS[words[1]].split(":")[0]
    assert importlib.util.find_spec(module) is not None, f"{module} is missing"
    command, options = resolve_cli(words[1:])
    assert not isinstance(command, click.Group), f"{shlex.join(words)} names a group, not a command"
    command.make_context(words[-1], options)  # raises on an unknown option


# --------------------------------------------------------------------------- sharded runs


def test_indexed_variants_exist_for_kpis_and_reports() -> None:
    assert {component(m) for _, m in INDEXED_JOBS} == {"compute-daily-kpis", "generate-weekly-report"}


@pytest.mark.parametrize(("path", "manifest"), INDEXED_JOBS, ids=ids(INDEXED_JOBS))
def test_indexed_job_shards_cover_every_user_once(
    path: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = manifest["spec"]
    (container,) = containers(manifest)
    count = int(env_values(container)["JOB_COMPLETION_COUNT"])
    assert spec["completions"] == spec["parallelism"] == count
    shards = []
    for index in range(spec["completions"]):  # Kubernetes sets JOB_COMPLETION_INDEX per pod
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        monkeypatch.setenv("JOB_COMPLETION_COUNT", str(count))
        shards.append(Shard.from_settings(Settings()))
    users = [f"user-{n}" for n in range(200)]
    owners = [[shard for shard in shards if shard is not None and shard.contains(user)] for user in users]
    assert all(len(owner) == 1 for owner in owners)


@pytest.mark.parametrize(("path", "manifest"), INDEXED_JOBS, ids=ids(INDEXED_JOBS))
def test_indexed_job_matches_its_cronjob(path: Path, manifest: Manifest) -> None:
    (cronjob,) = [m for _, m in CRONJOBS if m["metadata"]["name"] == component(manifest)]
    (sharded,) = containers(manifest)
    (daily,) = containers(cronjob)
    assert sharded["command"] == daily["command"]
    assert sharded.get("args") == daily.get("args")
    assert {k: v for k, v in env_values(sharded).items() if k != "JOB_COMPLETION_COUNT"} == env_values(daily)
    assert sharded["envFrom"] == daily["envFrom"]
    assert sharded["resources"] == daily["resources"]
    assert manifest["metadata"]["generateName"].startswith(component(manifest))


# --------------------------------------------------------------------------- the service


def deployment_named(name: str) -> Manifest:
    (deployment,) = [m for _, m in of_kind("Deployment") if m["metadata"]["name"] == name]
    return deployment


def test_the_deployments_are_the_api_and_the_stream_consumer() -> None:
    assert {m["metadata"]["name"] for _, m in of_kind("Deployment")} == {"dreamseed-api", "stream-consumer"}


def test_api_deployment_serves_on_8000_with_probes_and_scrape_annotations() -> None:
    deployment = deployment_named("dreamseed-api")
    (container,) = containers(deployment)
    assert container["command"] == ["dreamseed", "serve", "--host", "0.0.0.0", "--port", "8000"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "8000"
    assert annotations["prometheus.io/path"] == "/metrics"


def test_api_services_select_the_api_pods() -> None:
    deployment = deployment_named("dreamseed-api")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    services = {m["metadata"]["name"]: m["spec"] for _, m in of_kind("Service") if component(m) == "api"}
    assert set(services) == {"dreamseed-api", "dreamseed-api-pods"}
    for spec in services.values():
        assert spec["selector"].items() <= pod_labels.items()
        assert [(p["port"], p["targetPort"]) for p in spec["ports"]] == [(8000, "http")]
    assert services["dreamseed-api-pods"]["clusterIP"] == "None"


# --------------------------------------------------------------------------- the stream consumer


def test_stream_consumer_serves_metrics_on_its_setting_port_with_probes() -> None:
    deployment = deployment_named("stream-consumer")
    (container,) = containers(deployment)
    assert container["command"] == ["dreamseed", "stream", "consume"]
    assert deployment["spec"]["replicas"] >= 2
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    # the worker serves metrics only when STREAM_METRICS_PORT is set, on that port
    assert ports == {"metrics": int(env_values(container)["STREAM_METRICS_PORT"])}
    # readiness: connected to NATS and PostgreSQL (tests/stream/test_readiness.py serves these)
    paths = {"livenessProbe": "/livez", "readinessProbe": "/readyz", "startupProbe": "/livez"}
    for probe, path in paths.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "metrics"}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(ports["metrics"])
    # SIGTERM finishes the batch in hand: leave it more than the default 30 s
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] >= 60
    assert "Not measured" in (K8S / "stream-consumer.yaml").read_text(encoding="utf-8")


def test_stream_consumer_finds_nats_through_a_configmap_or_secret() -> None:
    (container,) = containers(deployment_named("stream-consumer"))
    config_maps = {m["metadata"]["name"]: m["data"] for _, m in of_kind("ConfigMap")}
    whole = [
        name for kind, name, key, _ in iter_env_sources(container) if kind == "ConfigMap" and key is None
    ]
    from_config_maps = {variable for name in whole for variable in config_maps[name]}
    referenced = {key for _, _, key, _ in iter_env_sources(container) if key is not None}
    assert "NATS_URL" in from_config_maps | referenced
    assert "NATS_URL" not in {item["name"] for item in container.get("env", []) if "value" in item}
    assert Settings(nats_url=config_maps["stream-config"]["NATS_URL"]).nats_url.startswith("nats://")


def test_stream_consumer_pods_service_is_headless_on_the_metrics_port() -> None:
    deployment = deployment_named("stream-consumer")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (service,) = [m["spec"] for _, m in of_kind("Service") if component(m) == "stream-consumer"]
    assert service["clusterIP"] == "None"
    assert service["publishNotReadyAddresses"] is True
    assert service["selector"].items() <= pod_labels.items()
    (container,) = containers(deployment)
    assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [
        (container["ports"][0]["containerPort"], "metrics")
    ]
