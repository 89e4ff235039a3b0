"""The parsed rows of a bundle stay compact (issue 14): all of them are held until the checks
across files are done, so what each row keeps is what a load's peak memory is made of."""

from __future__ import annotations

from pathlib import Path

from graph.memory import MemoryStore
from graph.model import Company, NodeLabel, Officer, OfficerRole
from loaders.bundle import load_bundle, read_bundle
from loaders.bundle_rows import ParsedRow


def _bundle(folder: Path) -> Path:
    (folder / "companies.csv").write_text(
        "id,name,founded,address_id\nC1,Acme,2020-01-02,A1\nC2,Beta,2020-01-02,\n",
        encoding="utf-8",
    )
    (folder / "addresses.csv").write_text("id,text\nA1,1 Road\n", encoding="utf-8")
    (folder / "persons.csv").write_text("id,name\nP1,Li\n", encoding="utf-8")
    (folder / "officers.csv").write_text(
        "person_id,company_id,role,start\nP1,C1,director,2021-05-06\nP1,C2,director,2021-05-06\n",
        encoding="utf-8",
    )
    return folder


def test_a_parsed_row_gives_back_the_references_it_was_given() -> None:
    refs = (
        ("person_id", "P1", (NodeLabel.PERSON,)),
        ("company_id", "C1", (NodeLabel.COMPANY,)),
    )
    row = ParsedRow("officers.csv", 2, Officer("P1", "C1", OfficerRole.DIRECTOR), refs)
    assert (row.file, row.line, row.refs) == ("officers.csv", 2, refs)
    assert ParsedRow("companies.csv", 3, Company("C1", "Acme"), ()).refs == ()


def test_rows_share_their_dates_and_their_empty_extra_properties(tmp_path: Path) -> None:
    parsed = read_bundle(_bundle(tmp_path))
    first, second = (row.item for row in parsed.rows["officers.csv"])
    assert isinstance(first, Officer) and isinstance(second, Officer)
    assert first.start is second.start
    assert first.extra is second.extra and not first.extra
    c1, c2 = (row.item for row in parsed.rows["companies.csv"])
    assert isinstance(c1, Company) and isinstance(c2, Company)
    assert c1.founded is c2.founded
    assert [row.refs for row in parsed.rows["companies.csv"]] == [
        (("address_id", "A1", (NodeLabel.ADDRESS,)),),
        (),
    ]


def test_extra_columns_are_still_kept_per_row(tmp_path: Path) -> None:
    (tmp_path / "companies.csv").write_text(
        "id,name,tier\nC1,Acme,gold\nC2,Beta,\n", encoding="utf-8"
    )
    store = MemoryStore()
    assert load_bundle(store, tmp_path).applied
    c1, c2 = store.get("C1"), store.get("C2")
    assert c1 is not None and c2 is not None
    assert dict(c1.extra) == {"tier": "gold"} and dict(c2.extra) == {}


def test_a_malformed_date_is_still_rejected_when_seen_again(tmp_path: Path) -> None:
    (tmp_path / "companies.csv").write_text(
        "id,name,founded\nC1,Acme,2020-02-30\nC2,Beta,2020-02-30\n", encoding="utf-8"
    )
    parsed = read_bundle(tmp_path)
    assert [(r.line, r.column) for r in parsed.rejects] == [(2, "founded"), (3, "founded")]
