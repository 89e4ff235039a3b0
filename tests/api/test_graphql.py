"""Schema tests over both stores: data, pagination, every error code, limits, no N+1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.app import ApiSettings
from api.auth import Role
from graph.extraction import Extraction
from graph.model import (
    Company,
    CompanyStatus,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
)
from graph.store import GraphStore, SearchPage, Step, Subgraph, WriteBatch
from tests.api.conftest import Api, codes, make_api

TARGET = "91110000TARGET0001"


def _group(store: GraphStore, owners: int) -> None:
    """A company owned by ``owners`` companies, each with a sanction and an officer."""
    batch = WriteBatch()
    batch.nodes.append(
        Company(TARGET, "Target Trading Co", status=CompanyStatus.ACTIVE, founded=date(2010, 1, 2))
    )
    for i in range(owners):
        owner, person = f"OWNER{i:03}", f"P{i:03}"
        batch.nodes += [
            Company(owner, f"Owner {i:03} Holdings"),
            Person(person, f"Person {i:03}", nationality="CN"),
            Sanction(
                f"S{i:03}",
                owner,
                SanctionList.ADMIN_PENALTY,
                authority="SAMR",
                fine=1000.0,
                decided=date(2024, 1, 1),
            ),
        ]
        batch.links += [
            Ownership(owner, TARGET, share=100 / owners, start=date(2015, 1, 1)),
            Officer(person, owner, OfficerRole.LEGAL_REPRESENTATIVE),
        ]
    store.write(batch)


OWNERS_QUERY = """
query Owners($id: ID!) {
  entity(id: $id) {
    id name kind
    ... on Company {
      status founded
      owners(first: 100) {
        totalCount
        edges { cursor node { share owner { id name
          ... on Company { sanctions(asOf: "2024-06-01") { id list authority }
                           officers { edges { node { role person { id name } } } } } } } }
      }
    }
  }
}
"""


def test_entity_and_links(store: GraphStore, api: Api) -> None:
    _group(store, 3)
    body = api.query(OWNERS_QUERY, {"id": TARGET}, role=Role.INVESTIGATOR)
    assert "errors" not in body, body
    entity = body["data"]["entity"]
    assert entity["kind"] == "COMPANY" and entity["founded"] == "2010-01-02"
    edges = entity["owners"]["edges"]
    assert entity["owners"]["totalCount"] == 3
    assert [e["node"]["owner"]["id"] for e in edges] == ["OWNER000", "OWNER001", "OWNER002"]
    first = edges[0]["node"]["owner"]
    assert first["sanctions"] == [{"id": "S000", "list": "ADMIN_PENALTY", "authority": "SAMR"}]
    officer = first["officers"]["edges"][0]["node"]
    assert officer == {
        "role": "legal_representative",
        "person": {"id": "P000", "name": "Person 000"},
    }


def test_pagination_and_search(store: GraphStore, api: Api) -> None:
    _group(store, 5)
    query = """query($after: String) { entity(id: "91110000TARGET0001") { ... on Company {
        owners(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                           edges { node { owner { id } } } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = api.query(query, {"after": after})["data"]["entity"]["owners"]
        seen += [e["node"]["owner"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"OWNER{i:03}" for i in range(5)]
    found = api.query(
        '{ search(query: "owner", kind: COMPANY, first: 2) { totalCount '
        "pageInfo { hasNextPage endCursor } edges { cursor node { id kind } } } }",
        role=Role.AGENCY,
    )["data"]["search"]
    assert found["totalCount"] == 5 and found["pageInfo"]["hasNextPage"]
    assert [e["node"]["kind"] for e in found["edges"]] == ["COMPANY", "COMPANY"]


def test_unknown_entity_is_null(store: GraphStore, api: Api) -> None:
    body = api.query('{ entity(id: "NOPE") { id } }', role=Role.AGENCY)
    assert body == {"data": {"entity": None}}


def test_bad_user_input(store: GraphStore, api: Api) -> None:
    _group(store, 1)
    literal = api.query(
        '{ entity(id: "91110000TARGET0001") { ... on Company { owners(asOf: "2024-13-45") '
        "{ totalCount } } } }"
    )
    assert codes(literal) == ["BAD_USER_INPUT"]
    assert "YYYY-MM-DD" in literal["errors"][0]["message"]
    variable = api.query(
        'query($d: Date) { entity(id: "91110000TARGET0001") { ... on Company { owners(asOf: $d) '
        "{ totalCount } } } }",
        {"d": "yesterday"},
    )
    assert codes(variable) == ["BAD_USER_INPUT"]
    too_many = api.query('{ search(query: "x", first: 101) { totalCount } }')
    assert codes(too_many) == ["BAD_USER_INPUT"]
    assert "100" in too_many["errors"][0]["message"]
    assert too_many["data"] is None
    bad_cursor = api.query('{ search(query: "x", after: "garbage!") { totalCount } }')
    assert codes(bad_cursor) == ["BAD_USER_INPUT"]


def test_unauthenticated(store: GraphStore, api: Api) -> None:
    _group(store, 1)
    missing = api.query('{ entity(id: "91110000TARGET0001") { id name } }', role=None)
    # refused before the document is even parsed (issue 11): no partial data
    assert codes(missing) == ["UNAUTHENTICATED"] and missing["data"] is None
    wrong = api.query('{ search(query: "target") { totalCount } }', key="cn_not-a-real-key")
    assert codes(wrong) == ["UNAUTHENTICATED"] and wrong["data"] is None


def test_forbidden(store: GraphStore, api: Api) -> None:
    _group(store, 1)
    owners = api.query(
        '{ entity(id: "91110000TARGET0001") { id ... on Company { owners { totalCount } } } }',
        role=Role.AGENCY,
    )
    assert codes(owners) == ["FORBIDDEN"] and owners["data"] == {"entity": None}
    audit = api.query("{ auditEvents { totalCount } }", role=Role.INVESTIGATOR)
    assert codes(audit) == ["FORBIDDEN"] and audit["data"] is None
    allowed = api.query('{ entity(id: "91110000TARGET0001") { name } }', role=Role.AGENCY)
    assert allowed == {"data": {"entity": {"name": "Target Trading Co"}}}


def test_limits(store: GraphStore, api: Api) -> None:
    deep = (
        '{ entity(id: "x") { ... on Company { owners { edges { node { company { owners { edges '
        "{ node { company { owners { edges { node { company { id } } } } } } } } } } } } } } }"
    )
    body = api.query(deep)
    assert "QUERY_TOO_COMPLEX" in codes(body)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f'a{i}: entity(id: "x") {{ id }}' for i in range(40)) + " }"
    body = api.query(aliases)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "aliases" in body["errors"][0]["message"]


def test_internal_errors_are_masked(store: GraphStore, tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def __getattr__(self, item: str) -> Any:
            raise RuntimeError("secret connection string bolt://user:pw@db")

    api = make_api(Broken(), tmp_path)
    body = api.query('{ entity(id: "x") { id } }')
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "secret" not in str(body) and "Traceback" not in str(body)
    assert api.client.get("/healthz").status_code == 503


def test_http_endpoints(store: GraphStore, api: Api, tmp_path: Path) -> None:
    _group(store, 1)
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    response = api.client.post(
        "/graphql",
        json={"query": 'query Find { search(query: "target") { totalCount } }'},
        headers={"Authorization": f"Bearer {api.keys[Role.AGENCY]}", "X-Request-ID": "abc123"},
    )
    assert response.headers["X-Request-ID"] == "abc123"
    assert response.json() == {"data": {"search": {"totalCount": 1}}}
    metrics = api.client.get("/metrics").text
    assert 'creditnet_graphql_operations_total{operation="search",outcome="ok"} 1.0' in metrics
    big = api.client.post(
        "/graphql",
        content=b'{"query": "' + b" " * 200_000 + b'{ __typename }"}',
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413 and "too large" in big.text
    graphiql = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


class CountingStore:
    """A store proxy that counts read calls."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[str] = []

    def get(self, node_id: str) -> Node | None:
        self.calls.append("get")
        return self.inner.get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        self.calls.append("get_many")
        return self.inner.get_many(node_ids)

    def search(self, text: str, kind: Any = None, limit: int = 20, offset: int = 0) -> SearchPage:
        self.calls.append("search")
        return self.inner.search(text, kind, limit, offset)

    def neighbourhood(
        self, seeds: Iterable[str], *, steps: Sequence[Step], hops: int, as_of: date | None
    ) -> Subgraph:
        self.calls.append("neighbourhood")
        return self.inner.neighbourhood(seeds, steps=steps, hops=hops, as_of=as_of)

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        self.calls.append("extract")
        return self.inner.extract(requests)

    def sanctions(self, subject_ids: Iterable[str] | None = None) -> Iterable[Sanction]:
        self.calls.append("sanctions")
        return list(self.inner.sanctions(subject_ids))

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


@pytest.mark.parametrize("owners", [5, 50])
def test_round_trips_do_not_grow_with_owners(
    store: GraphStore, tmp_path: Path, owners: int
) -> None:
    _group(store, owners)
    counting = CountingStore(store)
    api = make_api(counting, tmp_path)  # type: ignore[arg-type]
    body = api.query(OWNERS_QUERY, {"id": TARGET}, role=Role.INVESTIGATOR)
    assert "errors" not in body, body
    edges = body["data"]["entity"]["owners"]["edges"]
    assert len(edges) == owners
    assert all(len(e["node"]["owner"]["officers"]["edges"]) == 1 for e in edges)
    # entity, owners, every owner's sanctions, every owner's officers: one call each
    assert sorted(counting.calls) == ["get_many", "neighbourhood", "neighbourhood", "sanctions"]


def test_page_size_setting(store: GraphStore, tmp_path: Path) -> None:
    api = make_api(store, tmp_path, ApiSettings(max_page_size=10))
    assert codes(api.query('{ search(query: "x", first: 11) { totalCount } }')) == [
        "BAD_USER_INPUT"
    ]


def test_sanctions_in_force_follow_the_rule_engine(store: GraphStore, api: Api) -> None:
    """``sanctions(includeEnded: false)`` lists what the engine holds in force: a record past
    its maximum publicity period is ended, a repaired record counts until its status date."""
    store.write(
        WriteBatch(
            nodes=[
                Company("C", "Long Listed Co"),
                # serious: at most 3 years, so ended on 2023-03-01 although it has no end
                Sanction("old", "C", SanctionList.SERIOUS_DISHONEST, start=date(2020, 3, 1)),
                Sanction(
                    "fixed",
                    "C",
                    SanctionList.ABNORMAL_OPERATION,
                    start=date(2024, 1, 1),
                    status=SanctionStatus.REPAIRED,
                    status_date=date(2024, 6, 1),
                ),
            ]
        )
    )
    query = """query($asOf: Date, $ended: Boolean) { entity(id: "C") {
      ... on Company { sanctions(asOf: $asOf, includeEnded: $ended) { id } } } }"""

    def listed(as_of: str, ended: bool = False) -> list[str]:
        body = api.query(query, {"asOf": as_of, "ended": ended})
        return sorted(s["id"] for s in body["data"]["entity"]["sanctions"])

    assert listed("2023-02-28") == ["old"]
    assert listed("2023-03-01") == []
    assert listed("2024-03-01") == ["fixed"]
    assert listed("2024-06-01") == []
    assert listed("2024-06-01", ended=True) == ["fixed", "old"]


def test_lookups_are_normalised_and_search_crosses_scripts(store: GraphStore, api: Api) -> None:
    store.write(
        WriteBatch(
            nodes=[
                Company("91440300MA5FUK7X4K", "深圳華興 建設有限公司"),
                Person("P1", "Wang  Wei"),
            ]
        )
    )
    body = api.query('{ entity(id: " 91440300ma5fuk7x4k ") { id name } }')
    assert body["data"]["entity"]["id"] == "91440300MA5FUK7X4K", body
    body = api.query("query($i: ID!) { creditReport(id: $i) { score } }", {"i": "P1 "})
    assert body["data"]["creditReport"]["score"] == 1000, body
    for text in ("深圳华兴建设", "華興 建設", "wangwei", "WANG WEI"):
        found = api.query(
            "query($q: String!) { search(query: $q) { edges { node { id } } } }", {"q": text}
        )
        assert [e["node"]["id"] for e in found["data"]["search"]["edges"]] != [], text


SUPPLY_QUERY = """
query Trace($id: ID!, $asOf: Date) {
  batch(id: $id) {
    id lot produced product { id name category }
    downstream(asOf: $asOf) {
      batch asOf
      receivers {
        company { id name } batch date quantity
        path { links { type from to start quantity } }
      }
    }
    upstream(asOf: $asOf) { batches { id producer { id } shippers { id } } }
  }
  entity(id: "P") { ... on Company { batches(asOf: $asOf) { id lot } } }
  none: batch(id: "nope:1") { id }
}
"""


def test_batch_traces_down_and_up_and_companies_list_their_batches(
    store: GraphStore, tmp_path: Path
) -> None:
    from tests.conformance.test_supply import network

    store.write(network())
    api = make_api(store, tmp_path)
    body = api.query(SUPPLY_QUERY, {"id": "g:1", "asOf": "2024-03-01"}, role=Role.AGENCY)
    assert "errors" not in body, body
    batch = body["data"]["batch"]
    assert batch["product"] == {"id": "g", "name": "Milk", "category": None}
    receivers = batch["downstream"]["receivers"]
    assert [(r["company"]["id"], r["batch"], r["date"]) for r in receivers] == [
        ("P", "g:1", "2024-01-05"),
        ("R", "h:1", "2024-02-01"),
    ]
    assert receivers[1]["path"]["links"][-1] == {
        "type": "SHIPPED",
        "from": "h:1",
        "to": "R",
        "start": "2024-02-01",
        "quantity": 5.0,
    }
    assert batch["upstream"]["batches"] == [
        {"id": "g:1", "producer": {"id": "F"}, "shippers": [{"id": "F"}]}
    ]
    assert [b["id"] for b in body["data"]["entity"]["batches"]] == ["g:1", "h:1"]
    assert body["data"]["none"] is None
