"""The GraphStore port: what every backend (embedded networkx, Neo4j) offers the rest of creditnet.

Backends store and extract; domain logic (rules, scores, ownership arithmetic) runs in Python over
the :class:`Subgraph` values the extraction primitives return, so both backends give the same
answers by construction. The primitives are coarse on purpose: one call answers "the typed
neighbourhood of these ids up to k hops as of a date", never one node at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from graph.model import (
    Address,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Direction,
    EntityKind,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionStatus,
)

__all__ = [
    "GraphReader",
    "GraphStore",
    "GraphWriter",
    "SearchPage",
    "Stats",
    "Step",
    "Subgraph",
    "WriteBatch",
    "WriteResult",
    "may_be_live",
]


@dataclass(frozen=True, slots=True)
class Step:
    """One kind of link a traversal may follow, and which way.

    ``roles`` narrows OFFICER_OF links to those roles (None: any role).
    """

    link: LinkType
    direction: Direction
    roles: frozenset[OfficerRole] | None = None

    def __post_init__(self) -> None:
        if self.link is LinkType.SANCTIONED:
            raise ValueError("SANCTIONED is not traversed: sanctions come with every node")
        if self.roles is not None and self.link is not LinkType.OFFICER_OF:
            raise ValueError("roles only narrow OFFICER_OF steps")

    def accepts(self, link: Link) -> bool:
        if link.type is not self.link:
            return False
        return self.roles is None or (isinstance(link, Officer) and link.role in self.roles)


@dataclass(slots=True)
class Subgraph:
    """Nodes, links and sanction records extracted from a store, ready for pure-Python questions.

    ``sanctions`` holds every record (any status, any date) whose subject is in ``nodes``: the
    caller decides what is in force. Links were filtered by the ``as_of`` of the extraction.
    """

    nodes: dict[str, Company | Person | Address] = field(default_factory=dict)
    sanctions: dict[str, Sanction] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    """Links by their natural key."""

    def add_link(self, link: Link) -> None:
        self.links[link.key] = link

    def merge(self, other: Subgraph) -> None:
        self.nodes.update(other.nodes)
        self.sanctions.update(other.sanctions)
        self.links.update(other.links)

    @property
    def ownerships(self) -> list[Ownership]:
        return [link for link in self.links.values() if isinstance(link, Ownership)]

    @property
    def officers(self) -> list[Officer]:
        return [link for link in self.links.values() if isinstance(link, Officer)]

    @property
    def registrations(self) -> list[Registration]:
        return [link for link in self.links.values() if isinstance(link, Registration)]

    def sanctions_of(self, subject_id: str) -> list[Sanction]:
        return sorted(
            (s for s in self.sanctions.values() if s.subject_id == subject_id), key=lambda s: s.id
        )

    def canonical(self) -> tuple[list[Node], list[Link]]:
        """Nodes and links in a fixed order, for comparing extractions across stores."""
        nodes: list[Node] = [self.nodes[k] for k in sorted(self.nodes)]
        nodes += [self.sanctions[k] for k in sorted(self.sanctions)]
        return nodes, [self.links[k] for k in sorted(self.links)]


@dataclass(slots=True)
class WriteBatch:
    """Nodes and links to upsert together, atomically. Nodes are applied before links."""

    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.nodes) + len(self.links)


@dataclass(frozen=True, slots=True)
class WriteResult:
    nodes: int
    links: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[Company | Person]
    total: int


@dataclass(frozen=True, slots=True)
class Stats:
    nodes: Mapping[str, int]
    links: Mapping[str, int]


class GraphReader(Protocol):
    def get(self, node_id: str) -> Node | None:
        """The node (entity, address or sanction record) with this id, or None."""

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        """The nodes among ``node_ids`` that exist, by id (one round trip)."""

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        """For the ids that exist, their label (one round trip). Used to check references."""

    def search(
        self, text: str, kind: EntityKind | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        """Companies and persons whose id equals ``text`` or whose name contains it.

        Matching is on :func:`graph.model.normalize_search_text` forms. Order: exact id match first,
        then names that start with the text, then the rest; ties by name, then id.
        """

    def neighbourhood(
        self,
        seeds: Iterable[str],
        *,
        steps: Sequence[Step],
        hops: int,
        as_of: date | None,
    ) -> Subgraph:
        """The typed neighbourhood of ``seeds`` up to ``hops`` hops.

        At every hop, from every node reached, follow the links that one of ``steps`` accepts and
        that are valid at ``as_of`` (None: every link, whatever its dates). The result holds the
        seeds that exist, every node reached, every link followed, and every sanction record of
        each node. A node is expanded once, at the first hop it is reached.
        """

    def sanctions(
        self, subject_ids: Iterable[str] | None = None, *, live_at: date | None = None
    ) -> Iterator[Sanction]:
        """Sanction records of these subjects (None: every record), ordered by id.

        ``live_at`` keeps only records that may be in force that day (see :func:`may_be_live`):
        a coarse filter the store can apply where the data is; the caller still decides.
        """

    def cases(
        self,
        *,
        subject_ids: Iterable[str] | None = None,
        kind: CaseKind | None = None,
        status: CaseStatus | None = None,
    ) -> list[Case]:
        """Due-process cases matching every filter given, ordered by id."""

    def stats(self) -> Stats:
        """Counts of nodes by label and links by type (SANCTIONED included)."""


class GraphWriter(Protocol):
    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        """Upsert the batch atomically and durably; return only once it is acknowledged.

        Idempotent: writing the same batch twice leaves the store as after once. A node merges
        with the stored one (known values win, None keeps the old value); a link is keyed by its
        natural key. Raises :class:`graph.errors.InvalidInput` (and writes nothing) when a link
        names a missing node or an id is already used by a node of another label.

        ``expect`` makes the write conditional (optimistic concurrency): for each case id, the
        ``version`` the caller read (0: the case must not exist yet). When any stored version
        differs, nothing is written and :class:`graph.errors.Conflict` is raised.
        """


@runtime_checkable
class GraphStore(GraphReader, GraphWriter, Protocol):
    """A store both reads and writes; ``close`` releases it."""

    name: str

    def close(self) -> None: ...

    def clear(self) -> None:
        """Delete everything (tests, ``demo``). Irreversible."""


def may_be_live(sanction: Sanction, day: date) -> bool:
    """Whether ``sanction`` may be in force on ``day`` as far as the record itself says: active (or
    its status changed after that day), started (start, else decided) and not ended. Publicity
    periods are policy and are left to the rule engine."""
    if sanction.status is not SanctionStatus.ACTIVE and (
        sanction.status_date is None or sanction.status_date <= day
    ):
        return False
    start = sanction.effective_start
    return (start is None or start <= day) and (sanction.end is None or day < sanction.end)


def ownership_closure(
    store: GraphReader,
    seeds: Iterable[str],
    *,
    direction: Direction,
    as_of: date | None,
    max_hops: int = 64,
) -> Subgraph:
    """Every OWNS link reachable from ``seeds`` upward (IN: who owns them) or downward (OUT)."""
    return store.neighbourhood(
        seeds, steps=[Step(LinkType.OWNS, direction)], hops=max_hops, as_of=as_of
    )
