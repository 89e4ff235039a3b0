"""The catalogue of a rules file: every list a sanction record can be on and every measure a
rule, an incentive or a notice can give, with their meanings, weights and kinds (spec: "Lists and
measures are data").

An agency adds a list or a measure by adding it to its rules file; the code knows the shipped names
only as constants (:class:`graph.model.SanctionList`, :class:`graph.model.Measure`). The
validators here check the names a rules file uses against the file's own catalogue, which
:func:`graph.rules.schema.parse_rules` passes in the validation context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from graph.errors import RulesError
from graph.model import Sanction, Severity, list_name, measure_name

__all__ = [
    "LISTS_KEY",
    "MEASURES_KEY",
    "NAME_PATTERN",
    "Catalogue",
    "IncentiveRef",
    "LegalBasis",
    "ListEntry",
    "ListName",
    "ListRef",
    "MeasureEntry",
    "MeasureKind",
    "MeasureName",
    "NoticeRef",
    "Points",
    "RestrictionRef",
    "RulesModel",
    "Weight",
    "catalogue_context",
]

NAME_PATTERN: Final = re.compile(r"[A-Z][A-Z0-9_]*")
"""The shape of a list or measure name: upper-case letters, digits and _, starting with a letter
(measure names are GraphQL enum values)."""

# Keys of the validation context parse_rules passes (the file's name and catalogue names); the
# catalogue's keys in a rules file too.

LISTS_KEY: Final = "lists"
"""The validation-context key of the list names a rules file defines."""
MEASURES_KEY: Final = "measures"
"""The validation-context key of the measures a rules file defines (name -> kind)."""


class MeasureKind(StrEnum):
    """What a measure of the catalogue is (spec/DOMAIN.md "Lists and measures are data")."""

    RESTRICTION = "restriction"
    """A joint-punishment measure: what rules impose, and what counts in relationship points."""
    INCENTIVE = "incentive"
    """A joint-incentive measure granted to trustworthy entities."""
    NOTICE = "notice"
    """An obligation that is not a penalty and has no score effect (a recall notice)."""


def _list_name(value: object) -> object:
    return _checked_name(value, "list")


def _measure_name(value: object) -> object:
    return _checked_name(value, "measure")


def _checked_name(value: object, what: str) -> object:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        example = "PROVINCIAL_X" if what == "list" else "PROVINCIAL_BAN"
        raise ValueError(
            f"a {what} name is upper-case letters, digits and _, starting with a letter "
            f"(like {example}), not {value!r}"
        )
    return value


def catalogue_context(info: ValidationInfo, key: str) -> Any:
    # Without the context of parse_rules (a model validated on its own) names are not checked
    # against a catalogue: there is none to check them against.
    return info.context.get(key) if isinstance(info.context, dict) else None


def _known_list(value: str, info: ValidationInfo) -> str:
    known: frozenset[str] | None = catalogue_context(info, LISTS_KEY)
    if known is not None and value not in known:
        raise ValueError(
            f"{value} is not in the lists catalogue ({', '.join(sorted(known))}); add it under "
            "lists: with its meaning, default_severity, weight and ended_factor"
        )
    return list_name(value)


def _measure_of_kind(value: str, info: ValidationInfo, kind: MeasureKind, giver: str) -> str:
    """``value`` as a catalogue measure of ``kind``; ``giver`` says who gives it, for messages."""
    kinds: Mapping[str, MeasureKind | None] | None = catalogue_context(info, MEASURES_KEY)
    if kinds is not None:
        if value not in kinds:
            raise ValueError(
                f"{value} is not in the measures catalogue; add it under measures: with its "
                f"meaning and kind: {kind.value}"
            )
        found = kinds[value]
        if found is not None and found is not kind:
            raise ValueError(
                f"{value} is a measure of kind {found.value} in the catalogue; {giver} "
                f"only measures of kind {kind.value}"
            )
    return measure_name(value)


def _restriction_measure(value: str, info: ValidationInfo) -> str:
    return _measure_of_kind(value, info, MeasureKind.RESTRICTION, "a rule imposes")


def _incentive_measure(value: str, info: ValidationInfo) -> str:
    return _measure_of_kind(value, info, MeasureKind.INCENTIVE, "an incentive rule grants")


IncentiveRef = Annotated[str, AfterValidator(_incentive_measure)]
"""A measure an incentive rule grants: one of the catalogue's, of kind incentive."""


def _notice_measure(value: str, info: ValidationInfo) -> str:
    return _measure_of_kind(value, info, MeasureKind.NOTICE, "a supply reach gives")


NoticeRef = Annotated[str, AfterValidator(_notice_measure)]
"""A measure a supply reach gives: one of the catalogue's, of kind notice."""

LEGAL_BASIS_SEPARATOR: Final = "；"
"""Joins a list of citations into one legal basis text (a Chinese full-width semicolon)."""


def _legal_basis(value: object) -> object:
    # A list of citations reads better in YAML than one long line; it is one text downstream.
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return LEGAL_BASIS_SEPARATOR.join(item.strip() for item in value)
    if isinstance(value, str):
        return value.strip()
    return value


LegalBasis = Annotated[str, BeforeValidator(_legal_basis), Field(min_length=1)]
"""The legal basis of one measure: a citation, or a list of them joined with "；"."""


