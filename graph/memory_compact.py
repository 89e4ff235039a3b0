"""How the embedded store keeps a million companies in a few gigabytes.

:class:`graph.memory.MemoryStore` keeps a networkx ``DiGraph`` whose dicts hold the model objects
themselves, with no attribute dict around them (the layout is described there). This module
holds what makes those objects small and shared:

- :class:`Interner` makes equal field values one object: ids named by other records (a link's
  endpoints, a sanction's subject) become the id string of the node they name, and repeated
  texts (authorities, legal bases, industries, roles as text), dates, floats and large ints are
  shared. Without it every link carries its own copies of two ids and a date, parsed from a CSV
  row or a journal line.
- the parallel-links container: a DiGraph has one value per (source, target) pair, which here is
  the one link between them or, rarely, a tuple of the several links the pair has (an owner who
  is also an officer), instead of a MultiDiGraph's two dicts per pair.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, TypeAlias

from graph.model import Link, Node

__all__ = ["NO_LINKS", "Held", "Interner", "held_links", "iter_held", "with_link"]

Held: TypeAlias = Any
"""One (source, target) pair's links: a link, or a tuple of two or more (typed loosely: T1's
link classes join the union while this is being written)."""

NO_LINKS: Any = MappingProxyType({})
"""The adjacency (succ or pred) of every node without links that way: one shared, read-only
mapping instead of an empty dict per node (most persons have no incoming links, addresses no
outgoing ones). Writers replace it with a dict of their own before adding a link."""

_NO_EXTRA: Mapping[str, object] = MappingProxyType({})

_UNIQUE_FIELDS = frozenset(
    {"id", "name", "text", "national_id_hash", "record_id", "evidence", "reason", "decision_reason"}
)
"""Fields whose values are mostly unique: sharing them would only cost an index entry each."""


class Interner:
    """Replaces the field values of nodes and links by shared equal objects, in place.

    The objects are frozen dataclasses; a field is only ever set to an *equal* value, so any
    reader holding the object sees the same value before and after. ``ids`` is the store's
    node dict (id -> node): a string naming a stored node becomes that node's id string.
    """

    __slots__ = ("_dates", "_fields", "_floats", "_ids", "_ints")

    def __init__(self, ids: Mapping[str, Node]) -> None:
        self._ids = ids
        self._dates: dict[date, date] = {}
        self._floats: dict[float, float] = {}
        self._ints: dict[int, int] = {}
        self._fields: dict[type[Any], tuple[str, ...]] = {}

    def clear(self) -> None:
        self._dates.clear()
        self._floats.clear()
        self._ints.clear()

    def _shared_fields(self, cls: type[Any]) -> tuple[str, ...]:
        names = self._fields.get(cls)
        if names is None:
            slots: tuple[str, ...] = getattr(cls, "__slots__", ())
            names = tuple(name for name in slots if name not in _UNIQUE_FIELDS)
            self._fields[cls] = names
        return names

    def share(self, obj: Node | Link) -> None:
        """Make ``obj``'s repeated field values shared objects (in place)."""
        ids, dates, floats, ints = self._ids, self._dates, self._floats, self._ints
        setter = object.__setattr__
        for name in self._shared_fields(type(obj)):
            value = getattr(obj, name)
            kind = type(value)
            shared: object
            if kind is str:
                node = ids.get(value)
                shared = node.id if node is not None else sys.intern(value)
            elif kind is date:
                shared = dates.setdefault(value, value)
            elif kind is float:
                # NaN equals nothing and 0.0 equals -0.0: both are left as they are.
                if value != value or value == 0.0:
                    continue
                shared = floats.setdefault(value, value)
            elif kind is int and not -5 <= value <= 256:  # smaller ints are shared by Python
                shared = ints.setdefault(value, value)
            elif kind is dict and not value:
                # An empty ``extra`` (loaders build one per row): equal to the shared empty one.
                shared = _NO_EXTRA
            else:
                continue
            if shared is not value:
                setter(obj, name, shared)


def held_links(held: Held) -> tuple[Link, ...]:
    """The links of one (source, target) pair as a tuple."""
    return held if held.__class__ is tuple else (held,)


def with_link(held: Held | None, link: Link, merge: Any) -> Held:
    """``held`` with ``link`` upserted by its natural key (``merge(old, new)`` when one exists)."""
    if held is None:
        return link
    links = held_links(held)
    key = link.key
    for index, old in enumerate(links):
        if old.key == key:
            if old == link:
                return held
            merged = merge(old, link)
            if len(links) == 1:
                return merged
            return (*links[:index], merged, *links[index + 1 :])
    return (*links, link)


def iter_held(adjacency: Mapping[str, Held]) -> Iterator[tuple[str, Link]]:
    """(other end, link) for every link in one node's adjacency (succ or pred)."""
    for other, held in adjacency.items():
        if held.__class__ is tuple:
            for link in held:
                yield other, link
        else:
            yield other, held
