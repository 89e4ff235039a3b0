"""Batched, pruned extractions: what :meth:`graph.store.GraphReader.extract` is asked for.

A credit report asks a few typed neighbourhoods at once (an entity's officer links, its ownership
closure). Most of a neighbourhood cannot change the answer: the rules only act through records in
force, so a node matters only when some walk of the extraction leads from it to a node holding a
record that may be live that day. A nominee director with 3,000 positions whose companies are all
clean contributes nothing, and :attr:`Extraction.live_at` lets the store leave those companies
where they are instead of shipping them to Python.

The pruned result is *exact* for the rule engine: the paths a reach takes from a subject to the
entity, and the holdings that decide control over them, all lie on walks from the entity to that
subject (control is a sum of absolute shares held by the subject and what it controls, every one of
them on such a walk; ``graph.ownership.HoldingIndex`` never rescales shares).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeAlias

from graph.model import Direction, Link, NodeLabel
from graph.store import Step, Subgraph, may_be_live

if TYPE_CHECKING:
    from graph.store import GraphReader

__all__ = ["Extraction", "Traversal", "extract_each", "leading_to_live", "prune", "traversals"]

Traversal: TypeAlias = tuple[str, str, Link]
"""One link as a traversal followed it: (the node expanded, the node reached, the link)."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """One typed neighbourhood (the arguments of :meth:`GraphReader.neighbourhood`) and two
    narrowings.

    ``seed_labels``: only the seeds carrying one of these labels are taken (None: every seed), so
    that one batch can ask a closure for the persons among its seeds and another for the
    companies before the caller knows which is which. A seed left out is treated as not given.

    ``live_at``: prune the neighbourhood to what leads to records that may be live that day
    (:func:`graph.store.may_be_live`). The result then holds the seeds, the nodes from which a
    link the traversal followed leads (in the direction it was followed, possibly through
    further such nodes) to a node with such a record, those nodes themselves, and the followed
    links that end at one of them; every kept node comes with all its records and commitments.
    """

    seeds: tuple[str, ...]
    steps: tuple[Step, ...]
    hops: int
    as_of: date | None
    seed_labels: frozenset[NodeLabel] | None = None
    live_at: date | None = None


def traversals(
    links: Iterable[Link], seeds: Iterable[str], steps: Sequence[Step], hops: int
) -> list[Traversal]:
    """Replay the traversal of a neighbourhood over its links: every link with the node it was
    followed from and the node it reached, as :meth:`GraphReader.neighbourhood` walks (each node
    expanded once, at the first hop it is reached; nothing expanded at hop ``hops``).

    >>> from graph.model import LinkType, Ownership
    >>> step = Step(LinkType.OWNS, Direction.OUT)
    >>> [(n, m) for n, m, _ in traversals([Ownership("P", "A"), Ownership("A", "B")], ["P"],
    ...                                    [step], 1)]
    [('P', 'A')]
    """
    out_steps = [s for s in steps if s.direction in (Direction.OUT, Direction.BOTH)]
    in_steps = [s for s in steps if s.direction in (Direction.IN, Direction.BOTH)]
    by_source: dict[str, list[Link]] = defaultdict(list)
    by_target: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        by_source[link.source].append(link)
        by_target[link.target].append(link)
    found: list[Traversal] = []
    frontier = list(dict.fromkeys(seeds))
    seen = set(frontier)
    for _ in range(hops):
        reached: list[str] = []
        for node in frontier:
            for link in by_source.get(node, ()):
                if any(step.accepts(link) for step in out_steps):
                    found.append((node, link.target, link))
                    if link.target not in seen:
                        seen.add(link.target)
                        reached.append(link.target)
            for link in by_target.get(node, ()):
                if any(step.accepts(link) for step in in_steps):
                    found.append((node, link.source, link))
                    if link.source not in seen:
                        seen.add(link.source)
                        reached.append(link.source)
        if not reached:
            break
        frontier = reached
    return found


def leading_to_live(
    followed: Iterable[tuple[str, str, object]], live: Callable[[str], bool]
) -> set[str]:
    """The nodes of a traversal that hold a live record or from which a followed link leads to
    one (through any number of such links): the least set closed under "reaches a member".

    >>> from graph.model import Ownership
    >>> walk = [("P", "A", Ownership("P", "A")), ("A", "B", Ownership("A", "B")),
    ...         ("P", "C", Ownership("P", "C"))]
    >>> sorted(leading_to_live(walk, lambda node: node == "B"))
    ['A', 'B', 'P']
    """
    into: dict[str, set[str]] = defaultdict(set)
    nodes: set[str] = set()
    for start, end, _ in followed:
        into[end].add(start)
        nodes.update((start, end))
    kept = {node for node in nodes if live(node)}
    queue = list(kept)
    while queue:
        for start in into.get(queue.pop(), ()):
            if start not in kept:
                kept.add(start)
                queue.append(start)
    return kept


def prune(full: Subgraph, request: Extraction, seeds: Sequence[str]) -> Subgraph:
    """``full`` (the whole neighbourhood of ``seeds`` for ``request``) cut down to what
    :attr:`Extraction.live_at` keeps; ``full`` itself when the request does not prune."""
    day = request.live_at
    if day is None:
        return full
    live_subjects = {s.subject_id for s in full.sanctions.values() if may_be_live(s, day)}
    followed = traversals(full.links.values(), seeds, request.steps, request.hops)
    kept = leading_to_live(followed, live_subjects.__contains__)
    kept.update(seeds)
    result = Subgraph()
    result.nodes = {i: node for i, node in full.nodes.items() if i in kept}
    result.sanctions = {i: s for i, s in full.sanctions.items() if s.subject_id in kept}
    result.commitments = {i: c for i, c in full.commitments.items() if c.promisor_id in kept}
    for _, end, link in followed:
        if end in kept and end in result.nodes:
            result.links[link.key] = link
    return result


def extract_each(store: GraphReader, requests: Sequence[Extraction]) -> list[Subgraph]:
    """Answer :meth:`GraphReader.extract` with one ``neighbourhood`` call per request, pruned in
    Python: for stores where a call costs no round trip (the embedded store), and for wrappers."""
    results: list[Subgraph] = []
    for request in requests:
        seeds = list(dict.fromkeys(request.seeds))
        if request.seed_labels is not None:
            labels: Mapping[str, NodeLabel] = store.labels_of(seeds)
            seeds = [s for s in seeds if labels.get(s) in request.seed_labels]
        if not seeds:
            results.append(Subgraph())
            continue
        full = store.neighbourhood(
            seeds, steps=request.steps, hops=request.hops, as_of=request.as_of
        )
        results.append(prune(full, request, seeds))
    return results
