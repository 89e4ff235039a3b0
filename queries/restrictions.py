"""The restriction list: every restriction in force, one row each, as CSV or JSON lines.

This is the list procurement and bidding platforms check bidders against, so the rows are flat,
in a stable order (entity, measure, rule, source, path), and name the sanction and path behind
each restriction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final, TypeAlias

from graph.rules.engine import Restriction, materialise
from graph.rules.schema import RuleSet
from graph.store import GraphReader

__all__ = ["COLUMNS", "Row", "restriction_rows"]

COLUMNS: Final = (
    "entity_id",
    "entity_name",
    "measure",
    "rule",
    "legal_basis",
    "source_sanction_id",
    "source_list",
    "subject_id",
    "path",
    "disputed",
)

Row: TypeAlias = dict[str, str | bool]

_NAME_BATCH: Final = 1000
"""Restrictions named per ``get_many`` round trip."""


def restriction_rows(
    store: GraphReader, as_of: date, rules: RuleSet, measure: str | None = None
) -> Iterator[Row]:
    """One row per restriction in force at ``as_of`` (only ``measure``'s, when given).

    ``path`` is written with ids, links pointing the way they are stored, for example
    ``c1 <-[OFFICER_OF legal_representative]- p1``. Names are fetched in batches.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Measure, Sanction, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"),
    ...                                   Sanction("s1", "c1", SanctionList.ABNORMAL_OPERATION)]))
    >>> rows = restriction_rows(store, date(2024, 1, 1), load_rules(None), Measure.HONOR_BAN)
    >>> [(r["entity_name"], r["measure"], r["path"]) for r in rows]
    [('Acme', 'HONOR_BAN', 'c1')]
    """
    batch: list[Restriction] = []
    for item in materialise(store, as_of, rules, measure):
        batch.append(item)
        if len(batch) >= _NAME_BATCH:
            yield from _rows(store, batch)
            batch = []
    yield from _rows(store, batch)


def _rows(store: GraphReader, batch: list[Restriction]) -> Iterator[Row]:
    if not batch:
        return
    nodes = store.get_many({item.entity_id for item in batch})
    for item in batch:
        node = nodes.get(item.entity_id)
        yield {
            "entity_id": item.entity_id,
            "entity_name": getattr(node, "name", "") or "",
            "measure": str(item.measure),
            "rule": item.rule,
            "legal_basis": item.legal_basis,
            "source_sanction_id": item.source.id,
            "source_list": str(item.source.list),
            "subject_id": item.subject_id,
            "path": item.path.describe(),
            "disputed": item.disputed,
        }
