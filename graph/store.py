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
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from graph.model import (
    SUPPLY_LINK_TYPES,
    Address,
    Batch,
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
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
    Product,
    Registration,
    Sanction,
    SanctionStatus,
    SupplyLink,
)

if TYPE_CHECKING:
    from graph.extraction import Extraction

__all__ = [
    "CLOSURE_HOPS",
    "SCAN_BATCH",
    "GraphReader",
    "GraphStore",
    "GraphWriter",
    "SearchPage",
    "Stats",
    "Step",
    "Subgraph",
    "SupplyGraph",
    "WriteBatch",
    "WriteResult",
    "may_be_live",
    "scan_ids",
    "scan_kinds",
    "versioned_as",
]


SCAN_BATCH: Final = 10_000
"""Nodes (or link sources) per batch of :meth:`GraphReader.scan`."""

CLOSURE_HOPS: Final = 64
"""How deep one closure extraction goes. Control has no hop limit in DOMAIN.md: a closure that
reaches this far is continued from its edge (:func:`queries.ownership.extract_closure`); the
bound only keeps one traversal from running away on a broken chain."""


@dataclass(frozen=True, slots=True)
class Step:
    """One kind of link a traversal may follow, and which way.

    ``roles`` narrows OFFICER_OF links to those roles (None: any role). ``stated`` follows only
    the indirect interests a source stated (:attr:`Ownership.indirect`) instead of the holdings:
    those are shown beside computed shares and never traversed as holdings.
    """

    link: LinkType
    direction: Direction
    roles: frozenset[OfficerRole] | None = None
    stated: bool = False

    def __post_init__(self) -> None:
        if self.link is LinkType.SANCTIONED:
            raise ValueError("SANCTIONED is not traversed: sanctions come with every node")
        if self.link in SUPPLY_LINK_TYPES:
            raise ValueError(
                f"{self.link} is a supply link: follow supply links with GraphReader.supply"
            )
        if self.roles is not None and self.link is not LinkType.OFFICER_OF:
            raise ValueError("roles only narrow OFFICER_OF steps")
        if self.stated and self.link is not LinkType.OWNS:
            raise ValueError("only OWNS links are stated indirect interests")

    def accepts(self, link: Link) -> bool:
        if link.type is not self.link:
            return False
        if isinstance(link, Ownership) and (link.indirect is True) is not self.stated:
            return False
        return self.roles is None or (isinstance(link, Officer) and link.role in self.roles)


@dataclass(slots=True)
class Subgraph:
    """Nodes, links, sanction records and commitments extracted from a store, ready for
    pure-Python questions.

    ``sanctions`` holds every record (any status, any date) whose subject is in ``nodes``, and
    ``commitments`` every commitment (any outcome) whose promisor is: they ride along with their
    entity as sanction records do, and the caller decides what counts at its date. Links were
    filtered by the ``as_of`` of the extraction.
    """

    nodes: dict[str, Company | Person | Address] = field(default_factory=dict)
    sanctions: dict[str, Sanction] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    """Links by their natural key."""
    commitments: dict[str, Commitment] = field(default_factory=dict)

    def add_link(self, link: Link) -> None:
        self.links[link.key] = link

    def merge(self, other: Subgraph) -> None:
        self.nodes.update(other.nodes)
        self.sanctions.update(other.sanctions)
        self.links.update(other.links)
        self.commitments.update(other.commitments)

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

    def commitments_of(self, promisor_id: str) -> list[Commitment]:
        return sorted(
            (c for c in self.commitments.values() if c.promisor_id == promisor_id),
            key=lambda c: c.id,
        )

    def canonical(self) -> tuple[list[Node], list[Link]]:
        """Nodes and links in a fixed order, for comparing extractions across stores."""
        nodes: list[Node] = [self.nodes[k] for k in sorted(self.nodes)]
        nodes += [self.sanctions[k] for k in sorted(self.sanctions)]
        nodes += [self.commitments[k] for k in sorted(self.commitments)]
        return nodes, [self.links[k] for k in sorted(self.links)]


