"""Fixtures for the API tests: an app over the ``store`` fixture, keys of every role, a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import ApiSettings, create_app
from api.audit import AuditLog
from api.auth import KeyStore, Role
from api.clock import Clock, system_clock
from api.settings import Settings
from graph.store import GraphStore


@dataclass
class Api:
    client: TestClient
    keys: dict[Role, str]
    audit: AuditLog
    key_store: KeyStore

    def query(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        role: Role | None = Role.ADMIN,
        key: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        raw = key if key is not None else (self.keys[role] if role else None)
        if raw is not None:
            headers["Authorization"] = f"Bearer {raw}"
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def make_api(
    store: GraphStore,
    tmp_path: Path,
    api: ApiSettings | None = None,
    clock: Clock = system_clock,
) -> Api:
    settings = Settings(data_dir=tmp_path)
    key_store = KeyStore(tmp_path / "keys.json")
    keys = {role: key_store.add(role, f"test {role.value}")[1] for role in Role}
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = create_app(store, settings, keys=key_store, audit=audit, api=api, clock=clock)
    return Api(client=TestClient(app), keys=keys, audit=audit, key_store=key_store)


@pytest.fixture
def clock() -> list[date]:
    """The API's day, movable by a test: ``clock[0] = day`` (a module may override the start)."""
    return [date.today()]


@pytest.fixture
def api(store: GraphStore, tmp_path: Path, clock: list[date]) -> Iterator[Api]:
    made = make_api(store, tmp_path, clock=lambda: clock[0])
    with made.client:
        yield made


def codes(body: dict[str, Any]) -> list[str]:
    return [str(e.get("extensions", {}).get("code")) for e in body.get("errors", [])]
