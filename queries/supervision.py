"""The random-inspection draw of graded supervision ("double random, one public", 双随机、一公开).

A draw for a date and a seed (and optionally a region) puts every company in its supervision
class at that date (:func:`queries.incentives.standings`), then selects, class by class in the
order A, B, C, D, ``round-half-up(rate x class size)`` companies uniformly at random from the
class's ids in sorted order, with one ``random.Random(seed)``. The same seed, date, region, rules
and data give the same draw; the draw's audit record keeps all of them and the counts, so anyone
can run it again and compare.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from graph.errors import InvalidInput
from graph.rules.schema import Grade, RuleSet
from graph.store import GraphReader
from queries.incentives import standings

__all__ = ["ClassDraw", "InspectionDraw", "draw_count", "inspection_draw"]


@dataclass(frozen=True, slots=True)
class ClassDraw:
    """One supervision class in a draw: how many companies it has, its rate, how many drawn."""

    name: Grade
    size: int
    rate: Decimal
    selected: int


@dataclass(frozen=True, slots=True)
class InspectionDraw:
    """A reproducible random-inspection draw and what it takes to reproduce it."""

    id: str
    """A digest of the inputs: equal for equal seed, date, region and rules."""
    as_of: date
    seed: int
    region: str | None
    rules: str
    """The rules file's name and format version, ``name@version``."""
    classes: tuple[ClassDraw, ...]
    selected: tuple[tuple[str, Grade], ...]
    """The companies drawn, by class (A to D), then id."""

    def audit_details(self) -> dict[str, object]:
        """What the audit record keeps to reproduce the draw."""
        return {
            "draw_id": self.id,
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "region": self.region,
            "rules": self.rules,
            "counts": {
                c.name.value: {"size": c.size, "rate": str(c.rate), "selected": c.selected}
                for c in self.classes
            },
        }


def draw_count(rate: Decimal, size: int) -> int:
    """``round-half-up(rate x size)``: how many of a class of ``size`` a draw selects.

    >>> [draw_count(Decimal("0.1"), n) for n in (4, 5, 14, 15)]
    [0, 1, 1, 2]
    >>> draw_count(Decimal("0.03"), 50)
    2
    """
    return int((rate * size).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def inspection_draw(
    store: GraphReader,
    as_of: date,
    seed: int,
    rules: RuleSet,
    *,
    region: str | None = None,
) -> InspectionDraw:
    """Draw the companies to inspect at ``as_of`` with the generator seeded by ``seed``.

    Raises
    ------
    InvalidInput
        When the rules file defines no graded supervision, or the seed is negative.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Sanction, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"),
    ...                                   Sanction("s1", "c1", SanctionList.WAGE_ARREARS)]))
    >>> draw = inspection_draw(store, date(2024, 1, 1), 7, load_rules(None))
    >>> [(c.name.value, c.size, c.selected) for c in draw.classes]
    [('A', 0, 0), ('B', 0, 0), ('C', 0, 0), ('D', 1, 1)]
    >>> draw.selected
    (('c1', <Grade.D: 'D'>),)
    """
    policy = rules.supervision
    if policy is None:
        raise InvalidInput(
            f"the rules in force ({rules.source}) define no graded supervision (supervision:); "
            "add it to your rules file (see graph/rules/default.yaml) to draw inspections"
        )
    if seed < 0:
        raise InvalidInput(f"the seed is a whole number >= 0, not {seed}")
    members: dict[Grade, list[str]] = {grade: [] for grade in Grade}
    for company, standing in standings(store, as_of, rules, region=region):
        if standing.supervision_class is not None:
            members[standing.supervision_class].append(company.id)
    generator = random.Random(seed)
    classes: list[ClassDraw] = []
    selected: list[tuple[str, Grade]] = []
    for grade in Grade:
        ids = sorted(members[grade])
        rate = policy.rate(grade)
        count = min(len(ids), draw_count(rate, len(ids)))
        chosen = generator.sample(ids, count) if count < len(ids) else ids
        classes.append(ClassDraw(grade, len(ids), rate, count))
        selected.extend((company_id, grade) for company_id in sorted(chosen))
    version = f"{rules.name}@{rules.version}"
    digest = hashlib.sha256(
        f"{as_of.isoformat()}|{seed}|{region or ''}|{version}".encode()
    ).hexdigest()[:12]
    return InspectionDraw(
        id=f"draw-{as_of.isoformat()}-{seed}-{digest}",
        as_of=as_of,
        seed=seed,
        region=region,
        rules=version,
        classes=tuple(classes),
        selected=tuple(selected),
    )
