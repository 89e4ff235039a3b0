"""Query limits that cost time linear in the document: depth, aliases, estimated cost, nesting.

A document can spread fragments into each other so that its expanded tree is exponentially
larger than its text (twenty fragments, each spreading the one before twice, expand to 2^20
fields). Rules that walk the expanded tree take that long before they can refuse it. Here every
definition (operation or fragment) is read once into a *summary*: its own contribution plus how
many times it spreads each fragment. Fragments are then resolved in dependency order, each once,
so the whole check is linear in the document; values are capped just above the limit, so the
numbers stay small however large the expansion.

The cost model estimates the work of an operation before it runs: every field costs 1, a few
root fields cost what their extraction costs (``FIELD_COSTS``), a field with a ``first`` argument
multiplies the cost of its selection by that page size (a variable counts as the largest page), a
list without ``first`` multiplies by ``LIST_FACTOR``, and ``paths`` costs by hops times paths.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
)
from graphql.language import Visitor

__all__ = [
    "FIELD_COSTS",
    "LIST_FACTOR",
    "QueryLimits",
    "check_nesting",
    "limit_rule",
]

LIST_FACTOR = 5
"""How many items a list without a ``first`` argument is assumed to hold."""

FIELD_COSTS: dict[str, int] = {
    # whole-graph scans and multi-hop extractions
    "Query.marketBanCandidates": 10_000,
    "Query.search": 500,
    "Query.creditReport": 20,
    "Query.beneficialOwners": 20,
    "Query.ownershipClosure": 20,
    # one extraction for every id, but up to thousands of them
    "Query.screen": 1_000,
    # every record in force on a batch, and the downstream closure of all their batches
    "Query.recallNotices": 1_000,
    # a closure, the officers' restrictions and the phoenix look-back
    "Query.signals": 50,
    "Query.cycles": 20,
}
PATH_HOP_COST = 100
"""``paths`` costs this times ``maxHops`` times ``first``: each hop widens the search frontier."""
MAX_PATH_HOPS = 10
DEFAULT_PATH_HOPS = 6


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits of one GraphQL operation (``ApiSettings`` fills them from the settings)."""

    max_depth: int = 10
    max_aliases: int = 30
    max_cost: int = 50_000
    max_nesting: int = 40
    max_page_size: int = 100
    default_page_size: int = 20


_REMEMBERED_LENGTH = 8192
"""Queries up to this many characters have their answer remembered (1024 of them, at most 8 MB):
clients send the same few query texts, and the scan is a Python loop over every character."""


def check_nesting(query: str, limit: int) -> str | None:
    """Why ``query`` nests brackets deeper than ``limit``, or None when it does not.

    graphql-core's parser recurses once per level; a document of a few thousand brackets would
    hit Python's recursion limit in the parser. This scan is linear and needs no parser: it
    skips strings, block strings and comments, and counts ``{``, ``[`` and ``(``.
    """
    if len(query) <= _REMEMBERED_LENGTH:
        return _remembered_nesting(query, limit)
    return _nesting(query, limit)


@functools.lru_cache(maxsize=1024)
def _remembered_nesting(query: str, limit: int) -> str | None:
    return _nesting(query, limit)


def _nesting(query: str, limit: int) -> str | None:
    depth = 0
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if char == '"':
            if query.startswith('"""', i):
                end = query.find('"""', i + 3)
                while end > 0 and query[end - 1] == "\\":
                    end = query.find('"""', end + 3)
                i = n if end < 0 else end + 3
                continue
            i += 1
            while i < n and query[i] not in '"\n':
                i += 2 if query[i] == "\\" else 1
            i += 1
            continue
        if char in "{[(":
            depth += 1
            if depth > limit:
                return f"the document nests brackets more than {limit} deep"
        elif char in "}])":
            depth -= 1
        i += 1
    return None


