"""The CSV bundle loader (docs/bundle.md): read with the csv module, check every row, then upsert.

A load has two phases. First every file is read and every row checked, references included
(against the bundle and the store); rejected rows go to a report with file, line, column and
reason, and rows that name a rejected row are rejected with it. Only then is anything written, in
batches that the store applies atomically and idempotently, so a load that dies half way can simply
be run again. With rejects and without ``allow_rejects`` nothing at all is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from graph.commitments import breach_id, breach_record
from graph.csv_cells import spreadsheet_safe
from graph.errors import InvalidInput
from graph.model import (
    Address,
    Case,
    Commitment,
    CommitmentOutcome,
    Company,
    Link,
    Node,
    NodeLabel,
    Person,
    Registration,
    Sanction,
)
from graph.rules.schema import Catalogue, RuleSet, load_rules
from graph.store import GraphStore, WriteBatch
from loaders.bundle_rows import (
    NODE_FILES,
    PARSERS,
    Cells,
    RowError,
)
from loaders.uscc import normalize_id

__all__ = ["BUNDLE_FILES", "LoadResult", "Reject", "load_bundle", "read_bundle", "write_rejects"]

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
}


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


@dataclass(slots=True)
class _Row:
    file: str
    line: int
    item: Node | Link
    refs: tuple[tuple[str, str, tuple[NodeLabel, ...]], ...]
    """(column, id, allowed labels) this row points at."""


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
        header, records, has_nul = _read_csv(path / name)
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


def _read_csv(file: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], bool]:
    """Read one bundle file.

    Returns
    -------
    tuple
        The header (cells stripped); the non-blank records, each with the physical line it
        starts on (a quoted value may span lines, so this is the reader's line count, not a
        record count), read as they are consumed so that a large file is never held as a list
        of lists; and whether the file holds a NUL byte anywhere.
    """
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 ({exc}); convert it, e.g. iconv -f GB18030") from exc
    reader = csv.reader(io.StringIO(text, newline=""))

    def records() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        try:
            for record in reader:
                if record:
                    yield start, record
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InvalidInput(
                f"{file} line {reader.line_num}: not a well-formed CSV file ({exc}); check the "
                "quotes around that line"
            ) from exc

    try:
        header = [c.strip() for c in next(reader, [])]
    except csv.Error as exc:
        raise InvalidInput(f"{file} line 1: not a well-formed CSV header ({exc})") from exc
    return header, records(), "\x00" in text


# -- cross-row checks ------------------------------------------------------------------------


def _key(item: Node | Link) -> str:
    if isinstance(item, (Company, Person, Address, Sanction, Case, Commitment)):
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
            assert isinstance(row.item, (Company, Person, Address, Sanction, Commitment))
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
            assert isinstance(row.item, (Company, Person, Address, Sanction, Commitment))
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
                if isinstance(row.item, (Company, Person, Address, Sanction, Commitment)):
                    rejected_ids[row.item.id] = parsed.rejects[-1]
                    if bundle_labels.pop(row.item.id, None) is not None:
                        changed = True
            parsed.rows[name] = kept


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
    rejected_ids = parsed.rejected_ids
    _drop_conflicting_duplicates(parsed)
    _check_references(parsed, store.labels_of, rejected_ids)
    _check_breach_ids(parsed, store.labels_of)
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
    for phase in _phases(parsed, batch_size):
        # Batches of one phase are independent (disjoint ids, or links between nodes already
        # written), so several may be in flight; a phase ends before the next one starts.
        with ThreadPoolExecutor(max_workers=max(1, writers)) as pool:
            pending = {pool.submit(store.write, batch): (batch, counts) for batch, counts in phase}
            for future in as_completed(pending):
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()  # stop at the first failure; what ran is kept
                    future.result()
                batch, counts = pending[future]
                for name, count in counts.items():
                    result.written[name] = result.written.get(name, 0) + count
                done += len(batch)
                if progress is not None:
                    progress(done, total)
    result.applied = True
    return result


_PHASES: Final = (
    ("addresses.csv", "companies.csv", "persons.csv"),
    ("sanctions.csv", "commitments.csv"),
    ("officers.csv", "ownership.csv"),
)
"""What must be written before what: entities, then the records that name them, then links."""


def _phases(parsed: ParsedBundle, size: int) -> list[list[tuple[WriteBatch, dict[str, int]]]]:
    phases: list[list[tuple[WriteBatch, dict[str, int]]]] = []
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
        phase = []
        for offset in range(0, len(items), size):
            batch, counts = WriteBatch(), dict[str, int]()
            for name, item in items[offset : offset + size]:
                if isinstance(item, (Company, Person, Address, Sanction, Case, Commitment)):
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
            phase.append((batch, counts))
        phases.append(phase)
    return phases


def _batches(parsed: ParsedBundle, size: int) -> Iterator[tuple[WriteBatch, dict[str, int]]]:
    """Every batch of the load, in an order in which each is valid when written."""
    for phase in _phases(parsed, size):
        yield from phase


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
