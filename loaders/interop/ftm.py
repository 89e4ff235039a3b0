"""FollowTheMoney entities (JSON lines) to creditnet, and back (spec/INTEROP.md).

``followthemoney`` reads each line (:meth:`Model.get_proxy` knows every schema and property and
cleans values to their types); the mapping onto creditnet's model is written here, since it is
creditnet's own (which schema is a company, how a role text becomes a role).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from followthemoney import model as ftm_model
from followthemoney.exc import FollowTheMoneyException
from followthemoney.proxy import EntityProxy

from graph.model import (
    Address,
    Company,
    CompanyStatus,
    Link,
    Node,
    NodeLabel,
    Officer,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
    Severity,
    list_name,
)
from loaders.bundle import Reject
from loaders.interop.common import (
    ENTITY,
    Item,
    ReadError,
    Record,
    checked_id,
    map_role,
    parse_date,
    parse_share_range,
    uscc_identifiers,
)

__all__ = ["entity_dicts", "read_ftm"]

_MAX_LINE: Final = 8 * 1024 * 1024
_NAME_PROPS: Final = ("name", "alias", "previousName", "weakAlias")
_STATUS: Final = {
    "active": CompanyStatus.ACTIVE,
    "revoked": CompanyStatus.REVOKED,
    "deregistered": CompanyStatus.DEREGISTERED,
    "dissolved": CompanyStatus.DEREGISTERED,
}


def read_ftm(
    path: Path, dataset: str, list_map: Mapping[str, str] | None = None
) -> Iterator[Record]:
    """Each line of ``path`` as a :class:`Record` (a line that is not an entity is rejected)."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            record = Record(path.name, number)
            try:
                if len(raw) > _MAX_LINE:
                    raise ReadError("", f"line longer than {_MAX_LINE} bytes", raw[:80])
                try:
                    data = json.loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ReadError("", f"not a JSON object ({exc})", raw[:80]) from None
                _map(data, dataset, list_map or {}, record)
            except ReadError as exc:
                record.items = []
                record.reject = Reject(path.name, number, exc.column, exc.reason, exc.value)
            yield record


def _proxy(data: object) -> EntityProxy:
    if not isinstance(data, dict):
        raise ReadError("", "not a JSON object", data)
    schema = data.get("schema")
    if not isinstance(schema, str) or ftm_model.get(schema) is None:
        raise ReadError("schema", "not a FollowTheMoney schema name", schema)
    properties = data.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in properties.values()
    ):
        raise ReadError("properties", "must map property names to lists of strings", properties)
    try:
        return ftm_model.get_proxy(data, cleaned=True)
    except (FollowTheMoneyException, ValueError, TypeError) as exc:
        raise ReadError("", f"not a valid FollowTheMoney entity ({exc})") from None


def _map(data: object, dataset: str, list_map: Mapping[str, str], record: Record) -> None:
    proxy = _proxy(data)
    entity_id = checked_id(proxy.id, "id")
    schema = proxy.schema
    prov: dict[str, Any] = {"source_format": "ftm", "source_dataset": dataset}
    if schema.is_a("Person"):
        record.items.append(Item(_person(proxy, entity_id, prov)))
        _registrations(proxy, entity_id, prov, record)
    elif schema.name in ("Company", "Organization", "LegalEntity") or schema.is_a("Organization"):
        record.items.append(Item(_company(proxy, entity_id, prov)))
        _registrations(proxy, entity_id, prov, record)
    elif schema.name == "Address":
        text = _first(proxy, "full") or proxy.caption
        record.items.append(
            Item(
                Address(
                    id=entity_id,
                    text=text,
                    region=_first(proxy, "country"),
                    record_id=entity_id,
                    **prov,
                )
            )
        )
    elif schema.name == "Ownership":
        owner, asset = _ends(proxy, "owner", "asset")
        start = parse_date(_first(proxy, "startDate"), "startDate")
        end = parse_date(_first(proxy, "endDate"), "endDate")
        _ordered(start, end)
        exact, low, high = parse_share_range(_first(proxy, "percentage"), "percentage")
        link: Link = Ownership(
            owner,
            asset,
            exact,
            start,
            end,
            share_min=low,
            share_max=high,
            record_id=entity_id,
            **prov,
        )
        record.items.append(
            Item(link, (("owner", owner, ENTITY), ("asset", asset, (NodeLabel.COMPANY,))))
        )
    elif schema.name == "Directorship":
        director, organization = _ends(proxy, "director", "organization")
        start = parse_date(_first(proxy, "startDate"), "startDate")
        end = parse_date(_first(proxy, "endDate"), "endDate")
        _ordered(start, end)
        role_text = _first(proxy, "role")
        link = Officer(
            director,
            organization,
            map_role(role_text),
            start,
            end,
            role_text=role_text,
            interest=_first(proxy, "description"),
            record_id=entity_id,
            **prov,
        )
        refs = (
            ("director", director, (NodeLabel.PERSON,)),
            ("organization", organization, (NodeLabel.COMPANY,)),
        )
        record.items.append(Item(link, refs))
    elif schema.name == "Sanction":
        subject = _ref(proxy, "entity")
        program = _first(proxy, "program")
        start = parse_date(_first(proxy, "startDate") or _first(proxy, "listingDate"), "startDate")
        end = parse_date(_first(proxy, "endDate"), "endDate")
        _ordered(start, end)
        mapped = list_map.get(program or "") or list_map.get(_first(proxy, "programId") or "")
        sanction = Sanction(
            id=entity_id,
            subject_id=subject,
            list=list_name(mapped) if mapped else SanctionList.EXTERNAL_SANCTION,
            authority=_first(proxy, "authority"),
            severity=Severity.GENERAL,
            start=start,
            end=end,
            legal_basis=program,
            description=_first(proxy, "reason"),
            record_id=entity_id,
            **prov,
        )
        record.items.append(Item(sanction, (("entity", subject, ENTITY),)))
    else:
        record.skipped.append(f"ftm:{schema.name}")


