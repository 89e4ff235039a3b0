"""The coarse reads of a forward materialisation on Neo4j (graph/rules/forward.py).

Both run in one read transaction each and return rows without node data: the live records in one
statement with their subjects' labels (without those past their maximum publicity period, most of
them, when given the rules' cut), and all the walks together, one statement per hop over every
walk's whole frontier, returning each link with the label of the node it reaches. Walks over 30k
subjects are then a handful of round trips, and no node's properties, records or commitments are
shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final, LiteralString

import neo4j

from graph.codec import link_from_props, node_from_props
from graph.model import NodeLabel, Sanction
from graph.neo4j import cypher
from graph.rules.forward import LinkWalk, PeriodCut, WalkedLinks
from graph.store import Step

__all__ = ["LinkWalk", "PeriodCut", "WalkedLinks", "live_records", "walk_links"]

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

# graph.rules.forward.PeriodCut: a record whose start or severity is not what the cut expects
# (a comparison that gives null) is kept, as materialise checks each record again.
_NOT_OVER: Final = """($since IS NULL OR s.list IN $open_lists
  OR coalesce(coalesce(s.start, s.decided)
       >= $since[coalesce(s.severity, $defaults[s.list], 'general')], true))"""

LIVE_RECORDS: Final = (
    "MATCH (s:Sanction) WHERE " + cypher._LIVE + "\nAND " + _NOT_OVER + "\n"
    "OPTIONAL MATCH (s)-[:SANCTIONED]->(n:Node)\n"
    "RETURN collect([" + _RECORD + ", [l IN labels(n) WHERE l IN $labels][0]]) AS rows"
)


def hop_query(steps: Sequence[Step], first: int, part: int) -> LiteralString:
    """One hop of a walk from the ids in ``$frontier_<part>``: a row holding, per link followed,
    the id and label of the node reached, the link's type, ends and properties (role filters as
    :func:`cypher.expand_step`'s, numbered from ``first``)."""
    body: LiteralString = "\n    UNION ALL\n    ".join(
        cypher.expand_step(step.link, step.direction, first + index)
        for index, step in enumerate(steps)
    )
    return (
        "UNWIND $frontier_" + _number(part) + " AS id\n"
        "MATCH (n:Node {id: id})\n"
        "CALL (n) {\n    " + body + "\n}\n"
        # The ends' ids from the frontier's and the reached node's: no third node read per link.
        "WITH id, r, m, m.id AS other, startNode(r) = n AS forward\n"
        "RETURN " + _number(part) + " AS part, "
        "collect([other, [l IN labels(m) WHERE l IN $labels][0], type(r), "
        "CASE WHEN forward THEN id ELSE other END, CASE WHEN forward THEN other ELSE id END, "
        + _LINK
        + "]) AS rows"
    )


def _number(value: int) -> LiteralString:
    return f"{value}"


def live_records(
    read: Any, day: date, cut: PeriodCut | None = None
) -> tuple[list[Sanction], dict[str, str]]:
    """:meth:`graph.rules.forward.ForwardReader.live_records` through ``read`` (a store's
    read-transaction runner)."""
    params: dict[str, Any] = {"live_at": day, "labels": _LABELS}
    params["since"] = None if cut is None else dict(cut.since)
    params["defaults"] = {} if cut is None else dict(cut.defaults)
    params["open_lists"] = [] if cut is None else sorted(cut.open_lists)

    def work(tx: neo4j.ManagedTransaction) -> tuple[list[Sanction], dict[str, str]]:
        records: list[Sanction] = []
        labels: dict[str, str] = {}
        # One row holding every record: a row per record costs a message each way.
        rows = tx.run(LIVE_RECORDS, params).single(strict=True)[0]
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
    once per walk, at the first hop it is reached, as ``neighbourhood`` does.

    The walks advance together: each hop is one statement holding every walk still under way,
    so a materialisation costs as many round trips as its deepest walk has hops, not the sum.
    """
    shared: dict[str, Any] = {"as_of": as_of, "labels": _LABELS}
    # Steps are numbered across all walks, so that one statement can hold several walks' hops.
    firsts: list[int] = []
    index = 0
    for _, steps, _ in walks:
        firsts.append(index)
        for step in steps:
            roles = None if step.roles is None else sorted(r.value for r in step.roles)
            shared[f"roles_{index}"] = roles
            shared[f"stated_{index}"] = step.stated
            index += 1

    def work(tx: neo4j.ManagedTransaction) -> list[WalkedLinks]:
        results: list[WalkedLinks] = [({}, {}) for _ in walks]
        frontiers: dict[int, list[str]] = {}
        seen: list[set[str]] = []
        for walk, (seeds, steps, hops) in enumerate(walks):
            frontier = list(dict.fromkeys(seeds))
            seen.append(set(frontier))
            if steps and hops > 0 and frontier:
                frontiers[walk] = frontier
        hop = 0
        while frontiers:
            parts = [
                (walk, frontier[offset : offset + _CHUNK])
                for walk, frontier in frontiers.items()
                for offset in range(0, len(frontier), _CHUNK)
            ]
            query: LiteralString = "\nUNION ALL\n".join(
                hop_query(walks[walk][1], firsts[walk], part)
                for part, (walk, _) in enumerate(parts)
            )
            params = dict(shared)
            for part, (_, chunk) in enumerate(parts):
                params[f"frontier_{part}"] = chunk
            reached: dict[int, list[str]] = {walk: [] for walk in frontiers}
            for part, rows in tx.run(query, params):
                walk = parts[part][0]
                links, labels = results[walk]
                walk_seen = seen[walk]
                walk_reached = reached[walk]
                for other, label, kind, source, target, props in rows:
                    link = link_from_props(kind, source, target, props)
                    links[link.key] = link
                    # Seeds reached from other seeds are targets too: label them all.
                    if label is not None:
                        labels[other] = label
                    if other not in walk_seen:
                        walk_seen.add(other)
                        walk_reached.append(other)
            hop += 1
            frontiers = {
                walk: found for walk, found in reached.items() if found and hop < walks[walk][2]
            }
        return results

    found: list[WalkedLinks] = read(work)
    return found
