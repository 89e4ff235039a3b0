"""The CSV bundle loader (docs/bundle.md): read with the csv module, check every row, then upsert.

A load has two phases. First every file is read and every row checked, references included
(against the bundle and the store); rejected rows go to a report with file, line, column and
reason, and rows that name a rejected row are rejected with it. Only then is anything written, in
batches that the store applies atomically and idempotently, so a load that dies half way can simply
be run again. With rejects and without ``allow_rejects`` nothing at all is written.
"""

from __future__ import annotations

import csv
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from graph.commitments import breach_id, breach_record
from graph.csv_cells import spreadsheet_safe
from graph.errors import InvalidInput
from graph.model import (
    Address,
    Batch,
    Case,
    Commitment,
    CommitmentOutcome,
    Company,
    Link,
    Node,
    NodeLabel,
    Person,
    Produced,
    Product,
    Registration,
    Sanction,
    Shipped,
    SupplyLink,
    TransformedInto,
)
from graph.rules.schema import Catalogue, RuleSet, load_rules
from graph.store import GraphStore, WriteBatch
from loaders.bundle_rows import (
    NODE_FILES,
    PARSERS,
    SUPPLY_FILES,
    Cells,
    ParsedRow,
    RowError,
    read_csv,
)
from loaders.bundle_supply import movement_problems
from loaders.uscc import normalize_id

__all__ = [
    "BUNDLE_FILES",
    "SUPPLY_TABLES",
    "LoadResult",
    "Reject",
    "SupplyRows",
    "load_bundle",
    "load_supply_rows",
    "read_bundle",
    "write_rejects",
]

_NODE_TYPES: Final = (Company, Person, Address, Sanction, Case, Commitment, Product, Batch)

# file -> (columns in spec order, required columns)
BUNDLE_FILES: Final[dict[str, tuple[tuple[str, ...], frozenset[str]]]] = {
    "addresses.csv": (("id", "text", "region"), frozenset({"id", "text"})),
    "companies.csv": (
        (
            "id",
            "name",
            "jurisdiction",
            "status",
            "founded",
            "dissolved",
            "registered_capital",
            "industry",
            "address_id",
        ),
        frozenset({"id", "name"}),
    ),
    "persons.csv": (
        ("id", "name", "nationality", "birth_year", "national_id"),
        frozenset({"id", "name"}),
    ),
    "sanctions.csv": (
        (
            "id",
            "subject_id",
            "list",
            "authority",
            "severity",
            "fine",
            "decided",
            "start",
            "end",
            "legal_basis",
            "description",
            "status",
            "status_date",
            "disputed",
            "batch_id",
        ),
        frozenset({"id", "subject_id", "list"}),
    ),
    "officers.csv": (
        ("person_id", "company_id", "role", "start", "end"),
        frozenset({"person_id", "company_id", "role"}),
    ),
    "ownership.csv": (
        ("owner_id", "company_id", "share", "start", "end"),
        frozenset({"owner_id", "company_id"}),
    ),
    "commitments.csv": (
        (
            "id",
            "promisor_id",
            "kind",
            "agency",
            "matter",
            "made",
            "due",
            "verified",
            "outcome",
            "severity",
        ),
        frozenset({"id", "promisor_id", "kind", "made"}),
    ),
    "products.csv": (("id", "name", "category", "brand_owner_id"), frozenset({"id", "name"})),
    "batches.csv": (
        ("id", "product_id", "lot", "produced", "expires", "quantity"),
        frozenset({"id", "product_id", "lot"}),
    ),
    "produced.csv": (
        ("event_id", "company_id", "batch_id", "date"),
        frozenset({"event_id", "company_id", "batch_id", "date"}),
    ),
    "shipments.csv": (
        ("event_id", "batch_id", "from_id", "to_id", "date", "quantity"),
        frozenset({"event_id", "batch_id", "from_id", "to_id", "date"}),
    ),
    "transformations.csv": (
        ("event_id", "input_batch_id", "output_batch_id", "date", "by_id"),
        frozenset({"event_id", "input_batch_id", "output_batch_id", "date"}),
    ),
}

SUPPLY_TABLES: Final = ("products", "batches", "produced", "shipments", "transformations")
"""The tables of :data:`SupplyRows`, each the bundle file of that name (``products.csv``)."""

