"""Beneficial Ownership Data Standard 0.4 statements to creditnet, and back (spec/INTEROP.md).

Input is a JSON array of statements (read with ``ijson``, one statement at a time, so a file
larger than memory loads) or JSON lines. Each statement is checked against the BODS 0.4 JSON
schema that ``libcovebods`` ships (its ``jsv`` check, statement by statement); its normative
checks (``pv``) need a network list and are left to ``libcovebods`` itself. The mapping onto
creditnet's model is written here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Final

import ijson

from graph.model import Company, Link, Node, NodeLabel, Officer, OfficerRole, Ownership, Person
from loaders.bundle import Reject
from loaders.interop.common import (
    ENTITY,
    Item,
    ReadError,
    Record,
    checked_id,
    parse_date,
    parse_share,
    text_of,
    uscc_identifiers,
)

__all__ = ["BodsCache", "bods_statements", "read_bods", "statement_errors"]

_CONTROL_INTERESTS: Final = frozenset(
    {
        "appointmentOfBoard",
        "otherInfluenceOrControl",
        "seniorManagingOfficial",
        "controlViaCompanyRulesOrArticles",
    }
)
_OFFICER_INTERESTS: Final = {
    "boardMember": OfficerRole.DIRECTOR,
    "boardChair": OfficerRole.CHAIRMAN,
}
_USCC_SCHEMES: Final = frozenset({"CN-SAMR", "CN-USCC"})


@functools.cache
def _validator() -> Any:
    """The BODS 0.4 statement schema validator that ``libcovebods jsv`` uses (offline)."""
    from jsonschema import FormatChecker
    from jsonschema.validators import Draft202012Validator
    from libcovebods.schema import SchemaBODS

    class _Version04:
        # SchemaBODS picks its schema version from the data it is given: a 0.4 statement.
        def get_all_data(self) -> list[dict[str, Any]]:
            return [{"publicationDetails": {"bodsVersion": "0.4"}}]

    registry = SchemaBODS(_Version04())._pkg_schema_obj
    return Draft202012Validator(
        schema=registry.contents("urn:statement"), registry=registry, format_checker=FormatChecker()
    )


def statement_errors(statement: object) -> list[str]:
    """The BODS 0.4 schema errors of one statement (empty: valid), as ``path: message``."""
    errors = []
    # The schema libcovebods validates with is the package: an array of statements.
    for error in _validator().iter_errors([statement]):
        where = "/".join(str(p) for p in list(error.absolute_path)[1:]) or "statement"
        errors.append(f"{where}: {error.message[:300]}")
    return errors


def _statements(path: Path) -> Iterator[tuple[int, object]]:
    """(number, statement) for an array or JSON lines; a parse error raises ReadError with the
    statement number reached."""
    with path.open("rb") as stream:
        head = stream.read(1)
        while head and head.isspace():
            head = stream.read(1)
        stream.seek(0)
        if head == b"[":
            yield from _array(stream)
        else:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    try:
                        yield number, json.loads(raw)
                    except (ValueError, UnicodeDecodeError) as exc:
                        yield number, ReadError("", f"not a JSON object ({exc})", raw[:80])


def _array(stream: IO[bytes]) -> Iterator[tuple[int, object]]:
    number = 0
    try:
        for number, item in enumerate(ijson.items(stream, "item", use_float=True), start=1):
            yield number, item
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
        yield number + 1, ReadError("", f"the JSON array is malformed here ({exc})")


def read_bods(
    path: Path, dataset: str, *, validate: bool = True, cache: BodsCache | None = None
) -> Iterator[Record]:
    """Each statement as a :class:`Record`; of several statements of one record (updates),
    only the newest (by statementDate, then position) is mapped, the others are skipped.

    ``cache`` keeps what a first reading learnt (schema errors, newest statements, persons), so
    that the pipeline's later readings skip the schema check, the costly part."""
    known = cache if cache is not None else BodsCache()
    if not known.ready:
        _prescan(path, known)
    for number, statement in _statements(path):
        record = Record(path.name, number)
        try:
            if isinstance(statement, ReadError):
                raise statement
            if not isinstance(statement, dict):
                raise ReadError("", "a statement must be a JSON object", statement)
            if validate:
                if not known.validated:
                    errors = statement_errors(statement)
                    if errors:
                        known.errors[number] = "; ".join(errors[:3])
                if number in known.errors:
                    raise ReadError(
                        "statement", "not a valid BODS 0.4 statement: " + known.errors[number]
                    )
            record_id = checked_id(statement.get("recordId"), "recordId")
            when = statement.get("statementDate")
            newest = known.newest
            if isinstance(when, str) and newest.get(record_id, (when, number)) != (when, number):
                record.skipped.append("bods:superseded statement")
            else:
                _map(statement, record_id, dataset, record, known.persons)
        except ReadError as exc:
            record.items = []
            record.reject = Reject(path.name, number, exc.column, exc.reason, exc.value)
        yield record
    known.validated = validate


