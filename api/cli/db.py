"""``creditnet db``: prepare the configured store, and bulk-import an initial load into Neo4j.

``db init`` creates constraints and indexes. ``db import SOURCE`` writes the CSVs of Neo4j's own
importer from a bundle or a Parquet snapshot (:mod:`graph.neo4j.bulk_import`), runs the importer
into the server's (replaced) database, then creates constraints and indexes: docs/scale.md says
when to use it rather than ``creditnet load``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from contextlib import closing
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import (
    EXIT_FAILURE,
    EXIT_REJECTED,
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    err_console,
    fail,
    out_console,
)
from api.factory import open_store
from api.settings import StoreKind
from graph.errors import BackendUnavailable
from graph.neo4j.bulk_import import CsvImportWriter, ImportPlan
from graph.rules.schema import RuleSet
from graph.store import GraphStore
from loaders.bundle import LoadResult, load_bundle, write_rejects
from loaders.parquet import MANIFEST, load_parquet

__all__ = ["Importer", "import_command", "register", "run_importer", "write_import_csvs"]

LOCAL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j-local"
"""The development server's script (a source checkout); its ``import`` runs the importer."""


class Importer(StrEnum):
    LOCAL = "local"
    NEO4J_ADMIN = "neo4j-admin"
    NONE = "none"


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
    command(db_app, "init", help="Create constraints and indexes (idempotent).")(init)
    command(
        db_app,
        "import",
        help="Bulk initial load into an empty Neo4j database with Neo4j's own importer "
        "(docs/scale.md).",
    )(import_command)
    app.add_typer(db_app, name="db")


def init(*, common: Common) -> None:
    with common.store(writes=True) as store:
        ensure_schema = getattr(store, "ensure_schema", None)
        if ensure_schema is not None:
            ensure_schema()
            what = "constraints and indexes are in place"
        else:
            what = "the embedded store needs no schema; its data dir is ready"
    if common.json:
        emit_json({"store": common.settings.store.value, "ready": True})
    else:
        out_console.print(f"{common.settings.store.value}: {what}")


def write_import_csvs(
    source: Path,
    folder: Path,
    *,
    id_hash_salt: str,
    rules: RuleSet | None = None,
    allow_rejects: bool = False,
) -> tuple[ImportPlan | None, LoadResult | None]:
    """Write the importer's CSVs for ``source`` (a bundle, or a snapshot with manifest.json).

    A bundle goes through the bundle loader's parsing and checks, against an empty graph: the
    result carries its rejects, and no plan comes back when rows were rejected and
    ``allow_rejects`` is not set.
    """
    writer = CsvImportWriter(folder)
    if (source / MANIFEST).is_file():
        load_parquet(writer, source)
        return writer.close(), None
    result = load_bundle(
        writer,  # type: ignore[arg-type]  # write and labels_of are all a load calls
        source,
        allow_rejects=allow_rejects,
        id_hash_salt=id_hash_salt,
        rules=rules,
    )
    if not result.applied:
        return None, result
    return writer.close(), result


def run_importer(
    plan: ImportPlan,
    importer: Importer,
    *,
    database: str = "neo4j",
    neo4j_admin: str = "",
    env: Mapping[str, str] | None = None,
) -> None:
    """Run Neo4j's importer on ``plan``; the server must be stopped (``local`` stops it and
    starts it again afterwards, as ``env``'s NEO4J_LOCAL_* settings say: None, this process's).

    Raises
    ------
    BackendUnavailable
        When the importer is missing or fails (its output says why).
    """
    if importer is Importer.NONE:
        return
    if importer is Importer.LOCAL:
        if not LOCAL_SCRIPT.is_file():
            raise BackendUnavailable(
                f"{LOCAL_SCRIPT} is missing (not a source checkout): use --importer neo4j-admin "
                "on the Neo4j host, or --importer none and run the importer yourself"
            )
        args = [str(LOCAL_SCRIPT), "import", str(plan.folder)]
        cwd = None
    else:
        admin = neo4j_admin or shutil.which("neo4j-admin")
        if not admin:
            raise BackendUnavailable(
                "neo4j-admin is not on PATH: give --neo4j-admin PATH, or --importer none and run "
                "the importer yourself (docs/scale.md)"
            )
        args = [
            admin,
            "database",
            "import",
            "full",
            "--overwrite-destination=true",
            *plan.arguments(),
            database,
        ]
        cwd = plan.folder
    completed = subprocess.run(args, cwd=cwd, env=env, check=False)
    if completed.returncode != 0:
        raise BackendUnavailable(
            f"the Neo4j importer failed (exit {completed.returncode}; its output is above); the "
            "database may be half written: fix the cause and run db import again (it replaces "
            "the database whole)"
        )


