"""Reading one row of a bundle file: the cell parsers and the row parser of each file.

Every parser reads every cell of its row and collects what is wrong with each (:class:`Cells`),
so a reject report names every bad cell of a row, not only the first; then it builds the model
item and the ids the row points at (checked across the bundle by :mod:`loaders.bundle`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from graph.errors import InvalidInput
from graph.model import (
    Address,
    Batch,
    Commitment,
    CommitmentKind,
    CommitmentOutcome,
    Company,
    CompanyStatus,
    Link,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Produced,
    Product,
    ProductCategory,
    Sanction,
    SanctionStatus,
    Scalar,
    Severity,
    Shipped,
    TransformedInto,
    list_name,
)
from loaders.uscc import is_valid_uscc, looks_like_uscc, normalize_id

__all__ = [
    "LINK_FILES",
    "NODE_FILES",
    "PARSERS",
    "ROLE_ALIASES",
    "SUPPLY_FILES",
    "Cells",
    "ParsedRow",
    "Parser",
    "Refs",
    "RowError",
    "id_and_problem",
    "read_csv",
]

# Registries write roles in Chinese or in free English; map the common spellings.
ROLE_ALIASES: Final[dict[str, OfficerRole]] = {
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


class RowError(Exception):
    """Every problem of one row, as (column, reason, value): a row is reported whole."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(reason for _, reason, _ in problems))
        self.problems = problems


class Cells(dict[str, str]):
    """One row's cells by column, and the problems found in them so far (the first per column).

    A dict, so that the many cell reads of a large load are plain ``dict.get`` calls.
    """

    __slots__ = ("problems",)

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.problems: list[tuple[str, str, str]] = []

    def fail(self, column: str, reason: str, value: str = "") -> None:
        # A cell that is already wrong (say, a NUL byte) would only repeat itself as "not a date".
        if all(seen != column for seen, _, _ in self.problems):
            self.problems.append((column, reason, value))

    def done(self) -> None:
        """Raise with every problem found, once every cell of the row has been read."""
        if self.problems:
            raise RowError(self.problems)


def read_csv(file: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], bool]:
    """Read one bundle file.

    Returns
    -------
    tuple
        The header (cells stripped); the non-blank records, each with the physical line it
        starts on (a quoted value may span lines, so this is the reader's line count, not a
        record count), read from the file as they are consumed; and whether the file holds a
        NUL byte anywhere.
    """
    has_nul = False
    try:
        # A first pass in chunks: a file that is not UTF-8 fails before any row is read, and
        # NUL bytes are known up front, without holding the file's text (as large as the rows
        # parsed so far, at a load's peak) while its rows are parsed.
        with file.open(encoding="utf-8-sig", newline="") as handle:
            while chunk := handle.read(1 << 20):
                has_nul = has_nul or "\x00" in chunk
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 ({exc}); convert it, e.g. iconv -f GB18030") from exc
    handle = file.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)

    def records() -> Iterator[tuple[int, list[str]]]:
        with handle:
            start = reader.line_num + 1
            try:
                for record in reader:
                    if record:
                        yield start, record
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise InvalidInput(
                    f"{file} line {reader.line_num}: not a well-formed CSV file ({exc}); check "
                    "the quotes around that line"
                ) from exc

    try:
        header = [c.strip() for c in next(reader, [])]
    except csv.Error as exc:
        handle.close()
        raise InvalidInput(f"{file} line 1: not a well-formed CSV header ({exc})") from exc
    return header, records(), has_nul


# -- cell parsers ----------------------------------------------------------------------------
# Each records what is wrong with its cell on ``cells`` and returns a stand-in, so that every
# cell of a row is read before the row is rejected (``Cells.done``).


def _id(cells: Cells, column: str, *, required: bool = True) -> str:
    raw = cells.get(column, "")
    if not raw:
        if required:
            cells.fail(column, "required cell is empty")
        return ""
    ident, problem = id_and_problem(raw)
    if problem is not None:
        cells.fail(column, problem, raw)
    return ident


_CONTROL = re.compile(r"[\x00-\x1f]")


