"""Flat property maps for the model types, shared by the journal and the Neo4j adapter.

A node or link becomes one flat map of scalar properties (extra columns side by side with the
known fields, dates as ``datetime.date``), and back. Unknown (None) values are left out, so that
an upsert never overwrites a known value with "unknown".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date
from enum import Enum
from typing import Any, Final, TypeVar

from graph.model import (
    Address,
    Batch,
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
    CommitmentKind,
    CommitmentOutcome,
    Company,
    CompanyStatus,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Produced,
    Product,
    ProductCategory,
    Registration,
    Sanction,
    SanctionStatus,
    Scalar,
    Severity,
    Shipped,
    TransformedInto,
)

__all__ = [
    "LINK_CLASSES",
    "NODE_CLASSES",
    "Props",
    "link_from_props",
    "link_props",
    "merge_node",
    "node_from_props",
    "node_props",
]

Props = dict[str, Scalar | date | list[str]]

NODE_CLASSES: Final[dict[NodeLabel, type[Node]]] = {
    NodeLabel.COMPANY: Company,
    NodeLabel.PERSON: Person,
    NodeLabel.ADDRESS: Address,
    NodeLabel.SANCTION: Sanction,
    NodeLabel.CASE: Case,
    NodeLabel.COMMITMENT: Commitment,
    NodeLabel.PRODUCT: Product,
    NodeLabel.BATCH: Batch,
}
LINK_CLASSES: Final[dict[LinkType, type[Link]]] = {
    LinkType.OWNS: Ownership,
    LinkType.OFFICER_OF: Officer,
    LinkType.REGISTERED_AT: Registration,
    LinkType.PRODUCED: Produced,
    LinkType.SHIPPED: Shipped,
    LinkType.TRANSFORMED_INTO: TransformedInto,
}

_DATE_FIELDS = frozenset(
    {
        "founded",
        "dissolved",
        "decided",
        "start",
        "end",
        "status_date",
        "filed",
        "due",
        "made",
        "verified",
        "date",
        "produced",
        "expires",
    }
)
_ENUM_FIELDS: dict[str, type[Any]] = {
    # Not ``list``: any name of the lists catalogue in force is stored and returned as it is
    # (an agency's own lists included); Sanction itself maps shipped names to their constants.
    "status": CompanyStatus,  # replaced per class below
    "severity": Severity,
    "role": OfficerRole,
    "kind": CaseKind,  # replaced per class below
    "outcome": CommitmentOutcome,
    "category": ProductCategory,
}
_FLOAT_FIELDS = frozenset(
    {"registered_capital", "fine", "share", "share_min", "share_max", "quantity"}
)
_INT_FIELDS = frozenset({"birth_year", "version"})
_BOOL_FIELDS = frozenset({"disputed", "indirect"})
_TUPLE_FIELDS = frozenset({"aliases", "identifiers"})
"""Lists of strings (stored as lists: Neo4j list properties, JSON arrays in the journal)."""

_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if f.name != "extra")
    for cls in (*NODE_CLASSES.values(), *LINK_CLASSES.values())
}

T = TypeVar("T")


def _props(obj: Node | Link, dates_as_text: bool = False) -> Props:
    props: Props = {}
    for name in _FIELDS[type(obj)]:
        value = getattr(obj, name)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Enum):
            value = value._value_  # plain attribute; `.value` is a slow descriptor on 3.11
        elif dates_as_text and isinstance(value, date):
            value = value.isoformat()
        props[name] = value
    for key, extra in obj.extra.items():
        if extra is not None and key not in props:
            props[key] = extra
    return props


def node_props(node: Node, *, dates_as_text: bool = False) -> Props:
    """The node's properties without None values (``id`` included); dates as ISO text if asked."""
    return _props(node, dates_as_text)


def link_props(link: Link, *, dates_as_text: bool = False) -> Props:
    """The link's properties without None values and without its endpoints' ids."""
    props = _props(link, dates_as_text)
    for endpoint in _ENDPOINTS[link.type]:
        props.pop(endpoint, None)
    return props


