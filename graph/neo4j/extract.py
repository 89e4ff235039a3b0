""":meth:`Neo4jStore.extract <graph.neo4j.store.Neo4jStore.extract>`: typed, pruned
neighbourhoods (:mod:`graph.extraction`) read in one transaction, and for a credit report in one
statement.

A report asks four or so extractions of one entity (its officers both ways, its ownership
closures). Each is one statement when it needs one round (a single hop, or a pruned one-way walk
that :func:`cypher.live_walks` answers on the server); sent one after the other they cost a round
trip and the driver's per-statement overhead each, which on a credit report was most of its time.
:func:`extract` therefore sends every such request as one statement (:func:`cypher.all_at_once`):
each request is a subquery with its own parameters, and the answers come back side by side.
Requests that need a round per hop (an unpruned multi-hop walk, or one that goes both ways), or
whose seeds fill more than one chunk, are walked one statement per hop as before, in the same
transaction.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, LiteralString, Protocol

import neo4j

from graph.codec import link_from_props, node_from_props
from graph.extraction import Extraction, leading_to_live, traversals
from graph.model import (
    Address,
    Batch,
    Case,
    Commitment,
    Company,
    Direction,
    Link,
    NodeLabel,
    Person,
    Product,
    Sanction,
)
from graph.neo4j import cypher
from graph.store import Subgraph

__all__ = ["CHUNK", "LABELS", "Fetched", "Runner", "add_node", "chunks", "extract"]

LABELS = [label.value for label in NodeLabel]
CHUNK = 10_000


class Runner(Protocol):
    """What runs a statement: a transaction, or a session (an auto-commit transaction each)."""

    def run(
        self, query: LiteralString, parameters: dict[str, Any] | None = None, **kwargs: Any
    ) -> neo4j.Result: ...


Walked = tuple[list[str], list[str], frozenset[NodeLabel] | None]
"""What one request kept: node ids, link element ids, and the labels its seeds must still be
checked for (when no traversal query checked them)."""


class Fetched:
    """What the walks of one :func:`extract` brought back, shared by its requests: nodes (with
    their records) and links by element id."""

    def __init__(self) -> None:
        self.subgraph = Subgraph()
        self.labels: dict[str, str] = {}
        self.links: dict[str, Link] = {}

    def node(self, row: dict[str, Any]) -> None:
        node_id = row["props"]["id"]
        if node_id not in self.labels:
            self.labels[node_id] = row["label"]
            add_node(
                self.subgraph, row["label"], row["props"], row["sanctions"], row["commitments"]
            )


def add_node(
    result: Subgraph,
    label: str,
    props: dict[str, Any],
    sanctions: list[dict[str, Any]],
    commitments: list[dict[str, Any]],
) -> None:
    """Put one extracted node (and its sanction records and commitments) into ``result``, as the
    embedded store does: records go to ``sanctions``, commitments to ``commitments``, cases and
    commitments reached as nodes are left out."""
    node = node_from_props(label, props)
    if isinstance(node, Sanction):
        result.sanctions[node.id] = node
        return
    if isinstance(node, (Case, Commitment, Product, Batch)):
        return
    assert isinstance(node, (Company, Person, Address))
    result.nodes[node.id] = node
    for record in sanctions:
        sanction = node_from_props(NodeLabel.SANCTION, record)
        assert isinstance(sanction, Sanction)
        result.sanctions[sanction.id] = sanction
    for record in commitments:
        commitment = node_from_props(NodeLabel.COMMITMENT, record)
        assert isinstance(commitment, Commitment)
        result.commitments[commitment.id] = commitment


def chunks(rows: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


def extract(tx: Runner, requests: Sequence[Extraction]) -> list[Subgraph]:
    """Every request's subgraph, read in ``tx``: the walks bring the data of what they return;
    then one fetch of what is kept and still missing (seeds of a request without steps)."""
    got = Fetched()
    walked = _walk_all(tx, requests, got)
    ids = sorted({i for nodes, _, _ in walked for i in nodes} - got.labels.keys())
    elements = sorted({e for _, links, _ in walked for e in links} - got.links.keys())
    for offset in range(0, max(len(ids), len(elements)), CHUNK):
        record = tx.run(
            cypher.FETCH_EXTRACTED,
            ids=ids[offset : offset + CHUNK],
            elements=elements[offset : offset + CHUNK],
            labels=LABELS,
        ).single(strict=True)
        for row in record["nodes"]:
            got.node(row)
        for row in record["links"]:
            got.links[row["element"]] = link_from_props(
                row["type"], row["source"], row["target"], row["props"]
            )
    fetched, labels_of, links = got.subgraph, got.labels, got.links
    records: dict[str, list[Sanction]] = defaultdict(list)
    for sanction in fetched.sanctions.values():
        records[sanction.subject_id].append(sanction)
    promised: dict[str, list[Commitment]] = defaultdict(list)
    for commitment in fetched.commitments.values():
        promised[commitment.promisor_id].append(commitment)
    results = []
    for nodes, kept_links, wanted in walked:
        result = Subgraph()
        for node_id in nodes:
            node = fetched.nodes.get(node_id)
            if node is None or (wanted is not None and NodeLabel(labels_of[node_id]) not in wanted):
                continue
            result.nodes[node_id] = node
            result.sanctions.update((s.id, s) for s in records.get(node_id, ()))
            result.commitments.update((c.id, c) for c in promised.get(node_id, ()))
        for element in kept_links:
            link = links[element]
            result.links[link.key] = link
        results.append(result)
    return results


# -- one statement for every request that needs one round ----------------------------------------


def _walk_all(tx: Runner, requests: Sequence[Extraction], got: Fetched) -> list[Walked]:
    walked: list[Walked | None] = [None] * len(requests)
    parts: list[tuple[int, LiteralString, LiteralString, dict[str, Any]]] = []
    for index, request in enumerate(requests):
        frontier = list(dict.fromkeys(request.seeds))
        matches, params = _params(request)
        direction = _one_way(request)
        if not matches or request.hops < 1:
            # Nothing to follow: the seeds alone (of the labels asked for, checked on fetch).
            walked[index] = (frontier, [], request.seed_labels)
        elif len(frontier) > CHUNK:
            continue  # more than one chunk of seeds: walked below, chunk by chunk
        elif direction is not None:
            query = cypher.live_walks(_typed_steps(request), request.hops, direction)
            params["frontier"] = frontier
            parts.append((index, query, cypher.LIVE_WALKS_COLUMNS, params))
        elif request.hops == 1:
            query = cypher.traverse(matches, first=True)
            keep_all = request.live_at is None
            params.update(frontier=frontier, keep_all=keep_all, seen=[] if keep_all else frontier)
            parts.append((index, query, cypher.TRAVERSE_COLUMNS, params))
    if parts:
        statement, parameters = _all_at_once(parts)
        record = tx.run(statement, parameters).single(strict=True)
        for position, (index, _, columns, _) in enumerate(parts):
            rows = record[f"q{position}"]
            if columns == cypher.LIVE_WALKS_COLUMNS:
                walked[index] = _kept_one_way(requests[index], rows[0], got)
            else:
                walked[index] = _kept_first_hop(requests[index], rows, got)
    return [
        done if done is not None else walk(tx, requests[index], got)
        for index, done in enumerate(walked)
    ]


_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _all_at_once(
    parts: list[tuple[int, LiteralString, LiteralString, dict[str, Any]]],
) -> tuple[LiteralString, dict[str, Any]]:
    """The statement and parameters of :func:`cypher.all_at_once` for ``parts`` (request
    index, statement, columns, parameters): each part's parameters renamed ``$q<i>_<name>`` so
    that the requests do not share any."""
    queries: list[tuple[LiteralString, LiteralString]] = []
    parameters: dict[str, Any] = {}
    for position, (_, query, columns, own) in enumerate(parts):
        prefix = f"q{position}_"
        queries.append((_renamed(query, prefix), columns))
        parameters.update((prefix + name, value) for name, value in own.items())
    return _combined(tuple(queries)), parameters


# A report sends the same few statements again and again: build each text once.
@functools.lru_cache(maxsize=256)
def _renamed(query: LiteralString, prefix: str) -> LiteralString:
    # The statements are ours (no string literal holds a "$"), so every $name is a parameter.
    renamed: LiteralString = _PARAMETER.sub("$" + prefix + r"\1", query)
    return renamed


@functools.lru_cache(maxsize=64)
def _combined(queries: tuple[tuple[LiteralString, LiteralString], ...]) -> LiteralString:
    return cypher.all_at_once(list(queries))


def _params(request: Extraction) -> tuple[list[LiteralString], dict[str, Any]]:
    """A request's steps' MATCH clauses, and its parameters."""
    matches: list[LiteralString] = []
    params: dict[str, Any] = {
        "labels": LABELS,
        "as_of": request.as_of,
        "live_at": request.live_at,
        "seed_labels": None
        if request.seed_labels is None
        else sorted(label.value for label in request.seed_labels),
    }
    for index, step in enumerate(request.steps):
        matches.append(cypher.expand_step(step.link, step.direction, index, pruned=True))
        params[f"roles_{index}"] = (
            None if step.roles is None else sorted(r.value for r in step.roles)
        )
        params[f"stated_{index}"] = step.stated
    return matches, params


def _one_way(request: Extraction) -> Direction | None:
    """The direction of a pruned multi-hop walk that goes one way only (one statement), else
    None."""
    directions = {step.direction for step in request.steps}
    if request.live_at is None or request.hops <= 1 or len(directions) != 1:
        return None
    (direction,) = directions
    return None if direction is Direction.BOTH else direction


def _typed_steps(request: Extraction) -> list[tuple[Any, int]]:
    return [(step.link, index) for index, step in enumerate(request.steps)]


def _kept_first_hop(request: Extraction, rows: Iterable[Sequence[Any]], got: Fetched) -> Walked:
    """What a one-hop request keeps from its rows ``[seed, links, data]``."""
    seeds: list[str] = []
    followed: list[tuple[str, str, str]] = []
    live: set[str] = set()
    for node, links, data in rows:
        seeds.append(node)
        got.node(data)
        _follow(node, links, got, followed, live)
    return _kept(request, seeds, set(seeds) | {other for _, other, _ in followed}, followed, live)


def _kept(
    request: Extraction,
    seeds: list[str],
    reached: set[str],
    followed: list[tuple[str, str, str]],
    live: set[str],
) -> Walked:
    """What a walk keeps: everything it ``reached`` (seeds included) when it is not pruned,
    else the seeds and what leads to a live node; with the elements of the links into them."""
    if request.live_at is None:
        kept = reached
    else:
        kept = leading_to_live(followed, live.__contains__)
        kept.update(seeds)
    return sorted(kept), [e for _, other, e in followed if other in kept], None


def _follow(
    node: str,
    links: Iterable[Sequence[Any]],
    got: Fetched,
    followed: list[tuple[str, str, str]],
    live: set[str],
) -> list[str]:
    """Take the links :func:`cypher.traverse` returned for ``node`` (``[other, live, element,
    type, source, target, props, other's data]``) into ``got``, ``followed`` and ``live``; the
    nodes they reach, in order."""
    reached: list[str] = []
    for other, is_live, element, kind, source, target, props, data in links:
        if element not in got.links:
            got.links[element] = link_from_props(kind, source, target, props)
            got.node(data)
        followed.append((node, other, element))
        if is_live:
            live.add(other)
        reached.append(other)
    return reached


def _kept_one_way(request: Extraction, record: Sequence[Any], got: Fetched) -> Walked:
    """What a pruned one-way request keeps from its row ``[seeds, live, links, nodes]``."""
    seeds, live, rows, nodes = record
    elements: dict[str, str] = {}
    links: list[Link] = []
    for row in rows:
        link = link_from_props(row["type"], row["source"], row["target"], row["props"])
        elements[link.key] = row["element"]
        got.links[row["element"]] = link
        links.append(link)
    for row in nodes:
        got.node(row)
    followed = traversals(links, seeds, request.steps, request.hops)
    kept = leading_to_live(followed, set(live).__contains__)
    kept.update(seeds)
    return sorted(kept), [elements[link.key] for _, m, link in followed if m in kept], None


# -- a statement per hop, for the requests that need several rounds -----------------------------


def walk(tx: Runner, request: Extraction, got: Fetched) -> Walked:
    """One request's walk, a statement per chunk of seeds and per hop (or per chunk, for a
    pruned one-way walk)."""
    matches, params = _params(request)
    frontier = list(dict.fromkeys(request.seeds))
    if not matches or request.hops < 1:
        return frontier, [], request.seed_labels
    hops = request.hops
    direction = _one_way(request)
    if direction is not None:
        return _walk_one_way(tx, request, direction, params, got)
    seeds: list[str] = []
    seen: set[str] = set()
    followed: list[tuple[str, str, str]] = []
    live: set[str] = set()
    for hop in range(hops):
        if not frontier:
            break
        query = cypher.traverse(matches, first=hop == 0)
        keep_all = request.live_at is None or hop < hops - 1
        reached: list[str] = []
        for chunk in chunks(frontier):
            for record in tx.run(
                query,
                frontier=chunk,
                keep_all=keep_all,
                seen=[] if keep_all else sorted(seen | set(chunk)),
                **params,
            ):
                node = record["seed"]
                if hop == 0:
                    seeds.append(node)
                    seen.add(node)
                    got.node(record["data"])
                for other in _follow(node, record["links"], got, followed, live):
                    if other not in seen:
                        seen.add(other)
                        reached.append(other)
        frontier = reached
    return _kept(request, seeds, seen, followed, live)


def _walk_one_way(
    tx: Runner,
    request: Extraction,
    direction: Direction,
    params: dict[str, Any],
    got: Fetched,
) -> Walked:
    """:func:`walk` of a pruned one-way extraction in one statement per chunk of seeds instead
    of a round trip per hop: a holder of thousands of stakes is walked on the server, and only
    what leads to live records comes back (:func:`cypher.live_walks`)."""
    query = cypher.live_walks(_typed_steps(request), request.hops, direction)
    seeds: list[str] = []
    live: list[str] = []
    rows: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    for chunk in chunks(list(dict.fromkeys(request.seeds))):
        record = tx.run(query, frontier=chunk, **params).single(strict=True)
        seeds += record["seeds"]
        live += record["live"]
        rows += record["links"]
        nodes += record["nodes"]
    return _kept_one_way(request, (seeds, live, rows, nodes), got)