@dataclass(slots=True)
class SupplyGraph:
    """A supply closure extracted by :meth:`GraphReader.supply`, for pure-Python tracing.

    ``sanctions`` holds every record (any status, any date) whose ``batch_id`` is one of
    ``batches``: they ride along as records ride with their subjects, and the caller decides
    what is in force. ``products`` are the products of ``batches``. Links were filtered by the
    ``as_of`` of the extraction.
    """

    batches: dict[str, Batch] = field(default_factory=dict)
    links: dict[str, SupplyLink] = field(default_factory=dict)
    """Links by their natural key."""
    sanctions: dict[str, Sanction] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)

    def canonical(self) -> tuple[list[Node], list[SupplyLink]]:
        """Nodes and links in a fixed order, for comparing extractions across stores."""
        nodes: list[Node] = [self.batches[k] for k in sorted(self.batches)]
        nodes += [self.products[k] for k in sorted(self.products)]
        nodes += [self.sanctions[k] for k in sorted(self.sanctions)]
        return nodes, [self.links[k] for k in sorted(self.links)]


@dataclass(slots=True)
class WriteBatch:
    """Nodes and links to upsert together, atomically. Nodes are applied before links.

    ``audit`` holds audit events (flat JSON objects with a unique ``event_id``) that become
    durable in the same step as the change: a decision and its audit record exist together or
    not at all (:mod:`api.audit` derives its hash-chained file from them).
    """

    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

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

    def node_ids(self, label: NodeLabel, *, after: str = "", limit: int = 10_000) -> list[str]:
        """One page of the ids of every node with ``label``, in id order: the first ``limit``
        ids greater than ``after``. Walk a whole label with :func:`scan_ids`."""

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
        seeds that exist, every node reached, every link followed, and every sanction record and
        commitment of each node. A node is expanded once, at the first hop it is reached.
        """

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        """Several neighbourhoods (:class:`graph.extraction.Extraction`) in one read: on a
        server, one statement for all that need a single round (so that they see one state and
        cost one round trip in all), and a statement per hop for the others. Results come in the
        order of ``requests``."""

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph:
        """The supply closure of ``seeds`` as of a date (None: every link, whatever its date),
        in one call (one query on a server store, never a loop of hops).

        ``direction=OUT`` (downstream): the seeds are batch ids; the result holds every batch
        reachable from them over TRANSFORMED_INTO forward (the seeds included) and every
        SHIPPED link out of those batches. ``direction=IN`` (upstream): a seed is a batch id
        or a company id, a company standing for the batches SHIPPED to it; the result holds
        every batch reachable backward over TRANSFORMED_INTO (the seed batches included), the
        TRANSFORMED_INTO links between them, and the PRODUCED links into and SHIPPED links out
        of each. Only links valid at ``as_of`` (dated on or before it) are followed or given.
        Ids that name no batch (or, upstream, no company) are ignored. Linear in the size of
        the closure.
        """

    def batches_of(
        self, company_ids: Iterable[str], *, as_of: date | None = None
    ) -> dict[str, list[Batch]]:
        """For each of ``company_ids``, the batches it held (one call): those it PRODUCED, was
        SHIPPED (received) or made by a transformation (the output batches of
        TRANSFORMED_INTO links whose ``by_id`` it is), by links valid at ``as_of`` (None: every
        link). Every given id is a key (an empty list when it held none); batches in id order.
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

    def scan(
        self,
        labels: Iterable[NodeLabel | LinkType] | None = None,
        *,
        batch_size: int = SCAN_BATCH,
    ) -> Iterator[list[Node | Link]]:
        """Every stored node of ``labels`` and every link of their link types, in batches.

        The one "everything" primitive (exports of a whole store, batch jobs): nodes first, in
        id order, then links, grouped by source id in id order, each source's links by key.
        ``labels`` mixes node labels and link types (None: all of both; SANCTIONED and other
        implied links are never yielded, their records are). Batches hold at most
        ``batch_size`` nodes, or the links of at most ``batch_size`` source nodes, so a store
        larger than memory streams; a store written during a scan may or may not show the change.
        """


