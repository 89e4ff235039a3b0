"""The rules file: the catalogue of lists and measures, joint-punishment rules, score weights and
publicity periods, loaded and checked.

A rules file is YAML (see ``graph/rules/default.yaml``, the shipped default)::

    version: 2                      # the format version; this code reads 2
    name: my-agency-2024
    lists:                          # the catalogue of lists a sanction record can be on
      PROVINCIAL_X:                 # upper-case letters, digits and _
        meaning: provincial list of ...
        default_severity: serious   # minor, general, serious; null: as recorded (else general)
        weight: 300                 # points an own record in force deducts, or by severity:
                                    #   {minor: 20, general: 60, serious: 150}
        ended_factor: 0.2           # the share of the weight a recently ended record deducts
    measures:                       # the catalogue of measures
      PROCUREMENT_BAN:
        meaning: may not take part in government procurement
        kind: restriction           # restriction, incentive or notice
    rules:
      - id: R1                      # unique; restrictions name their rule by it
        name: serious-dishonest
        trigger:
          lists: [SERIOUS_DISHONEST]        # names of the lists catalogue
          severities: [serious]             # optional: only records of these severities
        subject:
          kind: COMPANY                     # COMPANY, PERSON or ANY
          measures:                         # restriction measure -> legal basis (text or list)
            PROCUREMENT_BAN: 《...》第二十二条
        reaches:
          - name: principal responsible persons
            edge: OFFICER_OF                # OFFICER_OF or OWNS
            direction: IN                   # seen from the subject: IN = links pointing at it
            roles: [legal_representative]   # OFFICER_OF only; omitted = any role
            control: false                  # OWNS only: OUT = companies the subject controls,
                                            #   IN = entities that control the subject
            target_kind: PERSON             # optional filter on the reached entity
            max_hops: 1                     # OFFICER_OF: 1; OWNS: >= 1, or null with control
            measures: {OFFICER_APPOINTMENT_BAN: 《...》}
          - name: receivers of the batch    # graph/rules/supply_reach.py
            edge: SUPPLY_DOWNSTREAM         # from the record's batch_id to every receiver
            measures: {RECALL_NOTICE: 《...》}  # measures of kind notice
    incentives:                     # optional: joint-incentive rules (IncentiveRule)
      - id: I1
        name: trustworthy
        grants: {GREEN_CHANNEL: 《...》}   # incentive measure -> legal basis
        conditions:                       # all must hold, tested in order (Condition)
          - {test: grade, grades: [A]}
    supervision:                    # optional: graded supervision (SupervisionPolicy)
      legal_basis: 《...》
      classes:                      # first match wins; A-D once each; the last is otherwise
        - {name: D, grades: [D], measures: [PROCUREMENT_BAN], rate: 1.0}
        - {name: B, otherwise: true, rate: 0.1}
    score: {...}                    # see ScoreWeights
    publicity: {...}                # see PublicityPolicy

Lists and measures are data: an agency adds a list and the rules on it to its own file, and
records of that list load and produce their restrictions with no code change. Every rule names
lists and measures of the file's own catalogue, and imposes only measures of kind
``restriction``, except that a supply reach gives measures of kind ``notice``.

Every problem is reported as a :class:`graph.errors.RulesError` whose message names the file, the
rule (by id, else by position), list or measure, and the field, one line per problem.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from graph.errors import RulesError
from graph.model import (
    Direction,
    EntityKind,
    LinkType,
    OfficerRole,
    Sanction,
    Severity,
)
from graph.rules.catalogue import (
    LISTS_KEY,
    MEASURES_KEY,
    Catalogue,
    IncentiveRef,
    LegalBasis,
    ListEntry,
    ListName,
    ListRef,
    MeasureEntry,
    MeasureKind,
    MeasureName,
    Points,
    RestrictionRef,
    RulesModel,
    catalogue_context,
)
from graph.rules.supply_reach import (
    SupplyEdge,
    SupplyReach,
    check_supply_reach,
    file_location,
    split_reaches,
)

__all__ = [
    "DEFAULT_RULES_NAME",
    "FORMAT_VERSION",
    "Catalogue",
    "Condition",
    "ConditionKind",
    "Grade",
    "IncentiveRule",
    "ListEntry",
    "MeasureEntry",
    "MeasureKind",
    "PublicityPeriod",
    "PublicityPolicy",
    "Reach",
    "Rule",
    "RuleSet",
    "ScoreWeights",
    "SubjectKind",
    "SubjectSpec",
    "SupervisionClass",
    "SupervisionPolicy",
    "SupplyEdge",
    "SupplyReach",
    "Trigger",
    "load_rules",
    "parse_rules",
]

FORMAT_VERSION: Final = 2
"""The rules-file format version this code reads (2: the catalogue of lists and measures)."""

DEFAULT_RULES_NAME: Final = "default.yaml"
"""The shipped default, a resource of the ``graph.rules`` package."""

_SOURCE: Final = "source"


class SubjectKind(StrEnum):
    """Which subjects a rule applies to."""

    COMPANY = "COMPANY"
    PERSON = "PERSON"
    ANY = "ANY"

    def admits(self, kind: EntityKind) -> bool:
        """Whether an entity of ``kind`` can be this rule's subject."""
        return self is SubjectKind.ANY or self.value == kind.value


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