def _node_count(store: GraphStore) -> int | None:
    """Nodes in the target database, None when its server does not answer (stopped)."""
    try:
        return sum(store.stats().nodes.values())
    except BackendUnavailable:
        return None


def import_command(
    source: Annotated[
        Path,
        typer.Argument(help="a bundle folder, or a Parquet snapshot (export --format parquet)"),
    ],
    *,
    common: Common,
    csv_dir: Annotated[
        Path | None,
        typer.Option(
            "--csv-dir", help="where the CSVs go (a new or empty folder; default: a temporary one)"
        ),
    ] = None,
    importer: Annotated[
        Importer,
        typer.Option(
            "--importer",
            help="local (scripts/neo4j-local import), neo4j-admin (on the Neo4j host) or none "
            "(only write the CSVs and import.args)",
        ),
    ] = Importer.LOCAL,
    neo4j_admin: Annotated[
        str, typer.Option("--neo4j-admin", help="the neo4j-admin binary (default: on PATH)")
    ] = "",
    replace: Annotated[
        bool,
        typer.Option("--replace", help="replace a database that holds nodes (they are lost)"),
    ] = False,
    allow_rejects: Annotated[
        bool, typer.Option("--allow-rejects", help="import the good rows even if some are rejected")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="where to write the reject report")
    ] = None,
) -> None:
    from api.cli.loading import id_hash_salt

    settings = common.settings
    if importer is not Importer.NONE and settings.store is not StoreKind.NEO4J:
        fail("db import loads Neo4j: set --store neo4j (CREDITNET_STORE)", EXIT_USAGE)
    if importer is Importer.NONE and csv_dir is None:
        fail("--importer none only writes the CSVs: give --csv-dir FOLDER to keep them", EXIT_USAGE)
    if importer is not Importer.NONE and not replace:
        with closing(open_store(settings)) as store:
            held = _node_count(store)
        if held:
            fail(
                f"the database holds {held} nodes; a bulk import replaces it whole. Load "
                "increments online (creditnet load), or pass --replace to discard them",
                EXIT_USAGE,
            )
    folder = csv_dir or Path(tempfile.mkdtemp(prefix="creditnet-import-"))
    try:
        plan, result = write_import_csvs(
            source,
            folder,
            id_hash_salt=id_hash_salt(settings),
            rules=common.rules,
            allow_rejects=allow_rejects,
        )
        if result is not None and result.rejects:
            report = rejects or Path("rejects.csv")
            write_rejects(result.rejects, report)
            if plan is None:
                fail(
                    f"{result.rejected} row(s) rejected; nothing was imported. The report is "
                    f"{report}. Fix those rows, or use --allow-rejects to import the others.",
                    EXIT_REJECTED,
                )
            err_console.print(f"{result.rejected} row(s) rejected (report: {report})")
        assert plan is not None
        try:
            run_importer(plan, importer, database=settings.neo4j_database, neo4j_admin=neo4j_admin)
        except BackendUnavailable as exc:
            fail(str(exc), EXIT_FAILURE)
        schema = importer is not Importer.NONE and _ensure_schema(common)
    finally:
        if csv_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    document = {
        "source": str(source),
        "csvDir": str(csv_dir) if csv_dir is not None else None,
        "importer": importer.value,
        "rows": plan.counts,
        "schema": schema,
    }
    if common.json:
        emit_json(document)
        return
    rows = ", ".join(f"{kind} {count}" for kind, count in plan.counts.items())
    done = "wrote the import CSVs of" if importer is Importer.NONE else "imported"
    out_console.print(f"{done} {source}: {rows}", highlight=False)
    if importer is Importer.NONE:
        out_console.print(
            f"CSVs and import.args are in {folder}: run the importer (docs/scale.md), start the "
            "server, then creditnet db init"
        )
    elif not schema:
        out_console.print(
            "the server does not answer yet: start it, then run creditnet db init for the "
            "constraints and indexes"
        )


def _ensure_schema(common: Common) -> bool:
    """Constraints and indexes on the imported database; False when its server is down (the
    neo4j-admin path leaves starting it to the operator)."""
    with closing(open_store(common.settings)) as store:
        ensure = getattr(store, "ensure_schema", None)
        if ensure is None:
            return False
        try:
            ensure()
        except BackendUnavailable:
            return False
    return True
