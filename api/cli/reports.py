"""Commands that answer "what is this entity barred from": report, restrictions, screen, and the
recall list (who must recall what)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from api import views
from api.cli.common import (
    Common,
    command,
    emit_json,
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
    read_ids,
)
from graph.rules.schema import Grade, MeasureKind, RuleSet
from queries.recalls import COLUMNS as RECALL_COLUMNS
from queries.recalls import recall_list, recall_rows
from queries.report import CreditReport, credit_report
from queries.restrictions import COLUMNS, restriction_rows
from queries.screen import screen as screen_ids

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this topic's commands to ``app``."""
    command(
        app,
        "report",
        help="Credit report: score, grade, deductions, sanctions, restrictions with their paths.",
    )(report)
    command(
        app,
        "restrictions",
        help="Every restriction in force, one row each (the list bidders are checked against).",
    )(restrictions)
    command(
        app,
        "screen",
        help="Screen many ids at once (a tender's bidders): restricted or not per measure, why.",
    )(screen)
    command(
        app,
        "recalls",
        help="Every recall notice in force: who received a batch found unsafe, and through what.",
    )(recalls)


def report(
    entity_id: Annotated[
        str, typer.Argument(callback=lookup_id, metavar="ID", help="a company or person id")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date of the report (default: today)")
    ] = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    with common.store() as store:
        result = credit_report(store, entity_id, day, rules)
    if common.json:
        emit_json(views.report_doc(result, rules))
    else:
        _print_report(result, rules)


_GRADE_STYLE = {Grade.A: "bold green", Grade.B: "bold cyan", Grade.C: "bold yellow"}


def _print_report(result: CreditReport, rules: RuleSet) -> None:
    entity = result.entity
    names = {i: n.name for i, n in result.nodes.items()}
    grade_style = _GRADE_STYLE.get(result.grade, "bold red")
    header = Text.assemble(
        (f"{entity.name}", "bold"),
        f"  {entity.id}  {entity.kind.value}\n",
        "score ",
        (f"{result.score}", grade_style),
        " / 1000   grade ",
        (result.grade.value, grade_style),
        f"   as of {result.as_of.isoformat()}",
    )
    out_console.print(Panel(header, title="credit report", expand=False))

    deductions = Table(title="Deductions", title_justify="left", show_lines=False)
    deductions.add_column("points", justify="right")
    deductions.add_column("reason", overflow="fold")
    deductions.add_column("source")
    for deduction in result.deductions:
        source_id = deduction.source.id if deduction.source is not None else ""
        deductions.add_row(f"-{deduction.points}", Text(deduction.reason), Text(source_id))
    deductions.add_row(f"-{result.total_deducted}", Text("total", style="bold"), "")
    out_console.print(deductions)

    sanctions = Table(title="Own sanction records", title_justify="left")
    for name in ("id", "list", "severity", "period", "status", "at the date"):
        sanctions.add_column(name, overflow="fold")
    for state in result.sanctions:
        s = state.sanction
        if state.in_force:
            shown = Text("in force", style="red")
        elif state.ended_on is not None:
            shown = Text(f"ended {state.ended_on.isoformat()}")
        else:
            shown = Text("not in force")
        if s.disputed:
            shown.append(" (disputed)", style="yellow")
        status = s.status.value + (f" {s.status_date.isoformat()}" if s.status_date else "")
        sanctions.add_row(
            Text(s.id),
            s.list,
            rules.catalogue.severity_of(s).value,
            f"{_day(s.effective_start)} .. {_day(s.end)}",
            status,
            shown,
        )
    if result.sanctions:
        out_console.print(sanctions)
    else:
        out_console.print("No own sanction records.")

    if result.notices:
        notices = Table(title="Notices (no score effect)", title_justify="left")
        for name in ("measure", "rule", "source", "path"):
            notices.add_column(name, overflow="fold")
        for notice in result.notices:
            source = f"{notice.source.id} {notice.source.list}"
            notices.add_row(
                notice.measure, Text(notice.rule), Text(source), Text(notice.path.describe(names))
            )
        out_console.print(notices)
    if not result.restrictions:
        out_console.print("No restrictions.")
        _print_bases((n.rule, n.measure, n.legal_basis) for n in result.notices)
        return
    table = Table(title="Restrictions", title_justify="left")
    table.add_column("measure", overflow="fold")
    table.add_column("rule")
    table.add_column("source", overflow="fold")
    table.add_column("path", overflow="fold")
    for restriction in result.restrictions:
        source = f"{restriction.source.id} {restriction.source.list}"
        if restriction.disputed:
            source += " (disputed)"
        table.add_row(
            restriction.measure,
            Text(restriction.rule),
            Text(source),
            Text(restriction.path.describe(names)),
        )
    out_console.print(table)
    _print_bases(
        [(r.rule, r.measure, r.legal_basis) for r in result.restrictions]
        + [(n.rule, n.measure, n.legal_basis) for n in result.notices]
    )


def _print_bases(items: Iterable[tuple[str, str, str]]) -> None:
    # The legal bases are long and shared by many rows: listed once each, below the tables.
    bases: dict[tuple[str, str], str] = {}
    for rule, measure, basis in items:
        bases.setdefault((rule, measure), basis)
    if not bases:
        return
    out_console.print(Text("Legal basis", style="italic"))
    for (rule, measure), basis in sorted(bases.items()):
        out_console.print(Text.assemble((f"{rule} {measure}: ", "bold"), basis))


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def restrictions(
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="only this measure (a restriction of the rules in force)"),
    ] = None,
    as_of: ListAsOfOption = None,
    output_format: FormatOption = OutputFormat.CSV,
    out: OutOption = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    measure = catalogue_measure(measure, rules, MeasureKind.RESTRICTION)
    with common.store() as store:
        emit_listing(
            common,
            out,
            output_format,
            restriction_rows(store, day, rules, measure),
            COLUMNS,
            lambda rows: views.listing_doc(day, "restrictions", rows, measure=measure),
        )


def recalls(
    as_of: ListAsOfOption = None,
    output_format: FormatOption = OutputFormat.CSV,
    out: OutOption = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    with common.store() as store:
        found = recall_list(store, day, rules)
    emit_listing(
        common,
        out,
        output_format,
        recall_rows(found),
        RECALL_COLUMNS,
        lambda _rows: views.recall_list_doc(found, rules),
    )


def screen(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE.csv",
            help="the ids: a CSV file with an id column, or one id per line; - reads stdin",
        ),
    ],
    measure: Annotated[
        list[str] | None,
        typer.Option(
            "--measure",
            help="screen for this measure; repeat for several (default: every restriction)",
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date to screen at (default: today)")
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="csv (one row per reason) or jsonl (one line per id)"),
    ] = OutputFormat.CSV,
    out: OutOption = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    measures = [
        m
        for m in (catalogue_measure(n, rules, MeasureKind.RESTRICTION) for n in measure or [])
        if m
    ]
    ids = read_ids(file)
    with common.store() as store:
        found = screen_ids(store, ids, day, rules, measures or None)
    # CSV has a row per reason (flat, for spreadsheets); JSON lines a line per id.
    rows: Iterable[Mapping[str, object]] = (
        views.screen_rows(found)
        if output_format is OutputFormat.CSV
        else (views.screen_row_doc(r, found.nodes, rules) for r in found.rows)
    )
    emit_listing(
        common,
        out,
        output_format,
        rows,
        views.SCREEN_COLUMNS,
        lambda _rows: views.screen_doc(found, rules),
    )
