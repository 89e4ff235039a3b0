"""Per-request DataLoaders: every link field is batched into one store call per (field, asOf).

A loader key is ``(entity id, as_of)``; the batch function groups its keys by ``as_of`` and asks the
store for the one-hop neighbourhood of all their ids at once, so a list of N companies each asking
for its owners costs one ``neighbourhood`` call, not N.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from strawberry.dataloader import DataLoader

from api.graphql.blocking import blocking
from graph.model import (
    Company,
    Direction,
    LinkType,
    Node,
    Officer,
    Ownership,
    Person,
    Sanction,
)
from graph.store import GraphReader, Step

__all__ = ["LinkKey", "LinkRow", "Loaders"]

LinkKey = tuple[str, date | None]


@dataclass(frozen=True, slots=True)
class LinkRow:
    """A link with the nodes at both of its ends (None when the store lacks one)."""

    link: Ownership | Officer
    source: Company | Person | None
    target: Company | Person | None


def _entity(node: object) -> Company | Person | None:
    return node if isinstance(node, (Company, Person)) else None


class Loaders:
    """One set per request (so the cache never outlives the request)."""

    def __init__(self, store: GraphReader) -> None:
        self.store = store
        self.entity: DataLoader[str, Node | None] = DataLoader(load_fn=self._entities)
        self.sanctions: DataLoader[str, list[Sanction]] = DataLoader(load_fn=self._sanctions)
        self.owners: DataLoader[LinkKey, list[LinkRow]] = DataLoader(
            load_fn=partial(self._links, Step(LinkType.OWNS, Direction.IN), False)
        )
        self.subsidiaries: DataLoader[LinkKey, list[LinkRow]] = DataLoader(
            load_fn=partial(self._links, Step(LinkType.OWNS, Direction.OUT), True)
        )
        self.officers: DataLoader[LinkKey, list[LinkRow]] = DataLoader(
            load_fn=partial(self._links, Step(LinkType.OFFICER_OF, Direction.IN), False)
        )
        self.positions: DataLoader[LinkKey, list[LinkRow]] = DataLoader(
            load_fn=partial(self._links, Step(LinkType.OFFICER_OF, Direction.OUT), True)
        )
        self.holdings: DataLoader[LinkKey, list[LinkRow]] = DataLoader(
            load_fn=partial(self._links, Step(LinkType.OWNS, Direction.OUT), True)
        )

    async def _entities(self, ids: list[str]) -> Sequence[Node | None]:
        found = await blocking(self.store.get_many, ids)
        return [found.get(i) for i in ids]

    async def _sanctions(self, ids: list[str]) -> Sequence[list[Sanction]]:
        by_subject: dict[str, list[Sanction]] = defaultdict(list)
        for record in await blocking(lambda: list(self.store.sanctions(ids))):
            by_subject[record.subject_id].append(record)
        return [by_subject.get(i, []) for i in ids]

    async def _links(
        self, step: Step, seed_is_source: bool, keys: list[LinkKey]
    ) -> Sequence[list[LinkRow]]:
        by_date: dict[date | None, list[str]] = defaultdict(list)
        for entity_id, as_of in keys:
            by_date[as_of].append(entity_id)
        rows: dict[LinkKey, list[LinkRow]] = {}
        for as_of, ids in by_date.items():
            sub = await blocking(self.store.neighbourhood, ids, steps=[step], hops=1, as_of=as_of)
            grouped: dict[str, list[LinkRow]] = defaultdict(list)
            for link in sub.links.values():
                if not isinstance(link, (Ownership, Officer)) or not step.accepts(link):
                    continue
                seed = link.source if seed_is_source else link.target
                grouped[seed].append(
                    LinkRow(
                        link=link,
                        source=_entity(sub.nodes.get(link.source)),
                        target=_entity(sub.nodes.get(link.target)),
                    )
                )
            for entity_id in ids:
                found = grouped.get(entity_id, [])
                found.sort(key=lambda r: _order(r, seed_is_source))
                rows[(entity_id, as_of)] = found
        return [rows[key] for key in keys]


def _order(row: LinkRow, seed_is_source: bool) -> tuple[str, str, str]:
    other = row.target if seed_is_source else row.source
    start = row.link.start.isoformat() if row.link.start else ""
    return (other.name if other else "", row.link.key, start)
