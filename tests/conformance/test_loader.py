"""The CSV bundle loader on both stores: every rejection reason, idempotency, interrupted loads."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.errors import BackendUnavailable, InvalidInput
from graph.model import Direction, LinkType, Person
from graph.store import GraphStore, Step, WriteBatch, WriteResult
from loaders.bundle import load_bundle
from loaders.generate import generate_bundle

VALID_USCC = "91350100M000100Y43"
BAD_USCC = "91350100M000100Y44"


def write_bundle(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


GOOD = {
    "companies": f"""
        id,name,status,founded,address_id
        {VALID_USCC},福州示例有限公司,active,2010-05-01,A1
        C2,Second Co,,,
        """,
    "persons": """
        id,name,birth_year
        P1,王芳,1975
        P2,Chen Jie,
        """,
    "addresses": """
        id,text,region
        A1,福州市鼓楼区五四路1号,350102
        """,
    "officers": f"""
        person_id,company_id,role,start,end
        P1,{VALID_USCC},legal_representative,2015-01-01,
        P2,C2,director,,2024-01-01
        """,
    "ownership": f"""
        owner_id,company_id,share,start,end
        P1,{VALID_USCC},60,,
        {VALID_USCC},C2,100,2020-01-01,
        """,
    "sanctions": f"""
        id,subject_id,list,severity,fine,start,status,status_date,disputed
        S1,{VALID_USCC},ABNORMAL_OPERATION,,,2024-03-01,,,false
        S2,P1,ADMIN_PENALTY,minor,2000,2023-01-01,repaired,2023-06-01,
        """,
}


def dump(store: GraphStore) -> object:
    """Everything in the store in a canonical order, for comparing two loads."""
    stats = store.stats()
    seeds = ["P1", "P2", VALID_USCC, "C2", "A1"]
    sub = store.neighbourhood(
        seeds,
        steps=[
            Step(LinkType.OWNS, Direction.BOTH),
            Step(LinkType.OFFICER_OF, Direction.BOTH),
            Step(LinkType.REGISTERED_AT, Direction.BOTH),
        ],
        hops=10,
        as_of=None,
    )
    return stats, sub.canonical()


def test_a_good_bundle_loads_and_reloads_identically(store: GraphStore, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", **GOOD)
    result = load_bundle(store, bundle)
    assert result.applied and not result.rejects
    assert result.written == {
        "addresses.csv": 1,
        "companies.csv": 2,
        "persons.csv": 2,
        "sanctions.csv": 2,
        "officers.csv": 2,
        "ownership.csv": 2,
    }
    first = dump(store)
    again = load_bundle(store, bundle)
    assert again.applied and not again.rejects
    assert dump(store) == first
    stats = store.stats()
    assert stats.nodes == {
        "Company": 2,
        "Person": 2,
        "Address": 1,
        "Sanction": 2,
        "Case": 0,
        "Commitment": 0,
        "Product": 0,
        "Batch": 0,
    }
    assert stats.links == {
        "OWNS": 2,
        "OFFICER_OF": 2,
        "REGISTERED_AT": 1,
        "SANCTIONED": 2,
        "COMMITTED": 0,
        "PRODUCED": 0,
        "SHIPPED": 0,
        "TRANSFORMED_INTO": 0,
    }


def test_a_sanctions_only_bundle_can_name_entities_already_in_the_graph(
    store: GraphStore, tmp_path: Path
) -> None:
    load_bundle(store, write_bundle(tmp_path / "base", **GOOD))
    later = write_bundle(
        tmp_path / "later",
        sanctions="""
            id,subject_id,list,start
            S9,C2,MAJOR_TAX_VIOLATION,2025-01-01
            """,
    )
    result = load_bundle(store, later)
    assert result.applied and result.written == {"sanctions.csv": 1}
    assert [s.id for s in store.sanctions(["C2"])] == ["S9"]


REJECTIONS: list[tuple[str, dict[str, str], str, int, str, str]] = [
    # (case, files, file, line, column, reason fragment)
    (
        "missing required cell",
        {"companies": "id,name\nC1,\n"},
        "companies.csv",
        2,
        "name",
        "required",
    ),
    ("missing id", {"persons": "id,name\n,Nobody\n"}, "persons.csv", 2, "id", "required"),
    (
        "unknown list",
        {"persons": "id,name\nP1,A\n", "sanctions": "id,subject_id,list\nS1,P1,BLACKLIST\n"},
        "sanctions.csv",
        2,
        "list",
        "unknown list",
    ),
    (
        "unknown role",
        {
            "persons": "id,name\nP1,A\n",
            "companies": "id,name\nC1,B\n",
            "officers": "person_id,company_id,role\nP1,C1,janitor\n",
        },
        "officers.csv",
        2,
        "role",
        "unknown role",
    ),
    (
        "share zero",
        {"companies": "id,name\nC1,B\nC2,D\n", "ownership": "owner_id,company_id,share\nC1,C2,0\n"},
        "ownership.csv",
        2,
        "share",
        "(0, 100]",
    ),
    (
        "share above 100",
        {
            "companies": "id,name\nC1,B\nC2,D\n",
            "ownership": "owner_id,company_id,share\nC1,C2,100.5\n",
        },
        "ownership.csv",
        2,
        "share",
        "(0, 100]",
    ),
    (
        "share not a number",
        {
            "companies": "id,name\nC1,B\nC2,D\n",
            "ownership": "owner_id,company_id,share\nC1,C2,half\n",
        },
        "ownership.csv",
        2,
        "share",
        "not a number",
    ),
    (
        "end before start",
        {
            "companies": "id,name\nC1,B\nC2,D\n",
            "ownership": "owner_id,company_id,share,start,end\nC1,C2,10,2024-01-02,2024-01-01\n",
        },
        "ownership.csv",
        2,
        "end",
        "before start",
    ),
    (
        "dangling link",
        {"companies": "id,name\nC1,B\n", "ownership": "owner_id,company_id,share\nGHOST,C1,10\n"},
        "ownership.csv",
        2,
        "owner_id",
        "neither in the bundle nor in the graph",
    ),
    (
        "dangling sanction subject",
        {"sanctions": "id,subject_id,list\nS1,GHOST,ABNORMAL_OPERATION\n"},
        "sanctions.csv",
        2,
        "subject_id",
        "neither in the bundle nor in the graph",
    ),
    (
        "link to the wrong kind",
        {
            "companies": "id,name\nC1,B\nC2,D\n",
            "officers": "person_id,company_id,role\nC1,C2,director\n",
        },
        "officers.csv",
        2,
        "person_id",
        "expected a Person",
    ),
    (
        "duplicate id with conflicting values",
        {"companies": "id,name\nC1,First\nC2,Other\nC1,Second\n"},
        "companies.csv",
        4,
        "id",
        "conflicting values (lines 2, 4)",
    ),
    (
        "malformed date",
        {"companies": "id,name,founded\nC1,B,2024/01/02\n"},
        "companies.csv",
        2,
        "founded",
        "malformed date",
    ),
    (
        "impossible date",
        {"companies": "id,name,founded\nC1,B,2023-02-30\n"},
        "companies.csv",
        2,
        "founded",
        "malformed date",
    ),
    (
        "wrong USCC check character",
        {"companies": f"id,name\n{BAD_USCC},B\n"},
        "companies.csv",
        2,
        "id",
        "check character",
    ),
    (
        "repaired without status_date",
        {
            "persons": "id,name\nP1,A\n",
            "sanctions": "id,subject_id,list,status\nS1,P1,ADMIN_PENALTY,repaired\n",
        },
        "sanctions.csv",
        2,
        "status_date",
        "required when status is repaired",
    ),
    (
        "bad disputed flag",
        {
            "persons": "id,name\nP1,A\n",
            "sanctions": "id,subject_id,list,disputed\nS1,P1,ADMIN_PENALTY,maybe\n",
        },
        "sanctions.csv",
        2,
        "disputed",
        "true or false",
    ),
    (
        "unknown severity",
        {
            "persons": "id,name\nP1,A\n",
            "sanctions": "id,subject_id,list,severity\nS1,P1,ADMIN_PENALTY,huge\n",
        },
        "sanctions.csv",
        2,
        "severity",
        "unknown severity",
    ),
    (
        "missing required column",
        {"officers": "person_id,company_id\nP1,C1\n"},
        "officers.csv",
        1,
        "role",
        "required column 'role' is missing",
    ),
    (
        "one id for two kinds",
        {"companies": "id,name\nX1,B\n", "persons": "id,name\nX1,A\n"},
        "persons.csv",
        2,
        "id",
        "also names a Company",
    ),
    (
        "a row naming a rejected row",
        {
            "companies": "id,name,founded\nC1,B,never\nC2,D,\n",
            "ownership": "owner_id,company_id,share\nC1,C2,50\n",
        },
        "ownership.csv",
        2,
        "owner_id",
        "rejected at companies.csv line 2",
    ),
]


@pytest.mark.parametrize(
    ("files", "file", "line", "column", "reason"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_every_rejection_reason_is_reported_and_nothing_is_loaded(
    store: GraphStore,
    tmp_path: Path,
    files: dict[str, str],
    file: str,
    line: int,
    column: str,
    reason: str,
) -> None:
    bundle = write_bundle(tmp_path / "bad", **files)
    result = load_bundle(store, bundle)
    matching = [r for r in result.rejects if (r.file, r.line, r.column) == (file, line, column)]
    assert matching, result.rejects
    assert reason in matching[0].reason
    assert not result.applied
    assert sum(store.stats().nodes.values()) == 0


def test_a_row_may_not_change_the_kind_of_an_id_in_the_graph(
    store: GraphStore, tmp_path: Path
) -> None:
    load_bundle(store, write_bundle(tmp_path / "base", **GOOD))
    result = load_bundle(store, write_bundle(tmp_path / "b", persons="id,name\nC2,Person now\n"))
    assert [(r.file, r.line, r.column) for r in result.rejects] == [("persons.csv", 2, "id")]
    assert "already a Company" in result.rejects[0].reason


def test_allow_rejects_loads_every_good_row_and_reports_every_bad_one(
    store: GraphStore, tmp_path: Path
) -> None:
    files = dict(GOOD)
    files["companies"] = GOOD["companies"] + "C3,,,,\nC4,Fine Co,,,\n"
    files["ownership"] = GOOD["ownership"] + "C3,C4,50,,\nC4,C2,101,,\n"
    bundle = write_bundle(tmp_path / "b", **files)
    strict = load_bundle(store, bundle)
    assert not strict.applied and sum(store.stats().nodes.values()) == 0
    result = load_bundle(store, bundle, allow_rejects=True)
    assert result.applied
    assert {(r.file, r.line) for r in result.rejects} == {
        ("companies.csv", 4),
        ("ownership.csv", 4),
        ("ownership.csv", 5),
    }
    assert store.get("C4") is not None and store.get("C3") is None
    assert store.stats().links["OWNS"] == 2


def test_extra_columns_are_kept_as_properties(store: GraphStore, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", companies="id,name,legal_form\nC1,B,LLC\n")
    result = load_bundle(store, bundle)
    assert result.extra_columns == {"companies.csv": ["legal_form"]}
    company = store.get("C1")
    assert company is not None and dict(company.extra) == {"legal_form": "LLC"}


def test_national_ids_are_stored_only_hashed(store: GraphStore, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", persons="id,name,national_id\nP1,A,11010519491231002X\n")
    assert load_bundle(store, bundle).rejects  # no salt configured: refused, not stored raw
    result = load_bundle(store, bundle, id_hash_salt="pepper")
    assert result.applied
    person = store.get("P1")
    assert isinstance(person, Person)
    assert "11010519491231002X" not in repr(person)
    assert person.national_id_hash is not None and len(person.national_id_hash) == 64


def test_a_folder_without_bundle_files_is_an_error(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInput, match="none of the bundle files"):
        load_bundle(store, tmp_path)
    with pytest.raises(InvalidInput, match="not a folder"):
        load_bundle(store, tmp_path / "missing")


class DiesAfter:
    """A store that goes down after ``n`` acknowledged batches, like a killed database."""

    def __init__(self, inner: GraphStore, n: int) -> None:
        self.inner, self.left = inner, n

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def write(self, batch: WriteBatch) -> WriteResult:
        if self.left == 0:
            raise BackendUnavailable("connection lost")
        self.left -= 1
        return self.inner.write(batch)


def test_an_interrupted_load_run_again_ends_like_an_uninterrupted_one(
    store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bundle = tmp_path / "gen"
    generate_bundle(bundle, companies=300, seed=7)
    reference = _reference_dump(bundle, tmp_path)
    flaky: Callable[[], object] = lambda: load_bundle(  # noqa: E731
        DiesAfter(store, 3),  # type: ignore[arg-type]
        bundle,
        batch_size=200,
        id_hash_salt="s",
    )
    with pytest.raises(BackendUnavailable):
        flaky()
    assert sum(store.stats().nodes.values()) > 0
    result = load_bundle(store, bundle, batch_size=200, id_hash_salt="s")
    assert result.applied and not result.rejects
    assert _full_dump(store, bundle) == reference


def _reference_dump(bundle: Path, tmp_path: Path) -> object:
    from graph.memory import MemoryStore

    reference = MemoryStore()
    load_bundle(reference, bundle, batch_size=200, id_hash_salt="s")
    return _full_dump(reference, bundle)


def _full_dump(store: GraphStore, bundle: Path) -> object:
    import csv

    seeds: list[str] = []
    for name in ("companies.csv", "persons.csv", "addresses.csv"):
        with (bundle / name).open(encoding="utf-8") as f:
            seeds += [row["id"] for row in csv.DictReader(f)]
    sub = store.neighbourhood(
        seeds,
        steps=[
            Step(LinkType.OWNS, Direction.OUT),
            Step(LinkType.OFFICER_OF, Direction.OUT),
            Step(LinkType.REGISTERED_AT, Direction.OUT),
        ],
        hops=1,
        as_of=None,
    )
    return store.stats(), sub.canonical()


def test_the_demo_bundle_twice_leaves_identical_counts(store: GraphStore) -> None:
    from api.cli.loading import demo_bundle_dir

    first = load_bundle(store, demo_bundle_dir(), id_hash_salt="demo")
    assert first.applied and not first.rejects, first.rejects[:5]
    counts = store.stats()
    assert load_bundle(store, demo_bundle_dir(), id_hash_salt="demo").applied
    assert store.stats() == counts


def test_generated_bundle_loads_without_rejects(store: GraphStore, tmp_path: Path) -> None:
    generate_bundle(tmp_path / "g", companies=500, seed=3)
    shutil.copytree(tmp_path / "g", tmp_path / "copy")
    result = load_bundle(store, tmp_path / "copy", id_hash_salt="s")
    assert result.applied and not result.rejects, result.rejects[:5]
    assert store.stats().nodes["Company"] == 500


def test_concurrent_writers_end_like_one(store: GraphStore, tmp_path: Path) -> None:
    bundle = tmp_path / "gen"
    generate_bundle(bundle, companies=300, seed=11)
    reference = _reference_dump(bundle, tmp_path)
    result = load_bundle(store, bundle, batch_size=150, id_hash_salt="s", writers=3)
    assert result.applied and not result.rejects
    assert _full_dump(store, bundle) == reference
