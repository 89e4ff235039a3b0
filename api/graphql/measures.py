"""The GraphQL ``Measure`` enum follows the measures catalogue of the rules in force.

Measures are data (spec/DOMAIN.md "Lists and measures are data"): an agency's rules file may add
its own. Strawberry makes GraphQL enum types from Python enums, and the Python enum
(:class:`graph.model.Measure`, the shipped names) is fixed at import time, while the rules file is
read when the app starts. So :func:`add_catalogue_measures` adds the catalogue's other measures to
the ``Measure`` type of one built schema: each :class:`strawberry.Schema` converts its own copy of
the type, so schemas built with other rules are not affected.
"""

from __future__ import annotations

from enum import StrEnum

import strawberry
from graphql import GraphQLEnumValue
from strawberry.schema.schema_converter import CustomGraphQLEnumType

from graph.rules.schema import Catalogue

__all__ = ["MEASURE_TYPE", "add_catalogue_measures"]

MEASURE_TYPE = "Measure"
"""The name of the GraphQL enum of measures."""


def add_catalogue_measures(schema: strawberry.Schema, catalogue: Catalogue) -> list[str]:
    """Make ``schema``'s ``Measure`` enum accept and return every measure of ``catalogue``.

    Returns the names added (those not shipped). A schema that never mentions ``Measure`` is
    left alone.

    Examples
    --------
    >>> from api.graphql.schema import build_schema
    >>> from graph.rules.schema import Catalogue, MeasureEntry, load_rules
    >>> shipped = load_rules(None).catalogue
    >>> mine = Catalogue(shipped.lists, {**shipped.measures, "PROVINCIAL_BAN": MeasureEntry(
    ...     meaning="may not bid in provincial tenders", kind="restriction")})
    >>> schema = build_schema()
    >>> add_catalogue_measures(schema, mine)
    ['PROVINCIAL_BAN']
    >>> "may not bid in provincial tenders" in schema.as_str()
    True
    """
    enum_type = schema._schema.type_map.get(MEASURE_TYPE)
    if enum_type is None:
        return []
    # Strawberry's own enum type: values for introspection, validation and output, and
    # ``wrapped_cls`` to turn an input value into a Python value.
    assert isinstance(enum_type, CustomGraphQLEnumType)
    values = enum_type.values
    added = [name for name in catalogue.measure_names() if name not in values]
    if not added:
        return []
    for name in added:
        values[name] = GraphQLEnumValue(name, description=catalogue.measures[name].meaning)
    # graphql-core caches the value -> name map on first use; it must see the new values.
    enum_type.__dict__.pop("_value_lookup", None)
    # Inputs come back as members of an enum of every name (equal to the name as a string).
    enum_type.wrapped_cls = StrEnum(MEASURE_TYPE, {name: name for name in values})  # type: ignore[misc]
    return added
