"""GS1 EPCIS 2.0 documents to creditnet's supply movements (spec/TRACEABILITY.md, docs/interop.md).

An EPCISDocument (JSON or JSON-LD) is checked whole against GS1's EPCIS 2.0 JSON schema
(vendored under ``schemas/``, see its ``SOURCE.md``) before anything is mapped: a document that
fails it loads nothing. Its events then become the rows of the bundle's supply files
(products, batches, produced, shipments, transformations; the spec's column names), and those
rows go through the bundle's own supply-row checks (held before shipped, no cycle, known ids), so
that an EPCIS file and the equivalent bundle give the same graph and the same reject report.

=====================================================  =========================================
EPCIS                                                  creditnet
=====================================================  =========================================
ObjectEvent, action ADD, bizStep commissioning         PRODUCED (company: bizLocation, else the
                                                       sourceList owning_party)
ObjectEvent, bizStep shipping, owning_party source     SHIPPED from the source to the destination
and destination
TransformationEvent                                    TRANSFORMED_INTO, every input to every
                                                       output (by: the bizLocation party)
lgtin class / Digital Link ``/01/<gtin>/10/<lot>``     Batch ``<gtin14>:<lot>``, Product
                                                       ``<gtin14>``
pgln, sgln, Digital Link ``/417/``, ``/414/``          a GLN, mapped to a company by the party
                                                       map or a ``GLN:<gln>`` identifier
=====================================================  =========================================

The identifier parsing (GTIN-14 with its check digit, GLNs) follows the GS1 Tag Data Standard
2.0 (EPC URNs) and GS1 Digital Link 1.x (the ``https://id.gs1.org/...`` form on any host).
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

from graph.errors import InvalidInput
from graph.model import Company, EntityKind
from graph.store import GraphReader, GraphStore
from loaders.bundle import Reject, load_supply_rows
from loaders.interop.common import InteropResult

__all__ = [
    "CREDITNET_EVENT",
    "CREDITNET_PARTY",
    "CREDITNET_PARTY_TYPE",
    "SUPPLY_FILES",
    "EpcisMapping",
    "EventOrigin",
    "SupplyRows",
    "batch_id_of",
    "check_digit",
    "companies_by_gln",
    "document_errors",
    "gln_of",
    "load_epcis",
    "map_document",
    "party_uri",
    "read_document",
    "read_party_map",
    "schema_validator",
]

SUPPLY_FILES: Final = (
    "products.csv",
    "batches.csv",
    "produced.csv",
    "shipments.csv",
    "transformations.csv",
)
"""The bundle files an EPCIS document maps to, in the order they are written."""

CREDITNET_PARTY: Final = "https://creditnet.example/party/"
"""The URI creditnet exports a company without a GLN as (its id, percent-encoded, appended).

It is not a GS1 identifier: a party without a GLN has no pgln, so it is written with the
source/destination type :data:`CREDITNET_PARTY_TYPE`, never as ``owning_party``."""

CREDITNET_PARTY_TYPE: Final = "https://creditnet.example/voc/company"
"""The source/destination type of a :data:`CREDITNET_PARTY` URI (a user vocabulary URI, which
EPCIS 2.0 allows beside the CBV's ``owning_party``, ``possessing_party`` and ``location``)."""

CREDITNET_EVENT: Final = "https://creditnet.example/event/"
"""Where an export writes an event id that is not a URI (a bundle's ``E1``): EPCIS wants a URI
and a load reads the original id back from under this prefix."""

SupplyRows = dict[str, list[dict[str, str]]]
"""Rows by bundle file name, each a dict of the spec's column names to cell text."""


@dataclass(frozen=True, slots=True)
class EventOrigin:
    """Where a mapped row came from: the event's 1-based position in ``eventList``, its id."""

    index: int
    event_id: str


@dataclass(slots=True)
class EpcisMapping:
    """What a document maps to: the supply rows, where each came from, rejects and skips."""

    rows: SupplyRows = field(default_factory=lambda: {name: [] for name in SUPPLY_FILES})
    origins: dict[str, list[EventOrigin]] = field(
        default_factory=lambda: {name: [] for name in SUPPLY_FILES}
    )
    """For each file, the event each row (same position) was mapped from; products and
    batches: the first event that named them."""
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)
    """(event index, field, reason, value) of each event that cannot be mapped."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Kinds of events (or parts of them) that creditnet does not model, counted."""
    events: int = 0

    def add(self, file: str, row: dict[str, str], origin: EventOrigin) -> None:
        self.rows[file].append(row)
        self.origins[file].append(origin)

    def skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1