SupplyRows = Mapping[str, Sequence[Mapping[str, str]]]
"""Supply rows from another source (an EPCIS document): for each of :data:`SUPPLY_TABLES`, its
rows as ``{column: text}`` with the columns of the bundle file of that name."""


@dataclass(frozen=True, slots=True)
class Reject:
    """One rejected row (or a whole file, with ``line`` 1 and the column at fault)."""

    file: str
    line: int
    column: str
    reason: str
    value: str = ""


@dataclass(slots=True)
class LoadResult:
    """What a load did: rows written per file, rejects, and extra columns kept as properties."""

    bundle: Path
    written: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    applied: bool = False

    @property
    def rejected(self) -> int:
        return len({(r.file, r.line) for r in self.rejects})


_Row = ParsedRow


@dataclass(slots=True)
class ParsedBundle:
    rows: dict[str, list[_Row]]
    rejects: list[Reject]
    total_rows: dict[str, int]
    extra_columns: dict[str, list[str]]
    rejected_ids: dict[str, Reject] = field(default_factory=dict)
    """Ids of node rows rejected while parsing, so that rows naming them say why."""
    kept_records: frozenset[str] = frozenset()
    """COMMITMENT_BREACH records the store holds already: a reload leaves them (and any
    decision taken on them since, such as a revocation) alone."""


def read_bundle(
    path: Path, *, id_hash_salt: str | None = None, rules: RuleSet | None = None
) -> ParsedBundle:
    """Read and check every file of the bundle at ``path`` (no store needed, no references).

    A sanction's ``list`` must be in the catalogue of ``rules`` (None: the shipped default).
    Rejects carry the physical line of the file (a quoted value may span lines) and every
    problem of a row, one reject per cell at fault.
    """
    if not path.is_dir():
        raise InvalidInput(f"{path} is not a folder; a bundle is a folder of CSV files")
    present = [name for name in BUNDLE_FILES if (path / name).is_file()]
    unknown = sorted(
        p.name for p in path.glob("*.csv") if p.name not in BUNDLE_FILES and p.name != "rejects.csv"
    )
    if not present:
        raise InvalidInput(
            f"{path} holds none of the bundle files ({', '.join(BUNDLE_FILES)})"
            + (f"; found {', '.join(unknown)}" if unknown else "")
        )
    parsed = ParsedBundle(rows={}, rejects=[], total_rows={}, extra_columns={})
    for name in unknown:
        parsed.rejects.append(Reject(name, 0, "", "not a bundle file name; the file was not read"))
    for name in present:
        header, records, has_nul = read_csv(path / name)
        # Cells are searched for NUL bytes and unnamed columns only when the file has either.
        suspect = has_nul or "" in header
        if _reject_header(parsed, name, header):
            lines = [line for line, _ in records]
            parsed.total_rows[name] = len(lines)
            fault = parsed.rejects[-1].column
            why = "its header is wrong (line 1)"
            parsed.rejects.extend(
                Reject(name, line, fault, f"file rejected: {why}") for line in lines
            )
            continue
        columns = BUNDLE_FILES[name][0]
        extra = [c for c in header if c not in columns and c]
        if extra:
            parsed.extra_columns[name] = extra
        parse_row = PARSERS[name]
        rows: list[_Row] = []
        count = 0
        for line, record in records:
            count += 1
            values = dict(zip(header, record, strict=False))
            try:
                if len(record) != len(header):
                    # The cells no longer line up with their columns: checking them one by one
                    # would only report the misalignment under misleading names.
                    raise RowError([_width_problem(header, record)])
                cells = Cells({column: cell.strip() for column, cell in values.items()})
                if suspect:
                    _check_raw_cells(cells, values)
                item, refs = parse_row(cells, extra, id_hash_salt)
            except RowError as exc:
                first: Reject | None = None
                for column, reason, value in exc.problems:
                    reject = Reject(name, line, column, reason, value)
                    parsed.rejects.append(reject)
                    first = first or reject
                ident = values.get("id", "").strip()
                if name in NODE_FILES and ident and first is not None:
                    parsed.rejected_ids.setdefault(normalize_id(ident), first)
                continue
            rows.append(_Row(name, line, item, refs))
        parsed.rows[name] = rows
        parsed.total_rows[name] = count
    _check_lists(parsed, (rules if rules is not None else load_rules(None)).catalogue)
    return parsed