@functools.lru_cache(maxsize=1 << 20)
def id_and_problem(raw: str) -> tuple[str, str | None]:
    # Ids repeat across officer and ownership rows: check each distinct one once.
    if _CONTROL.search(raw):
        return raw, "id contains control characters"
    ident = normalize_id(raw)
    if looks_like_uscc(ident) and not is_valid_uscc(ident):
        return ident, "unified social credit code has a wrong check character (GB 32100)"
    return ident, None


def _text(cells: Cells, column: str) -> str | None:
    return cells.get(column, "") or None


def _required_text(cells: Cells, column: str) -> str:
    value = cells.get(column, "")
    if not value:
        cells.fail(column, "required cell is empty")
    return value


def _date(cells: Cells, column: str) -> date | None:
    value = cells.get(column, "")
    if not value:
        return None
    parsed = _parse_date(value)
    if parsed is None:
        cells.fail(column, "malformed date; write YYYY-MM-DD", value)
    return parsed


@functools.lru_cache(maxsize=1 << 16)
def _parse_date(value: str) -> date | None:
    # A bundle repeats a few thousand dates over a million rows: one date object for each
    # keeps the parsed rows (all held until the load's checks are done) smaller.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _number(cells: Cells, column: str) -> float | None:
    """A plain decimal number (a trailing ``%`` allowed); anything with a comma is rejected.

    ``3,5`` is 3.5 in much of the world and 35 in the rest; read either way, a share can cross
    the 25% threshold. So no separator is guessed at: the row is rejected with a reason.
    """
    value = cells.get(column, "")
    if not value:
        return None
    text = value.strip().removesuffix("%").strip()
    if "," in text:
        cells.fail(
            column,
            "ambiguous number: a comma may be a decimal or a thousands separator; write a dot "
            "for decimals and no thousands separators (3.5, 1000.50)",
            value,
        )
        return None
    if not _PLAIN_NUMBER.fullmatch(text):
        cells.fail(column, "not a number; write digits with a dot for decimals", value)
        return None
    number = float(text)
    if number in (float("inf"), float("-inf")):
        cells.fail(column, "not a finite number", value)
        return None
    return number


def _non_negative(cells: Cells, column: str) -> float | None:
    number = _number(cells, column)
    if number is not None and number < 0:
        cells.fail(column, "must not be negative", cells.get(column, ""))
        return None
    return number


def _enum(cells: Cells, column: str, enum: type[Enum], default: Any = None) -> Any:
    value = cells.get(column, "")
    if not value:
        return default
    member = _enum_member(enum, value)
    if member is None:
        allowed = ", ".join(m.value for m in enum)
        cells.fail(column, f"unknown {column} (allowed: {allowed})", value)
        return default
    return member


@functools.lru_cache(maxsize=4096)
def _enum_member(enum: type[Enum], value: str) -> Any:
    # A column holds a handful of spellings over many rows: match each spelling once.
    key = value.strip().replace("-", "_").replace(" ", "_")
    for candidate in (key, key.lower(), key.upper()):
        try:
            return enum(candidate)
        except ValueError:
            continue
    return None


def _dates_ordered(cells: Cells, start: date | None, end: date | None, end_column: str) -> None:
    if start is not None and end is not None and end < start:
        cells.fail(end_column, f"end {end} is before start {start}", end.isoformat())


_NO_EXTRA: Final[Mapping[str, Scalar]] = MappingProxyType({})


def _extras(cells: Cells, extra: list[str]) -> Mapping[str, Scalar]:
    # Most rows have no extra cells: they share one empty mapping rather than a dict each.
    if not extra:
        return _NO_EXTRA
    return {column: cells[column] for column in extra if cells.get(column, "")} or _NO_EXTRA


# -- row parsers -----------------------------------------------------------------------------
# Each reads every cell, then calls ``cells.done()`` (which raises with all the problems)
# before it builds the item.

Refs = tuple[tuple[str, str, tuple[NodeLabel, ...]], ...]
Parser = Callable[[Cells, list[str], str | None], tuple[Node | Link, Refs]]

_Schema = tuple[tuple[str, tuple[NodeLabel, ...]], ...]
_SCHEMAS: dict[_Schema, _Schema] = {}