class _EventError(Exception):
    """An event cannot be mapped: it is rejected whole, with the field at fault."""

    def __init__(self, column: str, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.column, self.reason, self.value = column, reason, value


# -- the schema ---------------------------------------------------------------------------


@functools.cache
def schema_validator() -> Any:
    """A draft-07 validator of GS1's EPCIS 2.0 JSON schema (the vendored copy), with the
    format checks (uri, date-time) that the installed packages provide."""
    from jsonschema import Draft7Validator, FormatChecker

    text = (resources.files("loaders.interop") / "schemas" / "EPCIS-JSON-Schema.json").read_text(
        encoding="utf-8"
    )
    return Draft7Validator(json.loads(text), format_checker=FormatChecker())


def document_errors(document: object, *, limit: int = 10) -> list[str]:
    """The schema errors of a whole document (empty: valid), at most ``limit``, each naming the
    event (``event 3`` is the third of ``epcisBody.eventList``) or the document part at fault,
    the schema rule that failed and why.

    Examples
    --------
    >>> document_errors({"type": "EPCISDocument"})[0]  # doctest: +ELLIPSIS
    "document: '@context' is a required property (schema: .../required)"
    """
    from jsonschema.exceptions import best_match

    found: list[str] = []
    for error in schema_validator().iter_errors(document):
        # The schema's if/then branches report the event's own error in their context: the
        # best match among them names the failing field, not the whole event.
        deepest = best_match([error, *error.context]) if error.context else error
        found.append(_describe(deepest))
        if len(found) >= limit:
            break
    return found


def _describe(error: Any) -> str:
    path = list(error.absolute_path)
    if path[:2] == ["epcisBody", "eventList"] and len(path) > 2 and isinstance(path[2], int):
        where = f"event {path[2] + 1}"
        rest = path[3:]
    else:
        where, rest = "document", path
    if rest:
        where += " " + "/".join(str(p) for p in rest)
    rule = "/".join(str(p) for p in error.absolute_schema_path)
    message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
    if isinstance(error.instance, str) and error.instance.startswith("urn:epcglobal:cbv:"):
        # The EPCIS 1.x XML form: GS1's JSON schema allows only the 2.0 forms.
        message += (
            "; EPCIS 2.0 JSON writes a CBV value as its bare name (shipping) or as a GS1 Web "
            "URI (https://ref.gs1.org/cbv/BizStep-shipping), not as urn:epcglobal:cbv:..."
        )
    return f"{where}: {message} (schema: {rule})"


def read_document(path: Path) -> dict[str, Any]:
    """The JSON (or JSON-LD) document at ``path``, checked against the EPCIS 2.0 schema.

    Raises :class:`InvalidInput` naming the event index and schema rule of the first errors
    when it does not validate (nothing of it is then loaded)."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a JSON document ({exc})") from exc
    errors = document_errors(document)
    if errors:
        raise InvalidInput(
            f"{path} is not a valid EPCIS 2.0 document, so nothing was loaded. "
            + "; ".join(errors[:5])
            + (" (and more)" if len(errors) > 5 else "")
            + ". Fix it (GS1's schema: loaders/interop/schemas/EPCIS-JSON-Schema.json) and load "
            "again."
        )
    if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
        raise InvalidInput(
            f"{path}: an EPCIS load takes an EPCISDocument (type EPCISDocument); this one is "
            f"{document.get('type') if isinstance(document, dict) else type(document).__name__}"
        )
    return document


# -- GS1 identifiers ----------------------------------------------------------------------


def check_digit(digits: str) -> str:
    """The GS1 check digit of ``digits`` (a GTIN or GLN without its last digit): weights 3 and
    1 alternate from the right.

    >>> check_digit("0061414112345"), check_digit("061414100000")
    ('2', '5')
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _gtin14(text: str, column: str) -> str:
    if not text.isdigit() or len(text) not in (8, 12, 13, 14):
        raise _EventError(column, "a GTIN has 8, 12, 13 or 14 digits", text)
    padded = text.zfill(14)
    if check_digit(padded[:-1]) != padded[-1]:
        raise _EventError(
            column, f"GTIN check digit is wrong (expected {check_digit(padded[:-1])})", text
        )
    return padded


def _gln(text: str, column: str) -> str:
    if not text.isdigit() or len(text) != 13:
        raise _EventError(column, "a GLN has 13 digits", text)
    if check_digit(text[:-1]) != text[-1]:
        raise _EventError(
            column, f"GLN check digit is wrong (expected {check_digit(text[:-1])})", text
        )
    return text


_LGTIN: Final = re.compile(r"urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)")
_DL_LOT: Final = re.compile(r"https?://[^/?#]+(?:/[^?#]*)?/01/(\d{8,14})/10/([^/?#]+)")
_DL_GTIN: Final = re.compile(r"https?://[^/?#]+(?:/[^?#]*)?/01/(\d{8,14})(?:[/?#].*)?")
_IDPAT_SGTIN: Final = re.compile(r"urn:epc:idpat:sgtin:(\d+)\.(\d+)\.\*")
_PGLN: Final = re.compile(r"urn:epc:id:pgln:(\d+)\.(\d*)")
_SGLN: Final = re.compile(r"urn:epc:id:sgln:(\d+)\.(\d*)\.(.*)")
_DL_GLN: Final = re.compile(r"https?://[^/?#]+(?:/[^?#]*)?/(417|414)/(\d{13})(?:[/?#].*)?")


def _lgtin_gtin(prefix: str, item: str, column: str, value: str) -> str:
    # TDS: the item reference's first digit is the indicator digit; with the company prefix
    # the two hold 13 digits, then the check digit completes the GTIN-14.
    if len(prefix) + len(item) != 13 or not 6 <= len(prefix) <= 12:
        raise _EventError(
            column, "an lgtin's company prefix and item reference must hold 13 digits", value
        )
    body = item[0] + prefix + item[1:]
    return body + check_digit(body)


def batch_id_of(uri: str, column: str = "epcClass") -> tuple[str, str] | None:
    """(GTIN-14, lot) of a lot-level class (``urn:epc:class:lgtin:...``) or of a GS1 Digital
    Link URI with a lot (``.../01/<gtin>/10/<lot>``, a serial after it allowed); None for an
    identifier without a lot (an sgtin, a GTIN alone).

    >>> batch_id_of("urn:epc:class:lgtin:4012345.011111.4444")
    ('04012345111118', '4444')
    >>> batch_id_of("https://id.gs1.org/01/04012345111118/10/4444")
    ('04012345111118', '4444')
    >>> batch_id_of("urn:epc:id:sgtin:4012345.011111.987") is None
    True
    """
    match = _LGTIN.fullmatch(uri)
    if match is not None:
        lot = unquote(match.group(3))
        return _lgtin_gtin(match.group(1), match.group(2), column, uri), _lot(lot, column, uri)
    match = _DL_LOT.match(uri)
    if match is not None:
        return _gtin14(match.group(1), column), _lot(unquote(match.group(2)), column, uri)
    return None


def _lot(lot: str, column: str, value: str) -> str:
    # GS1 AI (10): at most 20 characters; a colon would make the batch id ambiguous.
    if not lot or len(lot) > 20:
        raise _EventError(column, "a lot (batch/lot number) has 1 to 20 characters", value)
    return lot


def _class_gtin(uri: str) -> str | None:
    """The GTIN-14 a master-data class id names (lgtin, an sgtin pattern, a Digital Link)."""
    try:
        lot = batch_id_of(uri, "id")
        if lot is not None:
            return lot[0]
        match = _IDPAT_SGTIN.fullmatch(uri)
        if match is not None:
            return _lgtin_gtin(match.group(1), match.group(2), "id", uri)
        match = _DL_GTIN.fullmatch(uri)
        if match is not None:
            return _gtin14(match.group(1), "id")
    except _EventError:
        return None
    return None


def gln_of(uri: str, column: str = "party") -> str | None:
    """The GLN of a party or location identifier (pgln, sgln, Digital Link ``/417/`` or
    ``/414/``), with its check digit verified; None for another kind of URI.

    >>> gln_of("urn:epc:id:pgln:0614141.00000"), gln_of("urn:epc:id:sgln:0614141.00000.0")
    ('0614141000005', '0614141000005')
    >>> gln_of("https://id.gs1.org/417/0614141000005")
    '0614141000005'
    """
    for pattern in (_PGLN, _SGLN):
        match = pattern.fullmatch(uri)
        if match is not None:
            body = match.group(1) + match.group(2)
            if len(body) != 12:
                raise _EventError(
                    column, "a GLN's company prefix and reference must hold 12 digits", uri
                )
            return body + check_digit(body)
    match = _DL_GLN.fullmatch(uri)
    if match is not None:
        return _gln(match.group(2), column)
    return None


def read_party_map(path: Path) -> dict[str, str]:
    """A ``--party-map`` file: CSV lines ``gln,company_id`` (a header line ``gln,company_id``
    and ``#`` comments allowed); each GLN is checked (13 digits, check digit)."""
    mapping: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--party-map {path}: cannot read it ({exc})") from exc
    for number, cells in enumerate(csv.reader(text.splitlines()), start=1):
        if not cells or not "".join(cells).strip() or cells[0].strip().startswith("#"):
            continue
        first = cells[0].strip()
        if number == 1 and first.casefold() == "gln":
            continue
        if len(cells) != 2 or not cells[1].strip():
            raise InvalidInput(
                f"--party-map {path} line {number}: write 'gln,company_id', got {','.join(cells)!r}"
            )
        try:
            gln = _gln(first, "gln")
        except _EventError as exc:
            raise InvalidInput(
                f"--party-map {path} line {number}: {exc.reason} ({first})"
            ) from None
        mapping[gln] = cells[1].strip()
    return mapping


# -- events -------------------------------------------------------------------------------

_CBV_PREFIXES: Final = (
    "urn:epcglobal:cbv:bizstep:",
    "https://ref.gs1.org/cbv/BizStep-",
    "http://ref.gs1.org/cbv/BizStep-",
    "https://ns.gs1.org/cbv/BizStep-",
)
_MASTER_NAMES: Final = (
    "regulatedProductName",
    "descriptionShort",
    "tradeItemDescription",
    "productName",
)
"""Master-data attributes that name a product, best first (CBV ``urn:epcglobal:cbv:mda#...``
or GS1 Web Vocabulary ``https://gs1.org/voc/...``)."""


def _biz_step(event: Mapping[str, Any]) -> str | None:
    step = event.get("bizStep")
    if not isinstance(step, str):
        return None
    for prefix in _CBV_PREFIXES:
        if step.startswith(prefix):
            return step[len(prefix) :]
    return step


def _event_date(event: Mapping[str, Any]) -> date:
    """The event's day where it happened: ``eventTime`` read in ``eventTimeZoneOffset``."""
    raw = event.get("eventTime")
    if not isinstance(raw, str):
        raise _EventError("eventTime", "missing", "")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _EventError("eventTime", "not an ISO 8601 date-time", raw) from None
    offset = event.get("eventTimeZoneOffset")
    if moment.tzinfo is not None and isinstance(offset, str):
        match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset)
        if match is not None:
            delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
            moment = moment.astimezone(timezone(delta if match.group(1) == "+" else -delta))
    return moment.date()


