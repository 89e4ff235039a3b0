"""End to end: `creditnet load`, `keys add` and `serve` as subprocesses, queried over HTTP with gql.

Each store gets the demo bundle (loaders/demo, scenarios in its README) through the command line,
an investigator key made by `creditnet keys add`, and a real server on a free loopback port. The
queries run as of 2026-11-28, the day the demo data was written for.

The subprocesses run this source tree (PYTHONPATH is the repository root), not whatever copy of
creditnet happens to be installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from api.cli.loading import demo_bundle_dir
from graph.neo4j.store import Neo4jStore
from tests.conftest import ROOT, neo4j_test_uri

AS_OF = "2026-11-28"
CLI = [sys.executable, "-c", "from api.cli import main; main()"]
START_TIMEOUT = 60.0

RING_A = "91310151MAU789XW8J"  # 上海瀚宇商贸
RING_D = "91310151MAD0D0LH4L"  # 上海鼎汇国际贸易, owns 55% of A
SISTER = "91440307MA7X9X3T5F"  # 深圳华兴建设工程, S0001 seriously dishonest
DEBTOR = "913301020210153086"  # 杭州远泰置业, S0002 judgment debtor
HOLDING = "913301027807209135"  # 杭州远泰投资控股, 65% of the debtor, 80% held by P0020
MINGDE = "91110108MAX72FW5XR"  # 北京明德科技, the beneficial-owner textbook case
R1_MEASURES = {
    "PROCUREMENT_BAN",
    "BIDDING_BAN",
    "FINANCING_RESTRICTION",
    "SUBSIDY_BAN",
    "HONOR_BAN",
    "ENHANCED_SUPERVISION",
}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CREDITNET_KEYS_FILE"] = str(tmp_path / "keys.json")
    env["CREDITNET_AUDIT_FILE"] = str(tmp_path / "audit.jsonl")
    user = os.environ.get("CREDITNET_TEST_NEO4J_USER")
    if user:
        env["CREDITNET_NEO4J_USER"] = user
        env["CREDITNET_NEO4J_PASSWORD"] = os.environ.get("CREDITNET_TEST_NEO4J_PASSWORD", "")
    return env


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (
        f"creditnet {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"creditnet serve exited {server.returncode}:\n{log.read_text()}")
        try:
            response = httpx.get(f"{base}/healthz", timeout=2.0)
            if response.status_code == 200:
                health: dict[str, Any] = response.json()
                return health
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"creditnet serve was not healthy after {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(params=["memory", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The CLI options naming the store under test; the Neo4j database is cleared around it.

    Named ``store`` like the fixture of tests/conftest.py, so its hook marks the Neo4j half.
    """
    kind: str = request.param
    if kind == "memory":
        yield ["--store", "memory", "--data-dir", str(tmp_path / "data")]
        return
    graph: Neo4jStore = request.getfixturevalue("neo4j_store")  # fails loudly without Neo4j
    graph.clear()
    try:
        # --data-dir only holds the id hash salt here
        yield ["--store", "neo4j", "--neo4j-uri", neo4j_test_uri(), "--data-dir", str(tmp_path)]
    finally:
        graph.clear()


