"""Deploying: the Dockerfile and docker-compose.yml say what the program reads (Docker cannot run here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from stepseven.cli import cli

ROOT = Path(__file__).parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _envvars(command: str) -> set[str]:
    found = set()
    for param in cli.commands[command].params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            found.add(envvar)
    return found


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list)
    return [str(part) for part in command]


def test_compose_runs_the_collector_and_the_dashboard_with_a_volume_and_health_checks() -> None:
    services = COMPOSE["services"]
    assert set(services) >= {"collector", "dashboard"}
    collector, dashboard = services["collector"], services["dashboard"]
    assert _command(collector)[0] == "serve" and _command(dashboard)[0] == "dashboard"

    def published(service: dict[str, Any]) -> dict[int, str]:
        ports = {}
        for spec in service["ports"]:
            host, host_port, container_port = str(spec).rsplit(":", 2) if str(spec).count(":") == 2 else ("", "", "")
            assert host == "127.0.0.1", f"{spec} is published beyond the host's loopback"
            assert host_port == container_port
            ports[int(container_port)] = host
        return ports

    assert set(published(collector)) == {4317, 4318, 4319}
    assert set(published(dashboard)) == {8501}
    data = collector["environment"]["STEPSEVEN_DB"]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in collector["volumes"]}
    assert str(Path(data).parent) in mounts
    assert mounts[str(Path(data).parent)] in COMPOSE["volumes"]  # a named volume, kept across restarts
    for service in (collector, dashboard):
        assert service["healthcheck"]["test"][0] == "CMD"
    assert "4319/healthz" in " ".join(collector["healthcheck"]["test"])
    assert dashboard["depends_on"]["collector"]["condition"] == "service_healthy"
    assert dashboard["environment"]["STEPSEVEN_URL"] == "http://collector:4319"
    # SIGTERM drains the queue and checkpoints: compose must wait for it.
    assert int(str(collector["stop_grace_period"]).rstrip("s")) >= 30


def test_the_postgres_profile_runs_two_collectors_on_one_database() -> None:
    services = COMPOSE["services"]
    profiled = {name for name, service in services.items() if "postgres" in service.get("profiles", [])}
    assert profiled == {"postgres", "collector-pg-1", "collector-pg-2", "dashboard-pg"}
    assert not {"collector", "dashboard"} & profiled  # `docker compose up` alone stays on DuckDB
    database = services["postgres"]
    assert database["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in database["volumes"])
    host_ports = []
    for name in ("collector-pg-1", "collector-pg-2"):
        replica = services[name]
        assert _command(replica)[0] == "serve"
        store = replica["environment"]["STEPSEVEN_STORE"]
        assert store.startswith("postgresql://stepseven:") and store.endswith("@postgres:5432/stepseven")
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "4319/healthz" in " ".join(replica["healthcheck"]["test"])
        for spec in replica["ports"]:
            host, host_port, _ = str(spec).split(":")
            assert host == "127.0.0.1"
            host_ports.append(int(host_port))
    assert len(host_ports) == len(set(host_ports)) == 6  # both replicas reachable from the host at once
    assert services["dashboard-pg"]["environment"]["STEPSEVEN_URL"] == "http://collector-pg-1:4319"


SERVICES_WITH_COMMANDS = [name for name, service in COMPOSE["services"].items() if "command" in service]


@pytest.mark.parametrize("name", SERVICES_WITH_COMMANDS)
def test_every_variable_compose_sets_is_one_the_program_reads_and_parses(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE["services"][name]
    command = _command(service)
    environment = {k: str(v) for k, v in service["environment"].items()}
    known = _envvars(command[0])
    assert sorted(set(environment) - known) == []
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    # The values parse as the options' types (a typo like "30 days" fails here, not in production).
    context = cli.commands[command[0]].make_context(command[0], command[1:])
    for key in environment:
        param = next(p for p in cli.commands[command[0]].params if getattr(p, "envvar", None) == key)
        assert context.params[str(param.name)] is not None, key
    assert isinstance(context, click.Context)


def test_the_dockerfile_installs_every_package_and_sets_only_variables_the_program_reads() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in (p.rstrip("*") for p in include):
        assert re.search(rf"^COPY {package} \./{package}$", DOCKERFILE, re.M), f"the image lacks {package}/"
    variables = set(re.findall(r"\b(STEPSEVEN_[A-Z_]+)=", DOCKERFILE))
    assert variables and variables <= _envvars("serve")
    assert set(map(int, re.findall(r"^EXPOSE (.+)$", DOCKERFILE, re.M)[0].split())) == {4317, 4318, 4319, 8501}
    assert "4319/healthz" in DOCKERFILE
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