def _reject_header(parsed: ParsedBundle, name: str, header: list[str]) -> bool:
    """Reject the header when a column is missing or twice; say whether it was."""
    required = BUNDLE_FILES[name][1]
    twice = sorted({c for i, c in enumerate(header) if c and c in header[:i]})
    missing = sorted(required - set(header))
    for column in twice:
        parsed.rejects.append(
            Reject(
                name,
                1,
                column,
                f"column {column!r} appears twice in the header, so a row would have two values "
                "for it; keep one of the two columns",
            )
        )
    for column in missing:
        parsed.rejects.append(
            Reject(name, 1, column, f"required column {column!r} is missing from the header")
        )
    return bool(twice or missing)


def _width_problem(header: list[str], record: list[str]) -> tuple[str, str, str]:
    have, want = len(record), len(header)
    if have < want:
        return (
            header[have],
            f"row has {have} cells but the header has {want} columns; from {header[have]!r} on "
            "the cells are missing (write an empty cell as a comma, not nothing)",
            "",
        )
    return (
        "",
        f"row has {have} cells but the header has {want} columns; quote values that contain a "
        "comma, or name the extra column in the header",
        ",".join(record[want:])[:200],
    )


def _check_raw_cells(cells: Cells, raw: dict[str, str]) -> None:
    for column, value in raw.items():
        if "\x00" in value:
            shown = value.replace("\x00", "\\x00")[:200]
            cells.fail(
                column,
                "contains a NUL byte: the file is binary or not UTF-8 text (UTF-16?); export it "
                "again as UTF-8 CSV",
                shown,
            )
        elif not column and value.strip():
            cells.fail(column, "a value under a header cell that is empty; name the column", value)


def _check_lists(parsed: ParsedBundle, catalogue: Catalogue) -> None:
    """Reject the records whose list the catalogue in force does not define (spec/BUNDLE.md)."""
    rows = parsed.rows.get("sanctions.csv")
    if not rows:
        return
    kept: list[_Row] = []
    for row in rows:
        assert isinstance(row.item, Sanction)
        name = row.item.list
        if catalogue.has_list(name):
            kept.append(row)
            continue
        reason = (
            f"unknown list {name}: the rules in force ({catalogue.source}) have no such list "
            f"(they have {', '.join(catalogue.list_names)}). To load its records, add {name} "
            "under lists: in your rules file, with its meaning, default_severity, weight and "
            "ended_factor, and load with --rules FILE (or CREDITNET_RULES)"
        )
        reject = Reject("sanctions.csv", row.line, "list", reason, name)
        parsed.rejects.append(reject)
        parsed.rejected_ids.setdefault(row.item.id, reject)
    parsed.rows["sanctions.csv"] = kept


# -- cross-row checks ------------------------------------------------------------------------


def _key(item: Node | Link) -> str:
    if isinstance(item, _NODE_TYPES):
        return item.id
    return item.key


def _drop_conflicting_duplicates(parsed: ParsedBundle) -> None:
    """Identical repeats are harmless (upserts); the same key with other values rejects them all."""
    for name, rows in parsed.rows.items():
        first: dict[str, _Row] = {}
        conflicting: dict[str, list[_Row]] = {}
        kept: list[_Row] = []
        for row in rows:
            key = _key(row.item)
            seen = first.get(key)
            if seen is None:
                first[key] = row
                kept.append(row)
            elif seen.item != row.item:
                conflicting.setdefault(key, [seen]).append(row)
        if not conflicting:
            continue
        column = "id" if name in NODE_FILES else "natural key"
        for key, group in conflicting.items():
            lines = ", ".join(str(r.line) for r in group)
            for row in group:
                parsed.rejects.append(
                    Reject(
                        name,
                        row.line,
                        column,
                        f"duplicate with conflicting values (lines {lines})",
                        key,
                    )
                )
        parsed.rows[name] = [r for r in kept if _key(r.item) not in conflicting]


def _check_ids_across_files(parsed: ParsedBundle) -> dict[str, tuple[NodeLabel, _Row]]:
    """Ids are global: one id may not name, say, a company and an address."""
    owners: dict[str, tuple[NodeLabel, _Row]] = {}
    clashes: set[int] = set()
    for name in NODE_FILES:
        for row in parsed.rows.get(name, []):
            assert isinstance(row.item, _NODE_TYPES)
            known = owners.get(row.item.id)
            if known is not None and known[0] is not row.item.label:
                other = known[1]
                parsed.rejects.append(
                    Reject(
                        name,
                        row.line,
                        "id",
                        f"id also names a {known[0].value} ({other.file} line {other.line})",
                        row.item.id,
                    )
                )
                clashes.add(id(row))
                continue
            owners[row.item.id] = (row.item.label, row)
    for name in NODE_FILES:
        if name in parsed.rows:
            parsed.rows[name] = [r for r in parsed.rows[name] if id(r) not in clashes]
    return owners


