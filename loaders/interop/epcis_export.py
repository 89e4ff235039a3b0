"""creditnet's supply movements as an EPCIS 2.0 document (``export --format epcis``).

Every PRODUCED, SHIPPED and TRANSFORMED_INTO link becomes an event that
:mod:`loaders.interop.epcis` maps back to the same link, so that export -> load is a round trip:

- PRODUCED: an ObjectEvent, action ADD, bizStep commissioning, the maker as ``bizLocation``;
- SHIPPED: an ObjectEvent, action OBSERVE, bizStep shipping, the two companies as ``sourceList``
  and ``destinationList``;
- TRANSFORMED_INTO: a TransformationEvent, the transformer as ``bizLocation``.

Links that share an event id (one commissioning of several lots, one transformation of several
inputs) are one event again when that is exact: a transformation whose links are every input to
every output. Identifiers are written as GS1 Digital Link URIs, which need no GS1 company prefix
length (an EPC URN does, and creditnet does not know it): a batch ``<gtin14>:<lot>`` as
``https://id.gs1.org/01/<gtin14>/10/<lot>``, a company with a ``GLN:<gln>`` identifier as
``https://id.gs1.org/417/<gln>`` (``/414/`` as a location). A company without a GLN has no GS1
identifier at all: it is written as ``https://creditnet.example/party/<id>`` with creditnet's own
source/destination type, never as an ``owning_party`` pgln. An event id that is not a URI (a
bundle's ``E1``) is written under ``https://creditnet.example/event/``. Batches of products that
are not GTIN-14s are left out and counted. The document is checked against the EPCIS 2.0 schema
before it is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from graph.errors import InvalidInput
from graph.model import (
    Batch,
    Company,
    LinkType,
    NodeLabel,
    Produced,
    Product,
    Shipped,
    TransformedInto,
)
from graph.store import GraphReader
from loaders.interop.epcis import (
    CREDITNET_EVENT,
    CREDITNET_PARTY_TYPE,
    check_digit,
    document_errors,
    party_uri,
)

__all__ = ["company_gln", "epcis_document", "export_epcis"]

_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


def company_gln(company: Company) -> str | None:
    """The company's GLN: its first ``GLN:<13 digits>`` identifier with a right check digit.

    >>> company_gln(Company("c", "C", identifiers=("GLN:0614141000005",)))
    '0614141000005'
    """
    for identifier in company.identifiers:
        scheme, _, value = identifier.partition(":")
        value = value.strip()
        if (
            scheme.strip().upper() == "GLN"
            and len(value) == 13
            and value.isdigit()
            and check_digit(value[:-1]) == value[-1]
        ):
            return value
    return None


def _gtin_ok(product_id: str) -> bool:
    return (
        len(product_id) == 14
        and product_id.isdigit()
        and check_digit(product_id[:-1]) == (product_id[-1])
    )


def _class(batch: Batch) -> str:
    return f"https://id.gs1.org/01/{batch.product_id}/10/{quote(batch.lot, safe='')}"


def _time(day: date) -> str:
    return (
        datetime(day.year, day.month, day.day, tzinfo=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _event_uri(event_id: str) -> str:
    return event_id if _URI.fullmatch(event_id) else CREDITNET_EVENT + quote(event_id, safe="")


def _quantity(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def epcis_document(store: GraphReader) -> tuple[dict[str, Any], dict[str, int]]:
    """The EPCIS 2.0 document of every supply link in ``store``, and counts by kind."""
    products: dict[str, Product] = {}
    batches: dict[str, Batch] = {}
    links: list[Produced | Shipped | TransformedInto] = []
    kinds: list[NodeLabel | LinkType] = [
        NodeLabel.PRODUCT,
        NodeLabel.BATCH,
        LinkType.PRODUCED,
        LinkType.SHIPPED,
        LinkType.TRANSFORMED_INTO,
    ]
    for chunk in store.scan(kinds):
        for item in chunk:
            if isinstance(item, Product):
                products[item.id] = item
            elif isinstance(item, Batch):
                batches[item.id] = item
            elif isinstance(item, (Produced, Shipped, TransformedInto)):
                links.append(item)
    companies = _companies(store, links)
    counts: dict[str, int] = {}
    left_out = 0

    def party(company_id: str) -> tuple[str, str]:
        company = companies.get(company_id)
        gln = company_gln(company) if company is not None else None
        return party_uri(company_id, gln), "owning_party" if gln else CREDITNET_PARTY_TYPE

    def location(company_id: str) -> str:
        company = companies.get(company_id)
        gln = company_gln(company) if company is not None else None
        return f"https://id.gs1.org/414/{gln}" if gln else party_uri(company_id, None)

    def exportable(*ids: str) -> bool:
        return all(i in batches and _gtin_ok(batches[i].product_id) for i in ids)

    events: list[dict[str, Any]] = []
    grouped: dict[tuple[str, ...], list[Produced | Shipped | TransformedInto]] = {}
    for link in links:
        ends = (
            (link.batch_id,)
            if isinstance(link, (Produced, Shipped))
            else (link.input_batch_id, link.output_batch_id)
        )
        if not exportable(*ends):
            left_out += 1
            continue
        if isinstance(link, Produced):
            key: tuple[str, ...] = ("P", link.event_id, link.company_id, str(link.date))
        elif isinstance(link, Shipped):
            key = ("S", link.event_id, link.from_id, link.to_id, str(link.date))
        else:
            key = ("T", link.event_id, link.by_id or "", str(link.date))
        grouped.setdefault(key, []).append(link)
    for group in grouped.values():
        first = group[0]
        base = {
            "eventID": _event_uri(first.event_id),
            "eventTime": _time(first.date),
            "eventTimeZoneOffset": "+00:00",
        }
        if isinstance(first, Produced):
            events.append(
                {
                    "type": "ObjectEvent",
                    **base,
                    "epcList": [],
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "bizLocation": {"id": location(first.company_id)},
                    "quantityList": [
                        _element(batches[g.batch_id], batches[g.batch_id].quantity)
                        for g in group
                        if isinstance(g, Produced)
                    ],
                }
            )
            counts["PRODUCED"] = counts.get("PRODUCED", 0) + len(group)
        elif isinstance(first, Shipped):
            source, source_type = party(first.from_id)
            target, target_type = party(first.to_id)
            shipped = [g for g in group if isinstance(g, Shipped)]
            events.append(
                {
                    "type": "ObjectEvent",
                    **base,
                    "epcList": [],
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "quantityList": [_element(batches[g.batch_id], g.quantity) for g in shipped],
                    "sourceList": [{"type": source_type, "source": source}],
                    "destinationList": [{"type": target_type, "destination": target}],
                }
            )
            counts["SHIPPED"] = counts.get("SHIPPED", 0) + len(group)
        else:
            made = [g for g in group if isinstance(g, TransformedInto)]
            for part in _whole_transformations(made):
                inputs = sorted({g.input_batch_id for g in part})
                outputs = sorted({g.output_batch_id for g in part})
                event: dict[str, Any] = {
                    "type": "TransformationEvent",
                    **base,
                    "inputQuantityList": [_element(batches[i], None) for i in inputs],
                    "outputQuantityList": [
                        _element(batches[o], batches[o].quantity) for o in outputs
                    ],
                    "bizStep": "commissioning",
                    "disposition": "active",
                }
                if first.by_id:
                    event["bizLocation"] = {"id": location(first.by_id)}
                events.append(event)
            counts["TRANSFORMED_INTO"] = counts.get("TRANSFORMED_INTO", 0) + len(group)
    if left_out:
        counts["left out (product not a GTIN-14)"] = left_out
    document: dict[str, Any] = {
        "@context": [_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [_master(products, batches)]}},
        "epcisBody": {"eventList": events},
    }
    return document, counts


def _element(batch: Batch, quantity: float | None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": _class(batch)}
    amount = _quantity(quantity)
    if amount is not None:
        element["quantity"] = amount
    return element


def _whole_transformations(
    links: list[TransformedInto],
) -> list[list[TransformedInto]]:
    """One part when the links are every input to every output (one EPCIS event maps back to
    exactly them), else one part per link, all under the same event id."""
    inputs = {g.input_batch_id for g in links}
    outputs = {g.output_batch_id for g in links}
    pairs = {(g.input_batch_id, g.output_batch_id) for g in links}
    if len(pairs) == len(inputs) * len(outputs):
        return [links]
    return [[g] for g in links]


def _master(products: dict[str, Product], batches: dict[str, Batch]) -> dict[str, Any]:
    used = sorted({b.product_id for b in batches.values() if _gtin_ok(b.product_id)})
    return {
        "type": "urn:epcglobal:epc:vtype:EPCClass",
        "vocabularyElementList": [
            {
                "id": f"https://id.gs1.org/01/{gtin}",
                "attributes": [
                    {
                        "id": "urn:epcglobal:cbv:mda#regulatedProductName",
                        "attribute": products[gtin].name,
                    }
                ],
            }
            for gtin in used
            if gtin in products
        ],
    }


def _companies(
    store: GraphReader, links: Iterable[Produced | Shipped | TransformedInto]
) -> dict[str, Company]:
    ids: set[str] = set()
    for link in links:
        if isinstance(link, Produced):
            ids.add(link.company_id)
        elif isinstance(link, Shipped):
            ids.update((link.from_id, link.to_id))
        elif link.by_id:
            ids.add(link.by_id)
    found = store.get_many(sorted(ids))
    return {k: v for k, v in found.items() if isinstance(v, Company)}


def export_epcis(store: GraphReader, out: Path) -> dict[str, int]:
    """Write the EPCIS 2.0 document of ``store``'s supply links to ``out`` once it validates."""
    document, counts = epcis_document(store)
    errors = document_errors(document)
    if errors:
        raise InvalidInput(
            "the EPCIS export does not validate against GS1's EPCIS 2.0 schema, so it was not "
            "written: " + "; ".join(errors[:3])
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return counts
