"""The checked, streamed write path shared by the third-party readers (spec/INTEROP.md).

A reader turns a file into :class:`Record` values, one per source record, each holding the
creditnet nodes and links it maps to (or why it was rejected, or which kind it skipped). The
pipeline reads the file three times, so that nothing but ids is held in memory and a file larger
than memory loads:

1. check: every record is parsed; rejects, skipped kinds and the label of every id are gathered,
   then the ids are checked against the store (an id may not change its kind) and every
   reference is resolved (a reference to nothing, in the file or the store, drops that one link
   and is reported as *dangling*; a reference to the wrong kind rejects the record);
2. nodes: companies, persons and addresses are written in batches;
3. records and links: sanction records and links, whose ends are now written.

Nothing is written when a record was rejected, unless ``allow_rejects``: the same all-or-nothing
default, reject report (:class:`loaders.bundle.Reject`) and idempotent re-runs as a bundle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from graph.model import (
    Address,
    Company,
    Link,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Produced,
    Registration,
    Sanction,
    Shipped,
    TransformedInto,
)
from graph.rules.schema import Catalogue
from graph.store import GraphStore, WriteBatch
from loaders.bundle import Reject
from loaders.bundle_rows import ROLE_ALIASES, id_and_problem
from loaders.uscc import is_valid_uscc, normalize_id

__all__ = [
    "ENTITY",
    "InteropResult",
    "Item",
    "ReadError",
    "Record",
    "Ref",
    "checked_id",
    "load_records",
    "map_role",
    "parse_date",
    "parse_share",
    "uscc_identifiers",
]

ENTITY: Final = (NodeLabel.COMPANY, NodeLabel.PERSON)

Ref = tuple[str, str, tuple[NodeLabel, ...]]
"""(field, id, allowed labels) that an item points at."""


@dataclass(slots=True)
class Item:
    """One node or link a record maps to, with the ids it needs to exist."""

    value: Node | Link
    refs: tuple[Ref, ...] = ()


@dataclass(slots=True)
class Record:
    """What one source record (a line, a statement, a CSV row) maps to."""

    file: str
    line: int
    items: list[Item] = field(default_factory=list)
    reject: Reject | None = None
    skipped: list[str] = field(default_factory=list)
    """Kinds this record holds that creditnet does not model (counted, never an error)."""


class ReadError(Exception):
    """A field of a record cannot be read: the record is rejected with this reason."""

    def __init__(self, column: str, reason: str, value: object = "") -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason
        self.value = _short(value)


@dataclass(slots=True)
class InteropResult:
    """What a third-party load did: records read, items written, rejects, skips, dangling."""

    path: Path
    format: str
    dataset: str
    records: int = 0
    written: dict[str, int] = field(default_factory=dict)
    """Items written by kind (Company, Person, Address, Sanction, OWNS, OFFICER_OF, ...)."""
    rejects: list[Reject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    dangling: list[Reject] = field(default_factory=list)
    """References to ids that are neither in the file nor in the store: the link was dropped."""
    applied: bool = False

    @property
    def rejected(self) -> int:
        return len({(r.file, r.line) for r in self.rejects})


Reader = Callable[[], Iterator[Record]]
"""Reads the file from its start each time it is called (the pipeline reads three times)."""


def load_records(
    store: GraphStore,
    read: Reader,
    result: InteropResult,
    *,
    allow_rejects: bool = False,
    batch_size: int = 5000,
    catalogue: Catalogue | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> InteropResult:
    """Check every record ``read`` yields, then write them (see the module docstring)."""
    labels: dict[str, NodeLabel] = {}
    refs: dict[str, set[NodeLabel]] = {}
    rejected: dict[tuple[str, int], Reject] = {}
    rejected_ids: dict[str, Reject] = {}
    referring: list[tuple[str, int, str, str, tuple[NodeLabel, ...]]] = []
    total = 0
    for record in read():
        result.records += 1
        for kind in record.skipped:
            result.skipped[kind] = result.skipped.get(kind, 0) + 1
        if record.reject is not None:
            rejected[(record.file, record.line)] = record.reject
            continue
        for item in record.items:
            value = item.value
            if (
                isinstance(value, Sanction)
                and catalogue is not None
                and not catalogue.has_list(value.list)
            ):
                rejected[(record.file, record.line)] = Reject(
                    record.file,
                    record.line,
                    "list",
                    f"unknown list {value.list}: the rules in force have no such list; map "
                    "the programme to one of theirs with --list-map FILE or add it to your "
                    "rules file",
                    value.list,
                )
                break
            if isinstance(value, (Company, Person, Address, Sanction)):
                known = labels.get(value.id)
                if known is not None and known is not value.label:
                    rejected[(record.file, record.line)] = Reject(
                        record.file,
                        record.line,
                        "id",
                        f"id also names a {known.value} in this file",
                        value.id,
                    )
                    break
                labels[value.id] = value.label
            for column, ident, allowed in item.refs:
                referring.append((record.file, record.line, column, ident, allowed))
                refs.setdefault(ident, set())
            total += 1
    # The kinds the store already has for the ids of the file and the ids it names.
    stored: dict[str, NodeLabel] = {}
    wanted = list(set(labels) | set(refs))
    for offset in range(0, len(wanted), 50_000):
        stored.update(store.labels_of(wanted[offset : offset + 50_000]))
    for ident, kind in list(labels.items()):
        known = stored.get(ident)
        if known is not None and known is not kind:
            rejected_ids[ident] = Reject(
                "", 0, "id", f"id is already a {known.value} in the graph", ident
            )
    dangling: set[tuple[str, int, str]] = set()
    for file, line, column, ident, allowed in referring:
        if (file, line) in rejected:
            continue
        label: NodeLabel | None = labels.get(ident) if ident not in rejected_ids else None
        label = label or stored.get(ident)
        if label is None:
            dangling.add((file, line, ident))
            result.dangling.append(
                Reject(
                    file,
                    line,
                    column,
                    "names an id that is neither in the file nor in the "
                    "graph; that link was not loaded",
                    ident,
                )
            )
        elif label not in allowed:
            expected = " or ".join(a.value for a in allowed)
            rejected[(file, line)] = Reject(
                file, line, column, f"names a {label.value}; expected a {expected}", ident
            )
    result.rejects = sorted(rejected.values(), key=lambda r: (r.file, r.line, r.column))
    result.rejects += rejected_ids.values()
    if result.rejects and not allow_rejects:
        return result
    # Ids whose records were rejected: links that need them are not written either.
    gone = set(rejected_ids)
    done = 0

    def batches(phase: int) -> Iterator[WriteBatch]:
        batch = WriteBatch()
        for record in read():
            if record.reject is not None or (record.file, record.line) in rejected:
                if phase == 0:
                    gone.update(
                        i.value.id for i in record.items if isinstance(i.value, (Company, Person))
                    )
                continue
            for item in record.items:
                value = item.value
                node = isinstance(value, (Company, Person, Address))
                if (phase == 0) is not node:
                    continue
                if isinstance(value, (Company, Person, Address, Sanction)) and value.id in gone:
                    continue
                if any((record.file, record.line, ident) in dangling for _, ident, _ in item.refs):
                    continue
                if any(ident in gone for _, ident, _ in item.refs):
                    continue
                if isinstance(
                    value, (Ownership, Officer, Registration, Produced, Shipped, TransformedInto)
                ):
                    batch.links.append(value)
                else:
                    batch.nodes.append(value)
                if len(batch) >= batch_size:
                    yield batch
                    batch = WriteBatch()
        if len(batch):
            yield batch

    for phase in (0, 1):
        for batch in batches(phase):
            store.write(batch)
            for value in (*batch.nodes, *batch.links):
                kind = value.label.value if hasattr(value, "label") else value.type.value
                result.written[kind] = result.written.get(kind, 0) + 1
            done += len(batch)
            if progress is not None:
                progress(done, total)
    result.applied = True
    return result


# -- field parsers shared by the readers --------------------------------------------------


def checked_id(raw: object, column: str) -> str:
    """A source id as creditnet keeps it (trimmed; a USCC upper-cased and check-verified)."""
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise ReadError(column, "id must be a string", raw)
    text = str(raw).strip()
    if not text:
        raise ReadError(column, "id is empty")
    if len(text) > 512:
        raise ReadError(column, "id is longer than 512 characters", text)
    ident, problem = id_and_problem(text)
    if problem is not None:
        raise ReadError(column, problem, text)
    return ident


_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def parse_date(value: object, column: str) -> date | None:
    """An ISO date, or a partial one (``2020``, ``2020-05``: its first day); a time part after
    the date is ignored. Empty means unknown."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ReadError(column, "date must be text (YYYY-MM-DD)", value)
    match = _DATE.match(value.strip())
    if match is None:
        raise ReadError(column, "malformed date; expected YYYY-MM-DD", value)
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ReadError(column, "not a calendar date", value) from None