def _execute(session: Any, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = session.execute(GraphQLRequest(query, variable_values=variables))
    return result


def _grade(score: int) -> str:
    """spec/DOMAIN.md: A >= 900, B >= 700, C >= 500, D below."""
    return "A" if score >= 900 else "B" if score >= 700 else "C" if score >= 500 else "D"


def _measures_by_path(report: dict[str, Any]) -> dict[str, set[str]]:
    """Restriction measures keyed by the ids along their path, joined with '>'."""
    found: dict[str, set[str]] = {}
    for r in report["restrictions"]:
        key = ">".join(n["id"] for n in r["path"]["nodes"])
        found.setdefault(key, set()).add(r["measure"])
    return found


SEARCH = """
query Search($q: String!) {
  search(query: $q, kind: COMPANY, first: 5) {
    totalCount
    edges { cursor node { id name kind } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ENTITY = """
query Entity($id: ID!, $asOf: Date) {
  entity(id: $id) {
    id name kind
    ... on Company {
      status
      owners(asOf: $asOf) { totalCount edges { node { share owner { id name kind } } } }
      officers(asOf: $asOf, first: 50) { totalCount edges { node { role person { id name } } } }
    }
  }
}
"""

REPORT = """
query Report($id: ID!, $asOf: Date) {
  creditReport(id: $id, asOf: $asOf) {
    entity { id name }
    asOf score grade
    deductions { points reason source { id } }
    sanctions { id list status }
    restrictions {
      measure rule legalBasis disputed
      source { id list }
      path { nodes { id kind } links { type from to role share } }
    }
  }
}
"""

OWNERS = """
query Owners($id: ID!, $asOf: Date) {
  beneficialOwners(id: $id, asOf: $asOf) {
    person { id name } effectiveShare controls
    paths { nodes { id } links { type from to share } }
  }
}
"""


def _check_demo(client: Any) -> None:
    """Query the demo scenarios through a gql session and check what loaders/demo/README.md says."""
    # search
    found = _execute(client, SEARCH, {"q": "上海瀚宇"})["search"]
    assert found["totalCount"] >= 1
    hits = {e["node"]["id"]: e["node"] for e in found["edges"]}
    assert "上海瀚宇商贸" in hits[RING_A]["name"]
    assert hits[RING_A]["kind"] == "COMPANY"

    # entity with owners and officers: ring company A
    entity = _execute(client, ENTITY, {"id": RING_A, "asOf": AS_OF})["entity"]
    assert entity["id"] == RING_A and entity["kind"] == "COMPANY"
    owners = {e["node"]["owner"]["id"]: e["node"]["share"] for e in entity["owners"]["edges"]}
    assert owners == {"P0004": pytest.approx(45), RING_D: pytest.approx(55)}
    assert entity["owners"]["totalCount"] == 2
    officers = {e["node"]["person"]["id"] for e in entity["officers"]["edges"]}
    assert "P0001" in officers  # the nominee director of the shell ring

    # creditReport: R1 on the sister company, spreading to its legal representative
    sister = _execute(client, REPORT, {"id": SISTER, "asOf": AS_OF})["creditReport"]
    assert sister["entity"]["id"] == SISTER and sister["asOf"] == AS_OF
    assert "S0001" in {s["id"] for s in sister["sanctions"]}
    assert _measures_by_path(sister)[SISTER] == R1_MEASURES
    assert all(r["source"]["id"] == "S0001" for r in sister["restrictions"])
    assert "S0001" in {d["source"]["id"] for d in sister["deductions"] if d["source"]}
    assert sister["score"] == 1000 - sum(d["points"] for d in sister["deductions"]) < 1000
    assert sister["grade"] == _grade(sister["score"])

    legal_rep = _execute(client, REPORT, {"id": "P0010", "asOf": AS_OF})["creditReport"]
    assert {r["measure"] for r in legal_rep["restrictions"]} == {
        "OFFICER_APPOINTMENT_BAN",
        "HONOR_BAN",
    }
    for r in legal_rep["restrictions"]:
        assert r["source"]["id"] == "S0001" and not r["disputed"]
        assert r["legalBasis"]
        ids = [n["id"] for n in r["path"]["nodes"]]
        assert set(ids) == {SISTER, "P0010"}
        assert [link["type"] for link in r["path"]["links"]] == ["OFFICER_OF"]

    # the ended position gets nothing
    ended = _execute(client, REPORT, {"id": "P0011", "asOf": AS_OF})["creditReport"]
    assert ended["restrictions"] == []

    # R2 control through a holding company: the path runs through the holding
    controller = _execute(client, REPORT, {"id": "P0020", "asOf": AS_OF})["creditReport"]
    assert {r["measure"] for r in controller["restrictions"]} == {"HIGH_CONSUMPTION_BAN"}
    (restriction,) = controller["restrictions"]
    assert restriction["source"]["id"] == "S0002"
    assert {n["id"] for n in restriction["path"]["nodes"]} == {"P0020", HOLDING, DEBTOR}

    # beneficialOwners: X, W, Y; not Z; nobody controls
    owners_list = _execute(client, OWNERS, {"id": MINGDE, "asOf": AS_OF})["beneficialOwners"]
    shares = {b["person"]["id"]: b["effectiveShare"] for b in owners_list}
    assert shares == {
        "P0040": pytest.approx(25),
        "P0041": pytest.approx(25),
        "P0042": pytest.approx(45),
    }
    assert not any(b["controls"] for b in owners_list)
    assert all(b["paths"] for b in owners_list)


def test_serve_end_to_end(store: list[str], tmp_path: Path) -> None:
    store_args = store
    env = _env(tmp_path)
    _cli(["load", str(demo_bundle_dir()), *store_args, "--json"], env, tmp_path)
    printed = _cli(
        ["keys", "add", "--role", "investigator", "--name", "e2e", *store_args, "--json"],
        env,
        tmp_path,
    )
    key = json.loads(printed)["key"]
    assert key.startswith("cn_")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *store_args],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = _wait_healthy(base, server, log)
        assert health["status"] == "ok" and health["nodes"] > 0

        transport = HTTPXTransport(
            url=f"{base}/graphql", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        with Client(transport=transport, fetch_schema_from_transport=False) as session:
            _check_demo(session)

        anonymous = HTTPXTransport(url=f"{base}/graphql", timeout=30)
        with (
            Client(transport=anonymous) as session,
            pytest.raises(TransportQueryError) as refused,
        ):
            _execute(session, REPORT, {"id": SISTER, "asOf": AS_OF})
        errors = refused.value.errors or []
        assert [e.get("extensions", {}).get("code") for e in errors] == ["UNAUTHENTICATED"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
