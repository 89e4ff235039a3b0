"""Due process from the command line: ``review`` (market bans), ``objection``, ``repair``.

Every decision is audited by :func:`api.audit.run_audited` (the policy the API uses too): the
event is written with the decision, then chained onto the audit log (``CREDITNET_AUDIT_FILE`` or
the data dir's ``audit.jsonl``) with the ``--actor`` as who, role ``cli``, and the case id (or
``error:<CODE>`` for a refused attempt; a conflict appends nothing) as the result. Whoever filed
an objection or applied for repair may not decide it. Decisions are made on today's date;
listings take ``--as-of``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from api import views
from api.cli.common import (
    EXIT_USAGE,
    Common,
    audited,
    command,
    emit_json,
    fail,
    out_console,
    parse_date,
)
from graph.model import Case, CaseKind, CaseStatus, Sanction
from graph.rules.schema import RuleSet
from queries import due_process

T = TypeVar("T")

__all__ = ["register"]

Actor = Annotated[
    str,
    typer.Option(
        "--actor", envvar="CREDITNET_ACTOR", help="who decides or files [CREDITNET_ACTOR]"
    ),
]
Reason = Annotated[str, typer.Option("--reason", help="why (required)")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="the review date (default: today)")]
Version = Annotated[
    int | None,
    typer.Option("--version", help="the case version you read; refused if it changed since"),
]


def register(app: typer.Typer) -> None:
    """Add the ``review``, ``objection`` and ``repair`` command groups to ``app``."""
    review_app = typer.Typer(
        help="Market-ban review: candidates and decisions.", no_args_is_help=True
    )
    command(review_app, "list", help="Market-ban candidates with their evidence.")(review_list)
    command(review_app, "show", help="One candidate and its evidence.")(review_show)
    command(review_app, "decide", help="Approve (ban) or reject a candidate.")(review_decide)
    app.add_typer(review_app, name="review")

    objection_app = typer.Typer(help="Objections to sanction records.", no_args_is_help=True)
    command(objection_app, "file", help="Object to a record (marks it disputed).")(objection_file)
    command(objection_app, "resolve", help="Uphold (revoke) or reject.")(objection_resolve)
    command(objection_app, "list", help="Objections, newest id last.")(objection_list)
    app.add_typer(objection_app, name="objection")

    repair_app = typer.Typer(help="Credit repair.", no_args_is_help=True)
    command(repair_app, "apply", help="Apply for credit repair of a record.")(repair_apply)
    command(repair_app, "decide", help="Approve (repaired) or reject.")(repair_decide)
    command(repair_app, "list", help="Credit-repair applications.")(repair_list)
    app.add_typer(repair_app, name="repair")

    command(app, "cases", help="Due-process cases of every kind: objections, repairs, reviews.")(
        cases
    )


# -- helpers ---------------------------------------------------------------------------------------


def _audited(
    common: Common,
    operation: str,
    subject: str,
    actor: str,
    action: Callable[[dict[str, Any]], T],
    case_of: Callable[[T], Case],
) -> T:
    """Run a decision under the shared audited-decision policy; ``action`` gets the audit event
    to write with the decision."""
    return audited(common, operation, subject, actor, action, lambda result: case_of(result).id)


def _case(case: Case) -> Case:
    return case


def _first(decided: tuple[Case, Any]) -> Case:
    return decided[0]


def _choice(value: bool | None, flags: str) -> bool:
    if value is None:
        fail(f"say which: {flags}", EXIT_USAGE)
    return value


def _print_candidate(
    candidate: due_process.Candidate, rules: RuleSet, *, detailed: bool = False
) -> None:
    entity = candidate.entity
    out_console.print(
        Text.assemble(
            (candidate.id, "bold"),
            f"  {candidate.kind.value}  ",
            (entity.name, "bold"),
            f" ({entity.id})",
        )
    )
    out_console.print(Text(f"  {candidate.summary}"))
    table = Table(show_header=True, box=None, pad_edge=False)
    for name in ("role", "record", "list", "severity", "fine", "start", "status"):
        table.add_column(name)
    for record in candidate.records:
        s = record.sanction
        table.add_row(
            record.role,
            Text(s.id),
            str(s.list),
            rules.catalogue.severity_of(s).value,
            f"{s.fine:g}" if s.fine is not None else "",
            s.effective_start.isoformat() if s.effective_start else "",
            s.status.value,
        )
    out_console.print(table)
    if detailed:
        # what a reviewer weighs before a ban: who decided each record, what for, on what basis
        for record in candidate.records:
            s = record.sanction
            out_console.print(Text(f"  {s.id}", style="bold"))
            for label, value in (
                ("authority", s.authority),
                ("description", s.description),
                ("legal basis", s.legal_basis),
            ):
                out_console.print(Text(f"    {label}: {value or '(not recorded)'}"))
    for tie in candidate.links:
        out_console.print(Text(f"  path: {tie.path.describe()}  (via {tie.via.value})"))


def _print_case(case: Case, sanction: Sanction | None = None) -> None:
    line = Text.assemble(
        (case.id, "bold"),
        f"  {case.kind.value}  {case.status.value}  v{case.version}  subject {case.subject_id}",
    )
    if case.due is not None:
        line.append(f"  due {case.due.isoformat()}")
    if case.decided_by:
        line.append(f"  decided by {case.decided_by} on {case.decided}")
    out_console.print(line)
    if sanction is not None:
        out_console.print(
            Text(
                f"  record {sanction.id}: {sanction.list} {sanction.status.value}"
                + (" (disputed)" if sanction.disputed else "")
                + (f" {sanction.start} .. {sanction.end or ''}" if sanction.start else "")
            )
        )


def _emit_case(common: Common, case: Case, sanction: Sanction | None = None) -> None:
    if common.json:
        document: dict[str, Any] = views.case_doc(case)
        document["sanction"] = (
            views.sanction_doc(sanction, common.rules) if sanction is not None else None
        )
        emit_json(document)
    else:
        _print_case(case, sanction)


# -- review ----------------------------------------------------------------------------------------


def review_list(as_of: AsOf = None, *, common: Common) -> None:
    day = parse_date(as_of)
    rules = common.rules
    with common.store() as store:
        found = due_process.market_ban_candidates(store, day, common.settings.review, rules=rules)
        nodes = views.nodes_for(store, (tie.path for c in found for tie in c.links))
    if common.json:
        emit_json(
            {
                "asOf": day.isoformat(),
                "totalCount": len(found),
                "candidates": [views.candidate_doc(c, nodes, rules) for c in found],
            }
        )
        return
    if not found:
        out_console.print(f"No market-ban candidates on {day.isoformat()}.")
    for candidate in found:
        _print_candidate(candidate, rules)


def review_show(
    candidate: Annotated[str, typer.Argument(metavar="CANDIDATE", help="a candidate id")],
    as_of: AsOf = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    with common.store() as store:
        found = due_process.find_candidate(
            store, candidate, day, common.settings.review, rules=rules
        )
        nodes = views.nodes_for(store, (tie.path for tie in found.links))
    if common.json:
        emit_json(views.candidate_doc(found, nodes, rules))
    else:
        _print_candidate(found, rules, detailed=True)


def review_decide(
    candidate: Annotated[str, typer.Argument(metavar="CANDIDATE", help="a candidate id")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="ban, or reject the candidate")
    ] = None,
    reason: Reason = "",
    years: Annotated[int, typer.Option("--years", help="ban duration, 1..10 years")] = 3,
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    decision = _choice(approve, "--approve or --reject")
    rules = common.rules
    with common.store() as store:
        case, ban = _audited(
            common,
            "decide_market_ban",
            candidate,
            actor,
            lambda event: due_process.decide_market_ban(
                store,
                candidate,
                decision,
                reason,
                years,
                actor,
                date.today(),
                rules,
                common.settings.review,
                audit=event,
            ),
            _first,
        )
    _emit_case(common, case, ban)


# -- objections ------------------------------------------------------------------------------------


def objection_file(
    sanction: Annotated[str, typer.Argument(metavar="SANCTION", help="a sanction record id")],
    reason: Reason = "",
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    with common.store() as store:
        case = _audited(
            common,
            "file_objection",
            sanction,
            actor,
            lambda event: due_process.file_objection(
                store,
                sanction,
                reason,
                actor,
                date.today(),
                common.settings.review,
                audit=event,
            ),
            _case,
        )
        record = store.get(sanction)
    _emit_case(common, case, record if isinstance(record, Sanction) else None)


def objection_resolve(
    case_id: Annotated[str, typer.Argument(metavar="CASE", help="an objection case id")],
    uphold: Annotated[
        bool | None, typer.Option("--uphold/--reject", help="revoke the record, or keep it")
    ] = None,
    reason: Reason = "",
    actor: Actor = "",
    version: Version = None,
    *,
    common: Common,
) -> None:
    decision = _choice(uphold, "--uphold or --reject")
    with common.store() as store:
        decided = _audited(
            common,
            "resolve_objection",
            case_id,
            actor,
            lambda event: due_process.resolve_objection(
                store, case_id, decision, reason, actor, date.today(), version, audit=event
            ),
            _first,
        )
    _emit_case(common, *decided)


# -- credit repair ---------------------------------------------------------------------------------


def repair_apply(
    sanction: Annotated[str, typer.Argument(metavar="SANCTION", help="a sanction record id")],
    commitment: Annotated[
        str,
        typer.Option(
            "--commitment", help="the id of the subject's CREDIT_REPAIR commitment (if recorded)"
        ),
    ] = "",
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    rules = common.rules
    with common.store() as store:
        case = _audited(
            common,
            "apply_credit_repair",
            sanction,
            actor,
            lambda event: due_process.apply_credit_repair(
                store, sanction, commitment, actor, date.today(), rules, audit=event
            ),
            _case,
        )
    _emit_case(common, case)


def repair_decide(
    case_id: Annotated[str, typer.Argument(metavar="CASE", help="a repair application id")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="repair the record, or refuse")
    ] = None,
    reason: Reason = "",
    fine_paid: Annotated[
        bool | None,
        typer.Option(
            "--fine-paid/--fine-unpaid",
            help="your finding: the fine is paid (checked by you), or not",
        ),
    ] = None,
    actor: Actor = "",
    version: Version = None,
    *,
    common: Common,
) -> None:
    decision = _choice(approve, "--approve or --reject")
    with common.store() as store:
        decided = _audited(
            common,
            "decide_credit_repair",
            case_id,
            actor,
            lambda event: due_process.decide_credit_repair(
                store,
                case_id,
                decision,
                reason,
                actor,
                date.today(),
                version,
                fine_paid=fine_paid,
                audit=event,
            ),
            _first,
        )
    _emit_case(common, *decided)


# -- case lists ------------------------------------------------------------------------------------

Subject = Annotated[
    str | None, typer.Option("--subject", help="only cases about this record or entity id")
]
Status = Annotated[
    CaseStatus | None, typer.Option("--status", help="open, upheld, rejected or approved")
]


def _list_cases(
    common: Common, kind: CaseKind | None, subject: str | None, status: CaseStatus | None
) -> None:
    with common.store() as store:
        found = store.cases(
            subject_ids=[subject.strip()] if subject else None, kind=kind, status=status
        )
    if common.json:
        emit_json({"totalCount": len(found), "cases": [views.case_doc(c) for c in found]})
        return
    if not found:
        out_console.print("No cases match.")
    for case in found:
        _print_case(case)


def objection_list(subject: Subject = None, status: Status = None, *, common: Common) -> None:
    _list_cases(common, CaseKind.OBJECTION, subject, status)


def repair_list(subject: Subject = None, status: Status = None, *, common: Common) -> None:
    _list_cases(common, CaseKind.CREDIT_REPAIR, subject, status)


def cases(
    kind: Annotated[
        CaseKind | None,
        typer.Option("--kind", help="objection, credit_repair or market_ban_review"),
    ] = None,
    subject: Subject = None,
    status: Status = None,
    *,
    common: Common,
) -> None:
    _list_cases(common, kind, subject, status)
