"""Hostile and careless requests (issue 11): each is refused quickly, with a code, never a 500."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from api.app import REQUEST_LOG, ApiSettings, JsonLogFormatter
from api.auth import Role
from api.graphql.limits import check_nesting
from api.settings import MetricsAccess
from graph.memory import MemoryStore
from graph.model import Company
from graph.store import SearchPage, WriteBatch
from tests.api.conftest import Api, codes, make_api


def fan_out(levels: int, leaf: str = "__typename") -> str:
    """Fragments each spreading the one before twice: 2**levels leaves from a few hundred bytes."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return f"query Q {{ ...F{levels - 1} }}\n" + "\n".join(fragments)


@pytest.fixture
def memory_api(tmp_path: Path) -> Api:
    store = MemoryStore()
    store.write(WriteBatch(nodes=[Company("C1", "Acme Trading Co")]))
    return make_api(store, tmp_path)


def _post(api: Api, body: bytes, key: str | None = None, **headers: str) -> Any:
    sent = {"Content-Type": "application/json", **headers}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return api.client.post("/graphql", content=body, headers=sent)


def test_keyless_fan_out_is_refused_before_parsing(memory_api: Api) -> None:
    started = time.perf_counter()
    response = memory_api.client.post("/graphql", json={"query": fan_out(21)})
    assert time.perf_counter() - started < 0.5
    assert response.status_code == 200
    assert codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("leaf", ["__typename", 'entity(id: "C1") { id }', "a: __typename"])
def test_keyed_fan_out_is_refused_in_linear_time(memory_api: Api, leaf: str) -> None:
    started = time.perf_counter()
    body = memory_api.query(fan_out(21, leaf))
    assert time.perf_counter() - started < 1.0
    assert codes(body) and set(codes(body)) == {"QUERY_TOO_COMPLEX"}, body


def test_depth_through_fragments_is_counted(memory_api: Api) -> None:
    # each fragment adds one level; the chain is 12 deep only once fragments are expanded
    chain = [
        f"fragment D{i} on Company "
        f"{{ owners {{ edges {{ node {{ company {{ ...D{i + 1} }} }} }} }} }}"
        for i in range(3)
    ]
    query = (
        '{ entity(id: "C1") { ... on Company { ...D0 } } }\n'
        + "\n".join(chain)
        + "\nfragment D3 on Company { id }"
    )
    body = memory_api.query(query)
    assert set(codes(body)) == {"QUERY_TOO_COMPLEX"}
    assert any("depth" in e["message"] for e in body["errors"]), body


def test_a_long_fragment_chain_is_answered(memory_api: Api) -> None:
    chain = ["fragment F0 on Query { __typename }"]
    chain += [f"fragment F{i} on Query {{ ...F{i - 1} }}" for i in range(1, 300)]
    body = memory_api.query("{ ...F299 }\n" + "\n".join(chain))
    assert body == {"data": {"__typename": "Query"}} or codes(body), body


def test_deep_bracket_nesting_is_refused_before_parsing(memory_api: Api) -> None:
    query = "{ entity(id: " + "[" * 900 + "]" * 900 + ") { id } }"
    response = _post(memory_api, json.dumps({"query": query}).encode(), memory_api.keys[Role.ADMIN])
    assert response.status_code == 200 and codes(response.json()) == ["QUERY_TOO_COMPLEX"]


