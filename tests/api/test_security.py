"""Credit reports, ownership and paths over the API; audit chain; keys on disk; CLI commands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from typer.testing import CliRunner

from api.audit import AuditLog
from api.auth import KeyStore, Role
from api.cli.serve import register
from graph.model import Company, Officer, OfficerRole, Ownership, Person, Sanction, SanctionList
from graph.store import GraphStore, WriteBatch
from tests.api.conftest import Api, codes


def _family(store: GraphStore) -> None:
    store.write(
        WriteBatch(
            nodes=[
                Company("C1", "Acme Trading Co"),
                Company("H1", "Acme Holdings"),
                Person("P1", "Li Lei"),
                Sanction(
                    "S1", "P1", SanctionList.DISHONEST_JUDGMENT_DEBTOR, start=date(2024, 1, 1)
                ),
            ],
            links=[
                Ownership("H1", "C1", share=80.0),
                Ownership("P1", "H1", share=60.0),
                Officer("P1", "C1", OfficerRole.LEGAL_REPRESENTATIVE),
            ],
        )
    )


REPORT = """query($id: ID!) { creditReport(id: $id, asOf: "2025-01-01") {
  entity { id } asOf score grade deductions { points reason }
  restrictions { measure rule disputed source { id } path { nodes { id } links { type from to } } }
} }"""


def test_credit_report_and_audit(store: GraphStore, api: Api) -> None:
    _family(store)
    body = api.query(REPORT, {"id": "C1"}, role=Role.AGENCY)
    assert "errors" not in body, body
    report = body["data"]["creditReport"]
    assert report["entity"] == {"id": "C1"} and report["asOf"] == "2025-01-01"
    assert report["score"] < 1000 and report["grade"] in "ABCD"
    assert report["restrictions"] and report["restrictions"][0]["source"] == {"id": "S1"}
    missing = api.query(REPORT, {"id": "NOPE"}, role=Role.AGENCY)
    assert codes(missing) == ["NOT_FOUND"] and missing["data"] is None
    events = api.audit.events(operation="credit_report")
    assert [(e["subject_ids"], e["result"], e["role"]) for e in events] == [
        (["C1"], "ok", "agency"),
        (["NOPE"], "error", "agency"),
    ]
    listed = api.query(
        '{ auditEvents(operation: "credit_report", subjectId: "C1") '
        "{ totalCount edges { node { seq keyName operation subjectIds hash prevHash } } } }"
    )
    node = listed["data"]["auditEvents"]["edges"][0]["node"]
    assert listed["data"]["auditEvents"]["totalCount"] == 1
    assert node["keyName"] == "test agency" and node["subjectIds"] == ["C1"]


def test_person_reads_are_audited(store: GraphStore, api: Api) -> None:
    _family(store)
    body = api.query(
        '{ entity(id: "P1") { name ... on Person { nationality holdings '
        "{ edges { node { share company { id } } } } } } }",
        role=Role.INVESTIGATOR,
    )
    assert body["data"]["entity"]["holdings"]["edges"][0]["node"]["company"] == {"id": "H1"}
    assert [e["subject_ids"] for e in api.audit.events(operation="person_read")] == [["P1"]]
    denied = api.query('{ entity(id: "P1") { ... on Person { nationality } } }', role=Role.AGENCY)
    assert codes(denied) == ["FORBIDDEN"]
    assert denied["data"] == {"entity": {"nationality": None}}


def test_ownership_and_paths(store: GraphStore, api: Api) -> None:
    _family(store)
    owners = api.query(
        '{ beneficialOwners(id: "C1") { person { id } effectiveShare controls '
        "paths { nodes { id } } } }",
        role=Role.INVESTIGATOR,
    )
    assert "errors" not in owners, owners
    assert owners["data"]["beneficialOwners"][0]["person"] == {"id": "P1"}
    assert abs(owners["data"]["beneficialOwners"][0]["effectiveShare"] - 48.0) < 1e-6
    closure = api.query(
        '{ ownershipClosure(id: "C1", direction: UP) { entity { id } effectiveShare depth } }',
        role=Role.INVESTIGATOR,
    )
    assert "errors" not in closure, closure
    depths = {h["entity"]["id"]: h["depth"] for h in closure["data"]["ownershipClosure"]}
    assert depths == {"H1": 1, "P1": 2}
    found = api.query(
        '{ paths(from: "H1", to: "P1") { nodes { id } links { type from to } } }',
        role=Role.INVESTIGATOR,
    )
    assert "errors" not in found, found
    assert found["data"]["paths"][0]["nodes"][0] == {"id": "H1"}
    for query in (
        '{ ownershipClosure(id: "C1") { depth } }',
        '{ paths(from: "H1", to: "P1") { nodes { id } } }',
    ):
        assert codes(api.query(query, role=Role.AGENCY)) == ["FORBIDDEN"]


def test_audit_chain_verifies_and_detects_tampering(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append(
            operation="credit_report",
            subject_ids=[f"C{i}"],
            key_id="k",
            key_name="n",
            role="agency",
            request_id=str(i),
            result="ok",
        )
    assert AuditLog(log.path).verify().ok and AuditLog(log.path).verify().records == 5
    lines = log.path.read_text().splitlines()
    record = json.loads(lines[2])
    record["subject_ids"] = ["SOMEONE-ELSE"]
    lines[2] = json.dumps(record, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    broken = AuditLog(log.path).verify()
    assert not broken.ok and broken.broken_seq == 3 and broken.records == 2
    del lines[2]
    log.path.write_text("\n".join(lines) + "\n")
    assert AuditLog(log.path).verify().broken_line == 3


def test_keys_are_hashed_on_disk(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    record, raw = keys.add(Role.INVESTIGATOR, "Bureau 7")
    text = (tmp_path / "keys.json").read_text()
    assert raw not in text and record.sha256 in text
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert keys.authenticate(f"Bearer {raw}").role is Role.INVESTIGATOR


def test_cli_keys_add_and_audit_verify(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    env = {"CREDITNET_DATA_DIR": str(tmp_path)}
    added = runner.invoke(
        app, ["keys", "add", "--role", "agency", "--name", "SAMR", "--json"], env=env
    )
    assert added.exit_code == 0, added.output
    raw = json.loads(added.stdout)["key"]
    assert KeyStore(tmp_path / "keys.json").authenticate(f"Bearer {raw}").name == "SAMR"
    AuditLog(tmp_path / "audit.jsonl").append(
        operation="x",
        subject_ids=[],
        key_id=None,
        key_name=None,
        role=None,
        request_id=None,
        result="ok",
    )
    ok = runner.invoke(app, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "intact" in ok.stdout
    (tmp_path / "audit.jsonl").write_text(
        (tmp_path / "audit.jsonl").read_text().replace('"ok"', '"error"')
    )
    bad = runner.invoke(app, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
