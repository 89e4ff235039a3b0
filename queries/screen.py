"""Batch screening: for many bidders at once, restricted or not per measure, with the reasons.

A procurement platform checks a whole tender's bidders in one call. The answer for each id is
what its credit report says about restrictions, measure by measure, but read with one coarse
extraction for all ids (:func:`graph.rules.engine.lookup_many`: the same few ``neighbourhood``
calls whatever the number of ids), not one report per bidder. An id that names no company or
person is answered as not found on its own row; it does not fail the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from graph.errors import InvalidInput
from graph.model import Company, Node, Person
from graph.rules.engine import Restriction, lookup_many
from graph.rules.schema import MeasureKind, RuleSet
from graph.store import GraphReader
from loaders.uscc import normalize_id

__all__ = ["MAX_SCREEN_IDS", "MeasureAnswer", "ScreenRow", "Screening", "screen", "screen_measures"]

MAX_SCREEN_IDS: Final = 10_000
"""The most ids one screen answers: a large tender's bidders, with room to spare."""


@dataclass(frozen=True, slots=True)
class MeasureAnswer:
    """Whether one entity is under one measure, and every restriction that puts it there."""

    measure: str
    restrictions: tuple[Restriction, ...]

    @property
    def restricted(self) -> bool:
        return bool(self.restrictions)


@dataclass(frozen=True, slots=True)
class ScreenRow:
    """The answer for one id as asked (``entity`` None: no company or person has it)."""

    id: str
    entity: Company | Person | None
    measures: tuple[MeasureAnswer, ...]

    @property
    def found(self) -> bool:
        return self.entity is not None

    @property
    def restricted(self) -> bool:
        """Under at least one of the measures screened for."""
        return any(answer.restricted for answer in self.measures)


@dataclass(frozen=True, slots=True)
class Screening:
    """A batch screen at ``as_of``: one row per distinct id, in the order asked."""

    as_of: date
    measures: tuple[str, ...]
    rows: tuple[ScreenRow, ...]
    nodes: Mapping[str, Node]
    """The entities on the restrictions' paths, to name them."""


def screen_measures(rules: RuleSet, measures: Iterable[str] | None) -> tuple[str, ...]:
    """The restriction measures to screen for, in catalogue order: all of them, or ``measures``
    (any case) checked against the catalogue of ``rules``.

    Raises
    ------
    InvalidInput
        When a name is not a restriction measure of the rules in force.
    """
    known = rules.catalogue.measure_names(MeasureKind.RESTRICTION)
    if measures is None:
        return tuple(known)
    wanted = {str(m).strip().upper() for m in measures}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise InvalidInput(
            f"not a restriction measure of the rules in force ({rules.source}): "
            f"{', '.join(unknown)}; use one of {', '.join(known)}"
        )
    if not wanted:
        raise InvalidInput("name at least one measure to screen for, or none for all of them")
    return tuple(m for m in known if m in wanted)


def screen(
    store: GraphReader,
    ids: Sequence[str],
    as_of: date,
    rules: RuleSet,
    measures: Iterable[str] | None = None,
) -> Screening:
    """Screen ``ids`` for ``measures`` (None: every restriction measure) at ``as_of``.

    Ids are trimmed and credit codes upper-cased; repeats are answered once. The restrictions
    per entity are exactly those of :func:`graph.rules.engine.restrictions_for`.

    Raises
    ------
    InvalidInput
        When no id or more than :data:`MAX_SCREEN_IDS` are given, an id is empty, or a measure
        is not a restriction measure of the rules in force.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Sanction, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"), Company("c2", "Beta"),
    ...     Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]))
    >>> found = screen(store, ["c1", " c2 ", "nobody"], date(2024, 6, 1), load_rules(None),
    ...                ["BIDDING_BAN"])
    >>> [(r.id, r.found, r.restricted) for r in found.rows]
    [('c1', True, True), ('c2', True, False), ('nobody', False, False)]
    >>> [x.rule for x in found.rows[0].measures[0].restrictions]
    ['R1']
    """
    chosen = screen_measures(rules, measures)
    wanted = list(dict.fromkeys(normalize_id(str(i)) for i in ids))
    if not wanted:
        raise InvalidInput("give at least one id to screen")
    if "" in wanted:
        raise InvalidInput("an id to screen is empty; remove blank ids from the list")
    if len(wanted) > MAX_SCREEN_IDS:
        raise InvalidInput(
            f"{len(wanted)} ids in one screen; the limit is {MAX_SCREEN_IDS}: split the list"
        )
    found = lookup_many(store, wanted, as_of, rules)
    nodes: dict[str, Node] = {}
    rows: list[ScreenRow] = []
    for ident in wanted:
        looked = found.get(ident)
        if looked is None:
            rows.append(ScreenRow(ident, None, ()))
            continue
        if not nodes:
            nodes.update(looked.nodes)  # one mapping, shared by every lookup of the batch
        by_measure: dict[str, list[Restriction]] = {}
        for item in looked.restrictions:
            by_measure.setdefault(item.measure, []).append(item)
        answers = tuple(MeasureAnswer(m, tuple(by_measure.get(m, ()))) for m in chosen)
        rows.append(ScreenRow(ident, looked.entity, answers))
    return Screening(as_of=as_of, measures=chosen, rows=tuple(rows), nodes=nodes)