def _check_references(
    parsed: ParsedBundle,
    labels_in_store: Callable[[Iterable[str]], dict[str, NodeLabel]],
    rejected_ids: dict[str, Reject],
) -> None:
    bundle_labels = {i: label for i, (label, _) in _check_ids_across_files(parsed).items()}
    wanted = {ident for rows in parsed.rows.values() for r in rows for _, ident, _ in r.refs}
    node_ids = set(bundle_labels)
    stored = labels_in_store(wanted | node_ids)
    # A bundle row may not change the kind of an id the graph already has.
    for name in NODE_FILES:
        kept = []
        for row in parsed.rows.get(name, []):
            assert isinstance(row.item, _NODE_TYPES)
            known = stored.get(row.item.id)
            if known is not None and known is not row.item.label:
                reject = Reject(
                    name, row.line, "id", f"id is already a {known.value} in the graph", row.item.id
                )
                parsed.rejects.append(reject)
                rejected_ids[row.item.id] = reject
                bundle_labels.pop(row.item.id, None)
                continue
            kept.append(row)
        if name in parsed.rows:
            parsed.rows[name] = kept
    # Reject dangling references; repeat, because a rejected sanction subject can cascade.
    changed = True
    while changed:
        changed = False
        for name, rows in parsed.rows.items():
            kept = []
            for row in rows:
                problem = _reference_problem(row, bundle_labels, stored, rejected_ids)
                if problem is None:
                    kept.append(row)
                    continue
                parsed.rejects.append(Reject(name, row.line, problem[0], problem[1], problem[2]))
                if isinstance(row.item, _NODE_TYPES):
                    rejected_ids[row.item.id] = parsed.rejects[-1]
                    if bundle_labels.pop(row.item.id, None) is not None:
                        changed = True
            parsed.rows[name] = kept


def _check_movements(parsed: ParsedBundle, store: GraphStore) -> None:
    """Held before shipped, no transformation cycle, one content per event
    (:mod:`loaders.bundle_supply`)."""
    rows = [row for name in SUPPLY_FILES for row in parsed.rows.get(name, [])]
    if not rows:
        return
    links: list[SupplyLink] = []
    for row in rows:
        assert isinstance(row.item, (Produced, Shipped, TransformedInto))
        links.append(row.item)
    problems = movement_problems(store, links)
    if not problems:
        return
    for index, (column, reason, value) in problems.items():
        row = rows[index]
        parsed.rejects.append(Reject(row.file, row.line, column, reason, value))
    dropped = {id(rows[index]) for index in problems}
    for name in SUPPLY_FILES:
        if name in parsed.rows:
            parsed.rows[name] = [r for r in parsed.rows[name] if id(r) not in dropped]


def _check_breach_ids(
    parsed: ParsedBundle, labels_in_store: Callable[[Iterable[str]], dict[str, NodeLabel]]
) -> None:
    """A broken commitment writes ``CB-<id>``: that id must be free, or already its record."""
    rows = parsed.rows.get("commitments.csv")
    if not rows:
        return
    broken = {
        breach_id(row.item.id): row
        for row in rows
        if isinstance(row.item, Commitment) and row.item.outcome is CommitmentOutcome.BROKEN
    }
    if not broken:
        return
    in_bundle = {
        row.item.id for rows in parsed.rows.values() for row in rows if hasattr(row.item, "id")
    }
    stored = labels_in_store(broken)
    clashing: set[int] = set()
    kept: set[str] = set()
    for ident, row in broken.items():
        label = stored.get(ident)
        if ident in in_bundle or (label is not None and label is not NodeLabel.SANCTION):
            parsed.rejects.append(
                Reject(
                    "commitments.csv",
                    row.line,
                    "id",
                    f"its breach record id {ident} is already used by another row or node; "
                    "rename the commitment or that row",
                    row.item.id if isinstance(row.item, Commitment) else "",
                )
            )
            clashing.add(id(row))
        elif label is NodeLabel.SANCTION:
            kept.add(ident)
    parsed.rows["commitments.csv"] = [r for r in rows if id(r) not in clashing]
    parsed.kept_records = frozenset(kept)