def _followed_edge(value: object) -> object:
    # Only these link types carry joint punishment; the others are not walked by rules.
    if value not in ("OFFICER_OF", "OWNS", LinkType.OFFICER_OF, LinkType.OWNS):
        raise ValueError(
            f"a rule follows OFFICER_OF, OWNS or SUPPLY_DOWNSTREAM links, not {value!r}"
        )
    return value


def _walk_direction(value: object) -> object:
    if value not in ("OUT", "IN", Direction.OUT, Direction.IN):
        raise ValueError(f"must be OUT or IN (seen from the subject), not {value!r}")
    return value


FollowedEdge = Annotated[LinkType, BeforeValidator(_followed_edge)]
WalkDirection = Annotated[Direction, BeforeValidator(_walk_direction)]

# -- rules ---------------------------------------------------------------------------------------


class Trigger(RulesModel):
    """Which sanction records fire a rule."""

    lists: frozenset[ListRef] = Field(min_length=1)
    severities: frozenset[Severity] | None = None
    """None: any severity. Matched against :meth:`Catalogue.severity_of`."""

    def matches(self, sanction: Sanction, severity: Severity) -> bool:
        """Whether ``sanction``, of ``severity``, fires the rule (by list, and severity when
        restricted)."""
        if sanction.list not in self.lists:
            return False
        return self.severities is None or severity in self.severities


class SubjectSpec(RulesModel):
    kind: SubjectKind
    measures: dict[RestrictionRef, LegalBasis] = Field(default_factory=dict)


class Reach(RulesModel):
    """A typed walk from a rule's subject to the entities that receive ``measures``."""

    name: str = Field(min_length=1)
    edge: FollowedEdge
    direction: WalkDirection
    """Seen from the subject: OUT follows links that start at it, IN links that end at it."""
    roles: frozenset[OfficerRole] | None = None
    control: bool = False
    target_kind: EntityKind | None = None
    max_hops: int | None = Field(default=1, ge=1)
    """None (only with ``control``): no limit, as control has none."""
    measures: dict[RestrictionRef, LegalBasis] = Field(min_length=1)

    @property
    def possible_target_kinds(self) -> frozenset[EntityKind]:
        """The kinds of entity the link type and direction allow this reach to end at."""
        if self.edge is LinkType.OFFICER_OF:
            # OFFICER_OF runs Person -> Company.
            person = self.direction is Direction.IN
            return frozenset({EntityKind.PERSON if person else EntityKind.COMPANY})
        if self.direction is Direction.OUT:
            return frozenset({EntityKind.COMPANY})  # only companies are owned
        return frozenset({EntityKind.COMPANY, EntityKind.PERSON})

    @property
    def target_kinds(self) -> frozenset[EntityKind]:
        """The kinds of entity this reach ends at: the possible ones, narrowed by target_kind."""
        possible = self.possible_target_kinds
        if self.target_kind is None:
            return possible
        return possible & {self.target_kind}