def _company(proxy: EntityProxy, entity_id: str, prov: dict[str, Any]) -> Company:
    name, aliases = _names(proxy)
    founded = parse_date(_first(proxy, "incorporationDate"), "incorporationDate")
    dissolved = parse_date(_first(proxy, "dissolutionDate"), "dissolutionDate")
    status_text = (_first(proxy, "status") or "").casefold()
    return Company(
        id=entity_id,
        name=name,
        jurisdiction=_first(proxy, "jurisdiction") or _first(proxy, "country"),
        status=_STATUS.get(status_text),
        founded=founded,
        dissolved=dissolved
        if founded is None or dissolved is None or dissolved >= founded
        else None,
        aliases=aliases,
        identifiers=_identifiers(proxy),
        record_id=entity_id,
        **prov,
    )


def _person(proxy: EntityProxy, entity_id: str, prov: dict[str, Any]) -> Person:
    name, aliases = _names(proxy)
    birth = _first(proxy, "birthDate")
    year = parse_date(birth, "birthDate").year if birth else None  # type: ignore[union-attr]
    return Person(
        id=entity_id,
        name=name,
        nationality=_first(proxy, "nationality") or _first(proxy, "citizenship"),
        birth_year=year,
        aliases=aliases,
        identifiers=_identifiers(proxy),
        record_id=entity_id,
        **prov,
    )


def _registrations(
    proxy: EntityProxy, entity_id: str, prov: dict[str, Any], record: Record
) -> None:
    for address in proxy.get("addressEntity"):
        target = checked_id(address, "addressEntity")
        link = Registration(entity_id, target, record_id=entity_id, **prov)
        record.items.append(Item(link, (("addressEntity", target, (NodeLabel.ADDRESS,)),)))


def _names(proxy: EntityProxy) -> tuple[str, tuple[str, ...]]:
    every = [v for prop in _NAME_PROPS if prop in proxy.schema.properties for v in proxy.get(prop)]
    name = proxy.caption if proxy.caption and proxy.caption != proxy.schema.label else None
    name = name or (every[0] if every else None)
    if not name:
        raise ReadError("name", "the entity has no name")
    aliases = tuple(dict.fromkeys(v for v in every if v != name))
    return name, aliases


def _identifiers(proxy: EntityProxy) -> tuple[str, ...]:
    found: list[str] = []
    values: list[str] = []
    for prop, value in proxy.itervalues():
        if prop.type.name == "identifier":
            found.append(f"{prop.name}:{value}")
            values.append(value)
    return tuple(dict.fromkeys([*uscc_identifiers(values), *found]))


def _first(proxy: EntityProxy, prop: str) -> str | None:
    if prop not in proxy.schema.properties:
        return None
    value = proxy.first(prop)
    return value.strip() or None if isinstance(value, str) else None


def _ref(proxy: EntityProxy, prop: str) -> str:
    value = _first(proxy, prop)
    if value is None:
        raise ReadError(prop, f"a {proxy.schema.name} without {prop}")
    return checked_id(value, prop)


