"""The rules file: joint-punishment rules, score weights and publicity periods, loaded and checked.

A rules file is YAML (see ``graph/rules/default.yaml``, the shipped default)::

    version: 1                      # the format version; this code reads 1
    name: my-agency-2024
    rules:
      - id: R1                      # unique; restrictions name their rule by it
        name: serious-dishonest
        trigger:
          lists: [SERIOUS_DISHONEST]        # SanctionList names
          severities: [serious]             # optional: only records of these severities
        subject:
          kind: COMPANY                     # COMPANY, PERSON or ANY
          measures:                         # Measure name -> legal basis (text or list of texts)
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
    score: {...}                    # see ScoreWeights
    publicity: {...}                # see PublicityPolicy

Every problem is reported as a :class:`graph.errors.RulesError` whose message names the file, the
rule (by id, else by position) and the field, one line per problem.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from graph.errors import RulesError
from graph.model import (
    Direction,
    EntityKind,
    LinkType,
    Measure,
    OfficerRole,
    Sanction,
    SanctionList,
    Severity,
)

__all__ = [
    "DEFAULT_RULES_NAME",
    "FORMAT_VERSION",
    "Grade",
    "PublicityPeriod",
    "PublicityPolicy",
    "Reach",
    "Rule",
    "RuleSet",
    "ScoreWeights",
    "SubjectKind",
    "SubjectSpec",
    "Trigger",
    "load_rules",
    "parse_rules",
]

FORMAT_VERSION: Final = 1
"""The rules-file format version this code reads."""

DEFAULT_RULES_NAME: Final = "default.yaml"
"""The shipped default, a resource of the ``graph.rules`` package."""

LEGAL_BASIS_SEPARATOR: Final = "；"
"""Joins a list of citations into one legal basis text (a Chinese full-width semicolon)."""


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


def _legal_basis(value: object) -> object:
    # A list of citations reads better in YAML than one long line; it is one text downstream.
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return LEGAL_BASIS_SEPARATOR.join(item.strip() for item in value)
    if isinstance(value, str):
        return value.strip()
    return value


def _followed_edge(value: object) -> object:
    # Only these link types carry joint punishment; the others are not walked by rules.
    if value not in ("OFFICER_OF", "OWNS", LinkType.OFFICER_OF, LinkType.OWNS):
        raise ValueError(f"a rule follows OFFICER_OF or OWNS links, not {value!r}")
    return value


def _walk_direction(value: object) -> object:
    if value not in ("OUT", "IN", Direction.OUT, Direction.IN):
        raise ValueError(f"must be OUT or IN (seen from the subject), not {value!r}")
    return value


FollowedEdge = Annotated[LinkType, BeforeValidator(_followed_edge)]
WalkDirection = Annotated[Direction, BeforeValidator(_walk_direction)]

LegalBasis = Annotated[str, BeforeValidator(_legal_basis), Field(min_length=1)]
"""The legal basis of one measure: a citation, or a list of them joined with "；"."""

Points = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    # Unknown keys are errors: a misspelt field must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Model):
    """Which sanction records fire a rule."""

    lists: frozenset[SanctionList] = Field(min_length=1)
    severities: frozenset[Severity] | None = None
    """None: any severity. Matched against :attr:`Sanction.effective_severity`."""

    def matches(self, sanction: Sanction) -> bool:
        """Whether ``sanction``'s list (and severity, when restricted) fires the rule."""
        if sanction.list not in self.lists:
            return False
        return self.severities is None or sanction.effective_severity in self.severities


class SubjectSpec(_Model):
    kind: SubjectKind
    measures: dict[Measure, LegalBasis] = Field(default_factory=dict)


class Reach(_Model):
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
    measures: dict[Measure, LegalBasis] = Field(min_length=1)

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


