"""The coarse reads of a forward materialisation on Neo4j (graph/rules/forward.py).

Both run in one read transaction each and return rows without node data: the live records in one
statement with their subjects' labels, and each walk one statement per hop over the whole
frontier, returning each link with the label of the node it reaches. A walk over 30k subjects is
then a handful of round trips, and no node's properties, records or commitments are shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final, LiteralString

import neo4j

from graph.codec import link_from_props, node_from_props
from graph.model import Link, NodeLabel, Sanction
from graph.neo4j import cypher
from graph.rules.forward import LinkWalk, WalkedLinks
from graph.store import Step

__all__ = ["LinkWalk", "WalkedLinks", "live_records", "walk_links"]

_LABELS: Final = [label.value for label in NodeLabel]
_CHUNK: Final = 20_000

# Dates leave the server as ISO text (graph.codec reads both): the driver's temporal values cost
# more to decode than the rest of a row. Only the date fields of the classes read here are named,
# as a key the class lacks would come back as an unknown (``extra``) property.
_RECORD: Final = (
    "s{.*, start: toString(s.start), end: toString(s.end), decided: toString(s.decided), "
    "status_date: toString(s.status_date)}"
)
_LINK: Final = "r{.*, start: toString(r.start), end: toString(r.end)}"

LIVE_RECORDS: Final = (
    "MATCH (s:Sanction) WHERE " + cypher._LIVE + "\nOPTIONAL MATCH (s)-[:SANCTIONED]->(n:Node)\n"
    "RETURN collect([" + _RECORD + ", [l IN labels(n) WHERE l IN $labels][0]]) AS rows"
)


def hop_query(steps: Sequence[Step]) -> LiteralString:
    """One hop of a walk from the ids in ``$frontier``: a row per link followed, with the id and
    label of the node reached (parameters as :func:`cypher.expand_step`'s)."""
    body: LiteralString = "\n  UNION ALL\n  ".join(
        cypher.expand_step(step.link, step.direction, index) for index, step in enumerate(steps)
    )
    return (
        "UNWIND $frontier AS id\n"
        "MATCH (n:Node {id: id})\n"
        "CALL (n) {\n  " + body + "\n}\n"
        "RETURN collect([m.id, [l IN labels(m) WHERE l IN $labels][0], type(r), "
        "startNode(r).id, endNode(r).id, " + _LINK + "]) AS rows"
    )


def live_records(read: Any, day: date) -> tuple[list[Sanction], dict[str, str]]:
    """:meth:`graph.rules.forward.ForwardReader.live_records` through ``read`` (a store's
    read-transaction runner)."""

    def work(tx: neo4j.ManagedTransaction) -> tuple[list[Sanction], dict[str, str]]:
        records: list[Sanction] = []
        labels: dict[str, str] = {}
        # One row holding every record: a row per record costs a message each way.
        rows = tx.run(LIVE_RECORDS, live_at=day, labels=_LABELS).single(strict=True)[0]
        for props, label in rows:
            sanction = node_from_props(NodeLabel.SANCTION, props)
            if isinstance(sanction, Sanction):
                records.append(sanction)
                if label is not None:
                    labels[sanction.subject_id] = label
        return records, labels

    found: tuple[list[Sanction], dict[str, str]] = read(work)
    return found


def walk_links(read: Any, walks: Sequence[LinkWalk], as_of: date) -> list[WalkedLinks]:
    """:meth:`graph.rules.forward.ForwardReader.walk_links` through ``read``: each node expanded
    once, at the first hop it is reached, as ``neighbourhood`` does."""

    def work(tx: neo4j.ManagedTransaction) -> list[WalkedLinks]:
        results: list[WalkedLinks] = []
        for seeds, steps, hops in walks:
            links: dict[str, Link] = {}
            labels: dict[str, str] = {}
            results.append((links, labels))
            if not steps:
                continue
            params: dict[str, Any] = {"as_of": as_of, "labels": _LABELS}
            for index, step in enumerate(steps):
                params[f"roles_{index}"] = (
                    None if step.roles is None else sorted(r.value for r in step.roles)
                )
                params[f"stated_{index}"] = step.stated
            query = hop_query(steps)
            frontier = list(dict.fromkeys(seeds))
            seen = set(frontier)
            for _ in range(hops):
                reached: list[str] = []
                for offset in range(0, len(frontier), _CHUNK):
                    chunk = frontier[offset : offset + _CHUNK]
                    rows = tx.run(query, frontier=chunk, **params).single(strict=True)[0]
                    for other, label, kind, source, target, props in rows:
                        link = link_from_props(kind, source, target, props)
                        links[link.key] = link
                        # Seeds reached from other seeds are targets too: label them all.
                        if label is not None:
                            labels[other] = label
                        if other not in seen:
                            seen.add(other)
                            reached.append(other)
                if not reached:
                    break
                frontier = reached
        return results

    found: list[WalkedLinks] = read(work)
    return found
