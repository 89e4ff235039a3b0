"""Commands that answer "what is this entity barred from": report and restrictions."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from api.cli.common import (
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    fail,
    out_console,
    parse_date,
)
from graph.model import Measure
from graph.rules.schema import Grade, load_rules
from queries.report import CreditReport, credit_report, report_to_json
from queries.restrictions import restriction_rows, write_csv, write_jsonl

__all__ = ["OutputFormat", "register"]


class OutputFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


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


def report(
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="a company or person id")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date of the report (default: today)")
    ] = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = load_rules(common.settings.rules)
    with common.store() as store:
        result = credit_report(store, entity_id, day, rules)
    if common.json:
        emit_json(report_to_json(result))
    else:
        _print_report(result)


_GRADE_STYLE = {Grade.A: "bold green", Grade.B: "bold cyan", Grade.C: "bold yellow"}


def _print_report(result: CreditReport) -> None:
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
            s.list.value,
            s.effective_severity.value,
            f"{_day(s.effective_start)} .. {_day(s.end)}",
            status,
            shown,
        )
    if result.sanctions:
        out_console.print(sanctions)
    else:
        out_console.print("No own sanction records.")

    if not result.restrictions:
        out_console.print("No restrictions.")
        return
    table = Table(title="Restrictions", title_justify="left")
    table.add_column("measure", overflow="fold")
    table.add_column("rule")
    table.add_column("source", overflow="fold")
    table.add_column("path", overflow="fold")
    # The legal bases are long and shared by many rows: listed once each, below the table.
    bases: dict[tuple[str, str], str] = {}
    for restriction in result.restrictions:
        source = f"{restriction.source.id} {restriction.source.list.value}"
        if restriction.disputed:
            source += " (disputed)"
        table.add_row(
            restriction.measure.value,
            Text(restriction.rule),
            Text(source),
            Text(restriction.path.describe(names)),
        )
        bases.setdefault((restriction.rule, restriction.measure.value), restriction.legal_basis)
    out_console.print(table)
    out_console.print(Text("Legal basis", style="italic"))
    for (rule, measure), basis in sorted(bases.items()):
        out_console.print(Text.assemble((f"{rule} {measure}: ", "bold"), basis))


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def restrictions(
    measure: Annotated[
        Measure | None, typer.Option("--measure", help="only this measure", case_sensitive=False)
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date the list holds at (default: today)")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="csv (with a header) or jsonl")
    ] = OutputFormat.CSV,
    out: Annotated[
        Path | None, typer.Option("--out", help="write to this file (default: stdout)")
    ] = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = load_rules(common.settings.rules)
    with common.store() as store:
        rows = restriction_rows(store, day, rules, measure)
        if common.json:
            document = {
                "asOf": day.isoformat(),
                "measure": measure.value if measure is not None else None,
                "restrictions": [{_camel(k): v for k, v in row.items()} for row in rows],
            }
            if out is None:
                emit_json(document)
                return
            with _output(out) as stream:
                _write_json(document, stream)
            return
        with _output(out) as stream:
            if output_format is OutputFormat.CSV:
                write_csv(rows, stream)
            else:
                write_jsonl(rows, stream)


def _camel(name: str) -> str:
    # --json documents use camelCase like the GraphQL types; CSV and JSON lines keep the columns.
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _write_json(document: object, stream: TextIO) -> None:
    stream.write(json.dumps(document, ensure_ascii=False, indent=2))
    stream.write("\n")


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file that appears only once complete (a platform may poll for it)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    directory = path.resolve().parent
    if not directory.is_dir():
        fail(f"{directory} is not a folder", EXIT_USAGE)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
