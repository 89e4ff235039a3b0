"""The CSV bundle loader (spec/BUNDLE.md): read with pandas, validate every row, then upsert.

A load has two phases. First every file is read and every row checked, references included
(against the bundle and the store); rejected rows go to a report with file, line, column and
reason, and rows that name a rejected row are rejected with it. Only then is anything written, in
batches that the store applies atomically and idempotently, so a load that dies half way can simply
be run again. With rejects and without ``allow_rejects`` nothing at all is written.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import pandas as pd

from graph.errors import InvalidInput
from graph.model import (
    Address,
    Case,
    Company,
    CompanyStatus,
    Link,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
    SanctionStatus,
    Scalar,
    Severity,
)
from graph.store import GraphStore, WriteBatch
from loaders.uscc import is_valid_uscc, looks_like_uscc, normalize_id

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
}

# Registries write roles in Chinese or in free English; map the common spellings.
_ROLE_ALIASES: Final[dict[str, OfficerRole]] = {
    "法定代表人": OfficerRole.LEGAL_REPRESENTATIVE,
    "法人代表": OfficerRole.LEGAL_REPRESENTATIVE,
    "董事长": OfficerRole.CHAIRMAN,
    "执行董事": OfficerRole.DIRECTOR,
    "董事": OfficerRole.DIRECTOR,
    "监事": OfficerRole.SUPERVISOR,
    "监事会主席": OfficerRole.SUPERVISOR,
    "总经理": OfficerRole.GENERAL_MANAGER,
    "经理": OfficerRole.MANAGER,
    "实际控制人": OfficerRole.ACTUAL_CONTROLLER,
    "其他": OfficerRole.OTHER,
}
_TRUE: Final = frozenset({"true"})
_FALSE: Final = frozenset({"false"})
_ENTITY_LABELS: Final = (NodeLabel.COMPANY, NodeLabel.PERSON)


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


class _RowError(Exception):
    def __init__(self, column: str, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.column, self.reason, self.value = column, reason, value


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


def read_bundle(path: Path, *, id_hash_salt: str | None = None) -> ParsedBundle:
    """Read and check every file of the bundle at ``path`` (no store needed, no references)."""
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
        frame = _read_csv(path / name)
        columns, required = BUNDLE_FILES[name]
        parsed.total_rows[name] = len(frame)
        missing = sorted(required - set(frame.columns))
        if missing:
            for column in missing:
                parsed.rejects.append(
                    Reject(
                        name, 1, column, f"required column {column!r} is missing from the header"
                    )
                )
            parsed.rejects.extend(
                Reject(name, line, missing[0], "file rejected: required column missing")
                for line in range(2, len(frame) + 2)
            )
            continue
        extra = [c for c in frame.columns if c not in columns]
        if extra:
            parsed.extra_columns[name] = extra
        parse_row = _PARSERS[name]
        rows: list[_Row] = []
        names = [str(c) for c in frame.columns]
        cells = zip(*(frame[c].tolist() for c in frame.columns), strict=True)
        for line, record in enumerate(cells, start=2):
            values = dict(zip(names, map(_clean, record), strict=True))
            try:
                item, refs = parse_row(values, extra, id_hash_salt)
            except _RowError as exc:
                reject = Reject(name, line, exc.column, exc.reason, exc.value)
                parsed.rejects.append(reject)
                if name in _NODE_FILES and values.get("id"):
                    parsed.rejected_ids.setdefault(normalize_id(values["id"]), reject)
                continue
            rows.append(_Row(name, line, item, refs))
        parsed.rows[name] = rows
    return parsed


def _read_csv(file: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            file,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 ({exc}); convert it, e.g. iconv -f GB18030") from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise InvalidInput(f"{file}: not a well-formed CSV file ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _clean(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


# -- cell parsers ----------------------------------------------------------------------------


def _id(values: dict[str, str], column: str, *, required: bool = True) -> str:
    raw = values.get(column, "")
    if not raw:
        if required:
            raise _RowError(column, "required cell is empty")
        return ""
    ident, problem = _checked_id(raw)
    if problem is not None:
        raise _RowError(column, problem, raw)
    return ident


_CONTROL = re.compile(r"[\x00-\x1f]")


@functools.lru_cache(maxsize=1 << 20)
def _checked_id(raw: str) -> tuple[str, str | None]:
    # Ids repeat across officer and ownership rows: check each distinct one once.
    if _CONTROL.search(raw):
        return raw, "id contains control characters"
    ident = normalize_id(raw)
    if looks_like_uscc(ident) and not is_valid_uscc(ident):
        return ident, "unified social credit code has a wrong check character (GB 32100)"
    return ident, None


def _text(values: dict[str, str], column: str, *, required: bool = False) -> str | None:
    value = values.get(column, "")
    if not value:
        if required:
            raise _RowError(column, "required cell is empty")
        return None
    return value


def _date(values: dict[str, str], column: str) -> date | None:
    value = values.get(column, "")
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _RowError(column, "malformed date; write YYYY-MM-DD", value) from None


def _number(values: dict[str, str], column: str) -> float | None:
    value = values.get(column, "")
    if not value:
        return None
    try:
        number = float(value.replace(",", "").rstrip("%").strip())
    except ValueError:
        raise _RowError(column, "not a number", value) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _RowError(column, "not a finite number", value)
    return number


def _enum(values: dict[str, str], column: str, enum: type[Any], default: Any = None) -> Any:
    value = values.get(column, "")
    if not value:
        return default
    key = value.strip().replace("-", "_").replace(" ", "_")
    for candidate in (key, key.lower(), key.upper()):
        try:
            return enum(candidate)
        except ValueError:
            continue
    allowed = ", ".join(member.value for member in enum)
    raise _RowError(column, f"unknown {column} (allowed: {allowed})", value)


def _dates_ordered(start: date | None, end: date | None, end_column: str) -> None:
    if start is not None and end is not None and end < start:
        raise _RowError(end_column, f"end {end} is before start {start}", end.isoformat())


def _extras(values: dict[str, str], extra: list[str]) -> dict[str, Scalar]:
    return {column: values[column] for column in extra if values.get(column)}


# -- row parsers -----------------------------------------------------------------------------

_Refs = tuple[tuple[str, str, tuple[NodeLabel, ...]], ...]
_Parser = Callable[[dict[str, str], list[str], str | None], tuple[Node | Link, _Refs]]


def _company(values: dict[str, str], extra: list[str], _salt: str | None) -> tuple[Node, _Refs]:
    ident = _id(values, "id")
    name = _text(values, "name", required=True)
    assert name is not None
    founded, dissolved = _date(values, "founded"), _date(values, "dissolved")
    _dates_ordered(founded, dissolved, "dissolved")
    capital = _number(values, "registered_capital")
    if capital is not None and capital < 0:
        raise _RowError("registered_capital", "must not be negative", values["registered_capital"])
    address_id = _id(values, "address_id", required=False)
    company = Company(
        id=ident,
        name=name,
        jurisdiction=_text(values, "jurisdiction"),
        status=_enum(values, "status", CompanyStatus),
        founded=founded,
        dissolved=dissolved,
        registered_capital=capital,
        industry=_text(values, "industry"),
        extra=_extras(values, extra),
    )
    refs: _Refs = (("address_id", address_id, (NodeLabel.ADDRESS,)),) if address_id else ()
    return company, refs


def _person(values: dict[str, str], extra: list[str], salt: str | None) -> tuple[Node, _Refs]:
    ident = _id(values, "id")
    name = _text(values, "name", required=True)
    assert name is not None
    birth_year: int | None = None
    if values.get("birth_year"):
        try:
            birth_year = int(values["birth_year"])
        except ValueError:
            raise _RowError("birth_year", "not a whole year", values["birth_year"]) from None
        if not 1850 <= birth_year <= date.today().year:
            raise _RowError("birth_year", "not a plausible birth year", values["birth_year"])
    national_id_hash = None
    if values.get("national_id"):
        if not salt:
            raise _RowError(
                "national_id",
                "national ID numbers are only loaded hashed: set CREDITNET_ID_HASH_SALT",
            )
        normalized = re.sub(r"\s", "", values["national_id"]).upper()
        national_id_hash = hashlib.sha256(f"{salt}:{normalized}".encode()).hexdigest()
    person = Person(
        id=ident,
        name=name,
        nationality=_text(values, "nationality"),
        birth_year=birth_year,
        national_id_hash=national_id_hash,
        extra=_extras(values, extra),
    )
    return person, ()


def _address(values: dict[str, str], extra: list[str], _salt: str | None) -> tuple[Node, _Refs]:
    text = _text(values, "text", required=True)
    assert text is not None
    return Address(
        id=_id(values, "id"),
        text=text,
        region=_text(values, "region"),
        extra=_extras(values, extra),
    ), ()


def _sanction(values: dict[str, str], extra: list[str], _salt: str | None) -> tuple[Node, _Refs]:
    ident = _id(values, "id")
    subject_id = _id(values, "subject_id")
    kind = _enum(values, "list", SanctionList)
    if kind is None:
        raise _RowError("list", "required cell is empty")
    start, end = _date(values, "start"), _date(values, "end")
    _dates_ordered(start, end, "end")
    fine = _number(values, "fine")
    if fine is not None and fine < 0:
        raise _RowError("fine", "must not be negative", values["fine"])
    status = _enum(values, "status", SanctionStatus, SanctionStatus.ACTIVE)
    status_date = _date(values, "status_date")
    if status is not SanctionStatus.ACTIVE and status_date is None:
        raise _RowError("status_date", f"required when status is {status.value}")
    disputed_raw = values.get("disputed", "").lower()
    if disputed_raw and disputed_raw not in _TRUE | _FALSE:
        raise _RowError("disputed", "must be true or false", values["disputed"])
    sanction = Sanction(
        id=ident,
        subject_id=subject_id,
        list=kind,
        authority=_text(values, "authority"),
        severity=_enum(values, "severity", Severity),
        fine=fine,
        decided=_date(values, "decided"),
        start=start,
        end=end,
        legal_basis=_text(values, "legal_basis"),
        description=_text(values, "description"),
        status=status,
        status_date=status_date,
        disputed=disputed_raw in _TRUE,
        extra=_extras(values, extra),
    )
    return sanction, (("subject_id", subject_id, _ENTITY_LABELS),)


def _officer(values: dict[str, str], extra: list[str], _salt: str | None) -> tuple[Link, _Refs]:
    person_id, company_id = _id(values, "person_id"), _id(values, "company_id")
    raw_role = values.get("role", "")
    role = _ROLE_ALIASES.get(raw_role) or _enum(values, "role", OfficerRole)
    if role is None:
        raise _RowError("role", "required cell is empty")
    start, end = _date(values, "start"), _date(values, "end")
    _dates_ordered(start, end, "end")
    link = Officer(person_id, company_id, role, start, end, extra=_extras(values, extra))
    refs: _Refs = (
        ("person_id", person_id, (NodeLabel.PERSON,)),
        ("company_id", company_id, (NodeLabel.COMPANY,)),
    )
    return link, refs


def _ownership(values: dict[str, str], extra: list[str], _salt: str | None) -> tuple[Link, _Refs]:
    owner_id, company_id = _id(values, "owner_id"), _id(values, "company_id")
    share = _number(values, "share")
    if share is not None and not 0 < share <= 100:
        raise _RowError("share", "share must be a percentage in (0, 100]", values["share"])
    start, end = _date(values, "start"), _date(values, "end")
    _dates_ordered(start, end, "end")
    link = Ownership(owner_id, company_id, share, start, end, extra=_extras(values, extra))
    refs: _Refs = (
        ("owner_id", owner_id, _ENTITY_LABELS),
        ("company_id", company_id, (NodeLabel.COMPANY,)),
    )
    return link, refs


_PARSERS: Final[dict[str, _Parser]] = {
    "addresses.csv": _address,
    "companies.csv": _company,
    "persons.csv": _person,
    "sanctions.csv": _sanction,
    "officers.csv": _officer,
    "ownership.csv": _ownership,
}
_NODE_FILES: Final = ("addresses.csv", "companies.csv", "persons.csv", "sanctions.csv")
_LINK_FILES: Final = ("officers.csv", "ownership.csv")


# -- cross-row checks ------------------------------------------------------------------------


def _key(item: Node | Link) -> str:
    return item.id if isinstance(item, (Company, Person, Address, Sanction, Case)) else item.key


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
        column = "id" if name in _NODE_FILES else "natural key"
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
    for name in _NODE_FILES:
        for row in parsed.rows.get(name, []):
            assert isinstance(row.item, (Company, Person, Address, Sanction))
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
    for name in _NODE_FILES:
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
    for name in _NODE_FILES:
        kept = []
        for row in parsed.rows.get(name, []):
            assert isinstance(row.item, (Company, Person, Address, Sanction))
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
                if isinstance(row.item, (Company, Person, Address, Sanction)):
                    rejected_ids[row.item.id] = parsed.rejects[-1]
                    if bundle_labels.pop(row.item.id, None) is not None:
                        changed = True
            parsed.rows[name] = kept


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
) -> LoadResult:
    """Load the bundle at ``path`` into ``store``.

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
    parsed = read_bundle(path, id_hash_salt=id_hash_salt)
    rejected_ids = parsed.rejected_ids
    _drop_conflicting_duplicates(parsed)
    _check_references(parsed, store.labels_of, rejected_ids)
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
    ("sanctions.csv",),
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
                if isinstance(item, (Company, Person, Address, Sanction, Case)):
                    batch.nodes.append(item)
                    counts[name] = counts.get(name, 0) + 1
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
    """Write the reject report as CSV: file, line, column, reason, value."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "reason", "value"])
        for reject in rejects:
            writer.writerow([reject.file, reject.line, reject.column, reject.reason, reject.value])