def _reference_problem(
    row: _Row,
    bundle_labels: dict[str, NodeLabel],
    stored: dict[str, NodeLabel],
    rejected_ids: dict[str, Reject],
) -> tuple[str, str, str] | None:
    for column, ident, allowed in row.refs:
        label = bundle_labels.get(ident) or stored.get(ident)
        if label is None:
            earlier = rejected_ids.get(ident)
            if earlier is not None:
                return (
                    column,
                    f"names {ident}, rejected at {earlier.file} line {earlier.line}",
                    ident,
                )
            return column, "names an id that is neither in the bundle nor in the graph", ident
        if label not in allowed:
            wanted = " or ".join(a.value for a in allowed)
            return column, f"names a {label.value}; expected a {wanted}", ident
    return None


# -- load ------------------------------------------------------------------------------------


def load_bundle(
    store: GraphStore,
    path: Path,
    *,
    allow_rejects: bool = False,
    batch_size: int = 5000,
    id_hash_salt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    writers: int = 1,
    rules: RuleSet | None = None,
) -> LoadResult:
    """Load the bundle at ``path`` into ``store``.

    Sanction records must be on a list of the catalogue of ``rules``, the rules in force (None:
    the shipped default); an agency's own lists load when its rules file defines them.

    Returns what was done; ``applied`` is false when rows were rejected and ``allow_rejects`` is
    not set (then nothing was written). ``progress(done, total)`` is called after each batch
    with the rows written so far and the rows to write. ``writers`` batches may be written at
    once (a server store gains from 2 or more; the embedded store applies them one at a time).

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "companies.csv").write_text("id,name\\nc1,Acme\\n")
    >>> load_bundle(MemoryStore(), folder).written
    {'companies.csv': 1}
    """
    parsed = read_bundle(path, id_hash_salt=id_hash_salt, rules=rules)
    return _check_and_write(
        store,
        parsed,
        path,
        allow_rejects=allow_rejects,
        batch_size=batch_size,
        progress=progress,
        writers=writers,
    )


def load_supply_rows(
    store: GraphStore,
    rows: SupplyRows,
    *,
    source: Path,
    allow_rejects: bool = False,
    batch_size: int = 5000,
    lines: Mapping[str, Sequence[int]] | None = None,
) -> LoadResult:
    """Load supply rows that come from elsewhere (an EPCIS document mapped to bundle rows) with
    exactly the checks and writes of a bundle's supply files.

    ``rows`` maps each of :data:`SUPPLY_TABLES` (any may be missing) to its rows, each a dict of
    the bundle file's columns (text, as a CSV cell would hold it; other keys are kept as extra
    properties). Rejects name the file ``<table>.csv`` and the line ``lines[table][i]`` of row
    ``i`` (default ``i + 2``, as if the rows were a CSV file under a header); ``source`` is what
    the result reports as the bundle.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Farm")]))
    >>> rows = {"products": [{"id": "g1", "name": "Milk"}],
    ...         "batches": [{"id": "g1:7", "product_id": "g1", "lot": "7"}],
    ...         "produced": [{"event_id": "e1", "company_id": "c1", "batch_id": "g1:7",
    ...                       "date": "2024-03-01"}]}
    >>> load_supply_rows(store, rows, source=Path("doc.json")).written
    {'products.csv': 1, 'batches.csv': 1, 'produced.csv': 1}
    """
    unknown = sorted(set(rows) - set(SUPPLY_TABLES))
    if unknown:
        raise InvalidInput(
            f"unknown supply tables {unknown}; the tables are {', '.join(SUPPLY_TABLES)}"
        )
    parsed = ParsedBundle(rows={}, rejects=[], total_rows={}, extra_columns={})
    for table in SUPPLY_TABLES:
        name = f"{table}.csv"
        table_rows = rows.get(table)
        if table_rows is None:
            continue
        columns = BUNDLE_FILES[name][0]
        numbers = list(lines[table]) if lines and table in lines else None
        kept: list[_Row] = []
        extra_seen: dict[str, None] = {}
        for index, values in enumerate(table_rows):
            line = numbers[index] if numbers is not None else index + 2
            extra = [c for c in values if c not in columns]
            extra_seen.update(dict.fromkeys(extra))
            cells = Cells({column: str(cell).strip() for column, cell in values.items()})
            try:
                item, refs = PARSERS[name](cells, extra, None)
            except RowError as exc:
                first: Reject | None = None
                for column, reason, value in exc.problems:
                    reject = Reject(name, line, column, reason, value)
                    parsed.rejects.append(reject)
                    first = first or reject
                ident = cells.get("id", "")
                if name in NODE_FILES and ident and first is not None:
                    parsed.rejected_ids.setdefault(normalize_id(ident), first)
                continue
            kept.append(_Row(name, line, item, refs))
        parsed.rows[name] = kept
        parsed.total_rows[name] = len(table_rows)
        if extra_seen:
            parsed.extra_columns[name] = list(extra_seen)
    return _check_and_write(
        store, parsed, source, allow_rejects=allow_rejects, batch_size=batch_size
    )


