"""Writing listings from the command line: the lists agencies check against (restrictions,
incentives, beneficial owners, screenings) as CSV, JSON lines or one ``--json`` document, to
stdout or to a file that appears only once complete; and reading the id lists they start from.

The rows are flat mappings (column -> value) made by ``queries/`` or :mod:`api.views`; this module
only writes them, so every listing escapes, quotes and names its columns alike.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from api.cli.common import EXIT_USAGE, Common, emit_json, fail
from graph.csv_cells import spreadsheet_safe
from graph.rules.catalogue import MeasureKind
from graph.rules.schema import RuleSet

__all__ = [
    "FormatOption",
    "ListAsOfOption",
    "OutOption",
    "OutputFormat",
    "catalogue_measure",
    "emit_listing",
    "open_output",
    "read_ids",
    "write_csv",
    "write_json",
    "write_jsonl",
]

Cell = str | int | float | bool | None
Row = Mapping[str, Any]


class OutputFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="csv (with a header) or jsonl")
]
"""``--format`` of a listing."""
OutOption = Annotated[
    Path | None, typer.Option("--out", help="write to this file (default: stdout)")
]
"""``--out`` of a listing."""
ListAsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="the date the list holds at (default: today)")
]
"""``--as-of`` of a listing."""


@contextmanager
def open_output(path: Path | None) -> Iterator[TextIO]:
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


def write_json(document: object, stream: TextIO) -> None:
    stream.write(json.dumps(document, ensure_ascii=False, indent=2))
    stream.write("\n")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return spreadsheet_safe(str(value))


def write_csv(rows: Iterable[Row], out: TextIO, columns: Sequence[str]) -> int:
    """Write a header and ``rows`` as CSV; return the row count.

    Booleans are ``true``/``false``. Cells a spreadsheet would run as a formula (a name starting
    with ``=``, say) get a leading ``'``: these lists are opened by procurement staff in
    spreadsheets.

    Examples
    --------
    >>> stream = io.StringIO()
    >>> row = {"id": "=A", "share": 30.0, "controls": False}
    >>> write_csv([row], stream, ("id", "share", "controls"))
    1
    >>> print(stream.getvalue(), end="")
    id,share,controls
    '=A,30.0,false
    """
    writer = csv.writer(out, lineterminator="\n")
    # The csv module quotes a cell holding the line terminator ("\n") but not a lone "\r",
    # which readers take as a line break: rows with one are written fully quoted.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    count = 0
    for row in rows:
        cells = [_cell(row.get(column)) for column in columns]
        (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
        count += 1
    return count


def write_jsonl(rows: Iterable[Row], out: TextIO) -> int:
    """Write ``rows`` as JSON lines (UTF-8 text, not escaped); return the row count."""
    count = 0
    for row in rows:
        out.write(json.dumps(dict(row), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def emit_listing(
    common: Common,
    out: Path | None,
    output_format: OutputFormat,
    rows: Iterable[Row],
    columns: Sequence[str],
    document: Callable[[list[Row]], object],
) -> None:
    """Write a listing: with ``--json`` the one document ``document(rows)`` makes, else the rows
    as CSV or JSON lines; to ``out`` or stdout."""
    if common.json:
        whole = document(list(rows))
        if out is None:
            emit_json(whole)
            return
        with open_output(out) as stream:
            write_json(whole, stream)
        return
    with open_output(out) as stream:
        if output_format is OutputFormat.CSV:
            write_csv(rows, stream, columns)
        else:
            write_jsonl(rows, stream)


def catalogue_measure(name: str | None, rules: RuleSet, kind: MeasureKind) -> str | None:
    """``--measure`` as a measure of ``kind`` in the catalogue in force (any case), else exit 2."""
    if name is None:
        return None
    known = rules.catalogue.measure_names(kind)
    wanted = name.strip().upper()
    if wanted in known:
        return wanted
    fail(
        f"--measure {name}: not {'an' if kind is MeasureKind.INCENTIVE else 'a'} {kind.value} "
        f"measure of the rules in force ({rules.source}); use one of {', '.join(known)}",
        EXIT_USAGE,
    )


def read_ids(source: str, option: str = "FILE") -> list[str]:
    """The ids listed in ``source`` (a path, or ``-`` for stdin), in file order.

    A CSV whose header row names an ``id`` column (a bundle's ``companies.csv``) is read by that
    column (other columns are ignored); any other file holds one id per line. Blank lines and
    lines starting with ``#`` are skipped. Exits 2 with the reason when the file cannot be read or
    lists no id.
    """
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"{option} {source}: no such file; give a CSV file of ids, or - for stdin", EXIT_USAGE)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{option} {source}: not a readable UTF-8 text or CSV file of ids ({exc})", EXIT_USAGE)
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as exc:
        fail(f"{option} {source}: not a CSV file of ids ({exc})", EXIT_USAGE)
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "id" in header:
        column = header.index("id")
        ids = [row[column].strip() for row in rows[1:] if len(row) > column]
    elif rows and max(len(row) for row in rows) > 1:
        fail(
            f"{option} {source} has several columns and none is named id; name the column of "
            "ids id in the header",
            EXIT_USAGE,
        )
    else:
        ids = [row[0].strip() for row in rows if not row[0].lstrip().startswith("#")]
    ids = [i for i in ids if i]
    if not ids:
        fail(
            f"{option} {source} lists no id: give one id per line, or a CSV with an id column",
            EXIT_USAGE,
        )
    return ids