def test_nesting_scan_skips_strings_and_comments() -> None:
    assert check_nesting('{ a(x: "{{{{{{") # ((((((\n }', 3) is None
    assert check_nesting('{ a(x: """ {{{{ \\""" {{{{ """) }', 3) is None
    assert check_nesting("{ a { b { c } } }", 2) is not None


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ('{ paths(from: "C1", to: "C1", maxHops: 10, first: 100) { nodes { id } } }', "cost"),
        (
            "{ "
            + " ".join(
                f'p{i}: paths(from: "C1", to: "C1", maxHops: 10, first: 30) {{ nodes {{ id }} }}'
                for i in range(3)
            )
            + " }",
            "cost",
        ),
        (
            "{ " + " ".join(f"m{i}: marketBanCandidates {{ totalCount }}" for i in range(6)) + " }",
            "cost",
        ),
        (
            "query($q: String!, $n: Int) { search(query: $q, first: $n) { edges { node { "
            "... on Company { owners(first: 100) { edges { node { owner { ... on Company { "
            "officers(first: 100) { edges { node { role } } } } } } } } } } } } }",
            "cost",
        ),
    ],
)
def test_query_cost_limit(memory_api: Api, query: str, fragment: str) -> None:
    body = memory_api.query(query, {"q": "Acme", "n": 5} if "$q" in query else None)
    assert "QUERY_TOO_COMPLEX" in codes(body), body
    assert any(fragment in e["message"] for e in body["errors"])


def test_ordinary_queries_are_within_the_cost_limit(memory_api: Api) -> None:
    from tests.e2e.test_serve import ENTITY, OWNERS, REPORT, SEARCH

    for query in (ENTITY, OWNERS, REPORT, SEARCH):
        body = memory_api.query(query, {"id": "C1", "q": "Acme"})
        assert "QUERY_TOO_COMPLEX" not in codes(body), body


class SlowSearch(MemoryStore):
    """A store whose search takes longer than the request's time budget."""

    def search(self, text: str, kind: Any = None, limit: int = 20, offset: int = 0) -> SearchPage:
        time.sleep(1.5)
        return super().search(text, kind, limit, offset)


def test_deadline_answers_with_a_code_while_health_answers(tmp_path: Path) -> None:
    api = make_api(SlowSearch(), tmp_path, ApiSettings(request_timeout=0.3))
    health: list[float] = []

    def probe() -> None:
        time.sleep(0.1)
        started = time.perf_counter()
        assert api.client.get("/healthz").status_code == 200
        health.append(time.perf_counter() - started)

    with api.client:
        thread = threading.Thread(target=probe)
        thread.start()
        started = time.perf_counter()
        body = api.query('{ search(query: "x") { totalCount } }')
        elapsed = time.perf_counter() - started
        thread.join()
    assert codes(body) == ["DEADLINE_EXCEEDED"], body
    assert "time budget" in body["errors"][0]["message"]
    assert elapsed < 1.2 and health and health[0] < 0.5


@pytest.mark.parametrize(
    "raw",
    [b'"x"', b"null", b"12", b"[]", b"[" * 5000 + b"]" * 5000, b"{", b"\xff\xfe", b'{"query": 5}'],
)
def test_bodies_that_are_not_requests_are_400s(memory_api: Api, raw: bytes) -> None:
    response = _post(memory_api, raw, memory_api.keys[Role.ADMIN])
    assert response.status_code == 400, response.text
    assert codes(response.json()) == ["BAD_REQUEST"]


def test_other_content_types_are_415s(memory_api: Api) -> None:
    response = _post(
        memory_api,
        b"query={__typename}",
        memory_api.keys[Role.ADMIN],
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415 and codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ entity(id: \\"\\ud800\\") { id } }"}',
        b'{"query": "query($id: ID!) { entity(id: $id) { id } }", "variables": {"id": "\\udfff"}}',
    ],
)
def test_lone_surrogates_are_refused(memory_api: Api, body: bytes) -> None:
    response = _post(memory_api, body, memory_api.keys[Role.ADMIN])
    assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]
    assert "surrogate" in response.text and "Traceback" not in response.text


def test_unicode_ids_are_answered(memory_api: Api) -> None:
    for value in ("上海瀚宇", "\U0001f600", "e\u0301", "\u202eRTL", "\ufeff"):
        body = memory_api.query("query($id: ID!) { entity(id: $id) { id } }", {"id": value})
        assert body == {"data": {"entity": None}}, body