def _quantity(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))


def _lots(
    event: Mapping[str, Any], epcs: str, quantities: str, mapping: EpcisMapping
) -> list[tuple[str, str, str]]:
    """(gtin14, lot, quantity) of every lot an event's EPC and quantity lists name, in order,
    once each (instance EPCs of one lot give that lot once; their count is not a quantity)."""
    found: dict[tuple[str, str], str] = {}
    for element in event.get(quantities) or []:
        if isinstance(element, dict) and isinstance(element.get("epcClass"), str):
            lot = batch_id_of(element["epcClass"], quantities)
            if lot is None:
                mapping.skip(f"epcis:{quantities} class without a lot")
                continue
            found.setdefault(lot, _quantity(element.get("quantity")))
    for epc in event.get(epcs) or []:
        if isinstance(epc, str):
            lot = batch_id_of(epc, epcs)
            if lot is None:
                mapping.skip(f"epcis:{epcs} EPC without a lot")
                continue
            found.setdefault(lot, "")
    return [(gtin, lot, qty) for (gtin, lot), qty in found.items()]


def _parties(event: Mapping[str, Any], key: str, inner: str) -> list[str]:
    """The party URIs of ``sourceList``/``destinationList`` entries of type owning_party, or of
    creditnet's own party type (its exports of companies without a GLN)."""
    found = []
    for entry in event.get(key) or []:
        if (
            isinstance(entry, dict)
            and entry.get("type")
            in (
                "owning_party",
                "urn:epcglobal:cbv:sdt:owning_party",
                "https://ref.gs1.org/cbv/SDT-owning_party",
                CREDITNET_PARTY_TYPE,
            )
            and isinstance(entry.get(inner), str)
        ):
            found.append(entry[inner])
    return found