@dataclass
class _Summary:
    """One definition's depth, aliases and cost, in terms of the fragments it spreads."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    # fragment name -> (depth offset at which it is spread, times it is spread for aliases,
    # cost multiplier summed over its spreads)
    spreads: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def spread(self, name: str, depth: int, times: int, multiplier: int) -> None:
        old = self.spreads.get(name, (0, 0, 0))
        self.spreads[name] = (max(old[0], depth), old[1] + times, old[2] + multiplier)


def _named(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Analyser:
    def __init__(self, schema: GraphQLSchema, limits: QueryLimits) -> None:
        self.schema = schema
        self.limits = limits
        # values above this are all "too much": capping keeps the arithmetic on small numbers
        self.cap = max(limits.max_cost, limits.max_aliases, limits.max_depth) + 1

    def _clip(self, value: int) -> int:
        return min(value, self.cap)

    def _int_argument(self, node: FieldNode, name: str, default: int, largest: int) -> int:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                try:
                    return max(0, min(int(argument.value.value), largest))
                except ValueError:
                    return largest
            if isinstance(argument.value, VariableNode):
                return largest  # unknown until execution: assume the worst
            return default
        return default

    def _field_cost(
        self, parent: GraphQLNamedType | None, node: FieldNode
    ) -> tuple[int, int, GraphQLNamedType | None]:
        """(own cost, multiplier of the selection's cost, the field's named type)."""
        name = node.name.value
        if name.startswith("__") or (parent is not None and parent.name.startswith("__")):
            # introspection: each field once; its lists are the schema's, bounded and small
            if name == "__schema":
                return 1, 1, self.schema.get_type("__Schema")
            if name == "__type":
                return 1, 1, self.schema.get_type("__Type")
            definition = (
                parent.fields.get(name)
                if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
                else None
            )
            return 1, 1, _named(definition.type) if definition else None
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 1, 1, None
        definition = parent.fields.get(name)
        if definition is None:
            return 1, 1, None  # validation reports the unknown field
        key = f"{parent.name}.{name}"
        own = FIELD_COSTS.get(key, 1)
        multiplier = 1
        if "first" in definition.args:
            default = definition.args["first"].default_value
            page = default if isinstance(default, int) else self.limits.default_page_size
            multiplier = self._int_argument(node, "first", page, self.limits.max_page_size)
        elif _is_list(definition.type) and not parent.name.endswith("Connection"):
            multiplier = LIST_FACTOR
        if key == "Query.paths":
            hops = self._int_argument(node, "maxHops", DEFAULT_PATH_HOPS, MAX_PATH_HOPS)
            own = PATH_HOP_COST * max(hops, 1) * max(multiplier, 1)
        return own, multiplier, _named(definition.type)

    def _walk(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        summary: _Summary,
        depth: int,
        multiplier: int,
    ) -> None:
        """Add ``selections`` at ``depth`` to ``summary``, their cost counted ``multiplier``
        times (the product of the page sizes above them); fragment spreads are only noted."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                own, times, child_type = self._field_cost(parent, selection)
                # only data fields count for depth: introspection nests by type references
                introspective = selection.name.value.startswith("__") or (
                    parent is not None and parent.name.startswith("__")
                )
                deep = 0 if introspective else 1
                summary.depth = max(summary.depth, depth + deep)
                if selection.alias is not None:
                    summary.aliases = self._clip(summary.aliases + 1)
                summary.cost = self._clip(summary.cost + multiplier * own)
                if selection.selection_set is not None:
                    self._walk(
                        selection.selection_set,
                        child_type,
                        summary,
                        depth + deep,
                        self._clip(multiplier * times),
                    )
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self._walk(selection.selection_set, inner, summary, depth, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                summary.spread(selection.name.value, depth, 1, multiplier)

    def summarise(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> _Summary:
        summary = _Summary()
        self._walk(selections, parent, summary, 0, 1)
        return summary

    def resolve(self, summaries: dict[str, _Summary]) -> dict[str, tuple[int, int, int]]:
        """(depth, aliases, cost) of every fragment, each resolved once in dependency order.

        Fragments in a cycle (or spreading one in a cycle) stay unresolved; graphql-core's
        NoFragmentCycles rule reports them.
        """
        resolved: dict[str, tuple[int, int, int]] = {}
        waiting = {name: set(s.spreads) & summaries.keys() for name, s in summaries.items()}
        users: dict[str, list[str]] = {name: [] for name in summaries}
        for name, needs in waiting.items():
            for needed in needs:
                users[needed].append(name)
        ready = [name for name, needs in waiting.items() if not needs]
        while ready:
            name = ready.pop()
            resolved[name] = self.total(summaries[name], resolved)
            for user in users[name]:
                waiting[user].discard(name)
                if not waiting[user]:
                    ready.append(user)
        return resolved

    def total(
        self, summary: _Summary, resolved: dict[str, tuple[int, int, int]]
    ) -> tuple[int, int, int]:
        depth, aliases, cost = summary.depth, summary.aliases, summary.cost
        for name, (offset, times, multiplier) in summary.spreads.items():
            inner = resolved.get(name)
            if inner is None:
                continue  # unknown or cyclic: validation reports it
            depth = self._clip(max(depth, offset + inner[0]))
            aliases = self._clip(aliases + times * inner[1])
            cost = self._clip(cost + multiplier * inner[2])
        return depth, aliases, cost

    def check(self, document: DocumentNode) -> Iterable[str]:
        fragments: dict[str, _Summary] = {}
        operations: list[tuple[str, _Summary]] = []
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                parent = self.schema.get_type(definition.type_condition.name.value)
                fragments[definition.name.value] = self.summarise(definition.selection_set, parent)
            elif isinstance(definition, OperationDefinitionNode):
                root = self.schema.get_root_type(definition.operation)
                name = definition.name.value if definition.name else "the operation"
                operations.append((name, self.summarise(definition.selection_set, root)))
        resolved = self.resolve(fragments)
        limits = self.limits
        for name, summary in operations:
            depth, aliases, cost = self.total(summary, resolved)
            if depth > limits.max_depth:
                yield f"{name} exceeds maximum operation depth of {limits.max_depth} fields"
            if aliases > limits.max_aliases:
                yield f"{name} uses more than {limits.max_aliases} aliases"
            if cost > limits.max_cost:
                yield (
                    f"{name} would cost more than {limits.max_cost} (estimated: at least "
                    f"{cost}); ask for smaller pages (first), fewer hops, or split the query"
                )


def limit_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """A validation rule checking ``limits`` on the whole document at once, in linear time.

    Build it once per schema: strawberry's validation cache keys on the rule classes.
    """

    class QueryLimitRule(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
            context = self.context
            if not isinstance(context, ValidationContext):
                return Visitor.BREAK  # an SDL document: no operations to limit
            for message in _Analyser(context.schema, limits).check(node):
                self.report_error(
                    GraphQLError(message, node, extensions={"code": "QUERY_TOO_COMPLEX"})
                )
            return Visitor.BREAK

    return QueryLimitRule