class Rule(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    trigger: Trigger
    subject: SubjectSpec
    reaches: tuple[Reach, ...] = ()

    def applies_to(self, sanction: Sanction, kind: EntityKind) -> bool:
        """Whether ``sanction``, on a subject of ``kind``, fires this rule."""
        return self.subject.kind.admits(kind) and self.trigger.matches(sanction)

    @property
    def measures(self) -> frozenset[Measure]:
        """Every measure this rule can impose, on the subject or through a reach."""
        found = set(self.subject.measures)
        for reach in self.reaches:
            found.update(reach.measures)
        return frozenset(found)


class ScoreWeights(_Model):
    """Credit score weights (spec/DOMAIN.md "Credit score")."""

    own_sanction: dict[SanctionList, Points | dict[Severity, Points]]
    """Points for an own record in force, by list; a mapping gives them by severity."""
    ended_percent: int = Field(default=20, ge=0, le=100)
    ended_window_months: int = Field(default=36, ge=0)
    relationship_points: Points = 50
    relationship_cap: Points = 200
    grades: dict[Grade, int]
    """Lowest score of grades A, B and C; below C's is D."""

    def own_points(self, sanction: Sanction) -> int:
        """The points an own record in force deducts.

        Examples
        --------
        >>> weights = load_rules(None).score
        >>> weights.own_points(Sanction("s1", "c1", SanctionList.ADMIN_PENALTY))  # general
        60
        """
        weight = self.own_sanction[sanction.list]
        if isinstance(weight, int):
            return weight
        return weight[sanction.effective_severity]

    def ended_points(self, sanction: Sanction) -> int:
        """The points a recently ended own record deducts: a percentage, rounded down."""
        return self.own_points(sanction) * self.ended_percent // 100

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


class PublicityPeriod(_Model):
    minimum_months: int = Field(ge=0)
    maximum_months: int | None = Field(default=None, ge=1)


class PublicityPolicy(_Model):
    """Minimum and maximum publicity periods (spec/DOMAIN.md "Due process")."""

    periods: dict[Severity, PublicityPeriod]
    no_maximum: frozenset[SanctionList] = frozenset()
    """Lists whose records end only by their own end date or by a decision."""

    def maximum_months(self, sanction: Sanction) -> int | None:
        """Months after its start at which ``sanction`` stops counting, or None (no maximum).

        Examples
        --------
        >>> policy = load_rules(None).publicity
        >>> policy.maximum_months(Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST))
        36
        >>> policy.maximum_months(Sanction("s2", "c1", SanctionList.MARKET_BAN)) is None
        True
        """
        if sanction.list in self.no_maximum:
            return None
        return self.periods[sanction.effective_severity].maximum_months

    def minimum_months(self, sanction: Sanction) -> int:
        """Months after its start before the subject may apply for credit repair."""
        return self.periods[sanction.effective_severity].minimum_months


class RuleSet(_Model):
    """A checked rules file. Build one with :func:`load_rules` or :func:`parse_rules`."""

    version: int
    name: str = Field(min_length=1)
    rules: tuple[Rule, ...]
    score: ScoreWeights
    publicity: PublicityPolicy
    source: str = Field(default="<rules>", exclude=True)
    """Where the rules came from (a file path), for messages."""

    def rules_for(self, sanction: Sanction, kind: EntityKind) -> list[Rule]:
        """The rules ``sanction`` fires when its subject is of ``kind``, in file order."""
        return [rule for rule in self.rules if rule.applies_to(sanction, kind)]

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
        the rule and the field of every problem.

    Examples
    --------
    >>> rules = load_rules(None)
    >>> [rule.id for rule in rules.rules]
    ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7']
    >>> rules.score.relationship_cap
    200
    """
    if path is None:
        return _default_rules()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read the rules file: {exc}") from exc
    return parse_rules(text, str(path))


@functools.cache
def _default_rules() -> RuleSet:
    # Parsed once per process: the API loads rules for every report.
    resource = resources.files("graph.rules").joinpath(DEFAULT_RULES_NAME)
    return parse_rules(resource.read_text(encoding="utf-8"), f"graph/rules/{DEFAULT_RULES_NAME}")


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Check the YAML ``text`` of a rules file; ``source`` names it in messages.

    Examples
    --------
    >>> parse_rules("version: 1\\nname: x\\nrules: []\\n", "mine.yaml")
    Traceback (most recent call last):
    ...
    graph.errors.RulesError: mine.yaml: score: field required
    mine.yaml: publicity: field required
    """
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no object tags
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: a rules file is a mapping with version, name, rules, ...")
    try:
        ruleset = RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(_describe(exc, raw, source)) from None
    problems = _check(ruleset)
    if problems:
        raise RulesError("\n".join(f"{source}: {p}" for p in problems))
    return ruleset.model_copy(update={"source": source})


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
    """``rule R2: reaches[0].roles[1]`` for a location inside a rule, else the field path."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        prefix = f"rule {_rule_label(raw, parts[1])}: "
        parts = parts[2:]
    field = ""
    for part in parts:
        if isinstance(part, int):
            field += f"[{part}]"
        elif part == "[key]":
            field += " (key)"
        else:
            field += f".{part}" if field else str(part)
    return prefix + (field or "(the rule itself)")


def _rule_label(raw: Mapping[str, Any], index: int) -> str:
    rules = raw.get("rules")
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
        if not rule.measures:
            problems.append(f"rule {rule.id}: subject.measures: the rule imposes no measure")
        for index, reach in enumerate(rule.reaches):
            problems += [f"rule {rule.id}: reaches[{index}].{p}" for p in _check_reach(reach, rule)]
    problems += _check_score(ruleset.score)
    problems += _check_publicity(ruleset.publicity)
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
    for listed in SanctionList:
        weight = score.own_sanction.get(listed)
        if weight is None:
            problems.append(f"score.own_sanction.{listed.value}: field required")
        elif isinstance(weight, dict):
            missing = [s.value for s in Severity if s not in weight]
            if missing:
                names = ", ".join(missing)
                problems.append(f"score.own_sanction.{listed.value}: no points for {names}")
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