Resolver = Callable[[str, str], str]
"""(party URI, field) -> company id, raising :class:`_EventError` when it cannot."""


def map_document(
    document: Mapping[str, Any],
    resolve: Callable[[Iterable[str]], dict[str, list[str]]],
    party_map: Mapping[str, str] | None = None,
) -> EpcisMapping:
    """Map a validated EPCISDocument's events to supply rows.

    ``resolve`` takes GLNs and returns, for each it knows, the ids of the companies whose
    identifiers hold ``GLN:<gln>`` (one store call for the whole document); ``party_map`` (GLN
    -> company id, the ``--party-map`` file) wins over it. Every product and batch an event
    names gets a row (products named from the document's master data, else by their GTIN); the
    caller keeps those the store lacks.
    """
    events = document.get("epcisBody", {}).get("eventList", [])
    result = EpcisMapping(events=len(events))
    names = _master_names(document)
    glns: set[str] = set()
    for event in events:
        for uri in _party_uris(event):
            try:
                gln = gln_of(uri)
            except _EventError:
                continue
            if gln is not None:
                glns.add(gln)
    fixed = dict(party_map or {})
    found = resolve(sorted(glns - set(fixed)))

    def company(uri: str, column: str) -> str:
        if uri.startswith(CREDITNET_PARTY):
            ident = unquote(uri[len(CREDITNET_PARTY) :])
            if not ident:
                raise _EventError(column, "a creditnet party URI without a company id", uri)
            return ident
        gln = gln_of(uri, column)
        if gln is None:
            raise _EventError(
                column,
                "not a GLN (urn:epc:id:pgln:, urn:epc:id:sgln:, or a Digital Link /417/ or "
                "/414/); creditnet maps parties by GLN",
                uri,
            )
        if gln in fixed:
            return fixed[gln]
        ids = found.get(gln, [])
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise _EventError(
                column,
                f"GLN {gln} is an identifier of several companies ({', '.join(sorted(ids))}); "
                "name the right one in --party-map",
                uri,
            )
        raise _EventError(
            column,
            f"unmapped party: GLN {gln} is in neither --party-map nor a company's identifiers "
            f"(GLN:{gln}); add a line '{gln},<company id>' to the party map",
            uri,
        )

    nodes: dict[str, dict[str, str]] = {}
    for index, event in enumerate(events, start=1):
        raw_id = event.get("eventID") if isinstance(event, dict) else None
        origin = EventOrigin(index, raw_id if isinstance(raw_id, str) else "")
        staged = EpcisMapping()
        try:
            if not isinstance(raw_id, str) or not raw_id.strip():
                raise _EventError(
                    "eventID",
                    "an event without an eventID cannot be loaded: the movement it records "
                    "needs a key (give each event its eventID, e.g. a ni:///sha-256 hash id)",
                )
            _map_event(event, origin, company, staged, names)
        except _EventError as exc:
            result.rejects.append((index, exc.column, exc.reason, exc.value))
            continue
        for kind, count in staged.skipped.items():
            result.skipped[kind] = result.skipped.get(kind, 0) + count
        for file in SUPPLY_FILES:
            for row, row_origin in zip(staged.rows[file], staged.origins[file], strict=True):
                if file in ("products.csv", "batches.csv"):
                    first = nodes.get(f"{file}|{row['id']}")
                    if first is not None:
                        # A batch first named by a shipment gets its commissioning's produced
                        # date and quantity, whichever event comes first in the document.
                        for column, value in row.items():
                            first.setdefault(column, value)
                        continue
                    nodes[f"{file}|{row['id']}"] = row
                result.add(file, row, row_origin)
    return result