def parse_share(value: object, column: str) -> float | None:
    """A percentage in [0, 100] (a trailing ``%`` allowed); empty means unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ReadError(column, "share must be a number", value)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        if "," in text:
            raise ReadError(
                column, "ambiguous number: write a dot for decimals, no thousands separators", value
            )
        try:
            number = float(text)
        except ValueError:
            raise ReadError(column, "not a number", value) from None
    else:
        raise ReadError(column, "share must be a number", value)
    if not 0.0 <= number <= 100.0:
        raise ReadError(column, "share must be a percentage between 0 and 100", value)
    return number


_ROLE_WORDS: Final[tuple[tuple[str, OfficerRole], ...]] = (
    ("legal representative", OfficerRole.LEGAL_REPRESENTATIVE),
    ("законный представитель", OfficerRole.LEGAL_REPRESENTATIVE),
    ("chairman", OfficerRole.CHAIRMAN),
    ("chair", OfficerRole.CHAIRMAN),
    ("председатель", OfficerRole.CHAIRMAN),
    ("general manager", OfficerRole.GENERAL_MANAGER),
    ("chief executive", OfficerRole.GENERAL_MANAGER),
    ("генеральный директор", OfficerRole.GENERAL_MANAGER),
    ("supervisor", OfficerRole.SUPERVISOR),
    ("ревизор", OfficerRole.SUPERVISOR),
    ("director", OfficerRole.DIRECTOR),
    ("директор", OfficerRole.DIRECTOR),
)


_ROLE_VALUES: Final = {role.value: role for role in OfficerRole}


def map_role(text: str | None) -> OfficerRole:
    """A creditnet role for a role text where it clearly is one (English, Chinese, Russian),
    else ``other``.

    >>> map_role("Chairman of the Board"), map_role("法定代表人"), map_role("Генеральный директор")
    (<OfficerRole.CHAIRMAN: 'chairman'>, <OfficerRole.LEGAL_REPRESENTATIVE: \
'legal_representative'>, <OfficerRole.GENERAL_MANAGER: 'general_manager'>)
    >>> map_role("secretary")
    <OfficerRole.OTHER: 'other'>
    """
    if not text:
        return OfficerRole.OTHER
    stripped = text.strip()
    if stripped in ROLE_ALIASES:
        return ROLE_ALIASES[stripped]
    lowered = stripped.casefold()
    if lowered in _ROLE_VALUES:  # creditnet's own role names (its FtM exports)
        return _ROLE_VALUES[lowered]
    for word, role in _ROLE_WORDS:
        if word in lowered:
            return role
    return OfficerRole.OTHER


_RANGE: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*%?\s*")


def parse_share_range(
    value: object, column: str
) -> tuple[float | None, float | None, float | None]:
    """(exact, minimum, maximum) of a share written exactly (``33.5``) or as a range
    (``25-50``, as creditnet's FtM export writes one)."""
    if isinstance(value, str):
        match = _RANGE.fullmatch(value)
        if match is not None:
            low = parse_share(match.group(1), column)
            high = parse_share(match.group(2), column)
            if low is not None and high is not None and high < low:
                raise ReadError(column, "range maximum below its minimum", value)
            return None, low, high
    return parse_share(value, column), None, None


def uscc_identifiers(values: Iterable[str]) -> list[str]:
    """``CN-USCC:<code>`` for each value that passes the USCC check (GB 32100)."""
    found = []
    for value in values:
        code = normalize_id(value)
        if len(code) == 18 and is_valid_uscc(code):
            found.append(f"CN-USCC:{code}")
    return found


def text_of(value: object, column: str, *, limit: int = 10_000) -> str | None:
    """A text field: None when absent or empty; rejected when not text or absurdly long."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReadError(column, "must be text", value)
    text = value.strip()
    if len(text) > limit:
        raise ReadError(column, f"longer than {limit} characters", text)
    return text or None


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:200] + "…"
