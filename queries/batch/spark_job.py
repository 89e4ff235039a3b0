"""The national batch as a Spark job: the rule engine's answers as joins (docs/batch.md).

Runs unchanged on ``local[*]`` and on a cluster (``spark-submit queries/batch/spark_job.py``):
everything below is DataFrame expressions, no Python UDF and no collect of the graph, so the
executors need no creditnet code. What the driver computes from the rules file (the triggers,
measures, reaches, publicity periods and weights) becomes small literal tables and CASE
expressions; no rule is written here.

The equalities with the Python engine (:mod:`graph.rules.engine`, :mod:`graph.ownership`,
:mod:`queries.report`), proved on generated graphs by ``tests/batch``:

* **Time rules** (:func:`sanction_states`): ``sanction_in_force`` and ``sanction_ended_on`` as
  column expressions: severity from the record, else its list's default, else general; the
  publicity maximum by severity unless the list has none; ``add_months`` clamps to the month's
  last day as the engine does, and saturates at 9999-12-31.
* **Reaches**: OFFICER_OF reaches are one join with the role filter. OWNS reaches are a
  breadth-first search from every subject at once (:func:`shortest_paths`): one join per level,
  a node kept once per source at the first level it is reached, through the smallest node-id
  sequence (``min`` over the parents' paths: Spark orders arrays and strings as Python does).
  That is the engine's canonical shortest path. The search stops at ``max_hops`` or when no
  source reaches a new node: every level adds only (source, node) pairs not seen before, so it
  ends after at most the longest shortest path.
* **Control** (:func:`control`): the least fixpoint of "O controls C when O with the companies O
  controls holds more than 50% of C, or O is C's actual controller". Each round recomputes the
  tallies from the pairs found so far; shares are not negative, so the set only grows, and the
  loop ends at the first round that adds nothing (at most the longest control chain + 1 rounds).
* **Effective ownership** (:func:`beneficial_owners`): the simple paths of at most 10 links from
  every person, extended one link a round with the path carried so that no node repeats, their
  products summed per (person, company). Finite: paths are simple and bounded.

**Supernodes.** Every join that walks links from a node (a level of a search, a control round,
an ownership round) goes through :class:`Adjacency`: the links of a node with more than
``heavy_degree`` of them are spread over ``salts`` buckets (by the far end's hash), and the rows
arriving at that node are copied once per bucket, so one person with 100k positions or a holding
with 100k subsidiaries is worked on by ``salts`` tasks instead of one. Walks start from the
distinct subjects (one row per source, whatever the number of its records), and the records are
joined back only to the found targets.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from pathlib import Path
from typing import Final

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812 - the usual name
from pyspark.sql.types import ArrayType, IntegerType, StringType, StructField, StructType

from graph.errors import RulesError
from graph.model import Direction, EntityKind, LinkType, NodeLabel, OfficerRole, Sanction, Severity
from graph.ownership import BO_THRESHOLD, CONTROL_THRESHOLD, EPSILON, MAX_HOPS
from graph.ownership.holdings import PERCENT
from graph.rules.schema import Grade, Reach, RuleSet, SubjectKind, load_rules
from loaders.parquet import link_table, node_table
from queries.batch.tables import OWNERS, RESTRICTIONS, SCORES

__all__ = [
    "Adjacency",
    "SparkBatchConfig",
    "Tables",
    "beneficial_owners",
    "control",
    "main",
    "read_tables",
    "restrictions",
    "run_spark",
    "sanction_states",
    "scores",
    "session",
    "shortest_paths",
]

MAX_SCORE: Final = 1000
_LAST_MONTH: Final = 9999 * 12 + 11
"""9999-12 as a month count (year * 12 + month - 1): later months saturate at date.max."""


@dataclass(frozen=True)
class SparkBatchConfig:
    """How the job spreads its work (answers do not depend on it)."""

    heavy_degree: int = 10_000
    """A node with more links than this is a supernode: its joins are salted."""
    salts: int = 16
    """Buckets a supernode's links are spread over."""
    max_hops: int = MAX_HOPS
    """Longest ownership path counted for effective shares (as the owner table)."""
    threshold: float = BO_THRESHOLD
    """Percent of effective ownership that makes a beneficial owner."""


