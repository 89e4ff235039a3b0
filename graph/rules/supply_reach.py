"""The supply reach of the rules file: ``edge: SUPPLY_DOWNSTREAM``, from a record's batch to every
company downstream of it (spec/TRACEABILITY.md "Product-safety records").

A rule's ``reaches`` list holds both kinds of reach. One that walks OFFICER_OF or OWNS links
starts at the record's subject and gives restrictions (:class:`graph.rules.schema.Reach`); one
with ``edge: SUPPLY_DOWNSTREAM`` starts at the batch the record names (``batch_id``) and gives
notices to every company that received that batch, or a batch made from it, on or before the
date::

    reaches:
      - name: every receiver downstream of the batch at fault
        edge: SUPPLY_DOWNSTREAM
        measures:
          RECALL_NOTICE: 《中华人民共和国食品安全法》第六十三条

It takes no direction (downstream is the only way a recall travels), no roles, no control, no
hop limit (a recall reaches every receiver however long the chain) and no target kind (receivers
are companies). Its measures are of kind ``notice``. A rule with one must be able to fire on a
company's record: only records name batches, and only companies make and ship goods.

:class:`graph.rules.schema.Rule` keeps the two kinds apart (``reaches`` and ``supply_reaches``),
so that every walker of officer and ownership links, the engine's and the batch job's, keeps
seeing only those; :func:`split_reaches` does the sorting and remembers each reach's place in the
file for messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from pydantic import Field, model_validator

from graph.rules.catalogue import LegalBasis, NoticeRef, RulesModel

__all__ = [
    "SUPPLY_REACHES",
    "SupplyEdge",
    "SupplyReach",
    "check_supply_reach",
    "file_location",
    "split_reaches",
]

SUPPLY_REACHES: Final = "supply_reaches"
"""The field of :class:`graph.rules.schema.Rule` that holds a rule's supply reaches."""


class SupplyEdge(StrEnum):
    """The supply walks a reach can name."""

    DOWNSTREAM = "SUPPLY_DOWNSTREAM"
    """From the record's batch forward over transformations, to every company a batch of that
    closure was shipped to (:meth:`graph.store.GraphReader.supply` with direction OUT)."""


_NOT_TAKEN: Final[Mapping[str, str]] = {
    "direction": "a SUPPLY_DOWNSTREAM reach always runs downstream from the batch; "
    "remove direction",
    "roles": "roles filter OFFICER_OF reaches; a SUPPLY_DOWNSTREAM reach follows shipments, "
    "remove roles",
    "control": "control is an OWNS condition; a SUPPLY_DOWNSTREAM reach follows shipments, "
    "remove control",
    "max_hops": "a SUPPLY_DOWNSTREAM reach reaches every receiver however long the chain; "
    "remove max_hops",
    "target_kind": "a SUPPLY_DOWNSTREAM reach ends at companies (receivers); remove target_kind",
}


class SupplyReach(RulesModel):
    """A reach along supply links from the record's batch: every receiver downstream gets
    ``measures`` (notices)."""

    name: str = Field(min_length=1)
    edge: SupplyEdge
    measures: dict[NoticeRef, LegalBasis] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _only_supply_fields(cls, data: Any) -> Any:
        # Said in words rather than left to "extra inputs are not permitted": a file copying an
        # OFFICER_OF reach and changing its edge should learn why each field has to go.
        if isinstance(data, dict):
            stray = [field for field in _NOT_TAKEN if field in data]
            if stray:
                raise ValueError("; ".join(f"{field}: {_NOT_TAKEN[field]}" for field in stray))
        return data


def _names_supply(entry: object) -> bool:
    # Any SUPPLY_ edge is taken for a supply reach, so a misspelt one is told the supply edges
    # rather than that it lacks the direction of an officer or ownership reach.
    edge = entry.get("edge") if isinstance(entry, Mapping) else None
    return isinstance(edge, str) and edge.upper().startswith("SUPPLY_")


def split_reaches(data: Any) -> tuple[Any, tuple[int, ...], tuple[int, ...]]:
    """A raw rule with its supply reaches moved from ``reaches`` to ``supply_reaches``, and the
    file positions of the reaches left and of those moved.

    Anything that is not a rule mapping with a list of reaches is returned as it is, for the
    validators to report.

    >>> rule = {"id": "R", "reaches": [{"edge": "SUPPLY_DOWNSTREAM"}, {"edge": "OWNS"}]}
    >>> moved, links, supply = split_reaches(rule)
    >>> moved["reaches"], moved["supply_reaches"], links, supply
    ([{'edge': 'OWNS'}], [{'edge': 'SUPPLY_DOWNSTREAM'}], (1,), (0,))
    """
    entries = data.get("reaches") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or SUPPLY_REACHES in data:
        count = len(entries) if isinstance(entries, list) else 0
        return data, tuple(range(count)), ()
    supply = tuple(i for i, entry in enumerate(entries) if _names_supply(entry))
    links = tuple(i for i in range(len(entries)) if i not in supply)
    if not supply:
        return data, links, ()
    moved = {
        **data,
        "reaches": [entries[i] for i in links],
        SUPPLY_REACHES: [entries[i] for i in supply],
    }
    return moved, links, supply


def file_location(raw: Mapping[str, Any], loc: Sequence[int | str]) -> list[int | str]:
    """A validation error's location in a raw rules file, with a reach's index (``reaches`` or
    ``supply_reaches`` of a rule) made its place in the file's one ``reaches`` list.

    >>> raw = {"rules": [{"reaches": [{"edge": "SUPPLY_DOWNSTREAM"}, {"edge": "OWNS"}]}]}
    >>> file_location(raw, ["rules", 0, "reaches", 0, "max_hops"])
    ['rules', 0, 'reaches', 1, 'max_hops']
    >>> file_location(raw, ["rules", 0, "supply_reaches", 0, "measures"])
    ['rules', 0, 'reaches', 0, 'measures']
    """
    parts = list(loc)
    rules = raw.get("rules")
    if (
        len(parts) >= 4
        and parts[0] == "rules"
        and isinstance(parts[1], int)
        and parts[2] in ("reaches", SUPPLY_REACHES)
        and isinstance(parts[3], int)
        and isinstance(rules, list)
        and parts[1] < len(rules)
    ):
        _, links, supply = split_reaches(rules[parts[1]])
        positions = supply if parts[2] == SUPPLY_REACHES else links
        if parts[3] < len(positions):
            parts[2:4] = ["reaches", positions[parts[3]]]
    return parts


def check_supply_reach(subject_kind: str) -> list[str]:
    """The problems of a supply reach on a rule whose subject is of ``subject_kind`` (COMPANY,
    PERSON or ANY), each naming the field (the reach's own fields are checked when parsed)."""
    if subject_kind == "PERSON":
        return [
            "edge: a SUPPLY_DOWNSTREAM reach starts from the batch a company's record names, and "
            "this rule fires only on persons' records; use subject kind COMPANY (or ANY), or "
            "move the reach to a rule on companies"
        ]
    return []
