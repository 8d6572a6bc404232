"""The production stack's files agree with the code: no setting the services do not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.registry import entries

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return document


def _ours(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose["services"].items()
        if str(svc.get("image", "")).startswith("signpost")
    }


def test_every_variable_the_stack_sets_is_one_the_settings_know(compose: dict[str, Any]) -> None:
    known = {name: entry.settings_type.known_env_vars() for name, entry in entries().items()}
    everything = set().union(*known.values())
    for name, service in _ours(compose).items():
        command = " ".join(service.get("command", []))
        runs = [s for s in known if f"services.{s}" in command]
        allowed = known[runs[0]] if runs else everything
        unknown = set(service.get("environment", {})) - allowed
        assert not unknown, f"{name} sets variables no settings read: {sorted(unknown)}"


def test_each_service_runs_in_production_mode_on_postgres_and_kafka(
    compose: dict[str, Any],
) -> None:
    services = _ours(compose)
    for name in entries():
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["DATABASE_URL"].endswith(f"/{name}")
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert "healthcheck" in services[name]
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["migrate"]["command"] == ["signpost", "migrate"]


def test_kafka_runs_in_kraft_mode_and_postgres_holds_one_database_per_service(
    compose: dict[str, Any],
) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert compose["services"]["postgres"]["image"] == "postgres:16"
    init = (REPO / "deploy/postgres/init.sql").read_text()
    for name in entries():
        assert f"CREATE DATABASE {name};" in init


def test_the_image_installs_the_package_and_runs_unprivileged() -> None:
    dockerfile = (REPO / "deploy/Dockerfile").read_text()
    assert "RUN pip install ." in dockerfile
    assert "USER signpost" in dockerfile
