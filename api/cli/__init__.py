"""The ``creditnet`` command line (docs/cli.md). Each topic registers its commands on ``app``."""

from __future__ import annotations

import typer

from api.cli.batch import register as register_batch
from api.cli.common import configure_logging, with_common_options
from api.cli.db import register as register_db
from api.cli.demo import register as register_demo
from api.cli.incentives import register as register_incentives
from api.cli.investigate import register as register_investigate
from api.cli.loading import register as register_loading
from api.cli.owner_table import register as register_owner_table
from api.cli.reports import register as register_reports
from api.cli.review import register as register_review
from api.cli.serve import register as register_serve
from api.cli.trace import register as register_trace

__all__ = ["app", "main"]

app = typer.Typer(
    name="creditnet",
    help="creditnet: a graph-based enforcement network for corporate social credit.",
    epilog=(
        "Docs: docs/cli.md (commands, exit codes), docs/bundle.md (the CSV format), "
        "docs/rules.md (rules files), docs/graphql.md (the API)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
@with_common_options
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log what happens on stderr"),
) -> None:
    configure_logging(verbose)


for register in (
    register_loading,
    register_db,
    register_reports,
    register_investigate,
    register_owner_table,
    register_review,
    register_incentives,
    register_serve,
    register_demo,
    register_batch,
    register_trace,
):
    register(app)


def main() -> None:
    app()
