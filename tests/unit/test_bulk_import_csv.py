"""The importer CSVs of ``creditnet db import`` and the bundle loader's writer lanes."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

import pytest

from api.cli.db import write_import_csvs
from graph.errors import InvalidInput
from graph.memory import MemoryStore
from graph.model import (
    Company,
    Link,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
)
from graph.neo4j.bulk_import import ARGS_FILE, ARRAY_DELIMITER, CsvImportWriter
from loaders.bundle import _ends, _partition, load_bundle
from loaders.generate import generate_bundle
from loaders.parquet import export_parquet


def _read(folder: Path, header: str, data: str) -> list[dict[str, str]]:
    text = (folder / header).read_text(encoding="utf-8") + (folder / data).read_text("utf-8")
    return list(csv.DictReader(text.splitlines(keepends=True)))


def test_rows_carry_typed_columns_quoted_text_and_empty_unknowns(tmp_path: Path) -> None:
    writer = CsvImportWriter(tmp_path / "csv")
    writer.add_node(Company("c1", 'Acme "Big", Ltd', founded=date(2001, 2, 3), aliases=("A", "B")))
    writer.add_node(Company("c2", "Two\nlines", registered_capital=1.5, extra={"tier": 2}))
    writer.add_node(Person("p1", "Li"))
    writer.add_link(Ownership("p1", "c1", 60.0))
    plan = writer.close()
    header, data = plan.nodes[0]
    assert (tmp_path / "csv" / header).read_text().startswith('"id:ID",')
    rows = _read(tmp_path / "csv", header, data)
    first, second = rows
    assert first["name:string"] == 'Acme "Big", Ltd'
    assert first["founded:date"] == "2001-02-03"
    assert first["aliases:string[]"] == ARRAY_DELIMITER.join(["A", "B"])
    assert first["registered_capital:double"] == ""  # no property, not an empty string
    assert second["tier:long"] == "2" and second["name:string"] == "Two\nlines"
    assert first[":LABEL"] == ARRAY_DELIMITER.join(["Node", "Company", "Entity"])
    assert plan.multiline and "--multiline-fields=true" in plan.arguments()
    assert plan.counts == {"Company": 2, "Person": 1, "OWNS": 1}
    args = (tmp_path / "csv" / ARGS_FILE).read_text().splitlines()
    assert args[0] == f"--nodes={header},{data}" and "--array-delimiter=U+001F" in args


def test_a_property_of_another_type_starts_a_new_file(tmp_path: Path) -> None:
    writer = CsvImportWriter(tmp_path / "csv")
    writer.add_node(Company("c1", "A", extra={"tier": 2}))
    writer.add_node(Company("c2", "B", extra={"tier": "gold"}))
    plan = writer.close()
    companies = [pair for pair in plan.nodes if "Company" in pair[0]]
    assert len(companies) == 2
    assert _read(tmp_path / "csv", *companies[1])[0]["tier:string"] == "gold"


def test_the_writer_refuses_a_folder_that_is_not_empty_or_a_list_item_with_the_delimiter(
    tmp_path: Path,
) -> None:
    (tmp_path / "old.csv").write_text("x\n")
    with pytest.raises(InvalidInput, match="not empty"):
        CsvImportWriter(tmp_path)
    writer = CsvImportWriter(tmp_path / "new", chunk_rows=1)
    with pytest.raises(InvalidInput, match="U\\+001F"):
        writer.add_node(Company("c1", "A", aliases=(f"x{ARRAY_DELIMITER}y",)))


def _links_sharing_nodes() -> list[Node | Link]:
    """Officers of several companies, companies that own companies, one address for all."""
    items: list[Node | Link] = [
        Officer(f"P{i % 7}", f"C{i % 11}", OfficerRole.DIRECTOR, start=date(2000, 1, 1 + i % 28))
        for i in range(200)
    ]
    items += [Ownership(f"C{i}", f"C{(i + 1) % 11}", 10.0) for i in range(11)]
    items += [Ownership(f"P{i}", f"C{(3 * i) % 11}", 5.0) for i in range(7)]
    items += [Registration(f"C{i}", "A1") for i in range(11)]
    items += [Registration(f"C{i}", f"A{i % 3 + 2}") for i in range(11)]
    items += [Company(f"N{i}", f"N{i}") for i in range(30)]
    return items


@pytest.mark.parametrize("lanes", [2, 3, 4])
def test_lanes_written_at_once_never_touch_the_same_node(lanes: int) -> None:
    """Concurrent link writers deadlock when two transactions lock the same nodes in opposite
    orders (a company is one link's target and another's owner; a nominee officer sits in many
    lanes): the lanes of a round touch disjoint nodes, both ends of every link counted."""
    items = _links_sharing_nodes()
    rounds = _partition([("f", item) for item in items], lanes)
    written = [item for round_ in rounds for lane in round_ for _, item in lane]
    assert sorted(map(repr, written)) == sorted(map(repr, items))
    for round_ in rounds:
        assert 1 <= len(round_) <= lanes
        touched = [{end for _, item in lane for end in _ends(item)} for lane in round_]
        for first, second in itertools.combinations(touched, 2):
            assert not first & second
    # still written by several lanes at once for the most part
    parallel = sum(len(lane) for round_ in rounds if len(round_) > 1 for lane in round_)
    assert parallel >= len(items) // 2
    for round_ in rounds:
        for lane in round_:
            officers = [item.source for _, item in lane if isinstance(item, Officer)]
            assert officers == sorted(officers)


def test_one_lane_is_one_round_in_the_order_given() -> None:
    items = [("f", item) for item in _links_sharing_nodes()]
    assert _partition(items, 1) == [[items]]


def test_a_load_with_two_writers_stores_what_one_writer_does(tmp_path: Path) -> None:
    generate_bundle(tmp_path / "bundle", 150, seed=2)
    one, two = MemoryStore(), MemoryStore()
    first = load_bundle(one, tmp_path / "bundle", id_hash_salt="s", batch_size=40)
    second = load_bundle(two, tmp_path / "bundle", id_hash_salt="s", batch_size=40, writers=2)
    assert first.written == second.written
    assert [i for b in one.scan() for i in b] == [i for b in two.scan() for i in b]


def test_a_snapshot_gives_the_rows_its_bundle_gives(tmp_path: Path) -> None:
    generate_bundle(tmp_path / "bundle", 60, seed=4)
    store = MemoryStore()
    load_bundle(store, tmp_path / "bundle", id_hash_salt="s")
    export_parquet(store, tmp_path / "snapshot")
    from_bundle, _ = write_import_csvs(tmp_path / "bundle", tmp_path / "a", id_hash_salt="s")
    from_snapshot, result = write_import_csvs(
        tmp_path / "snapshot", tmp_path / "b", id_hash_salt="s"
    )
    assert from_bundle is not None and from_snapshot is not None and result is None
    assert from_snapshot.counts == from_bundle.counts