def _check_and_write(
    store: GraphStore,
    parsed: ParsedBundle,
    path: Path,
    *,
    allow_rejects: bool,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
    writers: int = 1,
) -> LoadResult:
    """The checks that need the store, then the writes (nothing with rejects, unless allowed)."""
    rejected_ids = parsed.rejected_ids
    _drop_conflicting_duplicates(parsed)
    _check_references(parsed, store.labels_of, rejected_ids)
    _check_breach_ids(parsed, store.labels_of)
    _check_movements(parsed, store)
    result = LoadResult(
        bundle=path,
        rows=dict(parsed.total_rows),
        rejects=sorted(parsed.rejects, key=lambda r: (r.file, r.line, r.column)),
        extra_columns=parsed.extra_columns,
    )
    if result.rejects and not allow_rejects:
        return result
    total = sum(len(rows) for rows in parsed.rows.values()) + sum(
        1
        for row in parsed.rows.get("companies.csv", [])
        for ref in row.refs
        if ref[0] == "address_id"
    )
    done = 0
    lock = threading.Lock()
    failed = threading.Event()

    def write_lane(lane: list[tuple[WriteBatch, dict[str, int]]]) -> None:
        nonlocal done
        for batch, counts in lane:
            if failed.is_set():
                return  # stop at the first failure; what ran is kept
            try:
                store.write(batch)
            except BaseException:
                failed.set()
                raise
            with lock:
                for name, count in counts.items():
                    result.written[name] = result.written.get(name, 0) + count
                done += len(batch)
                if progress is not None:
                    progress(done, total)

    phases = _phases(parsed, batch_size, lanes=max(1, writers))
    # The batches hold every item now: drop the row wrappers and their references (about half
    # of a load's peak memory on the embedded store, docs/operations.md).
    parsed.rows.clear()
    for phase in phases:
        # The lanes of a group touch disjoint nodes (_partition), so they run at once; a group
        # ends before the next one starts.
        if not phase:
            continue
        with ThreadPoolExecutor(max_workers=len(phase)) as pool:
            for future in as_completed([pool.submit(write_lane, lane) for lane in phase]):
                future.result()
    result.applied = True
    return result


_PHASES: Final = (
    ("addresses.csv", "companies.csv", "persons.csv"),
    ("products.csv",),
    ("batches.csv",),
    ("sanctions.csv", "commitments.csv"),
    ("officers.csv", "ownership.csv", *SUPPLY_FILES),
)
"""What must be written before what: entities, products (a brand owner is a company), their
batches, then the records that name them (a record may name a batch), then links."""


_Lane = list[tuple[WriteBatch, dict[str, int]]]
_Item = tuple[str, Node | Link]


def _anchor(item: Node) -> str:
    """The stored node a node row locks: a record's subject, else the node itself (a new node's
    own id is locked by no one else)."""
    return str(getattr(item, "subject_id", None) or getattr(item, "promisor_id", None) or item.id)


def _ends(item: Node | Link) -> tuple[str, str]:
    """The stored nodes a row's transaction locks: both ends of a link (the registered entity
    and its address), a node row's anchor twice."""
    if isinstance(item, Registration):
        return item.entity_id, item.address_id
    if isinstance(item, _NODE_TYPES):
        anchor = _anchor(item)
        return anchor, anchor
    return item.source, item.target


