"""Tracing a batch through the supply graph, as of a date (spec/TRACEABILITY.md "Tracing").

Downstream of a batch: every batch made from it over TRANSFORMED_INTO (itself included) and every
company that received one of them (SHIPPED), with the path of each receipt. Upstream: every batch
it was made from (itself included), with each one's producer and shippers and its path. Both read
one supply closure from the store (:meth:`graph.store.GraphReader.supply`) and walk it
breadth-first with parent pointers: linear in the closure, whatever its depth, with no
enumeration of the many paths a DAG may have (each batch gets the path it was first reached by,
one of the shortest).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date

from graph.errors import NotFound
from graph.explain import Path, PathLink
from graph.model import Batch, Direction, Node, Produced, Shipped, SupplyLink, TransformedInto
from graph.store import GraphReader, SupplyGraph

__all__ = [
    "Downstream",
    "Receiver",
    "Upstream",
    "UpstreamBatch",
    "downstream",
    "upstream",
]


@dataclass(frozen=True, slots=True)
class Receiver:
    """One receipt downstream: ``company_id`` received ``batch_id`` on ``date``."""

    company_id: str
    batch_id: str
    date: date
    quantity: float | None
    event_id: str
    path: Path
    """From the traced batch over TRANSFORMED_INTO links to ``batch_id``, then the SHIPPED link
    to the company."""


@dataclass(frozen=True, slots=True)
class Downstream:
    batch: Batch
    as_of: date
    receivers: tuple[Receiver, ...]
    """Every receipt, by date, then company, batch and event."""
    supply: SupplyGraph
    nodes: dict[str, Node] = field(default_factory=dict)
    """The companies and batches on the paths, to name them (:mod:`api.views`)."""

    @property
    def batch_ids(self) -> list[str]:
        """Every batch downstream (the traced one included), in id order."""
        return sorted(self.supply.batches)


@dataclass(frozen=True, slots=True)
class UpstreamBatch:
    """One batch upstream of the traced one (or the traced one itself)."""

    batch_id: str
    producer_id: str | None
    """Its PRODUCED company, else the company that made it by a transformation (``by_id``);
    None before either is dated."""
    shippers: tuple[str, ...]
    """The companies that shipped it (SHIPPED ``from_id``), in id order."""
    path: Path
    """From this batch over TRANSFORMED_INTO links to the traced batch (the way goods went)."""


@dataclass(frozen=True, slots=True)
class Upstream:
    batch: Batch
    as_of: date
    batches: tuple[UpstreamBatch, ...]
    """The traced batch first, then the others nearest first (ties by id)."""
    supply: SupplyGraph
    nodes: dict[str, Node] = field(default_factory=dict)


def _batch(store: GraphReader, batch_id: str) -> Batch:
    node = store.get(batch_id)
    if not isinstance(node, Batch):
        what = "no batch" if node is None else f"a {node.label.value}, not a batch"
        raise NotFound(f"{batch_id} is {what}; give a batch id (<product id>:<lot>, batches.csv)")
    return node


def _walk(
    seed: str, supply: SupplyGraph, forward: bool
) -> tuple[list[str], dict[str, TransformedInto]]:
    """Breadth-first over TRANSFORMED_INTO from ``seed``: batches in the order reached and, for
    each but the seed, the link it was first reached by."""
    steps: dict[str, list[TransformedInto]] = {}
    for link in supply.links.values():
        if isinstance(link, TransformedInto):
            steps.setdefault(link.source if forward else link.target, []).append(link)
    for found in steps.values():
        found.sort(key=lambda link: link.key)
    order = [seed]
    parent: dict[str, TransformedInto] = {}
    queue = deque([seed])
    while queue:
        current = queue.popleft()
        for link in steps.get(current, ()):
            other = link.target if forward else link.source
            if other != seed and other not in parent:
                parent[other] = link
                order.append(other)
                queue.append(other)
    return order, parent


def _chain(
    seed: str, batch_id: str, parent: dict[str, TransformedInto], forward: bool
) -> list[TransformedInto]:
    """The TRANSFORMED_INTO links from ``seed`` to ``batch_id`` in the direction goods went."""
    chain: list[TransformedInto] = []
    current = batch_id
    while current != seed:
        link = parent[current]
        chain.append(link)
        current = link.source if forward else link.target
    return chain[::-1] if forward else chain


def _path(links: list[SupplyLink], first: str) -> Path:
    nodes = [first]
    for link in links:
        nodes.append(link.target)
    return Path(tuple(nodes), tuple(PathLink.of(link) for link in links))


def downstream(store: GraphReader, batch_id: str, as_of: date) -> Downstream:
    """Every receiver downstream of ``batch_id`` as of ``as_of``, each with its path.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Product
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("F", "Farm"), Company("R", "Shop"), Product("g", "Milk"),
    ...            Batch("g:1", "g", "1")],
    ...     links=[Produced("F", "g:1", "e1", date(2024, 1, 1)),
    ...            Shipped("g:1", "R", "F", "e2", date(2024, 1, 5), 10.0)]))
    >>> found = downstream(store, "g:1", date(2024, 2, 1))
    >>> [(r.company_id, r.date.isoformat()) for r in found.receivers]
    [('R', '2024-01-05')]
    >>> downstream(store, "g:1", date(2024, 1, 4)).receivers
    ()
    """
    batch = _batch(store, batch_id)
    supply = store.supply([batch_id], direction=Direction.OUT, as_of=as_of)
    order, parent = _walk(batch_id, supply, forward=True)
    # Each batch's path from the traced one is built once and shared by all its receivers: a hub
    # batch has thousands of receipts, and rebuilding the chain for each was most of the time.
    prefixes: dict[str, tuple[tuple[str, ...], tuple[PathLink, ...]]] = {
        batch_id: ((batch_id,), ())
    }
    for reached in order[1:]:
        step = parent[reached]
        nodes, links = prefixes[step.source]
        prefixes[reached] = ((*nodes, reached), (*links, PathLink.of(step)))
    receivers = []
    for link in supply.links.values():
        if not isinstance(link, Shipped) or link.batch_id not in prefixes:
            continue
        nodes, links = prefixes[link.batch_id]
        receivers.append(
            Receiver(
                link.to_id,
                link.batch_id,
                link.date,
                link.quantity,
                link.event_id,
                Path((*nodes, link.to_id), (*links, PathLink.of(link))),
            )
        )
    receivers.sort(key=lambda r: (r.date, r.company_id, r.batch_id, r.event_id))
    ids = {node for r in receivers for node in r.path.nodes}
    return Downstream(batch, as_of, tuple(receivers), supply, store.get_many(ids) if ids else {})


def upstream(store: GraphReader, batch_id: str, as_of: date) -> Upstream:
    """Every batch ``batch_id`` was made from as of ``as_of`` (itself first), with each one's
    producer, shippers and path.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Product
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("F", "Farm"), Company("P", "Dairy"), Product("g", "Milk"),
    ...            Product("h", "Cheese"), Batch("g:1", "g", "1"), Batch("h:1", "h", "1")],
    ...     links=[Produced("F", "g:1", "e1", date(2024, 1, 1)),
    ...            Shipped("g:1", "P", "F", "e2", date(2024, 1, 5)),
    ...            TransformedInto("g:1", "h:1", "e3", date(2024, 1, 6), by_id="P")]))
    >>> found = upstream(store, "h:1", date(2024, 2, 1))
    >>> [(b.batch_id, b.producer_id, b.shippers) for b in found.batches]
    [('h:1', 'P', ()), ('g:1', 'F', ('F',))]
    """
    batch = _batch(store, batch_id)
    supply = store.supply([batch_id], direction=Direction.IN, as_of=as_of)
    order, parent = _walk(batch_id, supply, forward=False)
    produced: dict[str, list[Produced]] = {}
    made_by: dict[str, list[TransformedInto]] = {}
    shippers: dict[str, set[str]] = {}
    for link in supply.links.values():
        if isinstance(link, Produced):
            produced.setdefault(link.batch_id, []).append(link)
        elif isinstance(link, TransformedInto):
            made_by.setdefault(link.output_batch_id, []).append(link)
        else:
            shippers.setdefault(link.batch_id, set()).add(link.from_id)
    found = []
    for current in order:
        chain = _chain(batch_id, current, parent, forward=False)
        found.append(
            UpstreamBatch(
                current,
                _producer(produced.get(current, []), made_by.get(current, [])),
                tuple(sorted(shippers.get(current, ()))),
                _path(list(chain), current),
            )
        )
    ids = {b.producer_id for b in found if b.producer_id is not None}
    ids |= {s for b in found for s in b.shippers} | {n for b in found for n in b.path.nodes}
    return Upstream(batch, as_of, tuple(found), supply, store.get_many(ids) if ids else {})


def _producer(produced: list[Produced], made: list[TransformedInto]) -> str | None:
    """The earliest PRODUCED company, else the earliest transformer named (ties by key)."""
    if produced:
        return min(produced, key=lambda link: (link.date, link.key)).company_id
    named = [link for link in made if link.by_id is not None]
    if named:
        return min(named, key=lambda link: (link.date, link.key)).by_id
    return None
