"""Third-party data in and out (spec/INTEROP.md) on both stores: the real samples in
tests/fixtures (FtM from OpenSanctions, BODS 0.4, UK PSC), the model changes real data needs
(record ids in link keys, provenance, aliases, identifiers, share ranges, stated indirect
interests), the streamed scan primitive, and round trips through every export format."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import networkx as nx
import pytest

from graph.memory import MemoryStore
from graph.model import (
    Company,
    Link,
    LinkType,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
)
from graph.store import GraphStore, WriteBatch
from loaders.interop import detect_format, load_interop
from queries.interop_export import OutputFormat, export
from queries.ownership import ownership_closure, ownership_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FTM = FIXTURES / "ftm" / "entities.ftm.json"
BODS_FI = FIXTURES / "bods" / "bods-package-fi-soe.json"
BODS_MIXED = FIXTURES / "bods" / "mixed-direct-and-indirect-ownership.json"
PSC_8 = FIXTURES / "psc" / "psc-data-8.json"
PSC_1 = FIXTURES / "psc" / "psc-data-1.json"
PSC_11 = FIXTURES / "psc" / "psc-data-11.json"
DAY = date(2024, 6, 1)


def _lines(path: Path, entities: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities))
    return path


def _ftm(schema: str, ident: str, **props: object) -> dict[str, object]:
    values = {k: v if isinstance(v, list) else [v] for k, v in props.items()}
    return {"id": ident, "schema": schema, "properties": values}


# -- the real samples ---------------------------------------------------------------------


def test_opensanctions_entities_with_their_multilingual_names(store: GraphStore) -> None:
    result = load_interop(store, FTM, dataset="eu_fsf")
    assert result.applied and not result.rejects
    assert result.written == {"Company": 2, "Person": 4, "Address": 1}
    # The organisations' addressEntity ids are not in the file: reported, not fatal.
    assert sorted(r.column for r in result.dangling) == ["addressEntity", "addressEntity"]
    tobacco = store.get("NK-2GdmHtZTeNXjNVrBGEXZNj")
    assert isinstance(tobacco, Company)
    assert tobacco.name == "RAB „Inter Tobacco“"
    assert len(tobacco.aliases) == 11
    assert "registrationNumber:808000714" in tobacco.identifiers
    assert (tobacco.source_format, tobacco.source_dataset) == ("ftm", "eu_fsf")
    # Found by a Cyrillic alias, a Greek one, and by its registration number.
    for needle in ("Интер Тобако", "Εταιρία περιορισμένης", "808000714"):
        assert [e.id for e in store.search(needle).items] == [tobacco.id], needle
    kuzmenko = store.search("KUZMENKO").items
    assert [p.id for p in kuzmenko] == ["NK-2Ka3UvopqbpZmVDFjWd4LA"]
    assert isinstance(kuzmenko[0], Person)


def test_finnish_state_chain_from_bods(store: GraphStore) -> None:
    result = load_interop(store, BODS_FI)
    assert result.applied and not result.rejects
    assert result.written == {"Company": 4, "OWNS": 4}
    assert result.skipped == {"bods:otherInfluenceOrControl held by an entity": 1}
    holdings = {h.entity.id: h for h in ownership_closure(store, "19f1c5afe9d7", DAY)}
    ministry = holdings["7ff95ba3682c"]
    assert ministry.effective_share == pytest.approx(100.0)
    assert ministry.controls
    assert holdings["0199c515a699"].effective_share == pytest.approx(76.5)
    # The publisher's indirect 100% is kept beside the computed shares, never added in.
    assert "05ce06ec97b1" not in holdings
    report = ownership_report(store, "19f1c5afe9d7", DAY)
    assert [(s.owner_id, s.share, s.indirect) for s in report.stated] == [
        ("05ce06ec97b1", 100.0, True)
    ]
    assert [c.id for c in store.search("Finansministeriet").items] == ["7ff95ba3682c"]


def test_stated_indirect_interest_beside_the_computed_share(store: GraphStore) -> None:
    load_interop(store, BODS_MIXED)
    company_a = store.search("Company A").items[0]
    report = ownership_report(store, company_a.id, DAY)
    owners = {o.person.name: o.effective_share for o in report.owners}
    assert owners == {"Person 1": pytest.approx(50.0)}  # the direct 50% only
    assert [(s.share, s.start) for s in report.stated] == [(50.0, date(2017, 11, 1))]


def test_psc_kinds_bands_and_a_possible_beneficial_owner(store: GraphStore) -> None:
    result = load_interop(store, PSC_8, dataset="psc-2024-11")
    assert result.applied and not result.rejects
    assert result.skipped == {
        "psc:control held by a company (OFFICER_OF starts at a person)": 2,
        "psc:totals#persons-of-significant-control-snapshot": 1,
    }
    # Mr. Michael Stanley Bunyan: shares 25-50 of 03136191: a possible beneficial owner.
    (bunyan,) = ownership_report(store, "03136191", DAY).owners
    assert bunyan.person.name == "Mr. Michael Stanley Bunyan"
    assert (bunyan.effective_share, bunyan.effective_share_max) == (25.0, 50.0)
    assert bunyan.possible is False  # 25 is the minimum, and exactly 25% is a beneficial owner
    (bunyan,) = ownership_report(store, "03136191", DAY, threshold=30.0).owners
    assert bunyan.possible and bunyan.effective_share_max == 50.0
    # Mr Derek Salter: shares and votes 75-100: an owner for sure, and in control by votes.
    (salter,) = ownership_report(store, "07880581", DAY).owners
    assert (salter.effective_share, salter.possible, salter.controls) == (75.0, False, True)
    # A corporate PSC keeps its registration number, and is found by it.
    (clientlogic,) = store.search("03530981").items
    assert clientlogic.name == "Clientlogic Holding Limited"
    assert clientlogic.identifiers == ("Companies House:03530981",)


def test_psc_statements_are_skipped_and_ceased_controls_end(store: GraphStore) -> None:
    result = load_interop(store, PSC_1)
    assert result.skipped["psc:persons-with-significant-control-statement"] == 1
    assert result.written == {"Company": 1, "Person": 1, "OWNS": 1}
    load_interop(store, PSC_11)
    assert ownership_report(store, "10308742", date(2018, 1, 1)).owners[0].controls
    assert ownership_report(store, "10308742", date(2018, 3, 1)).owners == []


# -- real-data shapes ----------------------------------------------------------------------


def test_three_ownership_records_of_one_pair_with_one_start_date(
    store: GraphStore, tmp_path: Path
) -> None:
    start = "2020-01-01"
    file = _lines(
        tmp_path / "changes.ftm.json",
        [
            _ftm("Company", "co", name="Target Co"),
            _ftm("Person", "pa", name="Ann"),
            _ftm("Person", "pb", name="Bo"),
            _ftm("Ownership", "r1", owner="pa", asset="co", percentage="20",
                 startDate=start, endDate="2021-06-01"),
            _ftm("Ownership", "r2", owner="pa", asset="co", percentage="20",
                 startDate=start, endDate="2021-06-01"),
            _ftm("Ownership", "r3", owner="pa", asset="co", percentage="10", startDate=start),
            _ftm("Ownership", "r4", owner="pb", asset="co", percentage="40", startDate=start),
        ],
    )  # fmt: skip
    result = load_interop(store, file)
    assert result.written["OWNS"] == 4
    assert store.stats().links["OWNS"] == 4  # three records of one pair and start coexist
    before = {
        o.person.id: o.effective_share
        for o in ownership_report(store, "co", date(2021, 1, 1)).owners
    }
    after = {
        o.person.id: o.effective_share
        for o in ownership_report(store, "co", date(2022, 1, 1)).owners
    }
    assert before == {"pa": pytest.approx(50.0), "pb": pytest.approx(40.0)}
    assert after == {"pb": pytest.approx(40.0)}
    # Idempotent: the same file again changes nothing.
    load_interop(store, file)
    assert store.stats().links["OWNS"] == 4


def test_ftm_directorships_and_sanctions(store: GraphStore, tmp_path: Path) -> None:
    file = _lines(
        tmp_path / "mixed.ftm.json",
        [
            _ftm("Company", "co", name="Acme"),
            _ftm("Person", "p1", name="Wang Wei"),
            _ftm("Directorship", "d1", director="p1", organization="co", role="董事长"),
            _ftm("Directorship", "d2", director="p1", organization="co", role="company secretary"),
            _ftm("Sanction", "s1", entity="co", program="EU 269/2014", authority="EU",
                 listingDate="2022-03-01"),
            _ftm("Family", "f1", person="p1", relative="p1"),
            _ftm("Passport", "pp1", holder="p1", number="X1"),
        ],
    )  # fmt: skip
    result = load_interop(store, file)
    assert result.skipped == {"ftm:Family": 1, "ftm:Passport": 1}
    sub = store.neighbourhood(["co"], steps=[], hops=0, as_of=None)
    (record,) = sub.sanctions.values()
    assert record.list is SanctionList.EXTERNAL_SANCTION
    assert (record.start, record.legal_basis, record.source_format) == (
        date(2022, 3, 1),
        "EU 269/2014",
        "ftm",
    )
    links = [
        link
        for batch in store.scan([LinkType.OFFICER_OF])
        for link in batch
        if isinstance(link, Officer)
    ]
    roles = sorted((o.role.value, o.role_text) for o in links)
    assert roles == [("chairman", "董事长"), ("other", "company secretary")]


def test_list_map_sends_a_programme_to_a_catalogue_list(store: GraphStore, tmp_path: Path) -> None:
    file = _lines(
        tmp_path / "s.ftm.json",
        [
            _ftm("Company", "co", name="Acme"),
            _ftm("Sanction", "s1", entity="co", program="Tax blacklist"),
        ],
    )
    load_interop(store, file, list_map={"Tax blacklist": "MAJOR_TAX_VIOLATION"})
    (record,) = store.sanctions(["co"])
    assert record.list is SanctionList.MAJOR_TAX_VIOLATION


def test_a_bad_record_rejects_the_load_and_writes_nothing(
    store: GraphStore, tmp_path: Path
) -> None:
    file = _lines(
        tmp_path / "bad.ftm.json",
        [
            _ftm("Company", "co", name="Acme"),
            _ftm("Person", "p1", name="Li"),
            _ftm("Ownership", "o1", owner="p1", asset="co", percentage="250"),
        ],
    )
    result = load_interop(store, file)
    assert not result.applied
    assert [(r.line, r.column) for r in result.rejects] == [(3, "percentage")]
    assert store.get("co") is None
    result = load_interop(store, file, allow_rejects=True)
    assert result.applied and store.get("co") is not None and store.stats().links["OWNS"] == 0


# -- model changes on both stores ----------------------------------------------------------


def test_record_id_is_part_of_the_link_key(store: GraphStore) -> None:
    assert Ownership("p", "c", 10.0).key == "OWNS|p|c|"  # bundle keys do not change
    store.write(
        WriteBatch(
            nodes=[Company("c", "C"), Person("p", "P")],
            links=[
                Ownership("p", "c", 10.0, date(2020, 1, 1), record_id="a"),
                Ownership("p", "c", 15.0, date(2020, 1, 1), record_id="b"),
                Ownership("p", "c", 20.0, date(2020, 1, 1)),
            ],
        )
    )
    assert store.stats().links["OWNS"] == 3
    (owner,) = ownership_report(store, "c", DAY).owners
    assert owner.effective_share == pytest.approx(45.0)


def test_aliases_identifiers_provenance_and_ranges_round_trip(store: GraphStore) -> None:
    company = Company(
        "c",
        "Acme Trading",
        aliases=("ACME 贸易",),
        identifiers=("CN-USCC:91110108MAX72FW5XR",),
        source_format="bods",
        source_dataset="d1",
        record_id="rec-c",
    )
    link = Ownership(
        "p", "c", None, share_min=25.0, share_max=50.0, record_id="r", source_format="psc"
    )
    store.write(WriteBatch(nodes=[company, Person("p", "Li")], links=[link]))
    assert store.get("c") == company
    sub = store.neighbourhood(["c"], steps=[], hops=0, as_of=None)
    assert sub.nodes["c"] == company
    assert [e.id for e in store.search("贸易").items] == ["c"]
    assert [e.id for e in store.search("91110108MAX72FW5XR").items] == ["c"]
    links = [x for batch in store.scan([LinkType.OWNS]) for x in batch]
    assert links == [link]
    (owner,) = ownership_report(store, "c", DAY).owners
    assert (owner.effective_share, owner.effective_share_max, owner.possible) == (25.0, 50.0, False)


def test_a_range_below_the_threshold_makes_a_possible_owner_through_a_chain(
    store: GraphStore,
) -> None:
    store.write(
        WriteBatch(
            nodes=[Company("t", "T"), Company("h", "H"), Person("p", "P")],
            links=[
                Ownership("h", "t", 80.0),
                Ownership("p", "h", None, share_min=25.0, share_max=50.0, record_id="band"),
            ],
        )
    )
    (owner,) = ownership_report(store, "t", DAY).owners
    assert owner.possible
    assert owner.effective_share == pytest.approx(20.0)
    assert owner.effective_share_max == pytest.approx(40.0)


def test_scan_streams_every_node_and_link_in_batches(store: GraphStore) -> None:
    nodes = [Company(f"c{i}", f"C{i}") for i in range(5)] + [Person("p", "P")]
    links: list[Link] = [Ownership("p", f"c{i}", 10.0 + i) for i in range(5)]
    record = Sanction("s1", "c0", SanctionList.ADMIN_PENALTY)
    store.write(WriteBatch(nodes=[*nodes, record], links=links))
    batches = list(store.scan(batch_size=2))
    assert all(len(b) <= 5 for b in batches)
    found = [item for batch in batches for item in batch]
    assert found[:7] == sorted([*nodes, record], key=lambda n: n.id)
    found_links = [x for x in found[7:] if isinstance(x, (Ownership, Officer))]
    assert len(found_links) == len(found) - 7
    assert sorted(found_links, key=lambda x: x.key) == sorted(links, key=lambda x: x.key)
    only = [x for b in store.scan([NodeLabel.PERSON]) for x in b]
    assert only == [nodes[-1]]


# -- exports and round trips ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ftm", "bods"])
def test_round_trip_gives_the_same_counts_and_answers(
    store: GraphStore, tmp_path: Path, fmt: str
) -> None:
    load_interop(store, BODS_FI)
    load_interop(store, PSC_8)
    load_interop(store, FTM)
    out = tmp_path / f"export.{fmt}.json"
    export(store, fmt, out)
    again = MemoryStore()
    result = load_interop(again, out)
    assert result.applied and not result.rejects, result.rejects[:3]
    before, after = store.stats(), again.stats()
    wanted = ["Company", "Person"] if fmt == "bods" else ["Company", "Person", "Address"]
    assert {k: after.nodes[k] for k in wanted} == {k: before.nodes[k] for k in wanted}
    assert after.links["OWNS"] == before.links["OWNS"]
    for company in ("19f1c5afe9d7", "03136191", "07880581"):
        one = [
            (o.person.id, o.effective_share, o.effective_share_max, o.controls)
            for o in ownership_report(store, company, DAY).owners
        ]
        two = [
            (o.person.id, o.effective_share, o.effective_share_max, o.controls)
            for o in ownership_report(again, company, DAY).owners
        ]
        assert one == two


def test_ftm_export_lines_pass_followthemoney_validation(store: GraphStore, tmp_path: Path) -> None:
    from followthemoney import model

    load_interop(store, FTM)
    store.write(
        WriteBatch(
            nodes=[Sanction("s9", "NK-2PacmNpiLUmoz4XD2mSt7A", SanctionList.EXTERNAL_SANCTION)]
        )
    )
    out = tmp_path / "out.ftm.json"
    export(store, OutputFormat.FTM, out)
    for line in out.read_text().splitlines():
        data = json.loads(line)
        model.get_proxy(data)
        schema = model.get(data["schema"])
        assert schema is not None
        schema.validate(data)  # raises on an invalid entity


def test_bods_export_passes_libcovebods_jsv(store: GraphStore, tmp_path: Path) -> None:
    from libcovebods.config import LibCoveBODSConfig
    from libcovebods.data_reader import DataReader
    from libcovebods.jsonschemavalidate import JSONSchemaValidator
    from libcovebods.schema import SchemaBODS

    load_interop(store, BODS_FI)
    load_interop(store, PSC_8)
    out = tmp_path / "out.bods.json"
    export(store, OutputFormat.BODS, out)
    reader = DataReader(str(out))
    schema = SchemaBODS(reader, LibCoveBODSConfig())
    assert schema.schema_version == "0.4"
    assert JSONSchemaValidator(schema).validate(reader) == []


def test_graph_exports_read_back(store: GraphStore, tmp_path: Path) -> None:
    load_interop(store, BODS_FI)
    gexf = tmp_path / "g.gexf"
    export(store, OutputFormat.GEXF, gexf)
    graph = nx.read_gexf(gexf)
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 4
    assert graph.nodes["19f1c5afe9d7"]["label"] == "Gasgrid Finland Oy"
    graphml = tmp_path / "g.graphml"
    export(store, OutputFormat.GRAPHML, graphml, "19f1c5afe9d7", as_of=DAY)
    assert nx.read_graphml(graphml).number_of_edges() == 3
    folder = tmp_path / "neo4j"
    counts = export(store, OutputFormat.NEO4J_CSV, folder)
    assert counts == {"Company": 4, "OWNS": 4}
    with (folder / "relationships-OWNS.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert rows[0].keys() >= {":START_ID", ":END_ID", ":TYPE", "key", "share:float"}
    assert sorted(float(r["share:float"]) for r in rows) == [23.5, 76.5, 100.0, 100.0]


# -- ICIJ and detection --------------------------------------------------------------------


def _icij(folder: Path) -> Path:
    """A tiny folder in the Offshore Leaks layout, written here (no licensed sample exists)."""
    folder.mkdir()
    (folder / "nodes-entities.csv").write_text(
        "node_id,name,jurisdiction,incorporation_date,inactivation_date,sourceID\n"
        "10,Blue Sky Holdings Ltd,BVI,12-MAR-2006,,Panama Papers\n"
    )
    (folder / "nodes-officers.csv").write_text(
        "node_id,name,countries,sourceID\n20,John Smith,United Kingdom,Panama Papers\n"
        "21,Nominee Services Limited,Panama,Panama Papers\n"
    )
    (folder / "nodes-addresses.csv").write_text(
        "node_id,address,name,countries\n30,1 Harbour Road Tortola,,BVI\n"
    )
    (folder / "relationships.csv").write_text(
        "node_id_start,node_id_end,rel_type,link,start_date,end_date,sourceID\n"
        "20,10,shareholder_of,shareholder of,01-JAN-2007,,Panama Papers\n"
        "20,10,director_of,director of,01-JAN-2007,31-DEC-2010,Panama Papers\n"
        "10,30,registered_address,registered address,,,Panama Papers\n"
        "21,10,intermediary_of,intermediary of,,,Panama Papers\n"
        "20,99,shareholder_of,shareholder of,,,Panama Papers\n"
    )
    return folder


def test_icij_folder(store: GraphStore, tmp_path: Path) -> None:
    folder = _icij(tmp_path / "icij")
    assert detect_format(folder).value == "icij"
    result = load_interop(store, folder)
    assert result.applied and not result.rejects
    assert [r.value for r in result.dangling] == ["icij-99"]
    assert result.skipped == {"icij:intermediary_of": 1}
    assert isinstance(store.get("icij-21"), Company)  # an officer that is clearly a company
    kinds = [LinkType.OWNS, LinkType.OFFICER_OF, LinkType.REGISTERED_AT]
    links = sorted(
        (x.type.value, getattr(x, "role", None))
        for b in store.scan(kinds)
        for x in b
        if isinstance(x, (Ownership, Officer, Registration))
    )
    assert links == [
        ("OFFICER_OF", OfficerRole.DIRECTOR),
        ("OWNS", None),
        ("REGISTERED_AT", None),
    ]
    officer = next(x for b in store.scan([LinkType.OFFICER_OF]) for x in b)
    assert isinstance(officer, Officer) and officer.end == date(2010, 12, 31)


def test_detection_of_every_file_format() -> None:
    assert detect_format(FTM).value == "ftm"
    assert detect_format(BODS_FI).value == "bods"
    assert detect_format(PSC_8).value == "psc"
