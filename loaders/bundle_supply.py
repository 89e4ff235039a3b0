"""The checks that movements of goods make together (spec/TRACEABILITY.md "Bundle files").

A movement row is checked alone by its parser (:mod:`loaders.bundle_rows`) and its ids against
the bundle and the graph (:mod:`loaders.bundle`); what is left needs every movement at once, those
of the bundle and those already stored:

- one event id means one event: rows of one file sharing an event id agree on its date and
  parties, and an event already stored keeps its content;
- a company ships only a batch it held on that date (it produced it, received it, or made it by
  a transformation as ``by_id``, on or before that date);
- transformations never form a cycle.

The stored movements come from one upstream supply closure of the bundle's batches
(:meth:`graph.store.GraphReader.supply`), which holds every stored link these checks can meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeAlias

from graph.model import Direction, Produced, Shipped, SupplyLink, TransformedInto
from graph.store import GraphReader, SupplyGraph

__all__ = ["Problem", "movement_problems"]

Problem: TypeAlias = tuple[str, str, str]
"""(column, reason, value) of a rejected movement."""


def movement_problems(reader: GraphReader, links: Sequence[SupplyLink]) -> dict[int, Problem]:
    """The movements of ``links`` to reject, by their index, each with its problem.

    A shipment whose sender held the batch only through a rejected movement is rejected too
    (the checks repeat until nothing more is rejected).

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> day = date(2024, 3, 1)
    >>> problems = movement_problems(MemoryStore(), [Shipped("b1", "c2", "c1", "e1", day)])
    >>> problems[0][0]
    'from_id'
    """
    seeds: set[str] = set()
    for link in links:
        seeds.update((link.source, link.target) if isinstance(link, TransformedInto) else ())
        if isinstance(link, (Produced, Shipped)):
            seeds.add(link.batch_id)
    stored = reader.supply(seeds, direction=Direction.IN, as_of=None) if seeds else SupplyGraph()
    problems: dict[int, Problem] = {}
    _event_conflicts(links, stored, problems)
    _cycles(links, stored, problems)
    while _unheld_shipments(links, stored, problems):
        pass
    return problems


def _content(link: SupplyLink) -> tuple[object, ...]:
    """What one event says: its date and its parties (the batch moved is the row's own)."""
    if isinstance(link, Produced):
        return (link.date, link.company_id)
    if isinstance(link, Shipped):
        return (link.date, link.from_id, link.to_id)
    return (link.date, link.by_id)


def _event_conflicts(
    links: Sequence[SupplyLink], stored: SupplyGraph, problems: dict[int, Problem]
) -> None:
    first: dict[tuple[str, str], tuple[object, ...]] = {}
    for link in links:
        first.setdefault((link.type, link.event_id), _content(link))
    for index, link in enumerate(links):
        if first[(link.type, link.event_id)] != _content(link):
            problems[index] = (
                "event_id",
                f"event {link.event_id} appears on several rows with another date or other "
                "parties; one event id is one event: give each event its own id",
                link.event_id,
            )
            continue
        old = stored.links.get(link.key)
        if old is not None and (_content(old), _quantity(old)) != (_content(link), _quantity(link)):
            problems[index] = (
                "event_id",
                f"event {link.event_id} is already stored with other content (date "
                f"{old.date.isoformat()}); a recorded movement does not change: record a "
                "correction as a new event with its own id",
                link.event_id,
            )


def _quantity(link: SupplyLink) -> float | None:
    return link.quantity if isinstance(link, Shipped) else None


def _cycles(links: Sequence[SupplyLink], stored: SupplyGraph, problems: dict[int, Problem]) -> None:
    """Reject every bundle transformation that lies on a cycle of stored and bundle links."""
    edges: dict[str, set[str]] = {}
    for link in stored.links.values():
        if isinstance(link, TransformedInto):
            edges.setdefault(link.source, set()).add(link.target)
    for index, link in enumerate(links):
        if isinstance(link, TransformedInto) and index not in problems:
            edges.setdefault(link.source, set()).add(link.target)
    component = _components(edges)
    for index, link in enumerate(links):
        if index in problems or not isinstance(link, TransformedInto):
            continue
        if component.get(link.source) == component.get(link.target) is not None:
            problems[index] = (
                "output_batch_id",
                f"transformation cycle: {link.output_batch_id} already goes (in the bundle or "
                f"the graph) into {link.input_batch_id}, so a batch would be made of itself",
                link.output_batch_id,
            )


def _components(edges: dict[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan, iterative): node -> component number."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in list(edges):
        if root in index_of:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                other = pending.pop()
                if other not in index_of:
                    index_of[other] = low[other] = counter
                    counter += 1
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, sorted(edges.get(other, ()))))
                elif other in on_stack:
                    low[node] = min(low[node], index_of[other])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index_of[node]
                    if member == node:
                        break
    return component


def _unheld_shipments(
    links: Sequence[SupplyLink], stored: SupplyGraph, problems: dict[int, Problem]
) -> bool:
    """Reject shipments whose sender did not hold the batch that day; say whether any was."""
    held: dict[tuple[str, str], date] = {}
    kept = [link for index, link in enumerate(links) if index not in problems]
    for link in [*stored.links.values(), *kept]:
        holder: str | None
        if isinstance(link, Produced):
            holder, batch_id = link.company_id, link.batch_id
        elif isinstance(link, Shipped):
            holder, batch_id = link.to_id, link.batch_id
        else:
            holder, batch_id = link.by_id, link.output_batch_id
        if holder is None:
            continue
        since = held.get((holder, batch_id))
        if since is None or link.date < since:
            held[(holder, batch_id)] = link.date
    rejected = False
    for index, link in enumerate(links):
        if index in problems or not isinstance(link, Shipped):
            continue
        since = held.get((link.from_id, link.batch_id))
        if since is not None and since <= link.date:
            continue
        when = f" (it held it from {since.isoformat()})" if since is not None else ""
        problems[index] = (
            "from_id",
            f"{link.from_id} did not hold batch {link.batch_id} on {link.date.isoformat()}"
            f"{when}: a company ships only what it produced, received or made by a "
            "transformation on or before that day; load the movement that gave it the batch, "
            "or correct the sender or the date",
            link.from_id,
        )
        rejected = True
    return rejected