@dataclass(slots=True)
class BodsCache:
    """What one reading of a BODS file learnt, for the next readings of the same file."""

    ready: bool = False
    validated: bool = False
    errors: dict[int, str] = field(default_factory=dict)
    newest: dict[str, tuple[str, int]] = field(default_factory=dict)
    persons: set[str] = field(default_factory=set)


def _prescan(path: Path, known: BodsCache) -> None:
    for number, statement in _statements(path):
        if not isinstance(statement, dict):
            continue
        record_id, when = statement.get("recordId"), statement.get("statementDate")
        if statement.get("recordType") == "person" and isinstance(record_id, str):
            known.persons.add(record_id)
        if (
            isinstance(record_id, str)
            and isinstance(when, str)
            and known.newest.get(record_id, ("", 0)) <= (when, number)
        ):
            known.newest[record_id] = (when, number)
    known.ready = True


def _map(
    statement: dict[str, Any], record_id: str, dataset: str, record: Record, persons: set[str]
) -> None:
    kind = statement.get("recordType")
    details = statement.get("recordDetails")
    if not isinstance(details, dict):
        raise ReadError("recordDetails", "missing or not an object", details)
    prov: dict[str, Any] = {"source_format": "bods", "source_dataset": dataset}
    closed = statement.get("recordStatus") == "closed"
    stated = parse_date(statement.get("statementDate"), "statementDate")
    if kind == "entity":
        name = text_of(details.get("name"), "name") or _anonymous(details, "entity")
        aliases = tuple(
            a for a in (text_of(x, "alternateNames") for x in _list(details, "alternateNames")) if a
        )
        jurisdiction = details.get("jurisdiction")
        record.items.append(
            Item(
                Company(
                    id=record_id,
                    name=name,
                    jurisdiction=text_of(jurisdiction.get("code"), "jurisdiction")
                    if isinstance(jurisdiction, dict)
                    else None,
                    founded=parse_date(details.get("foundingDate"), "foundingDate"),
                    dissolved=parse_date(details.get("dissolutionDate"), "dissolutionDate"),
                    aliases=aliases,
                    identifiers=_identifiers(details),
                    record_id=record_id,
                    **prov,
                )
            )
        )
    elif kind == "person":
        names = [n for n in _list(details, "names") if isinstance(n, dict)]
        full = [text_of(n.get("fullName"), "names") for n in names]
        every = [n for n in full if n]
        name = every[0] if every else _anonymous(details, "person")
        nationalities = [n for n in _list(details, "nationalities") if isinstance(n, dict)]
        birth = parse_date(details.get("birthDate"), "birthDate")
        record.items.append(
            Item(
                Person(
                    id=record_id,
                    name=name,
                    nationality=text_of(nationalities[0].get("code"), "nationalities")
                    if nationalities
                    else None,
                    birth_year=birth.year if birth else None,
                    aliases=tuple(dict.fromkeys(n for n in every[1:] if n != name)),
                    identifiers=_identifiers(details),
                    record_id=record_id,
                    **prov,
                )
            )
        )
    elif kind == "relationship":
        _relationship(details, record_id, closed, stated, prov, record, persons)
    else:
        raise ReadError("recordType", "must be entity, person or relationship", kind)