def _weight(value: object) -> object:
    # Checked by hand rather than as a pydantic union, whose errors would name both alternatives.
    if isinstance(value, bool) or not isinstance(value, (int, dict)):
        raise ValueError(
            "a weight is whole points (like 300) or points by severity "
            f"({{minor: 20, general: 60, serious: 150}}), not {value!r}"
        )
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"points must not be negative, not {value}")
        return value
    points: dict[Severity, int] = {}
    for key, item in value.items():
        try:
            severity = Severity(key)
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            raise ValueError(f"{key!r} is not a severity ({names})") from None
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise ValueError(
                f"the points for {severity.value} are a whole number >= 0, not {item!r}"
            )
        points[severity] = item
    missing = [s.value for s in Severity if s not in points]
    if missing:
        raise ValueError(f"no points for {', '.join(missing)}")
    return points


Points = Annotated[int, Field(ge=0)]

ListName = Annotated[str, BeforeValidator(_list_name), AfterValidator(list_name)]
"""The name of a list the catalogue defines."""
MeasureName = Annotated[str, BeforeValidator(_measure_name), AfterValidator(measure_name)]
"""The name of a measure the catalogue defines."""
ListRef = Annotated[str, AfterValidator(_known_list)]
"""A list named by a rule or a policy: one of the catalogue's."""
RestrictionRef = Annotated[str, AfterValidator(_restriction_measure)]
"""A measure a rule imposes: one of the catalogue's, of kind restriction."""
Weight = Annotated[int | dict[Severity, int], BeforeValidator(_weight)]
"""Points for an own record in force: one number, or a number for each severity."""


class RulesModel(BaseModel):
    # Unknown keys are errors: a misspelt field must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the catalogue -------------------------------------------------------------------------------


class ListEntry(RulesModel):
    """One list of the catalogue: what it means and what its records weigh."""

    meaning: str = Field(min_length=1)
    default_severity: Severity | None
    """The severity of a record that does not say; None: as recorded (and ``general`` if not)."""
    weight: Weight
    """The points an own record in force deducts (by severity, when a mapping)."""
    ended_factor: Decimal = Field(ge=0, le=1)
    """The share of the weight an own record deducts when it ended (expired or repaired, not
    revoked) within the score's window; 0.2 deducts 20%, rounded down. Decimal, so that the
    rounding is exact."""

    def points(self, severity: Severity) -> int:
        """The points an own record in force of ``severity`` deducts."""
        if isinstance(self.weight, int):
            return self.weight
        return self.weight[severity]

    @property
    def ended_percent(self) -> str:
        """The ended factor as a percentage, for messages: ``"20"`` for 0.2."""
        return format((self.ended_factor * 100).normalize(), "f")


class MeasureEntry(RulesModel):
    """One measure of the catalogue."""

    meaning: str = Field(min_length=1)
    kind: MeasureKind


@dataclass(frozen=True)
class Catalogue:
    """The lists and measures of a rules file, and the questions the code asks about them.

    Build one with :func:`load_rules` (``rules.catalogue``); ``source`` names the file in errors.
    """

    lists: Mapping[str, ListEntry]
    measures: Mapping[str, MeasureEntry]
    source: str = "<rules>"

    @property
    def list_names(self) -> tuple[str, ...]:
        """Every list, in file order."""
        return tuple(self.lists)

    def has_list(self, name: str) -> bool:
        """Whether the catalogue defines the list ``name``."""
        return name in self.lists

    def list_entry(self, name: str) -> ListEntry:
        """The list ``name``.

        Raises
        ------
        RulesError
            When the catalogue does not define it: the records were loaded under other rules.
        """
        entry = self.lists.get(name)
        if entry is None:
            raise RulesError(
                f"{self.source}: the list {name} is not in the lists catalogue; use the rules "
                f"file its records were loaded with (--rules or CREDITNET_RULES), or add {name} "
                "under lists: with its meaning, default_severity, weight and ended_factor"
            )
        return entry

    def severity_of(self, sanction: Sanction) -> Severity:
        """The severity of ``sanction``: as recorded, else its list's default, else ``general``.

        Examples
        --------
        >>> from graph.rules.schema import load_rules
        >>> catalogue = load_rules(None).catalogue
        >>> catalogue.severity_of(Sanction("s1", "c1", "SERIOUS_DISHONEST")).value
        'serious'
        >>> catalogue.severity_of(Sanction("s2", "c1", "ADMIN_PENALTY")).value  # as recorded
        'general'
        """
        if sanction.severity is not None:
            return sanction.severity
        entry = self.lists.get(sanction.list)
        if entry is not None and entry.default_severity is not None:
            return entry.default_severity
        return Severity.GENERAL

    def own_points(self, sanction: Sanction) -> int:
        """The points an own record in force deducts.

        Examples
        --------
        >>> from graph.rules.schema import load_rules
        >>> catalogue = load_rules(None).catalogue
        >>> catalogue.own_points(Sanction("s1", "c1", "ADMIN_PENALTY"))  # general
        60
        >>> catalogue.own_points(Sanction("s2", "c1", "WAGE_ARREARS"))
        300
        """
        return self.list_entry(sanction.list).points(self.severity_of(sanction))

    def ended_points(self, sanction: Sanction) -> int:
        """The points a recently ended own record deducts: its list's factor, rounded down.

        >>> from graph.rules.schema import load_rules
        >>> load_rules(None).catalogue.ended_points(Sanction("s1", "c1", "MARKET_BAN"))
        100
        """
        entry = self.list_entry(sanction.list)
        return int(entry.points(self.severity_of(sanction)) * entry.ended_factor)

    def measure_kind(self, name: str) -> MeasureKind | None:
        """The kind of the measure ``name``, or None when the catalogue does not define it."""
        entry = self.measures.get(name)
        return None if entry is None else entry.kind

    def measure_names(self, kind: MeasureKind | None = None) -> tuple[str, ...]:
        """The measures (of ``kind``, when given), in file order."""
        return tuple(n for n, e in self.measures.items() if kind is None or e.kind is kind)
