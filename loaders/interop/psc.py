"""The UK Companies House PSC snapshot to creditnet (spec/INTEROP.md).

The snapshot is JSON lines ``{"company_number", "data": {...}}`` (a JSON array of such lines is
read too). No library reads it; the mapping is creditnet's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import ijson

from graph.model import Company, NodeLabel, Officer, OfficerRole, Ownership, Person
from loaders.bundle import Reject
from loaders.interop.common import (
    ENTITY,
    Item,
    ReadError,
    Record,
    checked_id,
    parse_date,
    text_of,
)

__all__ = ["read_psc"]

_PERSON_KINDS: Final = frozenset(
    {"individual-person-with-significant-control", "individual-beneficial-owner"}
)
_COMPANY_KINDS: Final = frozenset(
    {
        "corporate-entity-person-with-significant-control",
        "legal-person-person-with-significant-control",
        "corporate-entity-beneficial-owner",
        "legal-person-beneficial-owner",
    }
)
_BANDS: Final = (
    ("ownership-of-shares-25-to-50-percent", 25.0, 50.0),
    ("ownership-of-shares-50-to-75-percent", 50.0, 75.0),
    ("ownership-of-shares-75-to-100-percent", 75.0, 100.0),
    ("ownership-of-shares-more-than-25-percent", 25.0, 100.0),
)
_CONTROL: Final = (
    "voting-rights-50-to-75-percent",
    "voting-rights-75-to-100-percent",
    "voting-rights-more-than-50-percent",
    "right-to-appoint-and-remove-directors",
    "right-to-appoint-and-remove-members",
    "right-to-appoint-and-remove-person",
    "significant-influence-or-control",
)


def _lines(path: Path) -> Iterator[tuple[int, object]]:
    with path.open("rb") as stream:
        head = stream.read(1)
        while head and head.isspace():
            head = stream.read(1)
        stream.seek(0)
        if head == b"[":
            number = 0
            try:
                for number, item in enumerate(ijson.items(stream, "item", use_float=True), 1):
                    yield number, item
            except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
                yield number + 1, ReadError("", f"the JSON array is malformed here ({exc})")
            return
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                try:
                    yield number, json.loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    yield number, ReadError("", f"not a JSON object ({exc})", raw[:80])


def read_psc(path: Path, dataset: str) -> Iterator[Record]:
    """Each snapshot line as a :class:`Record`."""
    for number, line in _lines(path):
        record = Record(path.name, number)
        try:
            if isinstance(line, ReadError):
                raise line
            if not isinstance(line, dict) or not isinstance(line.get("data"), dict):
                raise ReadError("data", "a PSC line is an object with a data object", line)
            _map(line, dataset, record)
        except ReadError as exc:
            record.items = []
            record.reject = Reject(path.name, number, exc.column, exc.reason, exc.value)
        yield record


def _map(line: dict[str, Any], dataset: str, record: Record) -> None:
    data: dict[str, Any] = line["data"]
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ReadError("data.kind", "missing", kind)
    if kind not in _PERSON_KINDS and kind not in _COMPANY_KINDS:
        record.skipped.append(f"psc:{kind}")
        return
    company = checked_id(line.get("company_number"), "company_number")
    links = data.get("links")
    self_link = links.get("self") if isinstance(links, dict) else None
    if not isinstance(self_link, str) or "/" not in self_link.strip("/"):
        raise ReadError("data.links.self", "missing: the PSC cannot be identified", self_link)
    # The suffix is base64url; "_" becomes "." so that the id is also a valid FtM entity id
    # (letters, digits, "." and "-"), and exports re-load under the same ids.
    suffix = re.sub(r"[^0-9A-Za-z.\-]", ".", self_link.rstrip("/").rsplit("/", 1)[1])
    psc_id = checked_id(f"{company}-{suffix}".rstrip(".-"), "data.links.self")
    name = text_of(data.get("name"), "data.name")
    if name is None:
        raise ReadError("data.name", "the PSC has no name")
    prov: dict[str, Any] = {"source_format": "psc", "source_dataset": dataset}
    # The register names the company only by number; a later load with its name upserts it.
    record.items.append(Item(Company(id=company, name=company, record_id=company, **prov)))
    if kind in _PERSON_KINDS:
        born = data.get("date_of_birth")
        year = born.get("year") if isinstance(born, dict) else None
        if year is not None and (not isinstance(year, int) or not 1850 <= year <= 2100):
            raise ReadError("data.date_of_birth.year", "not a plausible year", year)
        record.items.append(
            Item(
                Person(
                    id=psc_id,
                    name=name,
                    nationality=text_of(data.get("nationality"), "data.nationality"),
                    birth_year=year,
                    record_id=self_link,
                    **prov,
                )
            )
        )
    else:
        ident = data.get("identification")
        identifiers: tuple[str, ...] = ()
        if isinstance(ident, dict):
            number = text_of(ident.get("registration_number"), "registration_number", limit=100)
            if number:
                place = text_of(ident.get("place_registered"), "place_registered") or "register"
                identifiers = (f"{place}:{number}",)
        record.items.append(
            Item(
                Company(
                    id=psc_id,
                    name=name,
                    identifiers=identifiers,
                    record_id=self_link,
                    **prov,
                )
            )
        )
    start = parse_date(data.get("notified_on"), "data.notified_on")
    end = parse_date(data.get("ceased_on"), "data.ceased_on")
    if start is not None and end is not None and end < start:
        raise ReadError("data.ceased_on", f"ceased {end} before notified {start}", str(end))
    natures = data.get("natures_of_control") or []
    if not isinstance(natures, list):
        raise ReadError("data.natures_of_control", "must be a list", natures)
    holder = ("links.self", psc_id, ENTITY)
    target = ("company_number", company, (NodeLabel.COMPANY,))
    for nature in natures:
        if not isinstance(nature, str):
            raise ReadError("data.natures_of_control", "must be text", nature)
        band = next((b for b in _BANDS if nature.startswith(b[0])), None)
        link_id = f"{self_link}#{nature}"
        if band is not None:
            link = Ownership(
                psc_id,
                company,
                None,
                start,
                end,
                share_min=band[1],
                share_max=band[2],
                record_id=link_id,
                **prov,
            )
            record.items.append(Item(link, (holder, target)))
        elif nature.startswith(_CONTROL) and kind in _PERSON_KINDS:
            control = Officer(
                psc_id,
                company,
                OfficerRole.ACTUAL_CONTROLLER,
                start,
                end,
                interest=nature,
                record_id=link_id,
                **prov,
            )
            record.items.append(
                Item(control, (("links.self", psc_id, (NodeLabel.PERSON,)), target))
            )
        else:
            record.skipped.append(
                "psc:control held by a company (OFFICER_OF starts at a person)"
                if nature.startswith(_CONTROL)
                else f"psc:{nature}"
            )