def _relationship(
    details: dict[str, Any],
    record_id: str,
    closed: bool,
    stated: date | None,
    prov: dict[str, Any],
    record: Record,
    persons: set[str],
) -> None:
    subject = checked_id(details.get("subject"), "subject")
    party = details.get("interestedParty")
    if not isinstance(party, str):
        record.skipped.append("bods:relationship without a known interested party")
        return
    owner = checked_id(party, "interestedParty")
    interests = [i for i in _list(details, "interests") if isinstance(i, dict)]
    if not interests:
        record.skipped.append("bods:relationship without interests")
    for index, interest in enumerate(interests):
        kind = interest.get("type")
        start = parse_date(interest.get("startDate"), "startDate")
        end = parse_date(interest.get("endDate"), "endDate")
        if end is None and closed:
            end = stated  # a closed record ends the link at its statement date
        if start is not None and end is not None and end < start:
            end = start
        given = interest.get("share")
        share: dict[str, Any] = given if isinstance(given, dict) else {}
        exact = parse_share(share.get("exact"), "share.exact")
        low = parse_share(share.get("minimum", share.get("exclusiveMinimum")), "share.minimum")
        high = parse_share(share.get("maximum", share.get("exclusiveMaximum")), "share.maximum")
        if low is not None and high is not None and high < low:
            raise ReadError("share.maximum", "maximum below minimum", str(high))
        link_id = f"{record_id}#{index}"
        indirect = interest.get("directOrIndirect") == "indirect" or None
        refs_owner = ("interestedParty", owner, ENTITY)
        refs_subject = ("subject", subject, (NodeLabel.COMPANY,))
        link: Link
        if kind == "shareholding":
            link = Ownership(
                owner,
                subject,
                exact,
                start,
                end,
                share_min=None if exact is not None else low,
                share_max=None if exact is not None else high,
                indirect=indirect,
                record_id=link_id,
                **prov,
            )
            record.items.append(Item(link, (refs_owner, refs_subject)))
            continue
        if indirect:
            record.skipped.append(f"bods:indirect {kind}")
            continue
        above = (exact if exact is not None else low) or 0.0
        if kind in _CONTROL_INTERESTS or (kind == "votingRights" and above > 50.0):
            role = OfficerRole.ACTUAL_CONTROLLER
        elif isinstance(kind, str) and kind in _OFFICER_INTERESTS:
            role = _OFFICER_INTERESTS[kind]
        else:
            record.skipped.append(f"bods:interest {kind or 'without a type'}")
            continue
        if owner not in persons:
            # OFFICER_OF starts at a person: control held by an entity is counted, not loaded
            # (a majority holding still gives control through the OWNS links).
            record.skipped.append(f"bods:{kind} held by an entity")
            continue
        link = Officer(
            owner, subject, role, start, end, interest=str(kind), record_id=link_id, **prov
        )
        # OFFICER_OF starts at a person; control held by an entity is reported, not loaded.
        record.items.append(
            Item(link, (("interestedParty", owner, (NodeLabel.PERSON,)), refs_subject))
        )