def _party_uris(event: object) -> list[str]:
    if not isinstance(event, dict):
        return []
    uris = [
        e.get(k)
        for key, k in (("sourceList", "source"), ("destinationList", "destination"))
        for e in event.get(key) or []
        if isinstance(e, dict)
    ]
    location = event.get("bizLocation")
    if isinstance(location, dict):
        uris.append(location.get("id"))
    return [u for u in uris if isinstance(u, str)]


def _map_event(
    event: Mapping[str, Any],
    origin: EventOrigin,
    company: Resolver,
    out: EpcisMapping,
    names: Mapping[str, str],
) -> None:
    kind = event.get("type")
    step = _biz_step(event)
    event_id = origin.event_id.strip()
    if event_id.startswith(CREDITNET_EVENT):
        event_id = unquote(event_id[len(CREDITNET_EVENT) :])
    if kind == "ObjectEvent" and event.get("action") == "ADD" and step == "commissioning":
        day = _event_date(event)
        location = event.get("bizLocation")
        sources = _parties(event, "sourceList", "source")
        if isinstance(location, dict) and isinstance(location.get("id"), str):
            maker = company(location["id"], "bizLocation")
        elif sources:
            maker = company(sources[0], "sourceList")
        else:
            raise _EventError(
                "bizLocation",
                "a commissioning event needs the maker: a bizLocation, or a sourceList "
                "owning_party",
            )
        lots = _lots(event, "epcList", "quantityList", out)
        if not lots:
            raise _EventError(
                "quantityList", "names no lot (an lgtin class or a Digital Link /10/)"
            )
        for gtin, lot, qty in lots:
            batch = _node_rows(gtin, lot, qty, day, origin, out, names)
            out.add(
                "produced.csv",
                {"event_id": event_id, "company_id": maker, "batch_id": batch, "date": str(day)},
                origin,
            )
    elif kind == "ObjectEvent" and step == "shipping":
        day = _event_date(event)
        sources = _parties(event, "sourceList", "source")
        targets = _parties(event, "destinationList", "destination")
        if len(sources) != 1 or len(targets) != 1:
            column = "sourceList" if len(sources) != 1 else "destinationList"
            raise _EventError(
                column,
                "a shipping event needs exactly one owning_party source and one owning_party "
                f"destination (found {len(sources)} and {len(targets)})",
            )
        sender = company(sources[0], "sourceList")
        receiver = company(targets[0], "destinationList")
        lots = _lots(event, "epcList", "quantityList", out)
        if not lots:
            raise _EventError(
                "quantityList", "names no lot (an lgtin class or a Digital Link /10/)"
            )
        for gtin, lot, qty in lots:
            batch = _node_rows(gtin, lot, "", None, origin, out, names)
            out.add(
                "shipments.csv",
                {
                    "event_id": event_id,
                    "batch_id": batch,
                    "from_id": sender,
                    "to_id": receiver,
                    "date": str(day),
                    "quantity": qty,
                },
                origin,
            )
    elif kind == "TransformationEvent":
        day = _event_date(event)
        location = event.get("bizLocation")
        by = (
            company(location["id"], "bizLocation")
            if isinstance(location, dict) and isinstance(location.get("id"), str)
            else ""
        )
        inputs = _lots(event, "inputEPCList", "inputQuantityList", out)
        outputs = _lots(event, "outputEPCList", "outputQuantityList", out)
        if not inputs or not outputs:
            column = "inputQuantityList" if not inputs else "outputQuantityList"
            raise _EventError(column, "names no lot (an lgtin class or a Digital Link /10/)")
        sources = [_node_rows(g, lot, "", None, origin, out, names) for g, lot, _ in inputs]
        for gtin, lot, qty in outputs:
            made = _node_rows(gtin, lot, qty, day, origin, out, names)
            for source in sources:
                out.add(
                    "transformations.csv",
                    {
                        "event_id": event_id,
                        "input_batch_id": source,
                        "output_batch_id": made,
                        "date": str(day),
                        "by_id": by,
                    },
                    origin,
                )
    else:
        label = kind if isinstance(kind, str) else "event"
        out.skip(f"epcis:{label}" + (f" {step}" if step and kind == "ObjectEvent" else ""))


