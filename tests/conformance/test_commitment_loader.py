"""commitments.csv on every store: rejected rows say why, a broken commitment brings its
COMMITMENT_BREACH record, and a reload leaves a decision taken on that record alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from graph.model import Commitment, CommitmentOutcome, Sanction, SanctionStatus, Severity
from graph.store import GraphStore, WriteBatch
from loaders.bundle import load_bundle

HEADER = "id,promisor_id,kind,agency,matter,made,due,verified,outcome,severity\n"


def bundle(folder: Path, rows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "companies.csv").write_text("id,name\nC1,Acme\n", encoding="utf-8")
    (folder / "commitments.csv").write_text(HEADER + rows, encoding="utf-8")
    return folder


def test_every_rejection_names_file_line_and_column(store: GraphStore, tmp_path: Path) -> None:
    rows = (
        "k1,C1,TAX_DECLARATION,Tax,,2024-01-01,2024-03-01,2024-02-01,kept,\n"
        "k2,C1,TAX_DECLARATION,Tax,,2024-01-01,,,kept,\n"  # kept needs verified
        "k3,C1,TAX_DECLARATION,Tax,,2024-01-01,,,pending,serious\n"  # severity only if broken
        "k4,C1,NOT_A_KIND,Tax,,2024-01-01,,,,\n"
        "k5,nobody,PROACTIVE,Tax,,2024-01-01,,,,\n"
        "k6,C1,PROACTIVE,Tax,,2024-02-01,2024-01-01,,,\n"  # due before made
        "k7,C1,PROACTIVE,Tax,,,,,,\n"  # made is required
        "k8,C1,PROACTIVE,Tax,,2024-01-01,,2024-02-01,pending,\n"  # verified but pending
    )
    result = load_bundle(store, bundle(tmp_path / "b", rows))
    assert not result.applied
    assert [(r.line, r.column) for r in result.rejects] == [
        (3, "verified"),
        (4, "severity"),
        (5, "kind"),
        (6, "promisor_id"),
        (7, "due"),
        (8, "made"),
        (9, "outcome"),
    ]
    assert all(r.file == "commitments.csv" for r in result.rejects)


def test_a_broken_commitment_brings_its_breach_record(store: GraphStore, tmp_path: Path) -> None:
    rows = "k1,C1,NOTIFICATION_PERMIT,SAMR,permit 7,2024-01-01,2024-03-01,2024-03-05,broken,\n"
    folder = bundle(tmp_path / "b", rows)
    result = load_bundle(store, folder)
    assert result.applied and result.written["commitments.csv"] == 1
    commitment = store.get("k1")
    assert isinstance(commitment, Commitment)
    assert (commitment.outcome, commitment.severity) == (CommitmentOutcome.BROKEN, Severity.GENERAL)
    record = store.get("CB-k1")
    assert isinstance(record, Sanction)
    assert (record.subject_id, record.list, record.authority, record.start, record.end) == (
        "C1",
        "COMMITMENT_BREACH",
        "SAMR",
        date(2024, 3, 5),
        None,
    )
    # An upheld objection revoked it; loading the bundle again must not bring it back.
    revoked = replace(
        record, status=SanctionStatus.REVOKED, status_date=date(2024, 5, 1), version=1
    )
    store.write(WriteBatch(nodes=[revoked]))
    assert load_bundle(store, folder).applied
    again = store.get("CB-k1")
    assert isinstance(again, Sanction) and again.status is SanctionStatus.REVOKED
    assert store.stats().nodes["Commitment"] == 1
    assert store.stats().links["COMMITTED"] == 1


def test_a_breach_id_taken_by_another_row_is_refused(store: GraphStore, tmp_path: Path) -> None:
    folder = bundle(tmp_path / "b", "k1,C1,PROACTIVE,SAMR,,2024-01-01,,2024-03-05,broken,minor\n")
    (folder / "sanctions.csv").write_text(
        "id,subject_id,list\nCB-k1,C1,ABNORMAL_OPERATION\n", encoding="utf-8"
    )
    result = load_bundle(store, folder)
    assert [(r.file, r.line, r.column) for r in result.rejects] == [("commitments.csv", 2, "id")]