def _identifiers(details: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for identifier in _list(details, "identifiers"):
        if not isinstance(identifier, dict):
            continue
        value = text_of(identifier.get("id"), "identifiers", limit=200)
        scheme = text_of(identifier.get("scheme"), "identifiers", limit=100) or "unknown"
        if value:
            if scheme in _USCC_SCHEMES:
                found += uscc_identifiers([value])
            found.append(f"{scheme}:{value}")
    return tuple(dict.fromkeys(found))


def _anonymous(details: dict[str, Any], what: str) -> str:
    kind = details.get("personType") or details.get("entityType")
    if isinstance(kind, dict):
        kind = kind.get("type")
    return f"({kind or 'unnamed'} {what})" if kind != what else f"(unnamed {what})"


def _list(details: dict[str, Any], key: str) -> list[Any]:
    value = details.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReadError(key, "must be a list", value)
    return value


# -- export -------------------------------------------------------------------------------

_PUBLISHER: Final = {"name": "creditnet export"}


def bods_statements(item: Node | Link, published: date) -> list[dict[str, Any]]:
    """The BODS 0.4 statement for one node or link (none for what BODS does not hold)."""
    base: dict[str, Any] = {
        "statementDate": published.isoformat(),
        "publicationDetails": {
            "publicationDate": published.isoformat(),
            "bodsVersion": "0.4",
            "publisher": _PUBLISHER,
        },
        "recordStatus": "new",
    }
    if isinstance(item, Company):
        details: dict[str, Any] = {
            "isComponent": False,
            "entityType": {"type": "registeredEntity"},
            "name": item.name,
        }
        if item.aliases:
            details["alternateNames"] = list(item.aliases)
        if item.jurisdiction:
            details["jurisdiction"] = {"name": item.jurisdiction, "code": item.jurisdiction[:2]}
        if item.identifiers:
            details["identifiers"] = [_identifier(i) for i in item.identifiers]
        if item.founded:
            details["foundingDate"] = item.founded.isoformat()
        if item.dissolved:
            details["dissolutionDate"] = item.dissolved.isoformat()
        return [_statement(base, item.id, "entity", details)]
    if isinstance(item, Person):
        details = {
            "isComponent": False,
            "personType": "knownPerson",
            "names": [{"type": "legal", "fullName": item.name}]
            + [{"type": "alternative", "fullName": a} for a in item.aliases],
        }
        if item.birth_year:
            details["birthDate"] = str(item.birth_year)
        if item.identifiers:
            details["identifiers"] = [_identifier(i) for i in item.identifiers]
        return [_statement(base, item.id, "person", details)]
    if isinstance(item, (Ownership, Officer)):
        interest: dict[str, Any] = {
            "directOrIndirect": "indirect"
            if isinstance(item, Ownership) and item.indirect
            else "direct",
        }
        if isinstance(item, Ownership):
            interest["type"] = "shareholding"
            if item.share is not None:
                interest["share"] = {"exact": item.share}
            elif item.share_min is not None or item.share_max is not None:
                interest["share"] = {
                    k: v
                    for k, v in (("minimum", item.share_min), ("maximum", item.share_max))
                    if v is not None
                }
        elif item.role is OfficerRole.ACTUAL_CONTROLLER:
            interest["type"] = _control_type(item.interest)
            if item.interest and item.interest != interest["type"]:
                interest["details"] = item.interest
        elif item.role is OfficerRole.CHAIRMAN:
            interest["type"] = "boardChair"
        elif item.role in (OfficerRole.DIRECTOR,):
            interest["type"] = "boardMember"
        else:
            interest["type"] = "seniorManagingOfficial"
        if item.start:
            interest["startDate"] = item.start.isoformat()
        if item.end:
            interest["endDate"] = item.end.isoformat()
        details = {
            "isComponent": False,
            "subject": item.target,
            "interestedParty": item.source,
            "interests": [interest],
        }
        record_id = item.record_id or "cn-" + _digest(item.key)
        return [_statement(base, record_id, "relationship", details, subject=item.target)]
    return []


def _control_type(interest: str | None) -> str:
    """The BODS interest type for a control interest (a PSC nature kept as it was written is
    mapped to its BODS type; the text then goes to ``details``)."""
    if interest in _CONTROL_INTERESTS:
        return interest
    if interest and interest.startswith("right-to-appoint"):
        return "appointmentOfBoard"
    return "otherInfluenceOrControl"


def _statement(
    base: dict[str, Any],
    record_id: str,
    kind: str,
    details: dict[str, Any],
    *,
    subject: str | None = None,
) -> dict[str, Any]:
    return {
        "statementId": "cn-" + _digest(f"{kind}|{record_id}|{json.dumps(details, sort_keys=True)}"),
        **base,
        "declarationSubject": subject or record_id,
        "recordId": record_id,
        "recordType": kind,
        "recordDetails": details,
    }


def _identifier(text: str) -> dict[str, str]:
    scheme, _, value = text.partition(":")
    return {"id": value or text, "scheme": scheme if value else "unknown"}


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:32]
