"""Lookups that many reports ask alike, kept while the store has not changed.

A nominee director with 38,000 positions is a principal person of 38,000 companies, and each of
their credit reports asks for the nominee's restrictions (the incentive check of principal
persons): working them out walks every position and every holding, the slowest read of a report
by far, and its answer is the same for every one of those reports until the graph changes.
:func:`shared_lookup_many` keeps such answers per store (for the entities whose lookup was seen
to be slow, :data:`HEAVY_SECONDS`: for the others two version reads would cost more than they
save), tagged with the store's version
(:meth:`Versioned.read_version`; on Neo4j the bookmark of the last committed transaction), and
gives a kept answer only while that version is unchanged, so it is never staler than a fresh
lookup made at the same moment.

An answer is kept only when the version read before the lookup equals the one read after it: a
write that committed while the lookup ran (which the lookup may or may not have seen) leaves
nothing behind. A store without versions is simply asked each time.

The first slow lookup of an entity is kept too, when the store remembers the version as of this
thread's last read (:class:`RemembersReadVersion`; on Neo4j the bookmark of the report's own
extraction, just before): that version is no later than what the lookup saw, so if it still
holds after the lookup, nothing was written in between and the answer is exact for it. A
report's nominee principal is then looked up once per process, not twice.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol, cast, runtime_checkable

from graph.rules.engine import EntityLookup, lookup_many
from graph.rules.schema import RuleSet
from graph.store import GraphReader

__all__ = [
    "RemembersReadVersion",
    "SharedLookups",
    "Versioned",
    "VersionedReader",
    "shared_lookup_many",
]

CAPACITY = 4096
"""Entities kept per store (the most recently used)."""
HEAVY_SECONDS = 0.015
"""A lookup at least this slow marks its entities as worth keeping (a nominee's takes tens of
milliseconds at 100k companies and more at 1M, a common principal's one or two)."""


@runtime_checkable
class Versioned(Protocol):
    def read_version(self) -> str | None:
        """An opaque token that changes whenever a write commits (None: not known now)."""


class VersionedReader(GraphReader, Versioned, Protocol):
    pass


@runtime_checkable
class RemembersReadVersion(Protocol):
    def last_read_version(self) -> str | None:
        """The version as of the end of this thread's last read of the store, known without
        asking it (None: no read yet): no later than what this thread's next read sees."""


@dataclass(frozen=True, slots=True)
class _Kept:
    version: str
    rules: RuleSet
    lookup: EntityLookup | None
    """None: the id names no company or person."""


class SharedLookups:
    """One store's kept lookups, by (entity id, date), least recently used first."""

    def __init__(self, capacity: int = CAPACITY, heavy_seconds: float = HEAVY_SECONDS) -> None:
        self.capacity = capacity
        self.heavy_seconds = heavy_seconds
        self._kept: OrderedDict[tuple[str, date], _Kept] = OrderedDict()
        self._heavy: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def lookup_many(
        self, store: VersionedReader, ids: Iterable[str], as_of: date, rules: RuleSet
    ) -> dict[str, EntityLookup]:
        wanted = list(dict.fromkeys(ids))
        with self._lock:
            heavy = any(entity_id in self._heavy for entity_id in wanted)
        if not heavy:
            # Most principals are cheap to look up: the two version reads would cost more
            # than they save. Only the ones seen to be slow are kept from then on, and this
            # first slow answer with them when a version known for free still holds after it.
            before = store.last_read_version() if isinstance(store, RemembersReadVersion) else None
            started = time.perf_counter()
            found = lookup_many(store, wanted, as_of, rules)
            if time.perf_counter() - started >= self.heavy_seconds:
                with self._lock:
                    for entity_id in wanted:
                        self._heavy[entity_id] = None
                        self._heavy.move_to_end(entity_id)
                    while len(self._heavy) > 4 * self.capacity:
                        self._heavy.popitem(last=False)
                if before is not None and store.read_version() == before:
                    self._keep(before, rules, wanted, as_of, found)
            return found
        return self._kept_or_fresh(store, wanted, as_of, rules)

    def _keep(
        self,
        version: str,
        rules: RuleSet,
        wanted: list[str],
        as_of: date,
        found: dict[str, EntityLookup],
    ) -> None:
        with self._lock:
            for entity_id in wanted:
                self._kept[(entity_id, as_of)] = _Kept(version, rules, found.get(entity_id))
                self._kept.move_to_end((entity_id, as_of))
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def _kept_or_fresh(
        self, store: VersionedReader, wanted: list[str], as_of: date, rules: RuleSet
    ) -> dict[str, EntityLookup]:
        before = store.read_version()
        if before is None:
            return lookup_many(store, wanted, as_of, rules)
        found: dict[str, EntityLookup] = {}
        missing: list[str] = []
        with self._lock:
            for entity_id in wanted:
                kept = self._kept.get((entity_id, as_of))
                if kept is not None and kept.version == before and kept.rules is rules:
                    self._kept.move_to_end((entity_id, as_of))
                    if kept.lookup is not None:
                        found[entity_id] = kept.lookup
                else:
                    missing.append(entity_id)
        if not missing:
            return {i: found[i] for i in wanted if i in found}
        fresh = lookup_many(store, missing, as_of, rules)
        found.update(fresh)
        if store.read_version() == before:
            self._keep(before, rules, missing, as_of, fresh)
        return {i: found[i] for i in wanted if i in found}


_by_store: weakref.WeakKeyDictionary[object, SharedLookups] = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def shared_lookup_many(
    store: GraphReader, ids: Iterable[str], as_of: date, rules: RuleSet
) -> dict[str, EntityLookup]:
    """:func:`graph.rules.engine.lookup_many`, answered from the store's kept lookups where the
    store has not changed since they were made (see the module doc)."""
    if not isinstance(store, Versioned):
        return lookup_many(store, ids, as_of, rules)
    with _by_store_lock:
        shared = _by_store.get(store)
        if shared is None:
            shared = _by_store[store] = SharedLookups()
    return shared.lookup_many(cast(VersionedReader, store), ids, as_of, rules)