def _ends(proxy: EntityProxy, source: str, target: str) -> tuple[str, str]:
    return _ref(proxy, source), _ref(proxy, target)


def _ordered(start: object, end: object) -> None:
    if start is not None and end is not None and end < start:  # type: ignore[operator]
        raise ReadError("endDate", f"end {end} is before start {start}", str(end))


# -- export -------------------------------------------------------------------------------


def entity_dicts(item: Node | Link) -> Iterator[dict[str, Any]]:
    """The FtM entities (as dicts) for one creditnet node or link: the same mapping backwards.

    Every dict passes ``followthemoney``'s own validation (the export checks each line).
    """
    if isinstance(item, Company):
        proxy = ftm_model.make_entity("Company")
        proxy.id = item.id
        proxy.add("name", item.name)
        proxy.add("alias", list(item.aliases))
        proxy.add("jurisdiction", item.jurisdiction, quiet=True)
        proxy.add("incorporationDate", _iso(item.founded))
        proxy.add("dissolutionDate", _iso(item.dissolved))
        proxy.add("status", item.status.value if item.status else None)
        _add_identifiers(proxy, item.identifiers)
    elif isinstance(item, Person):
        proxy = ftm_model.make_entity("Person")
        proxy.id = item.id
        proxy.add("name", item.name)
        proxy.add("alias", list(item.aliases))
        proxy.add("nationality", item.nationality, quiet=True)
        proxy.add("birthDate", str(item.birth_year) if item.birth_year else None)
        _add_identifiers(proxy, item.identifiers)
    elif isinstance(item, Address):
        proxy = ftm_model.make_entity("Address")
        proxy.id = item.id
        proxy.add("full", item.text)
        proxy.add("country", item.region, quiet=True)
    elif isinstance(item, Sanction):
        proxy = ftm_model.make_entity("Sanction")
        proxy.id = item.id
        proxy.add("entity", item.subject_id)
        proxy.add("authority", item.authority)
        proxy.add("program", item.legal_basis or str(item.list))
        proxy.add("startDate", _iso(item.effective_start))
        proxy.add("endDate", _iso(item.end))
        proxy.add("reason", item.description)
    elif isinstance(item, Ownership):
        proxy = ftm_model.make_entity("Ownership")
        proxy.id = _link_id(item)
        proxy.add("owner", item.owner_id)
        proxy.add("asset", item.company_id)
        if item.share is not None:
            proxy.add("percentage", f"{item.share:g}")
        elif item.share_min is not None and item.share_max is not None:
            proxy.add("percentage", f"{item.share_min:g}-{item.share_max:g}")  # a range
        proxy.add("startDate", _iso(item.start))
        proxy.add("endDate", _iso(item.end))
    elif isinstance(item, Officer):
        proxy = ftm_model.make_entity("Directorship")
        proxy.id = _link_id(item)
        proxy.add("director", item.person_id)
        proxy.add("organization", item.company_id)
        proxy.add("role", item.role_text or item.role.value)
        if item.interest:
            proxy.add("description", item.interest)
        proxy.add("startDate", _iso(item.start))
        proxy.add("endDate", _iso(item.end))
    elif isinstance(item, Registration):
        # FtM has no registration entity: the address is a property of the entity (addressEntity).
        return
    else:
        return
    if item.source_dataset:
        proxy.add("publisher", item.source_dataset, quiet=True)
    data = proxy.to_dict()
    yield data


def add_addresses(data: dict[str, Any], address_ids: list[str]) -> dict[str, Any]:
    """``data`` (a Company or Person entity) with its registered addresses as addressEntity."""
    if address_ids:
        data["properties"]["addressEntity"] = sorted(address_ids)
    return data


def _add_identifiers(proxy: EntityProxy, identifiers: tuple[str, ...]) -> None:
    for identifier in identifiers:
        scheme, _, value = identifier.partition(":")
        prop = scheme if scheme in proxy.schema.properties else "registrationNumber"
        if prop in proxy.schema.properties and proxy.schema.properties[prop].type.name == (
            "identifier"
        ):
            proxy.add(prop, value or identifier, quiet=True)


def _link_id(link: Link) -> str:
    if link.record_id:
        return link.record_id
    # Bundle links have no record id: one made from the natural key, stable across exports.
    import hashlib

    return "cn-" + hashlib.sha1(link.key.encode()).hexdigest()


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]