@dataclass
class Tables:
    """The snapshot's tables as of the batch date, in the columns the job uses."""

    entities: DataFrame
    """id, kind (COMPANY or PERSON)."""
    sanctions: DataFrame
    """Records of companies and persons, with subject_kind."""
    owns: DataFrame
    """src (owner), dst (company), share (share, else its range's minimum; null when none):
    holdings in force, not stated indirect interests, not self-held."""
    officers: DataFrame
    """src (person), dst (company), role: positions in force."""
    cache: list[DataFrame] = field(default_factory=list)


def session(
    master: str | None = None,
    *,
    app: str = "creditnet-batch",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session for the job; ``master`` None keeps what spark-submit configured;
    ``config`` adds Spark settings (``spark.driver.memory``, say)."""
    builder = SparkSession.builder.appName(app)
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            # A local run has a few cores: 200 shuffle partitions would be mostly overhead.
            inside = master.partition("[")[2].rstrip("]")
            cores = (os.cpu_count() or 2) if inside in ("", "*") else int(inside.split(",")[0])
            builder = builder.config("spark.sql.shuffle.partitions", str(cores))
    builder = builder.config("spark.sql.adaptive.enabled", "false").config(
        "spark.sql.session.timeZone", "UTC"
    )
    return builder.getOrCreate()


# -- reading -------------------------------------------------------------------------------------


def _valid(as_of: date) -> Column:
    day = F.lit(as_of)
    return (F.col("start").isNull() | (F.col("start") <= day)) & (
        F.col("end").isNull() | (day < F.col("end"))
    )


def read_tables(spark: SparkSession, snapshot: Path, as_of: date) -> Tables:
    """The snapshot's entities, records and links in force at ``as_of``."""
    read = spark.read.parquet

    def path(relative: str) -> str:
        return str(snapshot / relative)

    companies = read(path(node_table(NodeLabel.COMPANY))).select(
        "id", F.lit(EntityKind.COMPANY.value).alias("kind")
    )
    persons = read(path(node_table(NodeLabel.PERSON))).select(
        "id", F.lit(EntityKind.PERSON.value).alias("kind")
    )
    entities = companies.unionByName(persons)
    sanctions = (
        read(path(node_table(NodeLabel.SANCTION)))
        .select(
            "id",
            "subject_id",
            "list",
            "severity",
            "decided",
            "start",
            "end",
            "status",
            "status_date",
            F.coalesce("disputed", F.lit(False)).alias("disputed"),
        )
        .join(
            entities.select(F.col("id").alias("subject_id"), F.col("kind").alias("subject_kind")),
            "subject_id",
        )
    )
    owns = (
        read(path(link_table(LinkType.OWNS)))
        .filter(_valid(as_of) & ~F.coalesce(F.col("indirect"), F.lit(False)))
        .filter(F.col("source") != F.col("target"))
        .select(
            F.col("source").alias("src"),
            F.col("target").alias("dst"),
            F.coalesce("share", "share_min").alias("share"),
        )
    )
    officers = (
        read(path(link_table(LinkType.OFFICER_OF)))
        .filter(_valid(as_of))
        .select(F.col("source").alias("src"), F.col("target").alias("dst"), "role")
    )
    return Tables(entities=entities, sanctions=sanctions, owns=owns, officers=officers)


# -- small tables and expressions from the rules --------------------------------------------------


def _case(column: Column, mapping: Mapping[str, object], default: object = None) -> Column:
    """``mapping[column]`` as a CASE expression (``default`` when absent)."""
    result: Column | None = None
    for key, value in mapping.items():
        result = (F.when if result is None else result.when)(column == F.lit(key), F.lit(value))
    if result is None:
        return F.lit(default)
    return result.otherwise(F.lit(default))


def _add_months(day: Column, months: Column) -> Column:
    """``graph.rules.engine.add_months`` for months >= 0: clamped to the month's last day (as
    Spark's add_months), 9999-12-31 past the calendar."""
    total = F.year(day) * 12 + F.month(day) - 1 + months
    return F.when(total > _LAST_MONTH, F.lit(date.max)).otherwise(F.add_months(day, months))


def _severity_column(rules: RuleSet) -> Column:
    defaults = {
        name: entry.default_severity.value
        for name, entry in rules.catalogue.lists.items()
        if entry.default_severity is not None
    }
    return F.coalesce(
        F.col("severity"), _case(F.col("list"), defaults), F.lit(Severity.GENERAL.value)
    )


def _points(rules: RuleSet, ended: bool) -> Column:
    """Own points (or ended points) by (list, severity), from the catalogue."""
    catalogue = rules.catalogue
    by_key: dict[str, object] = {}
    for name in catalogue.list_names:
        for severity in Severity:
            record = Sanction("x", "x", name, severity=severity)
            points = catalogue.ended_points(record) if ended else catalogue.own_points(record)
            by_key[f"{name}|{severity.value}"] = points
    return _case(F.concat_ws("|", F.col("list"), F.col("sev")), by_key).cast(IntegerType())


def sanction_states(sanctions: DataFrame, rules: RuleSet, as_of: date) -> DataFrame:
    """``sanctions`` with sev, eff_start, ended_on, in_force and the score columns."""
    policy = rules.publicity
    day = F.lit(as_of)
    maxima = {severity.value: period.maximum_months for severity, period in policy.periods.items()}
    no_maximum = sorted(str(name) for name in policy.no_maximum)
    frame = sanctions.withColumn("sev", _severity_column(rules)).withColumn(
        "eff_start", F.coalesce("start", "decided")
    )
    maximum = F.when(F.col("list").isin(no_maximum), F.lit(None)).otherwise(
        _case(F.col("sev"), maxima)
    )
    cap = F.when(
        maximum.isNotNull() & F.col("eff_start").isNotNull(),
        _add_months(F.col("eff_start"), maximum.cast(IntegerType())),
    )
    # least() skips nulls: an open bound leaves the other, as min() over the known ones does.
    period_end = F.least(F.col("end"), cap)
    active = F.col("status") == F.lit("active")
    changed = F.coalesce("status_date", "eff_start")
    frame = frame.withColumn(
        "ended_on", F.when(active, period_end).otherwise(F.least(period_end, changed))
    )
    still = active | (F.col("status_date").isNotNull() & (day < F.col("status_date")))
    started = F.col("eff_start").isNull() | (F.col("eff_start") <= day)
    not_ended = F.col("ended_on").isNull() | (day < F.col("ended_on"))
    window = rules.score.ended_window_months
    counts_ended = (
        ~F.col("in_force")
        & F.col("ended_on").isNotNull()
        & (F.col("ended_on") <= day)
        & (F.col("status") != F.lit("revoked"))
        & (F.col("eff_start").isNull() | (F.col("ended_on") > F.col("eff_start")))
        & (day < _add_months(F.col("ended_on"), F.lit(window)))
    )
    return (
        frame.withColumn("in_force", still & started & not_ended)
        .withColumn("started", started)
        .withColumn("counts_ended", counts_ended)
        .withColumn("own_points", _points(rules, ended=False))
        .withColumn("ended_points", _points(rules, ended=True))
    )


def _triggers(spark: SparkSession, rules: RuleSet) -> DataFrame:
    rows = []
    for rule in rules.rules:
        severities: Iterable[str | None] = (
            [s.value for s in rule.trigger.severities] if rule.trigger.severities else [None]
        )
        for name in rule.trigger.lists:
            for severity in severities:
                rows.append((rule.id, str(name), severity, rule.subject.kind.value))
    schema = "rule string, t_list string, t_sev string, t_kind string"
    return spark.createDataFrame(rows, schema)


def _jobs(spark: SparkSession, states: DataFrame, rules: RuleSet) -> DataFrame:
    """(rule, source_id, subject_id, disputed): every rule each record in force fires."""
    triggers = F.broadcast(_triggers(spark, rules))
    return (
        states.filter("in_force")
        .join(
            triggers,
            (F.col("list") == F.col("t_list"))
            & (F.col("t_sev").isNull() | (F.col("t_sev") == F.col("sev")))
            & (
                (F.col("t_kind") == F.lit(SubjectKind.ANY.value))
                | (F.col("t_kind") == F.col("subject_kind"))
            ),
        )
        .select("rule", F.col("id").alias("source_id"), "subject_id", "disputed")
    )


# -- walking links ---------------------------------------------------------------------------------


class Adjacency:
    """Links ``src -> dst`` to walk from a node, salted at supernodes (see the module doc).

    The supernodes' ids come to the driver (they are few: a node is one when it has more than
    ``heavy_degree`` links) and go into the plans as a literal set.
    """

    def __init__(self, links: DataFrame, config: SparkBatchConfig) -> None:
        self.salts = config.salts
        degree = links.groupBy("src").count().filter(F.col("count") > config.heavy_degree)
        self.heavy = sorted(row["src"] for row in degree.select("src").collect())
        salt = F.lit(0)
        if self.heavy:
            salt = F.when(
                F.col("src").isin(self.heavy), F.pmod(F.hash("dst"), F.lit(self.salts))
            ).otherwise(0)
        self.links = _checkpoint(links.withColumn("l_salt", salt))

    def expand(self, rows: DataFrame, node: str) -> DataFrame:
        """``rows`` joined with the links out of their ``node`` column (``dst`` and the link's
        other columns added)."""
        salts = F.array(F.lit(0))
        if self.heavy:
            salts = F.when(
                F.col(node).isin(self.heavy), F.sequence(F.lit(0), F.lit(self.salts - 1))
            ).otherwise(salts)
        salted = rows.withColumn("r_salt", F.explode(salts))
        joined = salted.join(
            self.links, (F.col(node) == F.col("src")) & (F.col("r_salt") == F.col("l_salt"))
        )
        return joined.drop("l_salt", "r_salt", "src")


def _checkpoint(frame: DataFrame) -> DataFrame:
    # Cuts the plan: iterative joins otherwise re-plan every earlier round each time.
    return frame.localCheckpoint(eager=True)


def shortest_paths(
    seeds: DataFrame,
    adjacency: Adjacency,
    max_hops: int | None,
    *,
    paths: bool = True,
    wanted: DataFrame | None = None,
) -> DataFrame:
    """(source, node, path or depth): the canonical shortest walk from every ``source`` of
    ``seeds`` to every node it reaches within ``max_hops`` (None: no limit), the source left out.

    A node is taken at the first level it is reached, through the smallest parent path (the
    engine's ``_shortest_walks``); with ``paths=False`` only its depth is kept. ``wanted``
    (source, node) stops the search of a source once it has reached all of its wanted nodes
    (the others it reached on the way are still in the result), and the whole search once every
    source has: the walks to the wanted nodes are the same as without it.
    """
    start = seeds.select("source").distinct().withColumn("node", F.col("source"))
    if paths:
        start = start.withColumn("path", F.array("source"))
    else:
        start = start.withColumn("depth", F.lit(0))
    frontier = _checkpoint(start)
    pieces = [frontier]
    remaining = None
    if wanted is not None:
        remaining = _checkpoint(
            wanted.join(start.select("source"), "source", "left_semi").filter(
                F.col("node") != F.col("source")
            )
        )
    depth = 0
    while max_hops is None or depth < max_hops:
        if remaining is not None:
            if remaining.isEmpty():
                break
            frontier = frontier.join(remaining.select("source").distinct(), "source", "left_semi")
        visited = reduce(DataFrame.unionByName, pieces)
        step = adjacency.expand(frontier, "node").select(
            "source", F.col("dst").alias("next"), *(["path"] if paths else [])
        )
        step = step.join(
            visited.select("source", F.col("node").alias("next")), ["source", "next"], "left_anti"
        )
        if paths:
            new = step.groupBy("source", "next").agg(F.min("path").alias("path"))
            new = new.select(
                "source",
                F.col("next").alias("node"),
                F.concat("path", F.array("next")).alias("path"),
            )
        else:
            new = step.select("source", F.col("next").alias("node")).distinct()
            new = new.withColumn("depth", F.lit(depth + 1))
        new = _checkpoint(new)
        if new.isEmpty():
            break
        pieces.append(new)
        if remaining is not None:
            remaining = _checkpoint(
                remaining.join(new.select("source", "node"), ["source", "node"], "left_anti")
            )
        frontier = new
        depth += 1
    return reduce(DataFrame.unionByName, pieces).filter(F.col("node") != F.col("source"))


def _holdings(tables: Tables) -> DataFrame:
    """(src, dst, share): positive holdings summed per pair, as HoldingIndex adds tranches."""
    return (
        tables.owns.filter(F.col("share") > 0)
        .groupBy("src", "dst")
        .agg(F.sum("share").alias("share"))
    )


def _actual(tables: Tables) -> DataFrame:
    return (
        tables.officers.filter(F.col("role") == F.lit(OfficerRole.ACTUAL_CONTROLLER.value))
        .filter(F.col("src") != F.col("dst"))
        .select("src", "dst")
        .distinct()
    )


def control(tables: Tables, config: SparkBatchConfig) -> DataFrame:
    """(ctrl, company): every controller of every company (see the module doc)."""
    holdings = _holdings(tables).persist()
    adjacency = Adjacency(holdings, config)
    actual = _actual(tables).select(F.col("src").alias("ctrl"), F.col("dst").alias("company"))
    limit = CONTROL_THRESHOLD + EPSILON
    direct = holdings.filter(F.col("share") > limit).select(
        F.col("src").alias("ctrl"), F.col("dst").alias("company")
    )
    found = _checkpoint(direct.unionByName(actual).distinct())
    size = found.count()
    owners = holdings.select(F.col("src").alias("ctrl")).distinct()
    while True:
        members = found.select("ctrl", F.col("company").alias("member")).unionByName(
            owners.withColumn("member", F.col("ctrl"))
        )
        tally = (
            adjacency.expand(members, "member")
            .filter(F.col("dst") != F.col("ctrl"))
            .groupBy("ctrl", F.col("dst").alias("company"))
            .agg(F.sum("share").alias("share"))
            .filter(F.col("share") > limit)
            .select("ctrl", "company")
        )
        grown = _checkpoint(tally.unionByName(actual).unionByName(found).distinct())
        grown_size = grown.count()
        if grown_size == size:
            return grown
        found, size = grown, grown_size


# -- restrictions ----------------------------------------------------------------------------------


def _reach_key(reach: Reach) -> tuple[object, ...]:
    roles = None if reach.roles is None else tuple(sorted(r.value for r in reach.roles))
    target = None if reach.target_kind is None else reach.target_kind.value
    return (reach.edge.value, reach.direction.value, roles, reach.control, target, reach.max_hops)


def _reach_targets(
    reach: Reach,
    seeds: DataFrame,
    tables: Tables,
    controllers: DataFrame | None,
    adjacencies: dict[tuple[bool, bool], Adjacency],
    config: SparkBatchConfig,
) -> DataFrame:
    """(source, node, path): where ``reach`` leads from each seed, with the canonical path."""
    kinds = sorted(kind.value for kind in reach.target_kinds)
    if reach.edge is LinkType.OFFICER_OF:
        inward = reach.direction is Direction.IN
        links = tables.officers
        if reach.roles is not None:
            links = links.filter(F.col("role").isin(sorted(r.value for r in reach.roles)))
        near, far = ("dst", "src") if inward else ("src", "dst")
        found = (
            links.select(F.col(near).alias("source"), F.col(far).alias("node"))
            .join(seeds, "source", "left_semi")
            .distinct()
            .withColumn("path", F.array("source", "node"))
        )
    else:
        down = reach.direction is Direction.OUT
        key = (reach.control, down)
        if key not in adjacencies:
            links = tables.owns.select("src", "dst")
            if reach.control:
                # Actual controllers hold control like a majority owner: their positions are
                # walked too (graph/rules/engine.py, _Links.control_down).
                links = links.unionByName(_actual(tables))
            if not down:
                links = links.select(F.col("dst").alias("src"), F.col("src").alias("dst"))
            adjacencies[key] = Adjacency(links.distinct(), config)
        wanted = None
        if reach.control:
            assert controllers is not None
            ends = ("ctrl", "company") if down else ("company", "ctrl")
            wanted = controllers.select(
                F.col(ends[0]).alias("source"), F.col(ends[1]).alias("node")
            )
        found = shortest_paths(seeds, adjacencies[key], reach.max_hops, wanted=wanted)
        if wanted is not None:
            found = found.join(wanted, ["source", "node"], "left_semi")
    return found.filter(F.col("node") != F.col("source")).join(
        tables.entities.filter(F.col("kind").isin(kinds)).select(F.col("id").alias("node")),
        "node",
        "left_semi",
    )


def restrictions(
    spark: SparkSession,
    tables: Tables,
    rules: RuleSet,
    as_of: date,
    config: SparkBatchConfig,
    controllers: DataFrame | None = None,
) -> DataFrame:
    """Every restriction in force: entity_id, measure, rule, source_id, disputed, path.

    ``controllers`` (from :func:`control`) is computed when a control reach needs it and none
    is given.
    """
    states = sanction_states(tables.sanctions, rules, as_of)
    jobs = _checkpoint(_jobs(spark, states, rules))
    subject_rows = [
        (rule.id, str(measure)) for rule in rules.rules for measure in rule.subject.measures
    ]
    parts = [
        jobs.join(
            F.broadcast(spark.createDataFrame(subject_rows, "rule string, measure string")), "rule"
        ).select(
            F.col("subject_id").alias("entity_id"),
            "measure",
            "rule",
            "source_id",
            "disputed",
            F.array("subject_id").alias("path"),
        )
    ]
    # Reaches with the same walk share it (R1's and R8's principal persons, say): one search
    # from the union of their subjects.
    walks: dict[tuple[object, ...], list[tuple[str, Reach]]] = {}
    for rule in rules.rules:
        for reach in rule.reaches:
            walks.setdefault(_reach_key(reach), []).append((rule.id, reach))
    adjacencies: dict[tuple[bool, bool], Adjacency] = {}
    for users in walks.values():
        reach = users[0][1]
        rule_ids = sorted({rule_id for rule_id, _ in users})
        mine = jobs.filter(F.col("rule").isin(rule_ids))
        seeds = mine.select(F.col("subject_id").alias("source")).distinct()
        if reach.control and controllers is None:
            controllers = control(tables, config)
        targets = _reach_targets(reach, seeds, tables, controllers, adjacencies, config)
        measures = spark.createDataFrame(
            [(rule_id, str(m)) for rule_id, r in users for m in r.measures],
            "rule string, measure string",
        )
        parts.append(
            mine.join(targets, F.col("subject_id") == F.col("source"))
            .join(F.broadcast(measures), "rule")
            .select(
                F.col("node").alias("entity_id"),
                "measure",
                "rule",
                "source_id",
                "disputed",
                "path",
            )
        )
    every = reduce(DataFrame.unionByName, parts)
    # One restriction per (entity, measure, rule, source), through its shortest, then smallest
    # path (the engine's _finalise).
    best = every.groupBy("entity_id", "measure", "rule", "source_id").agg(
        F.min(F.struct(F.size("path").alias("n"), F.col("path").alias("p"))).alias("best"),
        F.max("disputed").alias("disputed"),
    )
    return best.select(
        "entity_id", "measure", "rule", "source_id", "disputed", F.col("best.p").alias("path")
    )


# -- scores ------------------------------------------------------------------------------------


_DEDUCTION = StructType(
    [
        StructField("kind", StringType()),
        StructField("sanction_id", StringType()),
        StructField("points", IntegerType()),
    ]
)


def scores(tables: Tables, found: DataFrame, rules: RuleSet, as_of: date) -> DataFrame:
    """entity_id, score, grade, deductions for every company and person (queries.report)."""
    weights = rules.score
    states = sanction_states(tables.sanctions, rules, as_of).filter("started")
    own = states.filter("in_force").select(
        F.col("subject_id").alias("entity_id"),
        F.lit(0).alias("rank"),
        F.lit("own").alias("kind"),
        F.col("id").alias("sanction_id"),
        F.col("own_points").alias("points"),
    )
    ended = states.filter("counts_ended").select(
        F.col("subject_id").alias("entity_id"),
        F.lit(1).alias("rank"),
        F.lit("ended").alias("kind"),
        F.col("id").alias("sanction_id"),
        F.col("ended_points").alias("points"),
    )
    sources = (
        found.filter(F.element_at("path", 1) != F.col("entity_id"))
        .select("entity_id", F.col("source_id").alias("sanction_id"))
        .distinct()
    )
    order = F.row_number().over(Window.partitionBy("entity_id").orderBy("sanction_id"))
    each, cap = weights.relationship_points, weights.relationship_cap
    relationship = sources.select(
        "entity_id",
        F.lit(2).alias("rank"),
        F.lit("relationship").alias("kind"),
        "sanction_id",
        F.greatest(F.lit(0), F.least(F.lit(each), F.lit(cap) - (order - 1) * F.lit(each)))
        .cast(IntegerType())
        .alias("points"),
    )
    deductions = (
        own.unionByName(ended)
        .unionByName(relationship)
        .groupBy("entity_id")
        .agg(
            F.array_sort(F.collect_list(F.struct("rank", "sanction_id", "kind", "points"))).alias(
                "items"
            ),
            F.sum("points").alias("total"),
        )
    )
    score = F.greatest(F.lit(0), F.lit(MAX_SCORE) - F.coalesce("total", F.lit(0))).cast(
        IntegerType()
    )
    grade: Column | None = None
    for level in (Grade.A, Grade.B, Grade.C):
        test = F.col("score") >= F.lit(weights.grades[level])
        grade = (F.when if grade is None else grade.when)(test, F.lit(level.value))
    assert grade is not None
    items = F.transform(
        "items",
        lambda d: F.struct(
            d["kind"].alias("kind"),
            d["sanction_id"].alias("sanction_id"),
            d["points"].alias("points"),
        ),
    )
    return (
        tables.entities.select(F.col("id").alias("entity_id"))
        .join(deductions, "entity_id", "left")
        .withColumn("score", score)
        .select(
            "entity_id",
            "score",
            grade.otherwise(F.lit(Grade.D.value)).alias("grade"),
            F.coalesce(items, F.array().cast(ArrayType(_DEDUCTION))).alias("deductions"),
        )
    )


# -- beneficial owners -----------------------------------------------------------------------------


def beneficial_owners(
    tables: Tables, controllers: DataFrame, config: SparkBatchConfig
) -> DataFrame:
    """company_id, owner_id, effective_share, controls, depth (queries.owner_table)."""
    holdings = _holdings(tables).persist()
    adjacency = Adjacency(holdings, config)
    persons = tables.entities.filter(F.col("kind") == F.lit(EntityKind.PERSON.value)).select(
        F.col("id").alias("person")
    )
    frontier = _checkpoint(
        holdings.join(persons, F.col("src") == F.col("person")).select(
            "person",
            F.col("dst").alias("node"),
            (F.lit(1.0) * F.col("share") * F.lit(0.01)).alias("value"),
            F.array("src", "dst").alias("path"),
        )
    )
    reached = [frontier.select("person", "node", "value")]
    for _ in range(2, config.max_hops + 1):
        step = (
            adjacency.expand(frontier, "node")
            .filter(~F.array_contains("path", F.col("dst")))
            .select(
                "person",
                F.col("dst").alias("node"),
                (F.col("value") * F.col("share") * F.lit(0.01)).alias("value"),
                F.concat("path", F.array("dst")).alias("path"),
            )
        )
        frontier = _checkpoint(step)
        if frontier.isEmpty():
            break
        reached.append(frontier.select("person", "node", "value"))
    shares = (
        reduce(DataFrame.unionByName, reached)
        .groupBy("person", "node")
        .agg(F.sum("value").alias("value"))
    )
    shares = _checkpoint(shares)
    cut = (config.threshold - EPSILON) / PERCENT
    person_controls = controllers.join(
        persons, F.col("ctrl") == F.col("person"), "left_semi"
    ).select(F.col("ctrl").alias("person"), F.col("company").alias("node"), F.lit(True).alias("c"))
    rows = (
        shares.filter(F.col("value") >= F.lit(cut))
        .select("person", "node")
        .unionByName(person_controls.select("person", "node"))
        .distinct()
        .join(shares, ["person", "node"], "left")
        .join(person_controls, ["person", "node"], "left")
    )
    rows = _checkpoint(rows)
    links = tables.owns.select("src", "dst").unionByName(_actual(tables)).distinct()
    depth = shortest_paths(
        rows.select(F.col("person").alias("source")).distinct(),
        Adjacency(links, config),
        None,
        paths=False,
        wanted=rows.select(F.col("person").alias("source"), "node"),
    )
    return rows.join(
        depth.select(F.col("source").alias("person"), "node", "depth"), ["person", "node"], "left"
    ).select(
        F.col("node").alias("company_id"),
        F.col("person").alias("owner_id"),
        (F.coalesce("value", F.lit(0.0)) * F.lit(PERCENT)).alias("effective_share"),
        F.coalesce("c", F.lit(False)).alias("controls"),
        F.col("depth").cast(IntegerType()).alias("depth"),
    )


# -- the job ---------------------------------------------------------------------------------------


def _check_lists(tables: Tables, rules: RuleSet, as_of: date) -> None:
    """Fail as the credit report does on a record it must weigh whose list the rules file does
    not define (one row comes to the driver, to name it)."""
    known = sorted(str(name) for name in rules.catalogue.list_names)
    weighed = sanction_states(tables.sanctions, rules, as_of).filter(
        F.col("started") & (F.col("in_force") | F.col("counts_ended"))
    )
    unknown = weighed.filter(~F.col("list").isin(known)).select("list").limit(1).collect()
    if unknown:
        rules.catalogue.list_entry(str(unknown[0]["list"]))  # raises RulesError, naming it


def run_spark(
    spark: SparkSession,
    snapshot: Path | str,
    out: Path | str,
    as_of: date,
    rules: RuleSet,
    config: SparkBatchConfig | None = None,
) -> dict[str, int]:
    """Write restrictions, scores and owners for ``as_of`` to ``out``; return their row counts.

    ``snapshot`` and ``out`` are folders any Spark executor can reach (a shared or HDFS/S3 path
    on a cluster).
    """
    config = config or SparkBatchConfig()
    tables = read_tables(spark, Path(snapshot), as_of)
    _check_lists(tables, rules, as_of)
    controllers = _checkpoint(control(tables, config))
    found = _checkpoint(restrictions(spark, tables, rules, as_of, config, controllers))
    counts: dict[str, int] = {}
    outputs = {
        RESTRICTIONS: (found, ("entity_id", "measure", "rule", "source_id")),
        SCORES: (scores(tables, found, rules, as_of), ("entity_id",)),
        OWNERS: (beneficial_owners(tables, controllers, config), ("company_id", "owner_id")),
    }
    for name, (frame, keys) in outputs.items():
        frame = _checkpoint(frame)
        frame.orderBy(*keys).write.mode("overwrite").parquet(f"{str(out).rstrip('/')}/{name}")
        counts[name] = frame.count()
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit queries/batch/spark_job.py --input SNAP --out DIR --as-of D [--rules F]``."""
    parser = argparse.ArgumentParser(description="creditnet national batch on Spark")
    parser.add_argument("--input", required=True, help="the Parquet snapshot folder")
    parser.add_argument("--out", required=True, help="where the three tables are written")
    parser.add_argument("--as-of", required=True, help="the batch date, YYYY-MM-DD")
    parser.add_argument("--rules", default=None, help="a rules file (default: the shipped one)")
    parser.add_argument("--master", default=None, help="default: what spark-submit set")
    args = parser.parse_args(argv)
    try:
        day = date.fromisoformat(args.as_of)
    except ValueError:
        parser.error(f"--as-of: {args.as_of!r} is not a date (YYYY-MM-DD)")
    try:
        rules = load_rules(Path(args.rules) if args.rules else None)
    except RulesError as exc:
        print(exc, file=sys.stderr)
        return 1
    spark = session(args.master)
    try:
        counts = run_spark(spark, args.input, args.out, day, rules)
    finally:
        spark.stop()
    print(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
