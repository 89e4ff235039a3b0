"""The ``creditnet`` command line (spec/CLI.md). Each topic registers its commands on ``app``."""

from __future__ import annotations

import typer

from api.cli.common import configure_logging
from api.cli.db import register as register_db
from api.cli.investigate import register as register_investigate
from api.cli.loading import register as register_loading
from api.cli.reports import register as register_reports
from api.cli.review import register as register_review
from api.cli.serve import register as register_serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="creditnet",
    help="creditnet: a graph-based enforcement network for corporate social credit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log what happens on stderr"),
) -> None:
    configure_logging(verbose)


for register in (
    register_loading,
    register_db,
    register_reports,
    register_investigate,
    register_review,
    register_serve,
):
    register(app)


def main() -> None:
    app()