def _node_rows(
    gtin: str,
    lot: str,
    quantity: str,
    produced: date | None,
    origin: EventOrigin,
    out: EpcisMapping,
    names: Mapping[str, str],
) -> str:
    batch = f"{gtin}:{lot}"
    out.add("products.csv", {"id": gtin, "name": names.get(gtin, gtin)}, origin)
    row = {"id": batch, "product_id": gtin, "lot": lot}
    if produced is not None:
        row["produced"] = str(produced)
    if quantity:
        row["quantity"] = quantity
    out.add("batches.csv", row, origin)
    return batch


def _master_names(document: Mapping[str, Any]) -> dict[str, str]:
    """GTIN-14 -> product name from the header's EPCClass master data (the first name
    attribute of :data:`_MASTER_NAMES` found)."""
    header = document.get("epcisHeader")
    master = header.get("epcisMasterData") if isinstance(header, dict) else None
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    names: dict[str, str] = {}
    for vocabulary in vocabularies or []:
        if not isinstance(vocabulary, dict) or not str(vocabulary.get("type", "")).endswith(
            "EPCClass"
        ):
            continue
        for element in vocabulary.get("vocabularyElementList") or []:
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                continue
            gtin = _class_gtin(element["id"])
            if gtin is None:
                continue
            found: dict[str, str] = {}
            for attribute in element.get("attributes") or []:
                if not isinstance(attribute, dict):
                    continue
                key = str(attribute.get("id", "")).rpartition("#")[2].rpartition("/")[2]
                value = attribute.get("attribute")
                if key in _MASTER_NAMES and isinstance(value, str) and value.strip():
                    found.setdefault(key, value.strip())
            for key in _MASTER_NAMES:
                if key in found:
                    names.setdefault(gtin, found[key])
                    break
    return names


