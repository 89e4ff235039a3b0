"""The reward half from the command line: ``commitment add|verify|list``, ``incentives`` (the
list of companies holding an incentive) and ``inspections draw``.

Recording and verifying a commitment and drawing inspections are audited like every decision
(:func:`api.audit.run_audited`, the policy the API uses): the event is written with the change
(for a draw, on its own: the draw changes nothing but must be on the record) with ``--actor`` as
who and role ``cli``. A draw's event keeps its seed, date, region, rules version and counts, so
that it can be run again and compared.
"""

from __future__ import annotations

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
    lookup_id,
    out_console,
    parse_date,
)
from api.cli.output import (
    FormatOption,
    ListAsOfOption,
    OutOption,
    OutputFormat,
    catalogue_measure,
    emit_listing,
)
from api.clock import system_clock
from graph.model import Commitment, CommitmentKind, Severity
from graph.rules.schema import MeasureKind
from graph.store import WriteBatch
from queries import commitments as commitment_queries
from queries.incentives import COLUMNS, incentive_rows
from queries.supervision import InspectionDraw, inspection_draw

__all__ = ["register"]

T = TypeVar("T")

Actor = Annotated[
    str,
    typer.Option(
        "--actor", envvar="CREDITNET_ACTOR", help="who records or verifies [CREDITNET_ACTOR]"
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``commitment``, ``incentives`` and ``inspections`` commands to ``app``."""
    commitment_app = typer.Typer(help="Credit commitments (信用承诺).", no_args_is_help=True)
    command(commitment_app, "add", help="Record a commitment (pending until verified).")(
        commitment_add
    )
    command(
        commitment_app,
        "verify",
        help="Verify a commitment as kept or broken (broken writes its COMMITMENT_BREACH record).",
    )(commitment_verify)
    command(commitment_app, "list", help="The commitments of a company or person.")(commitment_list)
    app.add_typer(commitment_app, name="commitment")
    command(
        app,
        "incentives",
        help="Every incentive granted, one row per company and measure (like restrictions).",
    )(incentives)
    inspections_app = typer.Typer(
        help="Graded supervision: the random-inspection draw.", no_args_is_help=True
    )
    command(inspections_app, "draw", help="A seeded, reproducible, audited draw.")(draw)
    app.add_typer(inspections_app, name="inspections")


def _kind(value: str) -> CommitmentKind:
    try:
        return CommitmentKind(value.strip().upper())
    except ValueError:
        names = ", ".join(k.value for k in CommitmentKind)
        fail(f"--kind {value}: not a commitment kind; use one of {names}", EXIT_USAGE)


def _optional_date(value: str | None) -> date | None:
    return parse_date(value) if value else None


def _print_commitments(items: list[Commitment], day: date) -> None:
    if not items:
        out_console.print("No commitments.")
        return
    table = Table(title="Commitments", title_justify="left")
    for name in ("id", "kind", "agency", "matter", "made", "due", "verified", "state"):
        table.add_column(name, overflow="fold")
    for item in items:
        doc = views.commitment_doc(item, day)
        table.add_row(
            Text(item.id),
            doc["kind"],
            Text(doc["agency"] or ""),
            Text(doc["matter"] or ""),
            doc["made"] or "",
            doc["due"] or "",
            doc["verified"] or "",
            doc["state"] + (f" ({doc['severity']})" if doc["severity"] else ""),
        )
    out_console.print(table)


def commitment_add(
    commitment_id: Annotated[str, typer.Argument(metavar="ID", help="the commitment's id")],
    promisor: Annotated[str, typer.Option("--promisor", help="the company or person id")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="TAX_DECLARATION, NOTIFICATION_PERMIT, PROACTIVE, CREDIT_REPAIR or INDUSTRY",
        ),
    ],
    made: Annotated[
        str | None, typer.Option("--made", help="the day it was made (default: today)")
    ] = None,
    due: Annotated[
        str | None, typer.Option("--due", help="the day by which it is verified")
    ] = None,
    agency: Annotated[
        str | None, typer.Option("--agency", help="the agency it was made to")
    ] = None,
    matter: Annotated[
        str | None, typer.Option("--matter", help="what it is about (the permit, the period)")
    ] = None,
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    today = system_clock()
    made_on = parse_date(made) if made else today
    due_on = _optional_date(due)
    with common.store() as store:
        recorded = audited(
            common,
            "record_commitment",
            promisor,
            actor,
            lambda event: commitment_queries.record_commitment(
                store,
                commitment_id,
                promisor,
                _kind(kind),
                made_on,
                today,
                agency=agency or actor.strip(),
                matter=matter,
                due=due_on,
                audit=event,
            ),
            lambda item: item.id,
        )
    if common.json:
        emit_json(views.commitment_doc(recorded, today))
    else:
        _print_commitments([recorded], today)


def commitment_verify(
    commitment_id: Annotated[str, typer.Argument(metavar="ID", help="a commitment id")],
    kept: Annotated[
        bool | None, typer.Option("--kept/--broken", help="the verification's outcome")
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="of a broken one: minor, general (default), serious"),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="the commitment version you read; refused if changed"),
    ] = None,
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    if kept is None:
        fail("say which: --kept or --broken", EXIT_USAGE)
    level: Severity | None = None
    if severity:
        try:
            level = Severity(severity.strip().lower())
        except ValueError:
            fail(f"--severity {severity}: use minor, general or serious", EXIT_USAGE)
    today = system_clock()
    with common.store() as store:
        written, record = audited(
            common,
            "verify_commitment",
            commitment_id,
            actor,
            lambda event: commitment_queries.verify_commitment(
                store, commitment_id, kept, today, severity=level, version=version, audit=event
            ),
            lambda result: result[0].id,
        )
    rules = common.rules
    if common.json:
        document = views.commitment_doc(written, today)
        document["breachRecord"] = views.sanction_doc(record, rules) if record else None
        emit_json(document)
        return
    _print_commitments([written], today)
    if record is not None:
        out_console.print(Text(f"breach record {record.id} written (COMMITMENT_BREACH)"))


def commitment_list(
    entity_id: Annotated[
        str, typer.Argument(callback=lookup_id, metavar="ID", help="a company or person id")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date states are taken at (default: today)")
    ] = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    with common.store() as store:
        found = commitment_queries.commitments_of(store, entity_id)
    if common.json:
        emit_json(
            {
                "id": entity_id,
                "asOf": day.isoformat(),
                "commitments": [views.commitment_doc(c, day) for c in found],
            }
        )
    else:
        _print_commitments(found, day)


def incentives(
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="only this measure (an incentive of the rules in force)"),
    ] = None,
    as_of: ListAsOfOption = None,
    output_format: FormatOption = OutputFormat.CSV,
    out: OutOption = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    chosen = catalogue_measure(measure, rules, MeasureKind.INCENTIVE)
    with common.store() as store:
        emit_listing(
            common,
            out,
            output_format,
            incentive_rows(store, day, rules, chosen),
            COLUMNS,
            lambda rows: views.listing_doc(day, "incentives", rows, measure=chosen),
        )


def draw(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date of the draw (default: today)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="the generator's seed (>= 0)")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="only companies registered in this region")
    ] = None,
    actor: Actor = "",
    *,
    common: Common,
) -> None:
    if seed is None:
        fail(
            "give the seed: --seed N (the same seed, date and data give the same draw)", EXIT_USAGE
        )
    day = parse_date(as_of)
    rules = common.rules
    with common.store() as store:

        def act(event: dict[str, Any]) -> InspectionDraw:
            found = inspection_draw(store, day, seed, rules, region=region)
            event["details"] = found.audit_details()
            store.write(WriteBatch(audit=[{**event, "result": found.id}]))
            return found

        result = audited(common, "inspection_draw", region or "*", actor, act, lambda d: d.id)
    document = views.draw_doc(result)
    if common.json:
        emit_json(document)
        return
    table = Table(title=f"Inspection draw {result.id}", title_justify="left")
    for name in ("class", "size", "rate", "selected"):
        table.add_column(name)
    for name, entry in document["classes"].items():
        table.add_row(name, str(entry["size"]), f"{entry['rate']:.0%}", str(entry["selected"]))
    out_console.print(table)
    for item in document["selected"]:
        out_console.print(Text(f"{item['class']}  {item['id']}"))