_ENDPOINTS: Final[dict[LinkType, tuple[str, str]]] = {
    LinkType.OWNS: ("owner_id", "company_id"),
    LinkType.OFFICER_OF: ("person_id", "company_id"),
    LinkType.REGISTERED_AT: ("entity_id", "address_id"),
    LinkType.PRODUCED: ("company_id", "batch_id"),
    LinkType.SHIPPED: ("batch_id", "to_id"),
    LinkType.TRANSFORMED_INTO: ("input_batch_id", "output_batch_id"),
}
"""The fields of each link type that hold its source and target ids (not properties)."""


def _to_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if hasattr(value, "to_native"):  # neo4j.time.Date
        native = value.to_native()
        assert isinstance(native, date)
        return native
    return date.fromisoformat(str(value))


def _enum_converter(enum: type[Enum]) -> Callable[[object], object]:
    members = {member.value: member for member in enum}

    def convert(value: object) -> object:
        member = members.get(value)
        return member if member is not None else enum(value)

    return convert


def _converters(cls: type[Any]) -> dict[str, Callable[[object], object]]:
    converters: dict[str, Callable[[object], object]] = {}
    for name in _FIELDS[cls]:
        if name in _DATE_FIELDS:
            converters[name] = _to_date
        elif name == "status":
            converters[name] = _enum_converter(_STATUS_ENUMS.get(cls, CompanyStatus))
        elif name == "kind":
            converters[name] = _enum_converter(_KIND_ENUMS.get(cls, CaseKind))
        elif name in _ENUM_FIELDS:
            converters[name] = _enum_converter(_ENUM_FIELDS[name])
        elif name in _FLOAT_FIELDS:
            converters[name] = float  # type: ignore[assignment]
        elif name in _INT_FIELDS:
            converters[name] = int  # type: ignore[assignment]
        elif name in _BOOL_FIELDS:
            converters[name] = bool
        elif name in _TUPLE_FIELDS:
            converters[name] = _string_tuple
        else:
            converters[name] = _identity
    return converters


_STATUS_ENUMS: dict[type[Any], type[Enum]] = {Sanction: SanctionStatus, Case: CaseStatus}
_KIND_ENUMS: dict[type[Any], type[Enum]] = {Commitment: CommitmentKind}


def _string_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value)
    return (str(value),)


def _identity(value: object) -> object:
    return value


_CONVERTERS: dict[type[Any], dict[str, Callable[[object], object]]] = {
    cls: _converters(cls) for cls in _FIELDS
}


def _build(cls: type[T], props: Mapping[str, object], ignore: frozenset[str]) -> T:
    converters = _CONVERTERS[cls]
    kwargs: dict[str, object] = {}
    extra: dict[str, Scalar] = {}
    for key, value in props.items():
        convert = converters.get(key)
        if convert is not None:
            if value is not None:
                kwargs[key] = convert(value)
        elif key not in ignore:
            extra[key] = _scalar(value)
    if extra:
        kwargs["extra"] = extra
    return cls(**kwargs)


def _scalar(value: object) -> Scalar:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "iso_format"):  # neo4j temporal types
        return str(value.iso_format())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def node_from_props(label: NodeLabel | str, props: Mapping[str, object]) -> Node:
    """Rebuild a node from its flat properties; unknown keys become ``extra``."""
    cls = NODE_CLASSES[NodeLabel(label)]
    return _build(cls, props, ignore=_INTERNAL_KEYS)


def link_from_props(
    link_type: LinkType | str, source: str, target: str, props: Mapping[str, object]
) -> Link:
    """Rebuild a link from its endpoints and its flat properties."""
    kind = LinkType(link_type)
    cls = LINK_CLASSES[kind]
    source_field, target_field = _ENDPOINTS[kind]
    return _build(cls, {**props, source_field: source, target_field: target}, ignore=_INTERNAL_KEYS)


_INTERNAL_KEYS = frozenset({"key", "search_name", "kind_label"})
"""Properties the stores keep for themselves (indexes, natural keys): never model fields."""


def merge_node(old: Node, new: Node) -> Node:
    """Upsert semantics: the new node's known values win; unknown (None) keeps the old value."""
    if type(old) is not type(new):
        raise TypeError(f"cannot merge {type(old).__name__} with {type(new).__name__}")
    merged = {**node_props(old), **node_props(new)}
    return node_from_props(new.label, merged)


def merge_link(old: Link, new: Link) -> Link:
    """The same upsert semantics for two links with one natural key."""
    merged = {**link_props(old), **link_props(new)}
    return link_from_props(new.type, new.source, new.target, merged)
