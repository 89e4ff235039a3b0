"""A plain JSON GraphQL POST is answered by the app's own path (api/app.py ``execute_graphql``),
anything else by strawberry's router: both must give the same answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.app import _Router
from api.auth import Role
from graph.memory import MemoryStore
from graph.model import Company
from graph.store import WriteBatch
from tests.api.conftest import Api, make_api

REPORT = 'query R($id: ID!) { creditReport(id: $id, asOf: "2024-06-01") { entity { id } score } }'


@pytest.fixture
def memory_api(tmp_path: Path) -> Api:
    store = MemoryStore()
    store.write(WriteBatch(nodes=[Company("C1", "Acme Trading Co")]))
    return make_api(store, tmp_path)


def _answer(api: Api, document: dict[str, Any], role: Role = Role.ADMIN) -> tuple[int, str, Any]:
    response = api.client.post(
        "/graphql",
        content=json.dumps(document).encode(),
        headers={"Authorization": f"Bearer {api.keys[role]}", "Content-Type": "application/json"},
    )
    body = response.json() if "json" in response.headers["content-type"] else response.text
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize(
    ("document", "own_path"),
    [
        ({"query": REPORT, "variables": {"id": "C1"}}, True),
        ({"query": REPORT, "variables": {"id": "nobody"}}, True),  # an error in execution
        ({"query": REPORT, "variables": {}}, True),  # a missing variable
        ({"query": "{ nothing }"}, True),  # a validation error
        ({"query": "{ entity(id: ", "variables": None}, True),  # a syntax error
        ({"query": 'mutation { fileObjection(sanction: "S", reason: "r") { id } }'}, True),
        ({"query": "subscription { x }"}, True),  # the schema has no subscriptions
        # refused before execution: the app's path hands it to the router for its 400
        ({"query": REPORT, "variables": {"id": "C1"}, "operationName": "Other"}, False),
    ],
)
def test_the_app_path_answers_as_the_router_does(
    memory_api: Api, document: dict[str, Any], own_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed: list[bool] = []
    run = _Router.run

    async def counted(self: _Router, *args: Any, **kwargs: Any) -> Any:
        routed.append(True)
        return await run(self, *args, **kwargs)

    monkeypatch.setattr(_Router, "run", counted)
    # ``extensions`` sends a request through strawberry's router; without it, the app's path
    with memory_api.client:
        own = _answer(memory_api, document)
        assert routed == ([] if own_path else [True])
        router = _answer(memory_api, {**document, "extensions": {"x": 1}})
        assert routed[-1:] == [True]
    assert own == router, (own, router)


def test_requests_the_app_path_does_not_take_reach_the_router(memory_api: Api) -> None:
    with memory_api.client:
        status, _, body = _answer(memory_api, {"query": REPORT, "variables": []})
    assert status == 400 and "variables" in body, body
    # one audited read each for the two paths: the router's context audits as the app's does
    with memory_api.client:
        _answer(memory_api, {"query": REPORT, "variables": {"id": "C1"}})
        _answer(memory_api, {"query": REPORT, "variables": {"id": "C1"}, "extensions": {}})
    reads = [e for e in memory_api.audit.events() if e["operation"] == "credit_report"]
    assert [e["subject_ids"] for e in reads] == [["C1"], ["C1"]]
