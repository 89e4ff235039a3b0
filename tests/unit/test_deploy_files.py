"""docker-compose.yml and the Dockerfile (Docker does not run here: the files are checked)."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT


def _compose() -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_ports_are_bound_to_loopback() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    ports = [p for service in services.values() for p in service.get("ports", [])]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports), ports


def test_api_runs_in_production_mode_with_a_required_salt() -> None:
    api = _compose()["services"]["api"]  # type: ignore[index]
    environment = api["environment"]
    assert environment["CREDITNET_ENV"] == "production"
    assert environment["CREDITNET_ID_HASH_SALT"].startswith("${CREDITNET_ID_HASH_SALT:?")
    assert "./bundles:/bundles:ro" in api["volumes"]
    assert (ROOT / "bundles" / "README.md").is_file()


def test_the_image_installs_the_lock_file() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in dockerfile
    lock = (ROOT / "requirements.lock").read_text()
    locked = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in locked, f"{name} is a dependency but not in requirements.lock; refresh it"
