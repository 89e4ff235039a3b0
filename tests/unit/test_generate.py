"""The synthetic bundle generator: determinism, BUNDLE.md columns, referential integrity, shape."""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from graph.model import CompanyStatus, OfficerRole, SanctionList, SanctionStatus, Severity
from loaders.generate import (
    COLUMNS,
    NAME_KEYS,
    REFERENCE_DAY,
    _Generator,
    _Writer,
    company_name,
    generate_bundle,
)
from loaders.uscc import is_valid_uscc
from loaders.vocabulary import CITIES, TRADE_CHARS

N = 2000

REQUIRED = {
    "companies.csv": {"id", "name"},
    "persons.csv": {"id", "name"},
    "addresses.csv": {"id", "text"},
    "officers.csv": {"person_id", "company_id", "role"},
    "ownership.csv": {"owner_id", "company_id"},
    "sanctions.csv": {"id", "subject_id", "list"},
    "commitments.csv": {"id", "promisor_id", "kind", "made"},
}
"""The required (bold) columns of BUNDLE.md."""

DATE_COLUMNS = ("founded", "dissolved", "start", "end", "decided", "status_date")

Table = list[dict[str, str]]


def _read(folder: Path, name: str) -> Table:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    generate_bundle(folder, N, seed=11)
    return folder