class GraphWriter(Protocol):
    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        """Upsert the batch atomically and durably; return only once it is acknowledged.

        Idempotent: writing the same batch twice leaves the store as after once. A node merges
        with the stored one (known values win, None keeps the old value); a link is keyed by its
        natural key. Raises :class:`graph.errors.InvalidInput` (and writes nothing) when a link
        names a missing node or an id is already used by a node of another label.

        ``expect`` makes the write conditional (optimistic concurrency): for each case or
        sanction record the batch writes, the version the caller read (:func:`versioned_as`; 0
        for a case: it must not exist yet). The check and the write are one atomic step, across
        processes too: when any stored version differs, nothing is written and
        :class:`graph.errors.Conflict` is raised.
        """


@runtime_checkable
class GraphStore(GraphReader, GraphWriter, Protocol):
    """A store both reads and writes; ``close`` releases it."""

    name: str

    def audit_events(self) -> list[dict[str, Any]]:
        """Every audit event written with a batch (``WriteBatch.audit``), oldest first."""

    def close(self) -> None: ...

    def clear(self) -> None:
        """Delete everything (tests, ``demo``). Irreversible."""


def versioned_as(node: Case | Sanction | Commitment) -> int:
    """The version a conditional write compares: a case's, or a sanction record's or a
    commitment's (0 until a decision first changes it)."""
    return node.version or 0


_STORED_LINKS: Final = frozenset(
    {LinkType.OWNS, LinkType.OFFICER_OF, LinkType.REGISTERED_AT, *SUPPLY_LINK_TYPES}
)


def scan_kinds(
    labels: Iterable[NodeLabel | LinkType] | None,
) -> tuple[frozenset[NodeLabel], frozenset[LinkType]]:
    """Split the ``labels`` argument of :meth:`GraphReader.scan` into node labels and the stored
    link types (None: all of both).

    >>> scan_kinds([NodeLabel.COMPANY, LinkType.OWNS])
    (frozenset({<NodeLabel.COMPANY: 'Company'>}), frozenset({<LinkType.OWNS: 'OWNS'>}))
    """
    if labels is None:
        return frozenset(NodeLabel), _STORED_LINKS
    wanted = list(labels)
    nodes = frozenset(k for k in wanted if isinstance(k, NodeLabel))
    links = frozenset(k for k in wanted if isinstance(k, LinkType)) & _STORED_LINKS
    return nodes, links


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


def scan_ids(store: GraphReader, label: NodeLabel, *, page: int = 10_000) -> Iterator[list[str]]:
    """Every id of ``label`` in id order, a page at a time (for whole-store exports and bulk
    lists: each page is one store call, and nothing holds the whole label at once).

    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Person
    >>> store = MemoryStore()
    >>> batch = WriteBatch(nodes=[Company("c2", "B"), Company("c1", "A"), Person("p", "P")])
    >>> _ = store.write(batch)
    >>> list(scan_ids(store, NodeLabel.COMPANY, page=1))
    [['c1'], ['c2']]
    """
    if page < 1:
        raise ValueError("a page holds at least one id")
    after = ""
    while True:
        ids = store.node_ids(label, after=after, limit=page)
        if not ids:
            return
        yield ids
        after = ids[-1]


def ownership_closure(
    store: GraphReader,
    seeds: Iterable[str],
    *,
    direction: Direction,
    as_of: date | None,
    max_hops: int = CLOSURE_HOPS,
) -> Subgraph:
    """Every OWNS link reachable from ``seeds`` upward (IN: who owns them) or downward (OUT)."""
    return store.neighbourhood(
        seeds, steps=[Step(LinkType.OWNS, direction)], hops=max_hops, as_of=as_of
    )
