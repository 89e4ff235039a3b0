"""The ICIJ Offshore Leaks database CSV folder to creditnet (spec/INTEROP.md).

A folder with ``nodes-entities.csv``, ``nodes-officers.csv``, ``nodes-intermediaries.csv``,
``nodes-addresses.csv``, ``nodes-others.csv`` and ``relationships.csv``, read row by row with
:mod:`csv` (no library reads this layout).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from graph.model import Address, Company, Link, NodeLabel, Officer, Ownership, Person, Registration
from loaders.bundle import Reject
from loaders.interop.common import (
    ENTITY,
    Item,
    ReadError,
    Record,
    Ref,
    checked_id,
    map_role,
    text_of,
)

__all__ = ["ICIJ_FILES", "read_icij"]

ICIJ_FILES: Final = (
    "nodes-entities.csv",
    "nodes-officers.csv",
    "nodes-intermediaries.csv",
    "nodes-addresses.csv",
    "nodes-others.csv",
    "relationships.csv",
)
_COMPANY_WORDS: Final = re.compile(
    r"\b(ltd|limited|inc|corp|corporation|company|co\.|llc|s\.a\.|sa|gmbh|trust|foundation|bank|"
    r"holdings?|group|plc|b\.v\.|n\.v\.|s\.a\.r\.l\.|sarl|ag)\b",
    re.IGNORECASE,
)
_OWNS: Final = ("shareholder of", "beneficiary of", "beneficial owner of", "owner of")
_OFFICERS: Final = (
    "director of",
    "secretary of",
    "officer of",
    "president of",
    "chairman of",
    "manager of",
    "legal representative of",
    "nominee director of",
    "alternate director of",
    "authorised person of",
    "signatory of",
    "protector of",
)


def read_icij(folder: Path, dataset: str) -> Iterator[Record]:
    """Every row of the folder's files as a :class:`Record` (nodes first, then relationships)."""
    csv.field_size_limit(16 * 1024 * 1024)
    prov: dict[str, Any] = {"source_format": "icij", "source_dataset": dataset}
    # Ids of nodes read as companies: an officer position held by one is skipped (OFFICER_OF
    # starts at a person). The node files come before relationships.csv.
    companies: set[str] = set()
    for name in ICIJ_FILES:
        path = folder / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as stream:
            for line, row in enumerate(csv.DictReader(stream), start=2):
                record = Record(name, line)
                try:
                    _map(name, row, prov, record, companies)
                except ReadError as exc:
                    record.items = []
                    record.reject = Reject(name, line, exc.column, exc.reason, exc.value)
                yield record


def _id(row: dict[str, Any], column: str) -> str:
    return (
        checked_id(f"icij-{(row.get(column) or '').strip()}", column)
        if row.get(column)
        else (checked_id("", column))
    )


def _map(
    name: str, row: dict[str, Any], prov: dict[str, Any], record: Record, companies: set[str]
) -> None:
    if name == "relationships.csv":
        _relationship(row, prov, record, companies)
        return
    ident = _id(row, "node_id")
    raw_id = row["node_id"].strip()
    if name == "nodes-addresses.csv":
        text = text_of(row.get("address"), "address") or text_of(row.get("name"), "name")
        if text is None:
            raise ReadError("address", "the address has no text")
        region = text_of(row.get("countries"), "countries")
        record.items.append(Item(Address(ident, text, region, record_id=raw_id, **prov)))
        return
    label = text_of(row.get("name"), "name")
    if label is None:
        raise ReadError("name", "the node has no name")
    if name == "nodes-officers.csv" and not _COMPANY_WORDS.search(label):
        record.items.append(
            Item(
                Person(
                    ident,
                    label,
                    nationality=text_of(row.get("countries"), "countries"),
                    record_id=raw_id,
                    **prov,
                )
            )
        )
        return
    companies.add(ident)
    founded = _date(row.get("incorporation_date"), "incorporation_date")
    dissolved = _date(row.get("inactivation_date"), "inactivation_date")
    if founded and dissolved and dissolved < founded:
        dissolved = None
    record.items.append(
        Item(
            Company(
                ident,
                label,
                jurisdiction=text_of(row.get("jurisdiction"), "jurisdiction"),
                founded=founded,
                dissolved=dissolved,
                record_id=raw_id,
                **prov,
            )
        )
    )


def _relationship(
    row: dict[str, Any], prov: dict[str, Any], record: Record, companies: set[str]
) -> None:
    start_id, end_id = _id(row, "node_id_start"), _id(row, "node_id_end")
    kind = (row.get("rel_type") or "").strip()
    text = kind.replace("_", " ").casefold()
    start = _date(row.get("start_date"), "start_date")
    end = _date(row.get("end_date"), "end_date")
    if start and end and end < start:
        end = start
    record_id = f"{start_id}>{end_id}:{kind}:{record.line}"
    link: Link
    refs: tuple[Ref, ...]
    if text == "registered address":
        link = Registration(start_id, end_id, start, end, record_id=record_id, **prov)
        refs = (("node_id_start", start_id, ENTITY), ("node_id_end", end_id, (NodeLabel.ADDRESS,)))
    elif text.startswith(_OWNS):
        link = Ownership(start_id, end_id, None, start, end, record_id=record_id, **prov)
        refs = (("node_id_start", start_id, ENTITY), ("node_id_end", end_id, (NodeLabel.COMPANY,)))
    elif text.startswith(_OFFICERS) and start_id in companies:
        record.skipped.append(f"icij:{kind} held by a company")
        return
    elif text.startswith(_OFFICERS):
        link = Officer(
            start_id,
            end_id,
            map_role(text),
            start,
            end,
            role_text=kind,
            record_id=record_id,
            **prov,
        )
        refs = (
            ("node_id_start", start_id, (NodeLabel.PERSON,)),
            ("node_id_end", end_id, (NodeLabel.COMPANY,)),
        )
    else:
        record.skipped.append(f"icij:{kind or 'relationship without a type'}")
        return
    record.items.append(Item(link, refs))


def _date(value: object, column: str) -> date | None:
    text = text_of(value, column, limit=40)
    if text is None:
        return None
    for layout in ("%d-%b-%Y", "%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ReadError(column, "malformed date; ICIJ writes DD-MMM-YYYY", text)