@pytest.fixture(scope="module")
def tables(bundle: Path) -> dict[str, Table]:
    return {name: _read(bundle, name) for name in COLUMNS}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    counts_a = generate_bundle(tmp_path / "a", N, seed=3)
    counts_b = generate_bundle(tmp_path / "b", N, seed=3)
    assert counts_a == counts_b
    for name in COLUMNS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_different_seed_differs(tmp_path: Path) -> None:
    generate_bundle(tmp_path / "a", 200, seed=1)
    generate_bundle(tmp_path / "b", 200, seed=2)
    for name in ("companies.csv", "persons.csv", "ownership.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_counts_match_files(tmp_path: Path) -> None:
    counts = generate_bundle(tmp_path, 300, seed=0)
    assert set(counts) == set(COLUMNS)
    assert counts["companies.csv"] == 300
    for name, count in counts.items():
        assert len(_read(tmp_path, name)) == count


def test_rejects_empty_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_bundle(tmp_path, 0)


def test_headers_are_bundle_columns(bundle: Path) -> None:
    for name, columns in COLUMNS.items():
        with (bundle / name).open(encoding="utf-8", newline="") as handle:
            header, *rows = csv.reader(handle)
        assert tuple(header) == columns
        assert REQUIRED.get(name, set()) <= set(header)
        # Columns the generator does not fill are written empty, never left out.
        assert all(len(row) == len(columns) for row in rows), name


def test_required_cells_filled_and_ids_unique(tables: dict[str, Table]) -> None:
    for name, rows in tables.items():
        for row in rows:
            assert all(row[column] for column in REQUIRED.get(name, set())), (name, row)
    for name in ("companies.csv", "persons.csv", "addresses.csv", "sanctions.csv"):
        ids = [row["id"] for row in tables[name]]
        assert len(ids) == len(set(ids)), name
    every_id = [
        row["id"]
        for name in ("companies.csv", "persons.csv", "addresses.csv", "sanctions.csv")
        for row in tables[name]
    ]
    assert len(every_id) == len(set(every_id))


def test_natural_keys_unique(tables: dict[str, Table]) -> None:
    officers = [
        (r["person_id"], r["company_id"], r["role"], r["start"]) for r in tables["officers.csv"]
    ]
    assert len(officers) == len(set(officers))
    owners = [(r["owner_id"], r["company_id"], r["start"]) for r in tables["ownership.csv"]]
    assert len(owners) == len(set(owners))


def test_references_resolve(tables: dict[str, Table]) -> None:
    companies = {row["id"] for row in tables["companies.csv"]}
    persons = {row["id"] for row in tables["persons.csv"]}
    addresses = {row["id"] for row in tables["addresses.csv"]}
    for row in tables["companies.csv"]:
        assert row["address_id"] in addresses
    for row in tables["officers.csv"]:
        assert row["person_id"] in persons
        assert row["company_id"] in companies
    for row in tables["ownership.csv"]:
        assert row["owner_id"] in companies | persons
        assert row["company_id"] in companies
        assert row["owner_id"] != row["company_id"]
    for row in tables["sanctions.csv"]:
        assert row["subject_id"] in companies | persons
    linked = {row["person_id"] for row in tables["officers.csv"]}
    linked |= {row["owner_id"] for row in tables["ownership.csv"]}
    assert persons <= linked, "every person holds a position or a share"


def test_company_ids_are_valid_usccs(tables: dict[str, Table]) -> None:
    assert all(is_valid_uscc(row["id"]) for row in tables["companies.csv"])


GENERATED_LISTS = (
    SanctionList.SERIOUS_DISHONEST,
    SanctionList.DISHONEST_JUDGMENT_DEBTOR,
    SanctionList.MAJOR_TAX_VIOLATION,
    SanctionList.MARKET_BAN,
    SanctionList.ABNORMAL_OPERATION,
    SanctionList.ADMIN_PENALTY,
)
"""The lists the generator draws (every list of DOMAIN.md "Lists"): COMMITMENT_BREACH records
come from commitments, EXTERNAL_SANCTION ones from imports, and the other 2022 lists are not
generated yet."""


def test_enum_values(tables: dict[str, Table]) -> None:
    statuses = {status.value for status in CompanyStatus}
    assert {row["status"] for row in tables["companies.csv"]} <= statuses
    roles = {row["role"] for row in tables["officers.csv"]}
    assert roles <= {role.value for role in OfficerRole}
    assert roles == {role.value for role in OfficerRole}
    sanctions = tables["sanctions.csv"]
    assert {row["list"] for row in sanctions} == {item.value for item in GENERATED_LISTS}
    assert {row["severity"] for row in sanctions} <= {item.value for item in Severity}
    assert {row["status"] for row in sanctions} <= {item.value for item in SanctionStatus}
    assert {row["disputed"] for row in sanctions} <= {"true", "false"}


def test_dates_iso_and_ordered(tables: dict[str, Table]) -> None:
    for rows in tables.values():
        for row in rows:
            days = {c: date.fromisoformat(row[c]) for c in DATE_COLUMNS if row.get(c)}
            assert all(day < REFERENCE_DAY for c, day in days.items() if c != "end")
            if "start" in days and "end" in days:
                assert days["start"] < days["end"]
    for row in tables["companies.csv"]:
        assert bool(row["dissolved"]) == (row["status"] != "active")
        if row["dissolved"]:
            assert row["founded"] < row["dissolved"]
    for row in tables["sanctions.csv"]:
        assert bool(row["status_date"]) == (row["status"] in ("repaired", "revoked"))
        assert "2019-01-01" <= row["decided"] < REFERENCE_DAY.isoformat()
        assert (row["fine"] != "") == (row["list"] == "ADMIN_PENALTY")


def test_shares(tables: dict[str, Table]) -> None:
    totals: defaultdict[str, float] = defaultdict(float)
    missing = 0
    for row in tables["ownership.csv"]:
        if not row["share"]:
            missing += 1
            continue
        share = float(row["share"])
        assert 0 < share <= 100
        if not row["end"]:
            totals[row["company_id"]] += share
    assert missing > 0, "some shares are unknown"
    assert max(totals.values()) <= 100 + 1e-9


def test_one_current_legal_representative(tables: dict[str, Table]) -> None:
    current = Counter(
        row["company_id"]
        for row in tables["officers.csv"]
        if row["role"] == "legal_representative" and not row["end"]
    )
    assert all(current[row["id"]] == 1 for row in tables["companies.csv"])
    assert any(row["end"] for row in tables["officers.csv"]), "some positions ended"


def test_ownership_has_a_cycle_and_deep_chains(tables: dict[str, Table]) -> None:
    companies = {row["id"] for row in tables["companies.csv"]}
    owned: defaultdict[str, list[str]] = defaultdict(list)
    for row in tables["ownership.csv"]:
        if row["owner_id"] in companies and not row["end"]:
            owned[row["owner_id"]].append(row["company_id"])
    # Iterative colouring DFS: a grey node met again closes a cycle.
    colour: dict[str, int] = {}
    cycles = 0
    for root in list(owned):
        if root in colour:
            continue
        stack = [(root, iter(owned[root]))]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
            elif colour.get(child) == 1:
                cycles += 1
            elif child not in colour:
                colour[child] = 1
                stack.append((child, iter(owned.get(child, []))))
    assert cycles >= 1
    depth: dict[str, int] = {}
    for row in tables["ownership.csv"]:  # owners are written before what they own, mostly
        if row["owner_id"] in companies and not row["end"]:
            depth[row["company_id"]] = max(
                depth.get(row["company_id"], 0), depth.get(row["owner_id"], 0) + 1
            )
    assert max(depth.values()) >= 4


def test_realistic_shape(tables: dict[str, Table]) -> None:
    companies = tables["companies.csv"]
    assert 1.3 <= len(tables["persons.csv"]) / N <= 1.9
    per_address = Counter(row["address_id"] for row in companies)
    assert per_address.most_common(1)[0][1] >= 50, "a registration-agent address"
    positions = Counter(row["person_id"] for row in tables["officers.csv"])
    assert positions.most_common(1)[0][1] >= 50, "a nominee officer"
    dissolved = sum(1 for row in companies if row["dissolved"]) / N
    assert 0.01 <= dissolved <= 0.1
    subjects = {row["subject_id"] for row in tables["sanctions.csv"]}
    sanctioned = sum(1 for row in companies if row["id"] in subjects) / N
    assert 0.015 <= sanctioned <= 0.06
    names = [row["name"] for row in companies]
    assert len(names) == len(set(names))
    assert all(name.endswith("公司") for name in names)


def test_names_unique_over_a_large_key_and_serial_range() -> None:
    # Every name key with its first uses, then one key's many branches: each pair one name.
    keys = range(0, NAME_KEYS, 7)
    names = {company_name(key, serial) for key in keys for serial in (0, 1, 2)}
    assert len(names) == 3 * len(keys)
    branches = {company_name(5, serial) for serial in range(100_000)}
    assert len(branches) == 100_000
    assert company_name(5, 0) + "第一分公司" == company_name(5, 1)
    assert company_name(5, 0) + "第一百零一分公司" == company_name(5, 101)
    assert company_name(5, 0) + "第一千零一十分公司" == company_name(5, 1010)
    assert NAME_KEYS > 5_000_000, "room for a province's registry before branches dominate"


def test_same_seed_identical_at_a_size_with_rings_and_branches(tmp_path: Path) -> None:
    # 6000 companies: several cross-holding rings, each held back until it closes.
    generate_bundle(tmp_path / "a", 6000, seed=5)
    generate_bundle(tmp_path / "b", 6000, seed=5)
    for name in COLUMNS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_rows_are_streamed_not_held(tmp_path: Path) -> None:
    # What the generator holds after a run grows far slower than what it wrote: the rows went
    # to the files as they were made (the name counters are a fixed cost, the same at any size).
    held: list[int] = []
    written: list[int] = []
    for n in (2000, 8000):
        folder = tmp_path / str(n)
        folder.mkdir()
        files = {name: _Writer(folder / name, columns) for name, columns in COLUMNS.items()}
        generator = _Generator(3, n, files)
        generator.run()
        for writer in files.values():
            writer.handle.close()
        written.append(sum((folder / name).stat().st_size for name in COLUMNS))
        held.append(_deep_size(generator.__dict__))
        assert not generator.ring
    assert held[1] - held[0] < (written[1] - written[0]) / 5, (held, written)


def _deep_size(root: object) -> int:
    """Bytes held by ``root`` and everything it references (shared objects counted once)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (type, _Writer)):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__slots__"):
            stack.extend(getattr(item, slot) for slot in item.__slots__ if hasattr(item, slot))
    return total


def test_heavy_tails_at_20k(tmp_path: Path) -> None:
    n = 20_000
    generate_bundle(tmp_path, n, seed=1)
    positions = Counter(row["person_id"] for row in _read(tmp_path, "officers.csv"))
    busiest = [count for _, count in positions.most_common(10)]
    # About 3.5% of ~98k positions go to n/400 nominees with Zipf weights: the first holds
    # about a thousand, and a few dozen people hold a hundred or more.
    assert busiest[0] >= 600, busiest
    assert sum(1 for count in positions.values() if count >= 100) >= 10
    assert positions.most_common()[len(positions) // 2][1] <= 2, "most people: one company"
    per_address = Counter(row["address_id"] for row in _read(tmp_path, "companies.csv"))
    top = [count for _, count in per_address.most_common(5)]
    # 7% of companies at n/5000 agent addresses weighted 1/rank: the first holds about 600.
    assert top[0] >= 300, top
    assert top[3] >= 80, top
    names = [row["name"] for row in _read(tmp_path, "companies.csv")]
    assert len(names) == len(set(names))


def test_taken_names_become_numbered_branches(tmp_path: Path) -> None:
    files = {name: _Writer(tmp_path / name, columns) for name, columns in COLUMNS.items()}
    generator = _Generator(3, 10, files)
    # Every trade name taken once already: after its tries, a company becomes a branch of its
    # first choice; past 255 uses of one name the count goes on outside the byte counters.
    generator.name_uses = bytearray(b"\x01") * NAME_KEYS
    trades = len(TRADE_CHARS) ** 2
    key = (2 * trades + 17) * (NAME_KEYS // (len(CITIES) * trades)) + 4
    first = generator.name(2, 17, 4, holding=False)
    assert first == company_name(key, 1)
    assert first.endswith("第一分公司")
    assert generator.name(2, 17, 4, holding=False).endswith("第二分公司")
    generator.name_uses[key] = 255
    names = {generator.name(2, 17, 4, holding=False) for _ in range(300)}
    assert len(names) == 300
    assert company_name(key, 554) in names
    for writer in files.values():
        writer.handle.close()
