"""deploy/: every YAML file parses, the Kubernetes objects carry what operators rely on, the stack
only sets settings the app knows, and the Caddyfile passes `caddy validate`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.core.test_settings_documented import variable_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
_SETTING = re.compile(r"\b(OHCONNECT_[A-Z0-9_]+|DATABASE_URL)\b")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


def k8s_objects() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in documents(path):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def test_every_yaml_file_parses() -> None:
    assert len(YAML_FILES) >= 6
    for path in YAML_FILES:
        assert documents(path), f"{path} is empty"


def test_compose_runs_two_app_processes_postgres_coturn_and_caddy() -> None:
    compose = documents(DEPLOY / "compose.yaml")[0]
    services = compose["services"]
    assert {"app-1", "app-2", "db", "proxy", "turn"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert services["turn"]["network_mode"] == "host"
    assert "/etc/coturn/turnserver.conf" in services["turn"]["command"]
    assert any("Caddyfile" in volume for volume in services["proxy"]["volumes"])
    for name in ("app-1", "app-2"):
        env = services[name]["environment"]
        assert env["OHCONNECT_ENVIRONMENT"] == "production"
        assert env["OHCONNECT_PUBLIC_URL"].startswith("https://")
        assert "${TURN_SECRET:?" in env["OHCONNECT_TURN_SECRET"], "secrets come from the env file"
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    caddyfile = (DEPLOY / "proxy" / "Caddyfile").read_text()
    assert "app-1:8000 app-2:8000" in caddyfile


def test_kubernetes_objects_have_the_fields_operators_rely_on() -> None:
    objects = k8s_objects()
    pod = objects[("Deployment", "ohconnect")]["spec"]["template"]["spec"]
    app = pod["containers"][0]
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert objects[("Service", "ohconnect")]["spec"]["selector"] == pod_labels(objects)
    annotations = objects[("Ingress", "ohconnect")]["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    hpa = objects[("HorizontalPodAutoscaler", "ohconnect")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ohconnect"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = objects[("PodDisruptionBudget", "ohconnect")]
    assert pdb["spec"]["selector"]["matchLabels"] == pod_labels(objects)
    turn = objects[("DaemonSet", "coturn")]["spec"]["template"]["spec"]
    assert turn["hostNetwork"] is True


def pod_labels(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = objects[("Deployment", "ohconnect")]["spec"]["template"]["metadata"]["labels"]
    return labels


def test_cloudnativepg_cluster_is_highly_available_and_backed_up() -> None:
    objects = k8s_objects()
    cluster = objects[("Cluster", "ohconnect-db")]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] >= 3
    assert ":16" in cluster["spec"]["imageName"]
    store = cluster["spec"]["backup"]["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://")
    assert store["wal"]["encryption"]
    assert store["data"]["encryption"]
    scheduled = objects[("ScheduledBackup", "ohconnect-db-nightly")]
    assert scheduled["spec"]["cluster"]["name"] == "ohconnect-db"
    app_env = objects[("Deployment", "ohconnect")]["spec"]["template"]["spec"]["containers"][0]["env"]
    database = next(e for e in app_env if e["name"] == "DATABASE_URL")
    assert database["valueFrom"]["secretKeyRef"] == {"name": "ohconnect-db-app", "key": "uri"}


def test_coturn_config_is_the_same_for_compose_and_kubernetes() -> None:
    def directives(text: str) -> list[str]:
        lines = (line.strip() for line in text.splitlines())
        return [line for line in lines if line and not line.startswith("#")]

    in_k8s = k8s_objects()[("ConfigMap", "coturn")]["data"]["turnserver.conf"]
    assert directives(in_k8s) == directives((DEPLOY / "turn" / "turnserver.conf").read_text())


def test_stack_sets_only_settings_the_app_knows() -> None:
    known = variable_names()
    files = [*YAML_FILES, DEPLOY / "Containerfile", *(DEPLOY / "systemd").iterdir()]
    used = {name for path in files for name in _SETTING.findall(path.read_text("utf-8"))}
    assert {"OHCONNECT_ENVIRONMENT", "OHCONNECT_TURN_SECRET", "DATABASE_URL"} <= used
    assert sorted(used - known) == [], "set in deploy/ but not a setting"


def test_caddyfile_passes_caddy_validate() -> None:
    caddy = shutil.which("caddy") or "/usr/bin/caddy"
    env = {**os.environ, "DOMAIN": "oh.example.org", "ACME_EMAIL": "ops@example.org"}
    done = subprocess.run(  # noqa: S603  (the installed caddy, fixed arguments)
        [caddy, "validate", "--config", str(DEPLOY / "proxy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_container_image_runs_unprivileged_and_checks_readiness() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert re.search(r"^USER 10001", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", text, re.M)
    assert "pip install --require-hashes -r requirements/runtime.lock" in text
    assert "pip install --no-deps ." in text


def test_background_jobs_run_in_workers_and_not_in_the_app_processes() -> None:
    services = documents(DEPLOY / "compose.yaml")[0]["services"]
    assert services["worker"]["command"] == ["ohconnect", "worker"]
    assert services["worker"]["healthcheck"] == {"disable": True}, "a worker serves no /readyz"
    for name in ("app-1", "app-2", "worker"):
        assert services[name]["environment"]["OHCONNECT_INPROCESS_JOBS"] == "false"
        assert "${POSTGRES_PASSWORD:?" in services[name]["environment"]["DATABASE_URL"]
    objects = k8s_objects()
    assert objects[("ConfigMap", "ohconnect")]["data"]["OHCONNECT_INPROCESS_JOBS"] == "false"
    worker = objects[("Deployment", "ohconnect-worker")]["spec"]["template"]["spec"]
    container = worker["containers"][0]
    assert container["args"][:2] == ["ohconnect", "worker"]
    assert {"configMapRef": {"name": "ohconnect"}} in container["envFrom"]
    database = next(e for e in container["env"] if e["name"] == "DATABASE_URL")
    assert database["valueFrom"]["secretKeyRef"] == {"name": "ohconnect-db-app", "key": "uri"}
    assert worker["securityContext"]["runAsNonRoot"] is True
    # The production guard refuses any process without the signing key: workers mount it too.
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/etc/ohconnect/signing" in mounts
    units = DEPLOY / "systemd"
    assert "ohconnect worker" in (units / "ohconnect-worker.service").read_text()
    assert "Environment=OHCONNECT_INPROCESS_JOBS=false" in (units / "ohconnect.service").read_text()
    assert "LoadCredential=signing-key.pem" in (units / "ohconnect-worker.service").read_text()