class ParsedRow:
    """One row that parsed: its file, physical line, item and :data:`Refs`.

    Every row of a bundle is held until its checks across files are done, so a row keeps the
    ids it points at alone, beside the columns and allowed labels that rows of a file share.
    """

    __slots__ = ("_ids", "_schema", "file", "item", "line")

    def __init__(self, file: str, line: int, item: Node | Link, refs: Refs) -> None:
        self.file, self.line, self.item = file, line, item
        schema = tuple((column, allowed) for column, _, allowed in refs)
        self._schema = _SCHEMAS.setdefault(schema, schema)
        self._ids = tuple(ident for _, ident, _ in refs)

    @property
    def refs(self) -> Refs:
        """(column, id, allowed labels) this row points at."""
        return tuple(
            (column, ident, allowed)
            for (column, allowed), ident in zip(self._schema, self._ids, strict=True)
        )


def _company(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    name = _required_text(cells, "name")
    founded, dissolved = _date(cells, "founded"), _date(cells, "dissolved")
    _dates_ordered(cells, founded, dissolved, "dissolved")
    capital = _non_negative(cells, "registered_capital")
    address_id = _id(cells, "address_id", required=False)
    status = _enum(cells, "status", CompanyStatus)
    cells.done()
    company = Company(
        id=ident,
        name=name,
        jurisdiction=_text(cells, "jurisdiction"),
        status=status,
        founded=founded,
        dissolved=dissolved,
        registered_capital=capital,
        industry=_text(cells, "industry"),
        extra=_extras(cells, extra),
    )
    refs: Refs = (("address_id", address_id, (NodeLabel.ADDRESS,)),) if address_id else ()
    return company, refs


def _birth_year(cells: Cells) -> int | None:
    raw = cells.get("birth_year", "")
    if not raw:
        return None
    try:
        year = int(raw)
    except ValueError:
        cells.fail("birth_year", "not a whole year", raw)
        return None
    if not 1850 <= year <= date.today().year:
        cells.fail("birth_year", "not a plausible birth year", raw)
        return None
    return year


def _person(cells: Cells, extra: list[str], salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    name = _required_text(cells, "name")
    birth_year = _birth_year(cells)
    national_id_hash = None
    if cells.get("national_id", ""):
        if not salt:
            cells.fail(
                "national_id",
                "national ID numbers are only loaded hashed: set CREDITNET_ID_HASH_SALT",
            )
        else:
            normalized = re.sub(r"\s", "", cells.get("national_id", "")).upper()
            national_id_hash = hashlib.sha256(f"{salt}:{normalized}".encode()).hexdigest()
    cells.done()
    person = Person(
        id=ident,
        name=name,
        nationality=_text(cells, "nationality"),
        birth_year=birth_year,
        national_id_hash=national_id_hash,
        extra=_extras(cells, extra),
    )
    return person, ()


def _address(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    text = _required_text(cells, "text")
    cells.done()
    return Address(
        id=ident,
        text=text,
        region=_text(cells, "region"),
        extra=_extras(cells, extra),
    ), ()


def _sanction(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    subject_id = _id(cells, "subject_id")
    raw_list = _required_text(cells, "list")
    # Spelled as registries do (any case, - or space for _); checked against the catalogue in
    # force once the file is read (_check_lists).
    kind = list_name(raw_list.replace("-", "_").replace(" ", "_").upper()) if raw_list else ""
    start, end = _date(cells, "start"), _date(cells, "end")
    _dates_ordered(cells, start, end, "end")
    fine = _non_negative(cells, "fine")
    severity = _enum(cells, "severity", Severity)
    decided = _date(cells, "decided")
    status = _enum(cells, "status", SanctionStatus, SanctionStatus.ACTIVE)
    status_date = _date(cells, "status_date")
    if status is not SanctionStatus.ACTIVE and status_date is None:
        cells.fail("status_date", f"required when status is {status.value}")
    disputed_raw = cells.get("disputed", "").lower()
    if disputed_raw and disputed_raw not in _TRUE | _FALSE:
        cells.fail("disputed", "must be true or false", cells.get("disputed", ""))
    batch_id = _id(cells, "batch_id", required=False)
    cells.done()
    sanction = Sanction(
        id=ident,
        subject_id=subject_id,
        list=kind,
        authority=_text(cells, "authority"),
        severity=severity,
        fine=fine,
        decided=decided,
        start=start,
        end=end,
        legal_basis=_text(cells, "legal_basis"),
        description=_text(cells, "description"),
        status=status,
        status_date=status_date,
        disputed=disputed_raw in _TRUE,
        extra=_extras(cells, extra),
        batch_id=batch_id or None,
    )
    refs: Refs = (("subject_id", subject_id, _ENTITY_LABELS),)
    if batch_id:
        refs += (("batch_id", batch_id, _BATCH),)
    return sanction, refs


def _commitment(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    promisor_id = _id(cells, "promisor_id")
    kind = _enum(cells, "kind", CommitmentKind)
    if kind is None and not cells.get("kind", ""):
        cells.fail("kind", "required cell is empty")
    made = _date(cells, "made")
    if made is None and not cells.get("made", ""):
        cells.fail("made", "required cell is empty")
    due, verified = _date(cells, "due"), _date(cells, "verified")
    outcome = _enum(cells, "outcome", CommitmentOutcome, CommitmentOutcome.PENDING)
    severity = _enum(cells, "severity", Severity)
    if made is not None and due is not None and due < made:
        cells.fail("due", f"due {due} is before made {made}", due.isoformat())
    if made is not None and verified is not None and verified < made:
        cells.fail("verified", f"verified {verified} is before made {made}", verified.isoformat())
    unverified = verified is None and not cells.get("verified", "")
    if outcome is not None and outcome is not CommitmentOutcome.PENDING and unverified:
        cells.fail("verified", f"required when outcome is {outcome.value}")
    if outcome is CommitmentOutcome.PENDING and cells.get("verified", ""):
        cells.fail("outcome", "a verified commitment is kept or broken, not pending")
    if severity is not None and outcome is not CommitmentOutcome.BROKEN:
        cells.fail("severity", "given only for a broken commitment", cells.get("severity", ""))
    cells.done()
    commitment = Commitment(
        id=ident,
        promisor_id=promisor_id,
        kind=kind,
        made=made,  # type: ignore[arg-type]  # cells.done() raised when it is missing
        agency=_text(cells, "agency"),
        matter=_text(cells, "matter"),
        due=due,
        verified=verified,
        outcome=outcome,
        severity=(severity or Severity.GENERAL) if outcome is CommitmentOutcome.BROKEN else None,
        extra=_extras(cells, extra),
    )
    return commitment, (("promisor_id", promisor_id, _ENTITY_LABELS),)


def _officer(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Link, Refs]:
    person_id, company_id = _id(cells, "person_id"), _id(cells, "company_id")
    role = ROLE_ALIASES.get(cells.get("role", "")) or _enum(cells, "role", OfficerRole)
    if role is None and not cells.get("role", ""):
        cells.fail("role", "required cell is empty")
    start, end = _date(cells, "start"), _date(cells, "end")
    _dates_ordered(cells, start, end, "end")
    cells.done()
    link = Officer(person_id, company_id, role, start, end, extra=_extras(cells, extra))
    refs: Refs = (
        ("person_id", person_id, (NodeLabel.PERSON,)),
        ("company_id", company_id, (NodeLabel.COMPANY,)),
    )
    return link, refs


def _ownership(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Link, Refs]:
    owner_id, company_id = _id(cells, "owner_id"), _id(cells, "company_id")
    share = _number(cells, "share")
    if share is not None and not 0 < share <= 100:
        cells.fail("share", "share must be a percentage in (0, 100]", cells.get("share", ""))
    start, end = _date(cells, "start"), _date(cells, "end")
    _dates_ordered(cells, start, end, "end")
    cells.done()
    link = Ownership(owner_id, company_id, share, start, end, extra=_extras(cells, extra))
    refs: Refs = (
        ("owner_id", owner_id, _ENTITY_LABELS),
        ("company_id", company_id, (NodeLabel.COMPANY,)),
    )
    return link, refs


# -- supply (spec/TRACEABILITY.md) ----------------------------------------------------------------

_BATCH: Final = (NodeLabel.BATCH,)
_COMPANY: Final = (NodeLabel.COMPANY,)


def _required_date(cells: Cells, column: str) -> date:
    value = _date(cells, column)
    if value is None and not cells.get(column, ""):
        cells.fail(column, "required cell is empty")
    return value or date.min


def _quantity(cells: Cells) -> float | None:
    quantity = _number(cells, "quantity")
    if quantity is not None and quantity <= 0:
        cells.fail("quantity", "a quantity must be greater than 0", cells.get("quantity", ""))
        return None
    return quantity


def _product(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    name = _required_text(cells, "name")
    category = _enum(cells, "category", ProductCategory)
    owner = _id(cells, "brand_owner_id", required=False)
    cells.done()
    product = Product(
        id=ident,
        name=name,
        category=category,
        brand_owner_id=owner or None,
        extra=_extras(cells, extra),
    )
    return product, (("brand_owner_id", owner, _COMPANY),) if owner else ()


def _batch(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Node, Refs]:
    ident = _id(cells, "id")
    product_id = _id(cells, "product_id")
    lot = _required_text(cells, "lot")
    produced, expires = _date(cells, "produced"), _date(cells, "expires")
    if produced is not None and expires is not None and expires < produced:
        cells.fail("expires", f"expires {expires} is before produced {produced}", str(expires))
    quantity = _quantity(cells)
    cells.done()
    batch = Batch(
        id=ident,
        product_id=product_id,
        lot=lot,
        produced=produced,
        expires=expires,
        quantity=quantity,
        extra=_extras(cells, extra),
    )
    return batch, (("product_id", product_id, (NodeLabel.PRODUCT,)),)


def _produced(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Link, Refs]:
    event_id = _required_text(cells, "event_id")
    company_id, batch_id = _id(cells, "company_id"), _id(cells, "batch_id")
    day = _required_date(cells, "date")
    cells.done()
    link = Produced(company_id, batch_id, event_id, day, extra=_extras(cells, extra))
    return link, (("company_id", company_id, _COMPANY), ("batch_id", batch_id, _BATCH))


def _shipment(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Link, Refs]:
    event_id = _required_text(cells, "event_id")
    batch_id = _id(cells, "batch_id")
    from_id, to_id = _id(cells, "from_id"), _id(cells, "to_id")
    day = _required_date(cells, "date")
    quantity = _quantity(cells)
    if from_id and from_id == to_id:
        cells.fail("to_id", "a company does not ship to itself", to_id)
    cells.done()
    link = Shipped(batch_id, to_id, from_id, event_id, day, quantity, extra=_extras(cells, extra))
    refs: Refs = (
        ("batch_id", batch_id, _BATCH),
        ("from_id", from_id, _COMPANY),
        ("to_id", to_id, _COMPANY),
    )
    return link, refs


def _transformation(cells: Cells, extra: list[str], _salt: str | None) -> tuple[Link, Refs]:
    event_id = _required_text(cells, "event_id")
    input_id, output_id = _id(cells, "input_batch_id"), _id(cells, "output_batch_id")
    day = _required_date(cells, "date")
    by_id = _id(cells, "by_id", required=False)
    if input_id and input_id == output_id:
        cells.fail(
            "output_batch_id",
            "transformation cycle: a batch cannot be transformed into itself",
            output_id,
        )
    cells.done()
    link = TransformedInto(
        input_id, output_id, event_id, day, by_id or None, extra=_extras(cells, extra)
    )
    refs: Refs = (
        ("input_batch_id", input_id, _BATCH),
        ("output_batch_id", output_id, _BATCH),
    )
    return link, (*refs, ("by_id", by_id, _COMPANY)) if by_id else refs


PARSERS: Final[dict[str, Parser]] = {
    "addresses.csv": _address,
    "companies.csv": _company,
    "persons.csv": _person,
    "sanctions.csv": _sanction,
    "officers.csv": _officer,
    "ownership.csv": _ownership,
    "commitments.csv": _commitment,
    "products.csv": _product,
    "batches.csv": _batch,
    "produced.csv": _produced,
    "shipments.csv": _shipment,
    "transformations.csv": _transformation,
}
NODE_FILES: Final = (
    "addresses.csv",
    "companies.csv",
    "persons.csv",
    "sanctions.csv",
    "commitments.csv",
    "products.csv",
    "batches.csv",
)
SUPPLY_FILES: Final = ("produced.csv", "shipments.csv", "transformations.csv")
"""The movement files, checked together (held before shipped, no cycle)."""
LINK_FILES: Final = ("officers.csv", "ownership.csv", *SUPPLY_FILES)
