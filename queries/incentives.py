"""Forward materialisation of joint incentives and supervision classes, and the incentive list.

Every company's standing at a date (:class:`graph.rules.incentives.Standing`: incentives granted
and withheld, supervision class), computed in bulk rather than one report at a time:

1. every restriction in the graph, once (:func:`graph.rules.engine.materialise`), by entity: the
   companies' own, and their principal persons' for incentive I1;
2. the companies a page at a time (:func:`graph.store.scan_ids`), each page one ``neighbourhood``
   call that brings the companies' records and commitments (they ride along) and their
   principal officers (and, for a region, their registered addresses);
3. the score (:func:`queries.report.score_of`, the report's own arithmetic) and the incentive
   rules over those facts.

So a standing here is the standing the credit report gives, by construction (the conformance
suite checks it on both stores). The list (:func:`incentive_rows`) is the incentive counterpart
of :mod:`queries.restrictions`: one flat row per incentive measure granted, in company order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Final, TypeAlias

from graph.model import (
    Address,
    Commitment,
    Company,
    Direction,
    LinkType,
    NodeLabel,
    Officer,
    Sanction,
)
from graph.rules.engine import Restriction, materialise
from graph.rules.incentives import IncentiveFacts, Standing, evaluate
from graph.rules.schema import RuleSet
from graph.store import GraphReader, Step, scan_ids
from queries.report import checked_roles, score_of

__all__ = ["COLUMNS", "Row", "incentive_rows", "standings"]

COLUMNS: Final = (
    "entity_id",
    "entity_name",
    "measure",
    "rule",
    "legal_basis",
    "grade",
    "supervision_class",
)

Row: TypeAlias = dict[str, str | bool]

PAGE: Final = 10_000
"""Companies per extraction call."""


def standings(
    store: GraphReader,
    as_of: date,
    rules: RuleSet,
    *,
    region: str | None = None,
    page: int = PAGE,
) -> Iterator[tuple[Company, Standing]]:
    """Every company's standing at ``as_of``, in id order (only companies registered in
    ``region`` at that date, when given).

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Sanction, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"), Company("c2", "Bolt"),
    ...                                   Sanction("s1", "c2", SanctionList.ABNORMAL_OPERATION)]))
    >>> [(c.id, s.supervision_class.value) for c, s in
    ...  standings(store, date(2024, 1, 1), load_rules(None))]
    [('c1', 'A'), ('c2', 'C')]
    """
    restrictions: dict[str, list[Restriction]] = defaultdict(list)
    for item in materialise(store, as_of, rules):
        restrictions[item.entity_id].append(item)

    def persons(ids: Sequence[str]) -> Mapping[str, Sequence[Restriction]]:
        return {i: restrictions.get(i, ()) for i in ids}

    roles = checked_roles(rules)
    steps = [Step(LinkType.OFFICER_OF, Direction.IN, roles)] if roles else []
    if region is not None:
        steps.append(Step(LinkType.REGISTERED_AT, Direction.OUT))
    for ids in scan_ids(store, NodeLabel.COMPANY, page=page):
        found = store.neighbourhood(ids, steps=steps, hops=1 if steps else 0, as_of=as_of)
        officers: dict[str, list[Officer]] = defaultdict(list)
        for officer in found.officers:
            officers[officer.company_id].append(officer)
        regions: dict[str, set[str]] = defaultdict(set)
        if region is not None:
            for link in found.registrations:
                address = found.nodes.get(link.address_id)
                if isinstance(address, Address):
                    regions[link.entity_id].add(address.region or "")
        sanctions: dict[str, list[Sanction]] = defaultdict(list)
        for record in found.sanctions.values():
            sanctions[record.subject_id].append(record)
        commitments: dict[str, list[Commitment]] = defaultdict(list)
        for commitment in found.commitments.values():
            commitments[commitment.promisor_id].append(commitment)
        for company_id in ids:
            company = found.nodes.get(company_id)
            if not isinstance(company, Company):
                continue
            if region is not None and region not in regions.get(company_id, ()):
                continue
            own = sorted(sanctions.get(company_id, ()), key=lambda s: s.id)
            on_company = restrictions.get(company_id, [])
            # names only word the deductions' reasons, which a standing does not show
            score = score_of(own, on_company, {}, as_of, rules)
            facts = IncentiveFacts(
                company=company,
                grade=score.grade,
                score=score.score,
                restrictions=on_company,
                sanctions=own,
                commitments=sorted(commitments.get(company_id, ()), key=lambda c: c.id),
                officers=officers.get(company_id, []),
            )
            yield company, evaluate(facts, as_of, rules, persons)


def incentive_rows(
    store: GraphReader, as_of: date, rules: RuleSet, measure: str | None = None
) -> Iterator[Row]:
    """One row per incentive measure granted at ``as_of`` (only ``measure``'s, when given), in
    company order, then the rules file's order.

    >>> from graph.memory import MemoryStore
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme")]))
    >>> [(r["entity_id"], r["measure"], r["rule"]) for r in
    ...  incentive_rows(store, date(2024, 1, 1), load_rules(None), "GREEN_CHANNEL")]
    [('c1', 'GREEN_CHANNEL', 'I1')]
    """
    for company, standing in standings(store, as_of, rules):
        for item in standing.incentives:
            if measure is not None and item.measure != measure:
                continue
            yield {
                "entity_id": company.id,
                "entity_name": company.name,
                "measure": str(item.measure),
                "rule": item.rule,
                "legal_basis": item.legal_basis,
                "grade": standing.grade.value,
                "supervision_class": (
                    standing.supervision_class.value if standing.supervision_class else ""
                ),
            }
