"""The local batch engine: the Python rule engine over a snapshot (the reference for Spark).

The snapshot is loaded into an embedded :class:`graph.memory.MemoryStore`, then:

* restrictions: :func:`graph.rules.engine.materialise`, every one in force;
* scores: :func:`score_rows`, the credit report's own arithmetic (:func:`queries.report.score_of`)
  over each entity's records and the materialised restrictions on it;
* owners: :func:`queries.owner_table.beneficial_owner_rows` for every company, with the depth of
  each owner (:func:`owner_depths`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from graph.memory import MemoryStore
from graph.model import NodeLabel, OfficerRole, Sanction
from graph.ownership import HoldingIndex
from graph.rules.engine import Restriction, materialise, sanction_in_force
from graph.rules.schema import RuleSet
from graph.store import GraphReader, scan_ids
from loaders.parquet import load_parquet
from queries.batch.tables import (
    OWNERS,
    OWNERS_SCHEMA,
    RESTRICTIONS,
    RESTRICTIONS_SCHEMA,
    SCORES,
    SCORES_SCHEMA,
    write_table,
)
from queries.owner_table import OwnerRow, beneficial_owner_rows
from queries.ownership import extract_closure
from queries.report import score_of

__all__ = ["BatchResult", "owner_depths", "restriction_row", "run_local", "score_rows"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch run wrote: rows per table, and the seconds each phase took."""

    rows: Mapping[str, int]
    seconds: Mapping[str, float]


def restriction_row(item: Restriction) -> dict[str, Any]:
    """A restriction as a row of ``restrictions.parquet``."""
    return {
        "entity_id": item.entity_id,
        "measure": str(item.measure),
        "rule": item.rule,
        "source_id": item.source.id,
        "disputed": item.disputed,
        "path": list(item.path.nodes),
    }


def score_rows(
    store: GraphReader, as_of: date, rules: RuleSet, restrictions: Iterable[Restriction]
) -> Iterator[dict[str, Any]]:
    """One ``scores.parquet`` row per company and person, in id order.

    The score is :func:`queries.report.score_of` over the entity's own records and the
    restrictions on it, as the credit report computes it; each deduction is tagged with its kind
    (:data:`queries.batch.tables.DEDUCTION_KINDS`).

    Examples
    --------
    >>> from graph.model import Company, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"),
    ...                                   Sanction("s1", "c1", SanctionList.ABNORMAL_OPERATION)]))
    >>> rules, day = load_rules(None), date(2024, 1, 1)
    >>> [(r["entity_id"], r["score"], r["grade"], r["deductions"])
    ...  for r in score_rows(store, day, rules, materialise(store, day, rules))]
    [('c1', 900, 'A', [{'kind': 'own', 'sanction_id': 's1', 'points': 100}])]
    """
    on_entity: dict[str, list[Restriction]] = defaultdict(list)
    for item in restrictions:
        on_entity[item.entity_id].append(item)
    own: dict[str, list[Sanction]] = defaultdict(list)
    for record in store.sanctions():  # by id, so each entity's list is in id order too
        own[record.subject_id].append(record)
    policy = rules.publicity
    ids = sorted(
        i
        for label in (NodeLabel.COMPANY, NodeLabel.PERSON)
        for p in scan_ids(store, label)
        for i in p
    )
    for entity_id in ids:
        score = score_of(own.get(entity_id, []), on_entity.get(entity_id, []), {}, as_of, rules)
        deductions = []
        for deduction in score.deductions:
            source = deduction.source
            assert source is not None  # every deduction of a score names its record
            if source.subject_id != entity_id:
                kind = "relationship"
            elif sanction_in_force(source, as_of, policy):
                kind = "own"
            else:
                kind = "ended"
            deductions.append({"kind": kind, "sanction_id": source.id, "points": deduction.points})
        yield {
            "entity_id": entity_id,
            "score": score.score,
            "grade": score.grade.value,
            "deductions": deductions,
        }


def owner_depths(
    store: GraphReader, as_of: date, rows: Iterable[OwnerRow]
) -> dict[tuple[str, str], int]:
    """The depth of each (company, owner) row: the shortest path up from the company to the
    owner over ownership links (with or without a share) and ``actual_controller`` positions, as
    :func:`graph.ownership.depths` counts it; each company's search stops once its owners are
    found."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        wanted[row.company_id].add(row.owner_id)
    if not wanted:
        return {}
    sub = extract_closure(store, sorted(wanted), as_of, upward=True)
    up: dict[str, set[str]] = defaultdict(set)
    for company, holders in HoldingIndex(sub.ownerships).owners.items():
        up[company].update(holders)
    for officer in sub.officers:
        if (
            officer.role is OfficerRole.ACTUAL_CONTROLLER
            and officer.person_id != officer.company_id
        ):
            up[officer.company_id].add(officer.person_id)
    found: dict[tuple[str, str], int] = {}
    for company, owners in wanted.items():
        remaining = set(owners)
        distance = {company: 0}
        queue = deque([company])
        while queue and remaining:
            node = queue.popleft()
            for other in up.get(node, ()):
                if other not in distance:
                    distance[other] = distance[node] + 1
                    queue.append(other)
                    if other in remaining:
                        remaining.discard(other)
                        found[(company, other)] = distance[other]
    return found


def run_local(snapshot: Path, out: Path, as_of: date, rules: RuleSet) -> BatchResult:
    """Load ``snapshot`` into an embedded store and write the three tables to ``out``."""
    import time

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    store = MemoryStore()
    load_parquet(store, snapshot, batch_size=50_000)
    seconds["load"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}

    mark = time.perf_counter()
    found = list(materialise(store, as_of, rules))
    rows[RESTRICTIONS] = write_table(
        (restriction_row(r) for r in found), RESTRICTIONS_SCHEMA, out / RESTRICTIONS
    )
    seconds["restrictions"] = time.perf_counter() - mark

    mark = time.perf_counter()
    rows[SCORES] = write_table(score_rows(store, as_of, rules, found), SCORES_SCHEMA, out / SCORES)
    seconds["scores"] = time.perf_counter() - mark

    mark = time.perf_counter()
    owners = list(beneficial_owner_rows(store, as_of))
    depth = owner_depths(store, as_of, owners)
    rows[OWNERS] = write_table(
        (
            {
                "company_id": o.company_id,
                "owner_id": o.owner_id,
                "effective_share": o.effective_share,
                "controls": o.controls,
                "depth": depth[(o.company_id, o.owner_id)],
            }
            for o in owners
        ),
        OWNERS_SCHEMA,
        out / OWNERS,
    )
    seconds["owners"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    return BatchResult(rows, seconds)