class Rule(RulesModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    trigger: Trigger
    subject: SubjectSpec
    reaches: tuple[Reach, ...] = ()
    """The reaches along officer and ownership links, from the subject."""
    supply_reaches: tuple[SupplyReach, ...] = ()
    """The reaches along supply links, from the record's batch: the ``reaches`` entries of the
    file with ``edge: SUPPLY_DOWNSTREAM`` (graph/rules/supply_reach.py)."""
    _positions: tuple[tuple[int, ...], tuple[int, ...]] = PrivateAttr(default=((), ()))

    @model_validator(mode="wrap")
    @classmethod
    def _supply_reaches_apart(cls, data: Any, handler: ModelWrapValidatorHandler[Rule]) -> Rule:
        # Kept apart so that every walker of officer and ownership links sees only those.
        moved, links, supply = split_reaches(data)
        rule = handler(moved)
        rule._positions = (links, supply)
        return rule

    def reach_label(self, index: int, supply: bool = False) -> str:
        """``reaches[i]``: where the ``index``-th reach (or supply reach) stands in the file."""
        positions = self._positions[1 if supply else 0]
        return f"reaches[{positions[index] if index < len(positions) else index}]"

    def applies_to(self, sanction: Sanction, kind: EntityKind, severity: Severity) -> bool:
        """Whether ``sanction`` (of ``severity``), on a subject of ``kind``, fires this rule."""
        return self.subject.kind.admits(kind) and self.trigger.matches(sanction, severity)

    @property
    def measures(self) -> frozenset[str]:
        """Every measure this rule can impose, on the subject or through a reach."""
        found = set(self.subject.measures)
        for reach in self.reaches:
            found.update(reach.measures)
        return frozenset(found)


# -- joint incentives and graded supervision ----------------------------------------------------


class ConditionKind(StrEnum):
    """The tests an incentive rule's conditions can make (spec/DOMAIN.md "Joint incentives")."""

    GRADE = "grade"
    """The entity's credit grade is one of ``grades``."""
    NO_RESTRICTION = "no_restriction"
    """No restriction in force on the entity, from any source (disputed ones included)."""
    NO_PRINCIPAL_RESTRICTION = "no_principal_restriction"
    """None of the persons holding ``roles`` in it (OFFICER_OF, 1 hop, in force) has a
    restriction in force."""
    NO_OWN_RECORD = "no_own_record"
    """No own sanction record in force, of any list."""
    KEPT_COMMITMENT = "kept_commitment"
    """At least one commitment verified as kept within ``window_months`` before the date."""
    NO_BROKEN_COMMITMENT = "no_broken_commitment"
    """No commitment verified as broken within ``window_months`` before the date, unless its
    COMMITMENT_BREACH record was revoked by then."""


class Condition(RulesModel):
    """One condition of an incentive rule; only the fields its ``test`` reads may be given."""

    test: ConditionKind
    grades: frozenset[Grade] | None = None
    roles: frozenset[OfficerRole] | None = None
    window_months: int | None = Field(default=None, ge=1)
    legal_basis: LegalBasis | None = None
    """Why the condition is there, when it has a source of its own."""

    @model_validator(mode="after")
    def _fields_of_the_test(self) -> Condition:
        wanted = _CONDITION_FIELDS[self.test]
        given = {
            name for name in ("grades", "roles", "window_months") if getattr(self, name) is not None
        }
        stray = sorted(given - wanted)
        if stray:
            raise ValueError(f"a {self.test.value} condition takes no {', '.join(stray)}")
        missing = sorted(wanted - given)
        if missing:
            raise ValueError(f"a {self.test.value} condition needs {', '.join(missing)}")
        if self.grades is not None and not self.grades:
            raise ValueError("grades: an empty grade list never holds")
        if self.roles is not None and not self.roles:
            raise ValueError("roles: an empty role list checks no one; name the roles")
        return self


_CONDITION_FIELDS: Final[dict[ConditionKind, frozenset[str]]] = {
    ConditionKind.GRADE: frozenset({"grades"}),
    ConditionKind.NO_RESTRICTION: frozenset(),
    ConditionKind.NO_PRINCIPAL_RESTRICTION: frozenset({"roles"}),
    ConditionKind.NO_OWN_RECORD: frozenset(),
    ConditionKind.KEPT_COMMITMENT: frozenset({"window_months"}),
    ConditionKind.NO_BROKEN_COMMITMENT: frozenset({"window_months"}),
}


class IncentiveRule(RulesModel):
    """A joint-incentive rule: the measures it grants (each with its legal basis) when every
    condition holds, tested in file order (a withheld incentive names the first that fails)."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    subject_kind: SubjectKind = SubjectKind.COMPANY
    grants: dict[IncentiveRef, LegalBasis] = Field(min_length=1)
    conditions: tuple[Condition, ...] = Field(min_length=1)


class SupervisionClass(RulesModel):
    """One class of graded supervision: when a company is in it, and its inspection rate.

    A company is in the first class (in file order) one of whose tests holds: its grade is in
    ``grades``; it holds one of ``measures``; it holds any restriction (``any_restriction``); it
    is granted the incentive rule ``incentive``; or ``otherwise`` (the last class).
    """

    name: Grade
    grades: frozenset[Grade] = frozenset()
    measures: frozenset[RestrictionRef] = frozenset()
    any_restriction: bool = False
    incentive: str | None = None
    otherwise: bool = False
    rate: Decimal = Field(ge=0, le=1)
    """The yearly share of the class drawn for random inspection (1: every company)."""


class SupervisionPolicy(RulesModel):
    """Graded supervision (spec/DOMAIN.md "Graded supervision"): the classes, first match wins."""

    classes: tuple[SupervisionClass, ...] = Field(min_length=1)
    legal_basis: LegalBasis

    def rate(self, name: Grade) -> Decimal:
        """The inspection rate of the class ``name``."""
        for entry in self.classes:
            if entry.name is name:
                return entry.rate
        raise KeyError(name)


# -- score and publicity -----------------------------------------------------------------------


class ScoreWeights(RulesModel):
    """Credit score weights (spec/DOMAIN.md "Credit score"); each list's own points and ended
    factor are in the catalogue (:class:`ListEntry`)."""

    ended_window_months: int = Field(default=36, ge=0)
    """An own record that ended within this window before the report's date still deducts."""
    relationship_points: Points = 50
    relationship_cap: Points = 200
    grades: dict[Grade, int]
    """Lowest score of grades A, B and C; below C's is D."""

    @model_validator(mode="before")
    @classmethod
    def _moved_to_the_catalogue(cls, data: Any) -> Any:
        if isinstance(data, dict):
            moved = [key for key in ("own_sanction", "ended_percent") if key in data]
            if moved:
                raise ValueError(
                    f"{' and '.join(moved)}: since rules format 2 each list's weight and "
                    "ended_factor are in the lists catalogue (lists: NAME: {weight: ..., "
                    "ended_factor: 0.2}); move them there"
                )
        return data

    def grade(self, score: int) -> Grade:
        """The grade of ``score``.

        Examples
        --------
        >>> weights = load_rules(None).score
        >>> [weights.grade(s).value for s in (900, 899, 700, 699, 500, 499)]
        ['A', 'B', 'B', 'C', 'C', 'D']
        """
        for grade in (Grade.A, Grade.B, Grade.C):
            if score >= self.grades[grade]:
                return grade
        return Grade.D


class PublicityPeriod(RulesModel):
    minimum_months: int = Field(ge=0)
    maximum_months: int | None = Field(default=None, ge=1)


class PublicityPolicy(RulesModel):
    """Minimum and maximum publicity periods (spec/DOMAIN.md "Due process").

    A record's period follows its severity, so the policy of a :class:`RuleSet` reads records'
    severities from that rule set's catalogue (:meth:`Catalogue.severity_of`).
    """

    periods: dict[Severity, PublicityPeriod]
    no_maximum: frozenset[ListRef] = frozenset()
    """Lists whose records end only by their own end date or by a decision."""
    _catalogue: Catalogue | None = PrivateAttr(default=None)

    def _severity(self, sanction: Sanction) -> Severity:
        if self._catalogue is not None:
            return self._catalogue.severity_of(sanction)
        # A policy outside a rule set knows no list defaults.
        return sanction.severity or Severity.GENERAL

    def maximum_months(self, sanction: Sanction) -> int | None:
        """Months after its start at which ``sanction`` stops counting, or None (no maximum).

        Examples
        --------
        >>> policy = load_rules(None).publicity
        >>> policy.maximum_months(Sanction("s1", "c1", "SERIOUS_DISHONEST"))
        36
        >>> policy.maximum_months(Sanction("s2", "c1", "MARKET_BAN")) is None
        True
        >>> policy.maximum_months(Sanction("s3", "c1", "COMMITMENT_BREACH"))  # general
        12
        """
        if sanction.list in self.no_maximum:
            return None
        return self.periods[self._severity(sanction)].maximum_months

    def minimum_months(self, sanction: Sanction) -> int:
        """Months after its start before the subject may apply for credit repair."""
        return self.periods[self._severity(sanction)].minimum_months


class RuleSet(RulesModel):
    """A checked rules file. Build one with :func:`load_rules` or :func:`parse_rules`."""

    version: int
    name: str = Field(min_length=1)
    lists: dict[ListName, ListEntry] = Field(min_length=1)
    measures: dict[MeasureName, MeasureEntry] = Field(min_length=1)
    rules: tuple[Rule, ...]
    incentives: tuple[IncentiveRule, ...] = ()
    supervision: SupervisionPolicy | None = None
    """None: the file defines no graded supervision (no class, no inspection draw)."""
    score: ScoreWeights
    publicity: PublicityPolicy
    source: str = Field(default="<rules>", exclude=True)
    """Where the rules came from (a file path), for messages."""
    _catalogue: Catalogue = PrivateAttr()

    @model_validator(mode="after")
    def _share_the_catalogue(self, info: ValidationInfo) -> RuleSet:
        source = catalogue_context(info, _SOURCE) or self.source
        self._catalogue = Catalogue(self.lists, self.measures, source)
        self.publicity._catalogue = self._catalogue
        return self

    @property
    def catalogue(self) -> Catalogue:
        """The lists and measures of this rules file."""
        return self._catalogue

    def rules_for(self, sanction: Sanction, kind: EntityKind) -> list[Rule]:
        """The rules ``sanction`` fires when its subject is of ``kind``, in file order."""
        severity = self._catalogue.severity_of(sanction)
        return [rule for rule in self.rules if rule.applies_to(sanction, kind, severity)]

    def incentive(self, rule_id: str) -> IncentiveRule:
        """The incentive rule with this id (KeyError if none)."""
        for rule in self.incentives:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# -- loading -----------------------------------------------------------------------------------


def load_rules(path: Path | None = None) -> RuleSet:
    """Load and check a rules file; None loads the shipped default.

    Parameters
    ----------
    path
        A YAML rules file, or None for ``graph/rules/default.yaml`` (read as a package resource,
        so it works from an installed wheel too).

    Raises
    ------
    RulesError
        When the file cannot be read or does not pass the checks; the message names the file,
        the rule, list or measure, and the field of every problem.

    Examples
    --------
    >>> rules = load_rules(None)
    >>> [rule.id for rule in rules.rules]
    ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9', 'R10', 'R11']
    >>> rules.score.relationship_cap
    200
    >>> rules.catalogue.list_entry("COMMITMENT_BREACH").default_severity.value
    'general'
    """
    if path is None:
        return _default_rules()
    # Bounded before parsing (a --rules /dev/zero would read forever), and no line of a file
    # that is not a rules file is ever quoted back (--rules /etc/shadow).
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise RulesError(f"{path}: not a regular file; give a rules YAML file (docs/rules.md)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_RULES_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read the rules file: {type(exc).__name__}") from None
    if len(data) > MAX_RULES_BYTES:
        raise RulesError(f"{path}: larger than {MAX_RULES_BYTES} bytes; is it a rules file?")
    if not re.search(r"^version\s*:", text, re.MULTILINE):
        raise RulesError(
            f"{path}: not a creditnet rules file (it has no top-level 'version:'); "
            "see docs/rules.md for the format"
        )
    ruleset = parse_rules(text, str(path))
    if len(ruleset.rules) > MAX_RULES:
        raise RulesError(f"{path}: more than {MAX_RULES} rules ({len(ruleset.rules)})")
    return ruleset


MAX_RULES_BYTES: Final = 1_000_000
"""The largest rules file read (the shipped one is about 20 kB)."""
MAX_RULES: Final = 500
"""The most rules a file may hold: every report evaluates each rule."""


@functools.cache
def _default_rules() -> RuleSet:
    # Parsed once per process: the API loads rules for every report.
    resource = resources.files("graph.rules").joinpath(DEFAULT_RULES_NAME)
    return parse_rules(resource.read_text(encoding="utf-8"), f"graph/rules/{DEFAULT_RULES_NAME}")


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Check the YAML ``text`` of a rules file; ``source`` names it in messages.

    Examples
    --------
    >>> parse_rules("version: 2\\nname: x\\nrules: []\\n", "mine.yaml")
    Traceback (most recent call last):
    ...
    graph.errors.RulesError: mine.yaml: lists: field required
    mine.yaml: measures: field required
    mine.yaml: score: field required
    mine.yaml: publicity: field required
    """
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no object tags
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: a rules file is a mapping with version, name, rules, ...")
    if raw.get("version") == 1:
        raise RulesError(f"{source}: version: {_VERSION_1}")
    try:
        ruleset = RuleSet.model_validate(raw, context=_catalogue_context(raw, source))
    except ValidationError as exc:
        raise RulesError(_describe(exc, raw, source)) from None
    problems = _check(ruleset)
    if problems:
        raise RulesError("\n".join(f"{source}: {p}" for p in problems))
    return ruleset.model_copy(update={"source": source})


_VERSION_1: Final = (
    "this is a rules file of format version 1, and this creditnet reads version 2, where lists "
    "and measures are data. To convert it: move each score.own_sanction weight into lists: "
    "(NAME: {meaning: ..., default_severity: ..., weight: ..., ended_factor: 0.2}, 0.2 being the "
    "old ended_percent 20), remove score.own_sanction and score.ended_percent, add measures: "
    "(NAME: {meaning: ..., kind: restriction}) for every measure your rules impose, and set "
    "version: 2. The shipped graph/rules/default.yaml has every shipped list and measure to copy."
)


def _catalogue_context(raw: Mapping[str, Any], source: str) -> dict[str, object]:
    """What the validators check names against: the names the file's catalogue declares.

    Taken from the raw file, so that a rule naming a list whose entry is itself broken reports
    the entry, not the rule too.
    """
    lists = raw.get(LISTS_KEY)
    measures = raw.get(MEASURES_KEY)
    kinds: dict[str, MeasureKind | None] | None = None
    # An empty or missing catalogue is reported once, not once for every name the rules use.
    if isinstance(measures, dict) and measures:
        kinds = {}
        for name, entry in measures.items():
            kind = entry.get("kind") if isinstance(entry, dict) else None
            # An invalid kind is reported on the entry; the rules naming it are not blamed too.
            valid = {k.value: k for k in MeasureKind}
            kinds[str(name)] = valid.get(kind) if isinstance(kind, str) else None
    return {
        _SOURCE: source,
        LISTS_KEY: frozenset(str(name) for name in lists)
        if isinstance(lists, dict) and lists
        else None,
        MEASURES_KEY: kinds,
    }


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (YAML would silently keep the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # an unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _describe(exc: ValidationError, raw: Mapping[str, Any], source: str) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        where = _where(error["loc"], raw)
        message = "field required" if error["type"] == "missing" else error["msg"]
        message = message.removeprefix("Value error, ")
        lines.append(f"{source}: {where}: {message}")
    return "\n".join(dict.fromkeys(lines))


def _where(loc: Sequence[int | str], raw: Mapping[str, Any]) -> str:
    """``rule R2: reaches[0].roles[1]`` for a location inside a rule, ``list X: weight`` inside
    a catalogue entry, else the field path."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        prefix = f"rule {_rule_label(raw, parts[1])}: "
        parts = file_location(raw, parts)[2:]
    elif len(parts) >= 2 and parts[0] == "incentives" and isinstance(parts[1], int):
        prefix = f"incentive {_rule_label(raw, parts[1], 'incentives')}: "
        parts = parts[2:]
    elif len(parts) >= 2 and parts[0] in (LISTS_KEY, MEASURES_KEY):
        prefix = f"{'list' if parts[0] == LISTS_KEY else 'measure'} {parts[1]}: "
        parts = parts[2:]
        if parts == ["[key]"]:
            return prefix + "name"
    field = ""
    for part in parts:
        if isinstance(part, int):
            field += f"[{part}]"
        elif part == "[key]":
            field += " (key)"
        else:
            field += f".{part}" if field else str(part)
    itself = (
        "(the rule itself)"
        if not prefix or prefix.startswith(("rule ", "incentive "))
        else "(the entry)"
    )
    return prefix + (field or itself)


def _rule_label(raw: Mapping[str, Any], index: int, section: str = "rules") -> str:
    rules = raw.get(section)
    if isinstance(rules, list) and index < len(rules):
        entry = rules[index]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
            return str(entry["id"])
    return f"#{index + 1}"


# -- checks pydantic cannot express --------------------------------------------------------------

_SUBJECTS_WITH_INCOMING: dict[LinkType, frozenset[SubjectKind]] = {
    # Which subjects have links of this type pointing at them: only companies have officers and
    # owners, so an IN reach on a person-only rule could never reach anyone.
    LinkType.OFFICER_OF: frozenset({SubjectKind.COMPANY, SubjectKind.ANY}),
    LinkType.OWNS: frozenset({SubjectKind.COMPANY, SubjectKind.ANY}),
}


def _check(ruleset: RuleSet) -> list[str]:
    problems: list[str] = []
    if ruleset.version != FORMAT_VERSION:
        problems.append(
            f"version: unsupported rules format version {ruleset.version} "
            f"(this creditnet reads version {FORMAT_VERSION})"
        )
    seen: set[str] = set()
    for rule in ruleset.rules:
        if rule.id in seen:
            problems.append(f"rule {rule.id}: id: used by another rule too")
        seen.add(rule.id)
        if not rule.measures and not rule.supply_reaches:
            problems.append(f"rule {rule.id}: subject.measures: the rule imposes no measure")
        for index, reach in enumerate(rule.reaches):
            where = f"rule {rule.id}: {rule.reach_label(index)}"
            problems += [f"{where}.{p}" for p in _check_reach(reach, rule)]
        for index in range(len(rule.supply_reaches)):
            where = f"rule {rule.id}: {rule.reach_label(index, supply=True)}"
            problems += [f"{where}.{p}" for p in check_supply_reach(rule.subject.kind.value)]
    problems += _check_incentives(ruleset)
    problems += _check_score(ruleset.score)
    problems += _check_publicity(ruleset.publicity)
    return problems


def _check_incentives(ruleset: RuleSet) -> list[str]:
    problems: list[str] = []
    seen = {rule.id for rule in ruleset.rules}
    for rule in ruleset.incentives:
        if rule.id in seen:
            problems.append(f"incentive {rule.id}: id: used by another rule too")
        seen.add(rule.id)
        if rule.subject_kind is not SubjectKind.COMPANY:
            problems.append(
                f"incentive {rule.id}: subject_kind: incentives apply to companies only "
                "(spec/DOMAIN.md); write COMPANY"
            )
    supervision = ruleset.supervision
    if supervision is None:
        return problems
    names = [entry.name for entry in supervision.classes]
    for grade in Grade:
        if names.count(grade) != 1:
            problems.append(
                f"supervision.classes: class {grade.value} must appear exactly once "
                f"(it appears {names.count(grade)} times)"
            )
    incentives = {rule.id for rule in ruleset.incentives}
    for index, entry in enumerate(supervision.classes):
        where = f"supervision.classes[{index}] ({entry.name.value})"
        tests = bool(entry.grades or entry.measures or entry.any_restriction or entry.incentive)
        if entry.otherwise and tests:
            problems.append(f"{where}: otherwise: a class that is 'otherwise' has no other test")
        if not entry.otherwise and not tests:
            problems.append(
                f"{where}: the class has no test (grades, measures, any_restriction, incentive); "
                "the last class says otherwise: true"
            )
        if entry.otherwise and index != len(supervision.classes) - 1:
            problems.append(f"{where}: otherwise: only the last class can be 'otherwise'")
        if entry.incentive is not None and entry.incentive not in incentives:
            problems.append(
                f"{where}: incentive: {entry.incentive} is not an incentive rule of this file "
                f"({', '.join(sorted(incentives)) or 'none'})"
            )
    if supervision.classes and not supervision.classes[-1].otherwise:
        problems.append(
            "supervision.classes: the last class must say otherwise: true, so that every "
            "company has a class"
        )
    return problems


def _check_reach(reach: Reach, rule: Rule) -> list[str]:
    problems: list[str] = []
    kind = rule.subject.kind
    if reach.direction is Direction.IN and kind not in _SUBJECTS_WITH_INCOMING[reach.edge]:
        problems.append(
            f"direction: a {kind.value} subject has no incoming {reach.edge.value} links "
            "(only companies have officers and owners)"
        )
    if reach.edge is LinkType.OFFICER_OF:
        if reach.direction is Direction.OUT and kind is SubjectKind.COMPANY:
            problems.append("direction: a company holds no officer positions (OFFICER_OF OUT)")
        if reach.control:
            problems.append("control: only OWNS reaches have a control condition")
        if reach.max_hops != 1:
            problems.append("max_hops: an OFFICER_OF reach is 1 hop (person and company)")
        if reach.roles is not None and not reach.roles:
            problems.append("roles: an empty role list reaches no one; omit it for any role")
    else:
        if reach.roles is not None:
            problems.append("roles: only OFFICER_OF reaches filter on roles")
        if reach.max_hops is None and not reach.control:
            problems.append("max_hops: an OWNS reach without control needs a hop limit")
    if reach.target_kind is not None and reach.target_kind not in reach.possible_target_kinds:
        problems.append(
            f"target_kind: a {reach.edge.value} {reach.direction.value} reach never ends at a "
            f"{reach.target_kind.value}"
        )
    return problems


def _check_score(score: ScoreWeights) -> list[str]:
    problems: list[str] = []
    missing_grades = [g.value for g in (Grade.A, Grade.B, Grade.C) if g not in score.grades]
    if missing_grades:
        problems.append(f"score.grades: no threshold for {', '.join(missing_grades)}")
    elif Grade.D in score.grades:
        problems.append("score.grades.D: D is every score below C's threshold; remove it")
    elif not score.grades[Grade.A] > score.grades[Grade.B] > score.grades[Grade.C]:
        problems.append("score.grades: thresholds must decrease from A to C")
    return problems


def _check_publicity(publicity: PublicityPolicy) -> list[str]:
    problems: list[str] = []
    for severity in Severity:
        period = publicity.periods.get(severity)
        if period is None:
            problems.append(f"publicity.periods.{severity.value}: field required")
        elif period.maximum_months is not None and period.minimum_months > period.maximum_months:
            problems.append(
                f"publicity.periods.{severity.value}: minimum_months exceeds maximum_months"
            )
    return problems
