"""``creditnet owner-table``: the beneficial owners of every company (or a list), one row each."""

from __future__ import annotations

from typing import Annotated

import typer

from api import views
from api.cli.common import EXIT_USAGE, Common, command, fail, parse_date
from api.cli.output import (
    FormatOption,
    OutOption,
    OutputFormat,
    emit_listing,
    read_ids,
)
from graph.ownership import BO_THRESHOLD, MAX_HOPS
from queries.owner_table import beneficial_owner_rows

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``owner-table`` to ``app``."""
    command(
        app,
        "owner-table",
        help="Beneficial owners of every company (or of a list), one row per (company, owner).",
    )(owner_table)


def owner_table(
    companies: Annotated[
        str | None,
        typer.Option(
            "--companies",
            metavar="FILE",
            help="only these companies: one id per line, or a CSV with an id column (such as a "
            "bundle's companies.csv); - reads stdin (default: every company in the store)",
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="links in force on this day (default: today)")
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="percent; exactly this qualifies")
    ] = BO_THRESHOLD,
    max_hops: Annotated[
        int, typer.Option("--max-hops", help="longest ownership path counted for the share")
    ] = MAX_HOPS,
    output_format: FormatOption = OutputFormat.CSV,
    out: OutOption = None,
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    if not 0.0 <= threshold <= 100.0:
        fail("--threshold must lie between 0 and 100", EXIT_USAGE)
    if max_hops < 1:
        fail("--max-hops must be at least 1", EXIT_USAGE)
    ids = read_ids(companies, "--companies") if companies is not None else None
    with common.store() as store:
        rows = beneficial_owner_rows(store, day, threshold, max_hops, companies=ids)
        emit_listing(
            common,
            out,
            output_format,
            (views.owner_row(row) for row in rows),
            views.OWNER_COLUMNS,
            lambda found: views.listing_doc(
                day, "owners", found, threshold=threshold, max_hops=max_hops
            ),
        )
