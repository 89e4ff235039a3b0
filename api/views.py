"""The one output layer: answers of ``queries/`` shaped as the documents users see.

``queries/`` and ``graph/`` return typed values (dataclasses). This module, and only this module,
turns them into plain JSON documents with the field names of the GraphQL types (camelCase, ISO
dates, percentages as given): ``creditnet ... --json`` prints them and the GraphQL types are built
from them, so the CLI and the API cannot drift apart.

Names are resolved here: an explanation holds ids (:class:`graph.explain.Path`), and a view gets
the nodes to name them from the answer (``CreditReport.nodes``, ``PathSearch.nodes``, ...) or from
the caller (:func:`nodes_for`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final, TypeAlias

from graph.commitments import state_at
from graph.explain import (
    BannedOfficerEvidence,
    CircularOwnershipEvidence,
    Evidence,
    NomineeEvidence,
    OpaqueOwnershipEvidence,
    Path,
    PathLink,
    PhoenixEvidence,
    SharedAddressEvidence,
    path_node_ids,
)
from graph.model import (
    Address,
    Batch,
    Case,
    Commitment,
    Company,
    Node,
    Person,
    Product,
    Sanction,
)
from graph.ownership import DataIssue
from graph.rules.engine import Restriction
from graph.rules.incentives import Blocker, GrantedIncentive, WithheldIncentive
from graph.rules.schema import RuleSet
from graph.rules.supply import Notice
from graph.store import GraphReader
from queries.cycles import Cycle
from queries.market_ban import Candidate, EvidenceRecord
from queries.owner_table import OwnerRow
from queries.ownership import BeneficialOwner, EffectiveHolding, OwnershipReport
from queries.paths import PathSearch
from queries.recalls import RecallList
from queries.report import CreditReport
from queries.screen import Screening, ScreenRow
from queries.shell import Signal
from queries.supervision import InspectionDraw
from queries.trace import Downstream, Upstream

__all__ = [
    "OWNER_COLUMNS",
    "Document",
    "banned_officer_doc",
    "batch_doc",
    "beneficial_owner_doc",
    "blocker_doc",
    "camel",
    "candidate_doc",
    "case_doc",
    "commitment_doc",
    "cycle_doc",
    "data_issue_doc",
    "downstream_doc",
    "draw_doc",
    "effective_holding_doc",
    "entity_doc",
    "evidence_doc",
    "evidence_record_doc",
    "incentive_doc",
    "link_doc",
    "listing_doc",
    "nodes_for",
    "other_links",
    "owner_row",
    "ownership_report_doc",
    "path_doc",
    "path_search_doc",
    "product_doc",
    "recall_list_doc",
    "recall_notice_doc",
    "report_doc",
    "restriction_doc",
    "sanction_doc",
    "screen_doc",
    "screen_row_doc",
    "screen_rows",
    "signal_doc",
    "upstream_doc",
    "withheld_doc",
]

Document: TypeAlias = dict[str, Any]
Nodes: TypeAlias = Mapping[str, Node]


def camel(name: str) -> str:
    """A snake_case column name as a camelCase field name.

    >>> camel("entity_id")
    'entityId'
    """
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def listing_doc(as_of: date, key: str, rows: Iterable[Mapping[str, Any]], **about: Any) -> Document:
    """A listing (restrictions, incentives, beneficial owners) as one document: the date, what
    it is about (``measure``, ``threshold``, ...) and the rows with camelCase fields."""
    return {
        "asOf": as_of.isoformat(),
        **{camel(k): v for k, v in about.items()},
        key: [{camel(k): v for k, v in row.items()} for row in rows],
    }


OWNER_COLUMNS: Final = ("company_id", "owner_id", "effective_share", "controls")
"""The columns of the beneficial-owner table (``creditnet owner-table``)."""


def owner_row(row: OwnerRow) -> dict[str, str | float | bool]:
    """A beneficial-owner table row (:data:`OWNER_COLUMNS`), the share in percent."""
    return {
        "company_id": row.company_id,
        "owner_id": row.owner_id,
        "effective_share": _percent(row.effective_share),
        "controls": row.controls,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _percent(value: float) -> float:
    # Floating sums of products leave noise in the last digits (30.000000000000004).
    return round(value, 9)


def nodes_for(store: GraphReader, paths: Iterable[Path]) -> dict[str, Node]:
    """The nodes on ``paths``, read in one call: for answers that do not carry them."""
    ids = path_node_ids(paths)
    return dict(store.get_many(ids)) if ids else {}


# -- entities, records, paths ----------------------------------------------------------------------


def entity_doc(node: Node) -> Document:
    """An entity as GraphQL ``Entity`` (an address too, with its text as name).

    >>> entity_doc(Person("P1", "Wang Wei"))
    {'id': 'P1', 'name': 'Wang Wei', 'kind': 'PERSON'}
    """
    if isinstance(node, (Company, Person)):
        return {"id": node.id, "name": node.name, "kind": node.kind.value}
    if isinstance(node, Address):
        return {"id": node.id, "name": node.text, "kind": "ADDRESS"}
    if isinstance(node, Batch):
        return {"id": node.id, "name": f"lot {node.lot}", "kind": "BATCH"}
    if isinstance(node, Product):
        return {"id": node.id, "name": node.name, "kind": "PRODUCT"}
    return {"id": node.id, "name": node.id, "kind": None}


def _named(node_id: str, nodes: Nodes) -> Document:
    node = nodes.get(node_id)
    return entity_doc(node) if node is not None else {"id": node_id, "name": node_id, "kind": None}


def sanction_doc(sanction: Sanction, rules: RuleSet) -> Document:
    """A sanction record as GraphQL ``Sanction`` (its severity as recorded, else its list's
    default in the catalogue of ``rules``)."""
    return {
        "id": sanction.id,
        "subjectId": sanction.subject_id,
        "list": str(sanction.list),
        "authority": sanction.authority,
        "severity": rules.catalogue.severity_of(sanction).value,
        "fine": sanction.fine,
        "decided": _iso(sanction.decided),
        "start": _iso(sanction.start),
        "end": _iso(sanction.end),
        "legalBasis": sanction.legal_basis,
        "description": sanction.description,
        "status": sanction.status.value,
        "statusDate": _iso(sanction.status_date),
        "disputed": sanction.disputed,
        "batchId": sanction.batch_id,
    }


def link_doc(link: PathLink) -> Document:
    """A path link as GraphQL ``PathLink``, in its stored direction.

    >>> from graph.model import Ownership
    >>> link_doc(PathLink.of(Ownership("P", "C", 60.0)))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'type': 'OWNS', 'from': 'P', 'to': 'C', 'role': None, 'share': 60.0,
     'start': None, 'end': None, 'quantity': None}
    """
    return {
        "type": link.type.value,
        "from": link.source,
        "to": link.target,
        "role": link.role.value if link.role is not None else None,
        "share": link.share,
        "start": _iso(link.start),
        "end": _iso(link.end),
        "quantity": link.quantity,
    }


def path_doc(path: Path, nodes: Nodes) -> Document:
    """A path as GraphQL ``Path``, its nodes named from ``nodes``."""
    return {
        "nodes": [_named(node_id, nodes) for node_id in path.nodes],
        "links": [link_doc(link) for link in path.links],
    }


# -- credit report ---------------------------------------------------------------------------------


def restriction_doc(item: Restriction | Notice, nodes: Nodes, rules: RuleSet) -> Document:
    """A restriction as GraphQL ``Restriction``; a notice (a recall notice) has the same shape."""
    return {
        "measure": str(item.measure),
        "rule": item.rule,
        "legalBasis": item.legal_basis,
        "source": sanction_doc(item.source, rules),
        "path": path_doc(item.path, nodes),
        "disputed": item.disputed,
    }


def recall_notice_doc(item: Notice, nodes: Nodes, rules: RuleSet) -> Document:
    """A notice of the recall list as GraphQL ``RecallNotice``: the receiver, the notice (as a
    restriction), the batch at fault, the batch received and the day it was received."""
    return {
        "entity": _named(item.entity_id, nodes),
        **restriction_doc(item, nodes, rules),
        "batchId": item.batch_id,
        "receivedBatchId": item.received_batch_id,
        "received": _iso(item.received),
    }


def recall_list_doc(found: RecallList, rules: RuleSet) -> Document:
    """The recall list as GraphQL ``RecallList`` (``creditnet recalls --json`` prints it)."""
    return {
        "asOf": found.as_of.isoformat(),
        "notices": [recall_notice_doc(n, found.nodes, rules) for n in found.notices],
    }


def report_doc(report: CreditReport, rules: RuleSet) -> Document:
    """A credit report as GraphQL ``CreditReport``.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> from queries.report import credit_report
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme")]))
    >>> rules = load_rules(None)
    >>> doc = report_doc(credit_report(store, "c1", date(2024, 6, 1), rules), rules)
    >>> {k: doc[k] for k in ("score", "grade", "restrictions", "supervisionClass")}
    {'score': 1000, 'grade': 'A', 'restrictions': [], 'supervisionClass': 'A'}
    >>> [(i["rule"], i["measure"]) for i in doc["incentives"]]
    [('I1', 'GREEN_CHANNEL'), ('I1', 'REDUCED_INSPECTION'), ('I1', 'FINANCING_PREFERENCE')]
    >>> [(w["rule"], w["condition"], w["blocker"]) for w in doc["withheldIncentives"]]
    [('I2', 'kept_commitment', None)]
    """
    return {
        "entity": entity_doc(report.entity),
        "asOf": report.as_of.isoformat(),
        "score": report.score,
        "grade": report.grade.value,
        "deductions": [
            {
                "points": d.points,
                "reason": d.reason,
                "source": sanction_doc(d.source, rules) if d.source is not None else None,
            }
            for d in report.deductions
        ],
        "sanctions": [
            sanction_doc(s.sanction, rules) | {"inForce": s.in_force, "endedOn": _iso(s.ended_on)}
            for s in report.sanctions
        ],
        "restrictions": [restriction_doc(r, report.nodes, rules) for r in report.restrictions],
        "notices": [restriction_doc(n, report.nodes, rules) for n in report.notices],
        "incentives": [incentive_doc(i) for i in report.incentives],
        "withheldIncentives": [withheld_doc(w, report.nodes, rules) for w in report.withheld],
        "supervisionClass": (
            report.supervision_class.value if report.supervision_class is not None else None
        ),
    }


# -- commitments, incentives, supervision ----------------------------------------------------------


def commitment_doc(commitment: Commitment, as_of: date | None = None) -> Document:
    """A credit commitment as GraphQL ``Commitment``; ``state`` (pending, overdue, kept, broken)
    when a date is given.

    >>> from graph.model import CommitmentKind
    >>> doc = commitment_doc(Commitment("k1", "c1", CommitmentKind.PROACTIVE, date(2024, 1, 1),
    ...                                 due=date(2024, 2, 1)), date(2024, 3, 1))
    >>> doc["kind"], doc["outcome"], doc["state"]
    ('PROACTIVE', 'pending', 'overdue')
    """
    return {
        "id": commitment.id,
        "promisorId": commitment.promisor_id,
        "kind": commitment.kind.value,
        "agency": commitment.agency,
        "matter": commitment.matter,
        "made": _iso(commitment.made),
        "due": _iso(commitment.due),
        "verified": _iso(commitment.verified),
        "outcome": commitment.outcome.value,
        "severity": commitment.severity.value if commitment.severity is not None else None,
        "version": commitment.version or 0,
        "state": state_at(commitment, as_of).value if as_of is not None else None,
    }


def incentive_doc(item: GrantedIncentive) -> Document:
    """An incentive granted (GraphQL ``Incentive``)."""
    return {"measure": str(item.measure), "rule": item.rule, "legalBasis": item.legal_basis}


def blocker_doc(blocker: Blocker, nodes: Nodes, rules: RuleSet) -> Document:
    """What withholds an incentive: the record or commitment, and the path to its subject."""
    return {
        "sanction": sanction_doc(blocker.sanction, rules) if blocker.sanction else None,
        "commitment": commitment_doc(blocker.commitment) if blocker.commitment else None,
        "restriction": (
            restriction_doc(blocker.restriction, nodes, rules) if blocker.restriction else None
        ),
        "path": path_doc(blocker.path, nodes) if blocker.path is not None else None,
    }


def withheld_doc(item: WithheldIncentive, nodes: Nodes, rules: RuleSet) -> Document:
    """A withheld incentive (GraphQL ``WithheldIncentive``): the first failing condition."""
    return {
        "rule": item.rule,
        "measures": [str(m) for m in item.measures],
        "condition": item.condition.value,
        "reason": item.reason,
        "blocker": blocker_doc(item.blocker, nodes, rules) if item.blocker is not None else None,
    }


def draw_doc(draw: InspectionDraw) -> Document:
    """A random-inspection draw (GraphQL ``InspectionDraw``; spec/CLI.md)."""
    return {
        "id": draw.id,
        "asOf": draw.as_of.isoformat(),
        "seed": draw.seed,
        "region": draw.region,
        "rules": draw.rules,
        "classes": {
            c.name.value: {"size": c.size, "rate": float(c.rate), "selected": c.selected}
            for c in draw.classes
        },
        "selected": [{"id": i, "class": grade.value} for i, grade in draw.selected],
    }


# -- ownership, paths, cycles ----------------------------------------------------------------------


def beneficial_owner_doc(owner: BeneficialOwner, nodes: Nodes) -> Document:
    """A beneficial owner as GraphQL ``BeneficialOwner``."""
    return {
        "person": entity_doc(owner.person),
        "effectiveShare": _percent(owner.effective_share),
        "effectiveShareMax": _percent(
            owner.effective_share
            if owner.effective_share_max is None
            else owner.effective_share_max
        ),
        "possible": owner.possible,
        "controls": owner.controls,
        "paths": [path_doc(path, nodes) for path in owner.paths],
    }


def effective_holding_doc(holding: EffectiveHolding) -> Document:
    """An effective holding as GraphQL ``EffectiveHolding``."""
    return {
        "entity": entity_doc(holding.entity),
        "effectiveShare": _percent(holding.effective_share),
        "controls": holding.controls,
        "depth": holding.depth,
    }


def data_issue_doc(issue: DataIssue) -> Document:
    """A data issue in the ownership above a company."""
    return {
        "kind": issue.kind.value,
        "entityId": issue.entity_id,
        "detail": issue.detail,
        "value": issue.value,
    }


def ownership_report_doc(report: OwnershipReport) -> Document:
    return {
        "company": entity_doc(report.company),
        "owners": [beneficial_owner_doc(o, report.nodes) for o in report.owners],
        "issues": [data_issue_doc(i) for i in report.issues],
    }


def path_search_doc(search: PathSearch) -> Document:
    """Paths between two entities, and the supernodes the search did not expand.

    Each path also lists, hop by hop, the other links in force between the same two nodes
    (``otherLinks``: a director who is also a shareholder), which the path itself does not show.
    """
    return {
        "paths": [
            path_doc(p, search.nodes) | {"otherLinks": other_links(p, search)} for p in search.paths
        ],
        "complete": search.complete,
        "capped": [{"id": node, "links": n} for node, n in sorted(search.capped.items())],
    }


def other_links(path: Path, search: PathSearch) -> list[list[Document]]:
    """Per hop of ``path``, the links between its two nodes other than the one it shows."""
    hops = []
    for shown, pair in zip(path.links, itertools.pairwise(path.nodes), strict=True):
        hops.append([link_doc(x) for x in search.links_between.get(pair, ()) if x != shown])
    return hops


def cycle_doc(cycle: Cycle, nodes: Nodes) -> Document:
    """An ownership cycle: its members, the links around it, its length and compound share."""
    return {
        "nodes": [_named(node_id, nodes) for node_id in cycle.ids],
        "links": [link_doc(link) for link in cycle.path.links],
        "length": cycle.length,
        "share": _percent(cycle.share) if cycle.share is not None else None,
    }


# -- shell signals, candidates, cases --------------------------------------------------------------


def evidence_doc(evidence: Evidence, nodes: Nodes) -> Document:
    """The evidence of a shell signal, one shape per kind."""
    match evidence:
        case SharedAddressEvidence():
            return {
                "addressId": evidence.address_id,
                "address": evidence.address,
                "companies": evidence.companies,
                "sample": list(evidence.sample),
                "threshold": evidence.threshold,
            }
        case NomineeEvidence():
            return {
                "personId": evidence.person_id,
                "companies": evidence.companies,
                "roles": [role.value for role in evidence.roles],
                "sample": list(evidence.sample),
                "threshold": evidence.threshold,
            }
        case OpaqueOwnershipEvidence():
            return {
                "layers": evidence.layers,
                "upstreamCompanies": evidence.upstream_companies,
                "upstreamPersons": evidence.upstream_persons,
                "topPersons": [
                    {"personId": person, "effectiveShare": _percent(share)}
                    for person, share in evidence.top_persons
                ],
                "threshold": evidence.threshold,
            }
        case CircularOwnershipEvidence():
            return {"cycles": [path_doc(path, nodes) for path in evidence.cycles]}
        case PhoenixEvidence():
            return phoenix_doc(evidence, nodes)
        case BannedOfficerEvidence():
            return banned_officer_doc(evidence, nodes)


def banned_officer_doc(evidence: BannedOfficerEvidence, nodes: Nodes) -> Document:
    """A person barred from office who holds one (GraphQL ``BannedOfficerEvidence``): the ban's
    rule, record and path, and the offices in force."""
    return {
        "personId": evidence.person_id,
        "measure": "OFFICER_APPOINTMENT_BAN",
        "rule": evidence.rule,
        "legalBasis": evidence.legal_basis,
        "sanctionId": evidence.sanction.id,
        "list": str(evidence.sanction.list),
        "path": path_doc(evidence.path, nodes),
        "offices": [link_doc(link) for link in evidence.offices],
        "bans": evidence.bans,
    }


def phoenix_doc(tie: PhoenixEvidence, nodes: Nodes) -> Document:
    """How a likely phoenix is tied to its sanctioned predecessor (GraphQL ``CandidateLink``)."""
    return {
        "via": tie.via.value,
        "summary": tie.summary,
        "companyId": tie.company_id,
        "founded": tie.founded.isoformat(),
        "predecessorId": tie.predecessor_id,
        "sanctionId": tie.sanction.id,
        "list": str(tie.sanction.list),
        "sanctionStart": tie.sanction_start.isoformat(),
        "sharedId": tie.shared_id,
        "rolesThen": [role.value for role in tie.roles_then],
        "rolesNow": [role.value for role in tie.roles_now],
        "path": path_doc(tie.path, nodes),
    }


def evidence_paths(evidence: Evidence) -> list[Path]:
    """The paths inside a piece of evidence (what a view must name)."""
    if isinstance(evidence, CircularOwnershipEvidence):
        return list(evidence.cycles)
    if isinstance(evidence, PhoenixEvidence):
        return [evidence.path]
    if isinstance(evidence, BannedOfficerEvidence):
        # the ban's path, and each office as a one-link path (to name its company)
        offices = [Path((link.source, link.target), (link,)) for link in evidence.offices]
        return [evidence.path, *offices]
    return []


def signal_doc(signal: Signal, nodes: Nodes) -> Document:
    return {
        "kind": signal.kind.value,
        "summary": signal.summary,
        "evidence": evidence_doc(signal.evidence, nodes),
    }


def evidence_record_doc(record: EvidenceRecord, rules: RuleSet) -> Document:
    """A record a candidate rests on (GraphQL ``EvidenceRecord``)."""
    return {"role": record.role, "sanction": sanction_doc(record.sanction, rules)}


def candidate_doc(candidate: Candidate, nodes: Nodes, rules: RuleSet) -> Document:
    """A market-ban candidate as GraphQL ``MarketBanCandidate``."""
    return {
        "id": candidate.id,
        "entity": entity_doc(candidate.entity),
        "kind": candidate.kind.value,
        "summary": candidate.summary,
        "asOf": _iso(candidate.as_of),
        "evidence": [evidence_record_doc(r, rules) for r in candidate.records],
        "links": [phoenix_doc(tie, nodes) for tie in candidate.links],
    }


def case_doc(case: Case) -> Document:
    """A due-process case as GraphQL ``Case`` (its kept evidence parsed back when it is JSON)."""
    evidence: Any = None
    if case.evidence:
        try:
            evidence = json.loads(case.evidence)
        except ValueError:
            evidence = case.evidence
    return {
        "id": case.id,
        "kind": case.kind.value,
        "subjectId": case.subject_id,
        "status": case.status.value,
        "version": case.version,
        "filed": _iso(case.filed),
        "due": _iso(case.due),
        "decided": _iso(case.decided),
        "reason": case.reason,
        "decisionReason": case.decision_reason,
        "filedBy": case.filed_by,
        "decidedBy": case.decided_by,
        "evidence": evidence,
        "details": dict(case.extra),
    }


# -- batch screening -------------------------------------------------------------------------------

SCREEN_COLUMNS = (
    "id",
    "found",
    "entity_name",
    "kind",
    "measure",
    "restricted",
    "rule",
    "legal_basis",
    "source_sanction_id",
    "source_list",
    "subject_id",
    "path",
    "disputed",
)
"""The columns of ``creditnet screen --format csv`` (:func:`screen_rows`)."""


def screen_row_doc(row: ScreenRow, nodes: Nodes, rules: RuleSet) -> Document:
    """One screened id as GraphQL ``ScreenRow``: per measure, restricted or not, and why."""
    return {
        "id": row.id,
        "found": row.found,
        "entity": entity_doc(row.entity) if row.entity is not None else None,
        "restricted": row.restricted,
        "measures": [
            {
                "measure": answer.measure,
                "restricted": answer.restricted,
                "reasons": [restriction_doc(r, nodes, rules) for r in answer.restrictions],
            }
            for answer in row.measures
        ],
    }


def screen_doc(screening: Screening, rules: RuleSet) -> Document:
    """A batch screen as GraphQL ``Screening``.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> from queries.screen import screen
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"),
    ...     Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]))
    >>> rules = load_rules(None)
    >>> doc = screen_doc(screen(store, ["c1", "x"], date(2024, 6, 1), rules, ["BIDDING_BAN"]),
    ...                  rules)
    >>> doc["restrictedCount"], doc["notFound"], doc["rows"][0]["measures"][0]["restricted"]
    (1, ['x'], True)
    >>> [(r["rule"], r["source"]["id"]) for r in doc["rows"][0]["measures"][0]["reasons"]]
    [('R1', 's1')]
    """
    rows = [screen_row_doc(row, screening.nodes, rules) for row in screening.rows]
    return {
        "asOf": screening.as_of.isoformat(),
        "measures": list(screening.measures),
        "restrictedCount": sum(1 for row in screening.rows if row.restricted),
        "notFound": [row.id for row in screening.rows if not row.found],
        "rows": rows,
    }


def screen_rows(screening: Screening) -> Iterable[dict[str, str | bool]]:
    """A screen as flat rows (:data:`SCREEN_COLUMNS`): one per reason, one per measure that does
    not apply (its reason cells empty), one per id that names nothing (``found`` false).

    Paths are written with ids, as in the restriction list (``c1 <-[OFFICER_OF ...]- p1``).
    """
    for row in screening.rows:
        entity = row.entity
        base: dict[str, str | bool] = {
            "id": row.id,
            "found": row.found,
            "entity_name": entity.name if entity is not None else "",
            "kind": entity.kind.value if entity is not None else "",
        }
        blank = dict.fromkeys(SCREEN_COLUMNS[6:], "") | {"disputed": False}
        if entity is None:
            yield base | {"measure": "", "restricted": False} | blank
            continue
        for answer in row.measures:
            if not answer.restricted:
                yield base | {"measure": answer.measure, "restricted": False} | blank
            for item in answer.restrictions:
                yield base | {
                    "measure": answer.measure,
                    "restricted": True,
                    "rule": item.rule,
                    "legal_basis": item.legal_basis,
                    "source_sanction_id": item.source.id,
                    "source_list": str(item.source.list),
                    "subject_id": item.subject_id,
                    "path": item.path.describe(),
                    "disputed": item.disputed,
                }


# -- traceability ----------------------------------------------------------------------------------


def product_doc(product: Product) -> Document:
    """A product as GraphQL ``Product``."""
    return {
        "id": product.id,
        "name": product.name,
        "category": product.category.value if product.category is not None else None,
        "brandOwnerId": product.brand_owner_id,
    }


def batch_doc(batch: Batch) -> Document:
    """A batch as GraphQL ``Batch`` (its product by id).

    >>> batch_doc(Batch("g:1", "g", "1", date(2024, 1, 2)))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'id': 'g:1', 'productId': 'g', 'lot': '1', 'produced': '2024-01-02', 'expires': None,
     'quantity': None}
    """
    return {
        "id": batch.id,
        "productId": batch.product_id,
        "lot": batch.lot,
        "produced": _iso(batch.produced),
        "expires": _iso(batch.expires),
        "quantity": batch.quantity,
    }


def downstream_doc(found: Downstream) -> Document:
    """``creditnet trace --down --json``: every receipt downstream of the batch, with its path."""
    return {
        "batch": found.batch.id,
        "asOf": found.as_of.isoformat(),
        "receivers": [
            {
                "company": _named(r.company_id, found.nodes),
                "batch": r.batch_id,
                "date": r.date.isoformat(),
                "quantity": r.quantity,
                "eventId": r.event_id,
                "path": path_doc(r.path, found.nodes),
            }
            for r in found.receivers
        ],
    }


def upstream_doc(found: Upstream) -> Document:
    """``creditnet trace --up --json``: every batch upstream (the traced one first) with its
    producer, shippers and path."""
    return {
        "batch": found.batch.id,
        "asOf": found.as_of.isoformat(),
        "batches": [
            {
                "id": b.batch_id,
                "producer": _named(b.producer_id, found.nodes) if b.producer_id else None,
                "shippers": [_named(s, found.nodes) for s in b.shippers],
                "path": path_doc(b.path, found.nodes),
            }
            for b in found.batches
        ],
    }
