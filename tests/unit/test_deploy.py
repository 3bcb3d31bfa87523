"""deploy/: the recipes parse and agree with the daemon (probe paths, port, grace)."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "kubernetes"
PORT = 9477
GRACE_S = float(Settings.model_fields["shutdown_grace_seconds"].default)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _k8s(kind: str, name: str | None = None) -> dict[str, Any]:
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _docs(path):
            if doc.get("kind") == kind and (name is None or doc["metadata"]["name"] == name):
                return doc
    raise AssertionError(f"no {kind} {name or ''} in {K8S}")


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)?", value.strip())
    assert match, value
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_default_http_port_is_the_one_deployed() -> None:
    assert Settings.model_fields["http_port"].default == PORT


def test_compose_probes_port_and_migrate_order() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:16"

    daemon = services["reelgate"]
    assert daemon["command"] == ["run"]
    assert f"{PORT}:{PORT}" in daemon["ports"]
    assert daemon["environment"]["REELGATE_HTTP_PORT"] == str(PORT)
    assert daemon["env_file"] == ".env"
    check = " ".join(daemon["healthcheck"]["test"])
    assert f"127.0.0.1:{PORT}/healthz" in check
    assert _seconds(daemon["stop_grace_period"]) > GRACE_S

    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["image"] == daemon["image"]
    assert daemon["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert daemon["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "postgres:5432" in daemon["environment"]["REELGATE_DATABASE_URL"]


def test_kubernetes_deployment_probes_and_port() -> None:
    deployment = _k8s("Deployment", "reelgate")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > GRACE_S
    (container,) = pod["containers"]
    assert container["args"] == ["run"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    def probe(name: str) -> tuple[str, int]:
        http = container[name]["httpGet"]
        port = http["port"]
        return http["path"], ports[port] if isinstance(port, str) else port

    assert probe("livenessProbe") == ("/healthz", PORT)
    assert probe("readinessProbe") == ("/readyz", PORT)
    assert probe("startupProbe") == ("/healthz", PORT)

    config = _k8s("ConfigMap", "reelgate-config")["data"]
    assert config["REELGATE_HTTP_PORT"] == str(PORT)
    assert config["REELGATE_HTTP_HOST"] == "0.0.0.0"
    assert float(config["REELGATE_SHUTDOWN_GRACE_SECONDS"]) < pod["terminationGracePeriodSeconds"]
    assert {"name": "reelgate-config"} in [e["configMapRef"] for e in container["envFrom"]]

    service = _k8s("Service", "reelgate")
    assert service["spec"]["ports"][0]["port"] == PORT


def test_kubernetes_secrets_channels_and_migrate_job() -> None:
    deployment = _k8s("Deployment", "reelgate")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    from_secrets = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in container["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    for name in (
        "REELGATE_DATABASE_URL",
        "REELGATE_NOTION_TOKEN",
        "REELGATE_STORAGE_R2_ACCESS_KEY_ID",
        "REELGATE_STORAGE_R2_SECRET_ACCESS_KEY",
    ):
        assert from_secrets.get(name) == "reelgate-secrets", name
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["google"]["secret"]["secretName"] == "reelgate-google"
    assert volumes["channels"]["configMap"]["name"] == "reelgate-channels"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config = _k8s("ConfigMap", "reelgate-config")["data"]
    assert config["REELGATE_CHANNELS_FILE"] == f"{mounts['channels']}/channels.toml"
    assert config["REELGATE_GOOGLE_CREDENTIALS_FILE"].startswith(mounts["google"] + "/")
    assert "channels.toml" in _k8s("ConfigMap", "reelgate-channels")["data"]

    job = _k8s("Job", "reelgate-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"]
    assert migrate["image"] == container["image"]

    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert 'ENTRYPOINT ["reelgate"]' in text
    assert 'CMD ["run"]' in text
    assert re.search(r"^EXPOSE 9477$", text, re.M)
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "/healthz" in healthcheck.split("\n\n")[0]
    assert "pip install ." in text


def test_the_image_copies_every_package_pyproject_installs() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}" in text, f"the image lacks {package}/"


@pytest.fixture
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "reelgate.service").read_text())
    return parser


def test_systemd_unit(unit: configparser.ConfigParser) -> None:
    service = unit["Service"]
    assert service["Type"] == "simple"
    assert service["ExecStart"].endswith("reelgate run")
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"].startswith("/etc/reelgate/")
    assert _seconds(service["TimeoutStopSec"]) > GRACE_S
    assert service["User"] != "root"
    for hardening in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome"):
        assert hardening in service
    assert unit["Install"]["WantedBy"] == "multi-user.target"
