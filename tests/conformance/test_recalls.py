"""Rule R11 and recall notices (issue 17 part 5) on both stores: notices travel down supply links
from the batch a product-safety record names, as of a date, with the record's time rules, and
touch neither the score nor the incentives.

The network: FARM produced milk batch M1 and shipped it to the processor PROC, which made yoghurt
batches Y1 and Y2 from it and shipped both to the retailer RET; Y1 also went to RET2, but only in
July. MAKER produced B2 and shipped it to RET. S1 (on FARM) names M1; S2 (on MAKER) names no batch.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from api.auth import Role
from graph.model import (
    Batch,
    Company,
    Produced,
    Product,
    ProductCategory,
    Sanction,
    SanctionList,
    SanctionStatus,
    Shipped,
    TransformedInto,
)
from graph.rules.engine import materialise
from graph.rules.schema import load_rules
from graph.rules.supply import Notice, materialise_notices, notices_for
from graph.store import GraphStore, WriteBatch
from queries.recalls import COLUMNS as RECALL_COLUMNS
from queries.report import credit_report
from tests.api.conftest import codes, make_api
from tests.e2e.test_cli import env as env  # a fixture: the CLI environment of the store under test
from tests.e2e.test_cli import run

RULES = load_rules(None)
DAY = date(2024, 6, 1)
COMPANIES = ("FARM", "PROC", "RET", "RET2", "MAKER", "OTHER")


def _network(store: GraphStore, s1: Sanction | None = None) -> None:
    records = [
        s1 or S1,
        Sanction("S2", "MAKER", SanctionList.PRODUCT_SAFETY_VIOLATION, start=date(2024, 3, 1)),
    ]
    store.write(
        WriteBatch(
            nodes=[
                *(Company(i, f"{i.title()} Co") for i in COMPANIES),
                Product("MILK", "Milk", ProductCategory.FOOD, "FARM"),
                Product("YOG", "Yoghurt", ProductCategory.FOOD, "PROC"),
                Product("BISC", "Biscuits", ProductCategory.FOOD, "MAKER"),
                Batch("M1", "MILK", "L-M1"),
                Batch("Y1", "YOG", "L-Y1"),
                Batch("Y2", "YOG", "L-Y2"),
                Batch("B2", "BISC", "L-B2"),
                *records,
            ],
            links=[
                Produced("FARM", "M1", "e1", date(2024, 1, 5)),
                Shipped("M1", "PROC", "FARM", "e2", date(2024, 1, 10), 100.0),
                TransformedInto("M1", "Y1", "e3", date(2024, 1, 20), "PROC"),
                TransformedInto("M1", "Y2", "e4", date(2024, 1, 21), "PROC"),
                Shipped("Y1", "RET", "PROC", "e5", date(2024, 2, 1), 20.0),
                Shipped("Y2", "RET", "PROC", "e6", date(2024, 2, 2), 10.0),
                Shipped("Y1", "RET2", "PROC", "e7", date(2024, 7, 1), 5.0),
                Produced("MAKER", "B2", "e8", date(2024, 1, 2)),
                Shipped("B2", "RET", "MAKER", "e9", date(2024, 1, 15), 50.0),
            ],
        )
    )


S1 = Sanction(
    "S1", "FARM", SanctionList.PRODUCT_SAFETY_VIOLATION, start=date(2024, 3, 1), batch_id="M1"
)


def _shown(notices: tuple[Notice, ...]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(n.entity_id, str(n.measure), n.source.id, n.path.nodes) for n in notices]


def test_notices_reach_a_retailer_through_a_processor(store: GraphStore) -> None:
    _network(store)
    found = notices_for(store, COMPANIES, DAY, RULES)
    # FARM is the one at fault, not a receiver; RET2's shipment is in July; OTHER got nothing.
    assert sorted(found) == ["PROC", "RET"]
    assert _shown(found["PROC"]) == [("PROC", "RECALL_NOTICE", "S1", ("M1", "PROC"))]
    [notice] = found["RET"]
    # Two yoghurt batches reached RET in two hops: the canonical path goes through Y1.
    assert notice.path.nodes == ("M1", "Y1", "RET")
    assert [link.type.value for link in notice.path.links] == ["TRANSFORMED_INTO", "SHIPPED"]
    assert notice.path.links[-1].quantity == 20.0
    assert (notice.rule, notice.batch_id, notice.received_batch_id) == ("R11", "M1", "Y1")
    assert notice.received == date(2024, 2, 1)
    assert "第六十三条" in notice.legal_basis and "第八十二条" in notice.legal_basis
    assert not notice.disputed


def test_the_subject_gets_r11_restrictions_not_notices(store: GraphStore) -> None:
    _network(store)
    restrictions = {(r.entity_id, str(r.measure), r.rule) for r in materialise(store, DAY, RULES)}
    assert restrictions == {
        ("FARM", "ENHANCED_SUPERVISION", "R11"),
        ("FARM", "HONOR_BAN", "R11"),
        ("MAKER", "ENHANCED_SUPERVISION", "R11"),
        ("MAKER", "HONOR_BAN", "R11"),
    }
    # Nothing downstream is restricted: a notice is not a restriction.
    assert not [r for r in materialise(store, DAY, RULES) if r.entity_id in ("PROC", "RET")]


def test_a_shipment_after_the_day_gives_no_notice_yet(store: GraphStore) -> None:
    _network(store)
    assert "RET2" not in notices_for(store, ["RET2"], DAY, RULES)
    assert "RET2" not in notices_for(store, ["RET2"], date(2024, 6, 30), RULES)
    [later] = notices_for(store, ["RET2"], date(2024, 7, 1), RULES)["RET2"]
    assert later.path.nodes == ("M1", "Y1", "RET2") and later.received == date(2024, 7, 1)


def test_a_record_without_batch_id_gives_no_notices(store: GraphStore) -> None:
    _network(store)
    # MAKER shipped B2 to RET and is on the list, but S2 names no batch.
    assert [n.source.id for n in notices_for(store, ["RET"], DAY, RULES)["RET"]] == ["S1"]
    assert {n.source.id for n in materialise_notices(store, DAY, RULES)} == {"S1"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [(SanctionStatus.REVOKED, "revoked"), (SanctionStatus.REPAIRED, "repaired")],
)
def test_notices_are_gone_from_the_status_date(
    store: GraphStore, status: SanctionStatus, expected: str
) -> None:
    _network(store, replace(S1, status=status, status_date=date(2024, 5, 1)))
    assert status.value == expected
    day_before = date(2024, 4, 30)
    assert sorted(notices_for(store, ["PROC", "RET"], day_before, RULES)) == ["PROC", "RET"]
    assert notices_for(store, ["PROC", "RET"], date(2024, 5, 1), RULES) == {}
    assert list(materialise_notices(store, date(2024, 5, 1), RULES)) == []
    assert len(list(materialise_notices(store, day_before, RULES))) == 2


def test_notices_follow_the_records_start_and_publicity_period(store: GraphStore) -> None:
    _network(store)
    # Not before the record starts; serious: public for at most 36 months.
    assert notices_for(store, ["RET"], date(2024, 2, 29), RULES) == {}
    assert "RET" in notices_for(store, ["RET"], date(2027, 2, 28), RULES)
    assert notices_for(store, ["RET"], date(2027, 3, 1), RULES) == {}


def test_notices_change_neither_the_score_nor_the_incentives(store: GraphStore) -> None:
    _network(store)
    report = credit_report(store, "RET", DAY, RULES)
    assert _shown(report.notices) == [("RET", "RECALL_NOTICE", "S1", ("M1", "Y1", "RET"))]
    assert (report.score, report.grade.value, report.deductions) == (1000, "A", ())
    assert report.restrictions == ()
    assert {str(i.measure) for i in report.incentives} >= {"GREEN_CHANNEL", "REDUCED_INSPECTION"}
    assert report.supervision_class is not None and report.supervision_class.value == "A"
    # The same report for a company that received nothing.
    other = credit_report(store, "OTHER", DAY, RULES)
    granted = [(i.rule, i.measure) for i in report.incentives]
    assert (other.score, [(i.rule, i.measure) for i in other.incentives]) == (1000, granted)
    assert [w.rule for w in other.withheld] == [w.rule for w in report.withheld]
    assert other.notices == ()


@pytest.mark.parametrize("day", [date(2024, 2, 15), DAY, date(2024, 7, 1), date(2027, 3, 1)])
def test_materialise_equals_the_per_entity_lookup(store: GraphStore, day: date) -> None:
    _network(store)
    forward = list(materialise_notices(store, day, RULES))
    one_by_one = [
        n for i in sorted(COMPANIES) for n in notices_for(store, [i], day, RULES).get(i, ())
    ]
    assert [n.sort_key() for n in forward] == [n.sort_key() for n in one_by_one]
    together = notices_for(store, COMPANIES, day, RULES)
    assert [n.sort_key() for i in sorted(together) for n in together[i]] == [
        n.sort_key() for n in forward
    ]


# -- the listings: creditnet recalls, GraphQL recallNotices and CreditReport.notices -------------

BUNDLE = {
    "companies.csv": "id,name\nFARM,Farm Co\nPROC,Proc Co\nRET,=Ret Co\n",
    "products.csv": "id,name,category\nMILK,Milk,food\nYOG,Yoghurt,food\n",
    "batches.csv": "id,product_id,lot\nM1,MILK,L-M1\nY1,YOG,L-Y1\n",
    "produced.csv": "event_id,company_id,batch_id,date\ne1,FARM,M1,2024-01-05\n",
    "shipments.csv": (
        "event_id,batch_id,from_id,to_id,date,quantity\n"
        "e2,M1,FARM,PROC,2024-01-10,100\ne5,Y1,PROC,RET,2024-02-01,20\n"
    ),
    "transformations.csv": (
        "event_id,input_batch_id,output_batch_id,date,by_id\ne3,M1,Y1,2024-01-20,PROC\n"
    ),
    "sanctions.csv": (
        "id,subject_id,list,start,batch_id\nS1,FARM,PRODUCT_SAFETY_VIOLATION,2024-03-01,M1\n"
    ),
}


def test_the_recalls_command_lists_every_notice_in_force(
    env: dict[str, str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in BUNDLE.items():
        (bundle / name).write_text(text, encoding="utf-8")
    loaded = run(["load", str(bundle), "--json"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr

    listed = run(["recalls", "--as-of", "2024-06-01"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["entity_id"], r["measure"], r["rule"], r["received"]) for r in rows] == [
        ("PROC", "RECALL_NOTICE", "R11", "2024-01-10"),
        ("RET", "RECALL_NOTICE", "R11", "2024-02-01"),
    ]
    ret = rows[1]
    assert ret["entity_name"] == "'=Ret Co"  # a spreadsheet would run it as a formula
    assert (ret["batch_id"], ret["received_batch_id"], ret["source_sanction_id"]) == (
        "M1",
        "Y1",
        "S1",
    )
    assert ret["path"] == "M1 -[TRANSFORMED_INTO]-> Y1 -[SHIPPED]-> RET" and ret["legal_basis"]

    document = run(["recalls", "--as-of", "2024-06-01", "--json"], env, tmp_path)
    assert document.returncode == 0, document.stderr
    doc = json.loads(document.stdout)
    assert doc["asOf"] == "2024-06-01"
    assert [(n["entity"]["id"], n["batchId"], n["received"]) for n in doc["notices"]] == [
        ("PROC", "M1", "2024-01-10"),
        ("RET", "M1", "2024-02-01"),
    ]
    out = tmp_path / "recalls.jsonl"
    lines = run(
        ["recalls", "--as-of", "2024-06-01", "--format", "jsonl", "--out", str(out)], env, tmp_path
    )
    assert lines.returncode == 0, lines.stderr
    assert [json.loads(line)["entity_id"] for line in out.read_text().splitlines()] == [
        "PROC",
        "RET",
    ]
    before = run(["recalls", "--as-of", "2024-02-29"], env, tmp_path)
    assert before.returncode == 0 and before.stdout.splitlines() == [",".join(RECALL_COLUMNS)]

    report = run(["report", "RET", "--as-of", "2024-06-01", "--json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    shown = json.loads(report.stdout)
    assert (shown["score"], shown["restrictions"]) == (1000, [])
    [notice] = shown["notices"]
    assert notice["measure"] == "RECALL_NOTICE" and notice["source"]["id"] == "S1"
    assert [n["id"] for n in notice["path"]["nodes"]] == ["M1", "Y1", "RET"]
    printed = run(["report", "RET", "--as-of", "2024-06-01"], env, tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "RECALL_NOTICE" in printed.stdout and "第六十三条" in printed.stdout


RECALLS = """
query Recalls($asOf: Date) {
  recallNotices(asOf: $asOf) {
    asOf
    notices {
      receiver { id name }
      measure rule legalBasis disputed batchId receivedBatchId received
      source { id list }
      path { nodes { id } links { type start quantity } }
    }
  }
}
"""

REPORT = """
query Report($id: ID!) {
  creditReport(id: $id, asOf: "2024-06-01") {
    score restrictions { measure }
    notices { measure rule source { id } path { nodes { id } links { from to } } }
  }
}
"""


def test_graphql_lists_recall_notices_and_audits_the_receivers(
    store: GraphStore, tmp_path: Path
) -> None:
    _network(store)
    api = make_api(store, tmp_path)
    with api.client:
        body = api.query(RECALLS, {"asOf": "2024-06-01"}, role=Role.AGENCY)
        assert "errors" not in body, body
        found = body["data"]["recallNotices"]
        assert found["asOf"] == "2024-06-01"
        assert [(n["receiver"]["id"], n["receivedBatchId"]) for n in found["notices"]] == [
            ("PROC", "M1"),
            ("RET", "Y1"),
        ]
        ret = found["notices"][1]
        assert ret["receiver"]["name"] == "Ret Co" and ret["source"] == {
            "id": "S1",
            "list": "PRODUCT_SAFETY_VIOLATION",
        }
        assert (ret["measure"], ret["rule"], ret["batchId"], ret["received"]) == (
            "RECALL_NOTICE",
            "R11",
            "M1",
            "2024-02-01",
        )
        assert ret["path"]["links"] == [
            {"type": "TRANSFORMED_INTO", "start": "2024-01-20", "quantity": None},
            {"type": "SHIPPED", "start": "2024-02-01", "quantity": 20.0},
        ]
        [event] = api.audit.events(operation="recall_notices")
        assert event["subject_ids"] == ["PROC", "RET"] and event["result"] == "ok"

        refused = api.query(RECALLS, {"asOf": "2024-06-01"}, role=None)
        assert codes(refused) == ["UNAUTHENTICATED"]

        report = api.query(REPORT, {"id": "RET"}, role=Role.AGENCY)
        assert "errors" not in report, report
        shown = report["data"]["creditReport"]
        assert (shown["score"], shown["restrictions"]) == (1000, [])
        assert shown["notices"] == [
            {
                "measure": "RECALL_NOTICE",
                "rule": "R11",
                "source": {"id": "S1"},
                # Path.nodes lists entities; the batches on the way are in the links.
                "path": {
                    "nodes": [{"id": "RET"}],
                    "links": [{"from": "M1", "to": "Y1"}, {"from": "Y1", "to": "RET"}],
                },
            }
        ]