def test_syntax_errors_have_a_code(memory_api: Api) -> None:
    body = memory_api.query("{ entity(")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    body = memory_api.query("{ nothing }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


def test_metrics_labels_do_not_grow_with_client_input(memory_api: Api) -> None:
    key = memory_api.keys[Role.ADMIN]
    for i in range(50):
        memory_api.client.post(
            "/graphql",
            json={"query": f"query Op{i} {{ __typename }}", "operationName": f"Op{i}"},
            headers={"Authorization": f"Bearer {key}"},
        )
        memory_api.client.get(f"/no/such/path/{i}")
    text = memory_api.client.get("/metrics").text
    assert "Op7" not in text and "/no/such" not in text
    assert 'operation="introspection"' in text and 'route="unmatched"' in text


@pytest.mark.parametrize("access", list(MetricsAccess))
def test_metrics_setting(tmp_path: Path, access: MetricsAccess) -> None:
    api = make_api(MemoryStore(), tmp_path, ApiSettings(metrics=access))
    anonymous = api.client.get("/metrics").status_code
    admin = api.client.get(
        "/metrics", headers={"Authorization": f"Bearer {api.keys[Role.ADMIN]}"}
    ).status_code
    agency = api.client.get(
        "/metrics", headers={"Authorization": f"Bearer {api.keys[Role.AGENCY]}"}
    ).status_code
    expected = {
        MetricsAccess.OFF: (404, 404, 404),
        MetricsAccess.PUBLIC: (200, 200, 200),
        MetricsAccess.ADMIN: (401, 200, 403),
    }[access]
    assert (anonymous, admin, agency) == expected


def test_introspection_setting(tmp_path: Path) -> None:
    off = make_api(MemoryStore(), tmp_path / "off", ApiSettings(introspection=False))
    refused = off.query("{ __schema { queryType { name } } }")
    assert set(codes(refused)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in refused["errors"][0]["message"].lower()
    assert off.query("{ __typename }") == {"data": {"__typename": "Query"}}
    on = make_api(MemoryStore(), tmp_path / "on")
    assert on.query("{ __schema { queryType { name } } }")["data"] is not None


def test_openapi_and_docs(tmp_path: Path) -> None:
    on = make_api(MemoryStore(), tmp_path / "on")
    assert on.client.get("/openapi.json").status_code == 200
    for path in ("/docs", "/redoc"):  # they load code from a CDN: never served
        assert on.client.get(path).status_code == 404
    off = make_api(MemoryStore(), tmp_path / "off", ApiSettings(openapi=False))
    assert off.client.get("/openapi.json").status_code == 404


def test_production_defaults_are_safe() -> None:
    from api.settings import Settings

    settings = Settings(env="production", id_hash_salt="s" * 32)
    api = ApiSettings.from_settings(settings)
    assert not api.graphiql and not api.introspection and not api.openapi
    assert api.metrics is MetricsAccess.ADMIN
    with pytest.raises(ValueError, match="CREDITNET_ID_HASH_SALT"):
        Settings(env="production")
    assert ApiSettings.from_settings(Settings(env="production", id_hash_salt="x", graphiql=True))


def test_request_logs_are_json_with_key_name(memory_api: Api) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger(REQUEST_LOG)
    logger.addHandler(handler)
    key = memory_api.keys[Role.AGENCY]
    try:
        memory_api.client.post(
            "/graphql",
            json={"query": '{ entity(id: "C1") { id } }'},
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-42"},
        )
        memory_api.client.post(
            "/graphql", json={"query": "{ entity( "}, headers={"X-Request-ID": "r2"}
        )
    finally:
        logger.removeHandler(handler)
    records = {r["request_id"]: r for r in map(json.loads, lines)}
    found = records["req-42"]
    assert found["key_name"] == "test agency" and found["operation"] == "entity"
    assert found["status"] == 200 and found["duration_ms"] >= 0 and found["route"] == "/graphql"
    assert found["client"] == "testclient:50000"  # the test client's address
    assert records["r2"]["key_name"] is None
    assert key not in "\n".join(lines)