def party_uri(company_id: str, gln: str | None) -> str:
    """How an export names a company: its GLN as a GS1 Digital Link party (``/417/``), else
    creditnet's own :data:`CREDITNET_PARTY` URI (never a made-up pgln)."""
    if gln is not None:
        return f"https://id.gs1.org/417/{gln}"
    return CREDITNET_PARTY + quote(company_id, safe="")


# -- load ---------------------------------------------------------------------------------


def load_epcis(
    store: GraphStore,
    path: Path,
    *,
    party_map: Mapping[str, str] | None = None,
    dataset: str | None = None,
    allow_rejects: bool = False,
    batch_size: int = 5000,
) -> InteropResult:
    """Load the EPCISDocument at ``path`` into ``store``.

    The document is checked against the EPCIS 2.0 schema first: any error is reported (event
    index, field, schema rule) and nothing is loaded, whatever ``allow_rejects`` says. Events
    that cannot be mapped (an unmapped party, no eventID, no lot) are rejects like bundle rows;
    the mapped rows then go through the bundle's supply checks, whose rejects name the event
    they came from. Products and batches the store already holds are left as they are.

    Examples
    --------
    >>> import pathlib
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company
    >>> from graph.store import WriteBatch
    >>> here = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "epcis"
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company(c, c) for c in ("FARM", "DAIRY", "SHOP")]))
    >>> mapping = read_party_map(here / "party-map.csv")
    >>> load_epcis(store, here / "milk-to-cheese.jsonld", party_map=mapping).written
    {'products.csv': 2, 'batches.csv': 2, 'produced.csv': 1, 'shipments.csv': 2, \
'transformations.csv': 1}
    """
    result = InteropResult(path=path, format="epcis", dataset=dataset or path.name)
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a JSON document ({exc})") from exc
    errors = _schema_rejects(document, path.name)
    if errors:
        result.rejects = errors
        return result
    if document.get("type") != "EPCISDocument":
        raise InvalidInput(
            f"{path}: an EPCIS load takes an EPCISDocument; this is a {document.get('type')}"
        )
    mapping = map_document(document, lambda glns: companies_by_gln(store, glns), party_map)
    result.records = mapping.events
    result.skipped = dict(mapping.skipped)
    rejects = [
        Reject(path.name, index, column, reason, value)
        for index, column, reason, value in mapping.rejects
    ]
    # Products and batches the graph has keep their stored values (a name from master data,
    # or the GTIN, must not overwrite a name a bundle gave).
    stored = store.labels_of(
        {row["id"] for file in ("products.csv", "batches.csv") for row in mapping.rows[file]}
    )
    if rejects and not allow_rejects:
        # Nothing is written: the events' own rejects are the report (the bundle checks of the
        # other events run once these are fixed).
        result.rejects = rejects
        return result
    tables: dict[str, list[dict[str, str]]] = {}
    lines: dict[str, list[int]] = {}
    for file in SUPPLY_FILES:
        table = file.removesuffix(".csv")
        tables[table], lines[table] = [], []
        for row, origin in zip(mapping.rows[file], mapping.origins[file], strict=True):
            if file in ("products.csv", "batches.csv") and row["id"] in stored:
                continue
            tables[table].append(row)
            lines[table].append(origin.index)  # the reject report names the event
    loaded = load_supply_rows(
        store,
        tables,
        source=path,
        allow_rejects=allow_rejects,
        batch_size=batch_size,
        lines=lines,
    )
    for reject in loaded.rejects:
        rejects.append(
            Reject(
                path.name,
                reject.line,
                f"{reject.file.removesuffix('.csv')}.{reject.column}",
                reject.reason,
                reject.value,
            )
        )
    result.rejects = sorted(rejects, key=lambda r: (r.line, r.column))
    result.written = {k: v for k, v in loaded.written.items() if v}
    result.applied = loaded.applied
    return result