def _partition(items: list[_Item], lanes: int) -> list[list[list[_Item]]]:
    """Split a phase's rows into rounds of up to ``lanes`` lanes that touch disjoint nodes.

    Neo4j locks both ends of a relationship it creates (and a dense node's relationship
    groups), so two writers deadlock as soon as they share a node: a company that is one
    link's target and another's owner, a nominee officer of companies in both. Each node goes
    to one of ``2 * lanes`` buckets by its id; a row belongs to the cell of its ends' two
    buckets. Round one writes the cells within one bucket, two buckets per lane; each later
    round pairs every bucket with another (a round-robin schedule of the complete graph on
    the buckets), one pair per lane. The lanes of a round then share no node, and a round ends
    before the next starts. Each lane runs in (type, source) order, the store's locality.
    """
    if lanes == 1:
        return [[items]]
    buckets = 2 * lanes
    cells: dict[tuple[int, int], list[_Item]] = {}
    for pair in items:
        first, second = (zlib.crc32(end.encode()) % buckets for end in _ends(pair[1]))
        cells.setdefault((min(first, second), max(first, second)), []).append(pair)
    rounds: list[list[list[_Item]]] = [
        [
            cells.get((2 * k, 2 * k), []) + cells.get((2 * k + 1, 2 * k + 1), [])
            for k in range(lanes)
        ]
    ]
    last = buckets - 1
    for shift in range(last):
        pairs = [(shift, last)] + [
            ((shift + step) % last, (shift - step) % last) for step in range(1, lanes)
        ]
        rounds.append([cells.get((min(a, b), max(a, b)), []) for a, b in pairs])
    scheduled: list[list[list[_Item]]] = []
    for round_ in rounds:
        busy = [lane for lane in round_ if lane]
        for lane in busy:
            lane.sort(key=lambda pair: (type(pair[1]).__name__, _ends(pair[1])))
        if busy:
            scheduled.append(busy)
    return scheduled


def _phases(parsed: ParsedBundle, size: int, lanes: int = 1) -> list[list[_Lane]]:
    """The batches of each phase, as groups of up to ``lanes`` lanes: the lanes of a group may
    be written at once, the groups one after another (a phase's rounds, :func:`_partition`)."""
    phases: list[list[_Lane]] = []
    for names in _PHASES:
        items: list[tuple[str, Node | Link]] = [
            (name, row.item) for name in names for row in parsed.rows.get(name, [])
        ]
        if names == _PHASES[-1]:
            # Registered addresses come from companies.csv and need both ends written first.
            items += [
                ("companies.csv", Registration(entity_id=_key(row.item), address_id=ident))
                for row in parsed.rows.get("companies.csv", [])
                for column, ident, _ in row.refs
                if column == "address_id"
            ]
        for round_ in _partition(items, lanes):
            phases.append([_batched(parsed, lane_items, size) for lane_items in round_])
    return phases


def _batched(parsed: ParsedBundle, items: list[tuple[str, Node | Link]], size: int) -> _Lane:
    """``items`` in batches of ``size`` rows, with the rows written per file."""
    batches: list[tuple[WriteBatch, dict[str, int]]] = []
    for offset in range(0, len(items), size):
        batch, counts = WriteBatch(), dict[str, int]()
        for name, item in items[offset : offset + size]:
            if isinstance(item, _NODE_TYPES):
                batch.nodes.append(item)
                counts[name] = counts.get(name, 0) + 1
                if (
                    isinstance(item, Commitment)
                    and item.outcome is CommitmentOutcome.BROKEN
                    and breach_id(item.id) not in parsed.kept_records
                ):
                    # Its COMMITMENT_BREACH record comes in the same batch (spec/BUNDLE.md).
                    batch.nodes.append(breach_record(item))
            else:
                batch.links.append(item)
                if not isinstance(item, Registration):
                    counts[name] = counts.get(name, 0) + 1
        batches.append((batch, counts))
    return batches


def _batches(parsed: ParsedBundle, size: int) -> Iterator[tuple[WriteBatch, dict[str, int]]]:
    """Every batch of the load, in an order in which each is valid when written."""
    for phase in _phases(parsed, size):
        for lane in phase:
            yield from lane


def write_rejects(rejects: list[Reject], target: Path) -> None:
    """Write the reject report as CSV: file, line, column, reason, value.

    Text cells that a spreadsheet would run as a formula get a leading ``'``: the value column
    repeats what the bundle said, and a bundle may come from anyone.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "reason", "value"])
        for reject in rejects:
            writer.writerow(
                [
                    spreadsheet_safe(reject.file),
                    reject.line,
                    spreadsheet_safe(reject.column),
                    spreadsheet_safe(reject.reason),
                    spreadsheet_safe(reject.value),
                ]
            )