def _schema_rejects(document: object, file: str) -> list[Reject]:
    """One reject per schema error: the event's index as the line (0: the document itself)."""
    rejects = []
    for text in document_errors(document, limit=100):
        where, _, reason = text.partition(": ")
        parts = where.split(" ", 2)
        line = int(parts[1]) if parts[0] == "event" else 0
        column = parts[2] if parts[0] == "event" and len(parts) > 2 else " ".join(parts[1:])
        rejects.append(
            Reject(file, line, column or "event", "fails the EPCIS 2.0 schema: " + reason)
        )
    return rejects


def companies_by_gln(store: GraphReader, glns: Iterable[str]) -> dict[str, list[str]]:
    """For each GLN, the ids of the companies with the identifier ``GLN:<gln>`` (found by the
    store's search, which indexes identifiers; one search per distinct GLN of a document)."""
    found: dict[str, list[str]] = {}
    for gln in glns:
        page = store.search(f"GLN:{gln}", EntityKind.COMPANY, limit=50)
        ids = [
            item.id
            for item in page.items
            if isinstance(item, Company)
            and any(
                scheme.strip().upper() == "GLN" and value.strip() == gln
                for scheme, _, value in (i.partition(":") for i in item.identifiers)
            )
        ]
        if ids:
            found[gln] = sorted(ids)
    return found
