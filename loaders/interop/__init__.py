"""Third-party formats in (FollowTheMoney, BODS 0.4, UK PSC, ICIJ Offshore Leaks): spec/INTEROP.md.

:func:`detect_format` names the format of a path; :func:`load_interop` reads it through the
checked, streamed write path of :mod:`loaders.interop.common`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from pathlib import Path

from graph.errors import InvalidInput
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from loaders.bundle import BUNDLE_FILES
from loaders.interop.common import InteropResult, Record, load_records

__all__ = [
    "InputFormat",
    "InteropResult",
    "detect_format",
    "load_interop",
    "read_list_map",
    "require_interop",
]


class InputFormat(StrEnum):
    BUNDLE = "bundle"
    FTM = "ftm"
    BODS = "bods"
    PSC = "psc"
    ICIJ = "icij"
    EPCIS = "epcis"


def detect_format(path: Path) -> InputFormat:
    """The format of ``path``: a folder is a bundle or an ICIJ export; a file is told by its first
    record (FtM: ``schema`` and ``properties``; BODS: ``recordType`` or ``statementType``; PSC:
    ``company_number`` or ``data``)."""
    if path.is_dir():
        if (path / "relationships.csv").is_file() or (path / "nodes-entities.csv").is_file():
            return InputFormat.ICIJ
        if any((path / name).is_file() for name in BUNDLE_FILES):
            return InputFormat.BUNDLE
        raise InvalidInput(
            f"{path} holds neither bundle files ({', '.join(BUNDLE_FILES)}) nor an ICIJ export "
            "(nodes-entities.csv, relationships.csv); name the format with --format"
        )
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist")
    with path.open("rb") as stream:
        if b'"EPCISDocument"' in stream.read(1 << 16):
            return InputFormat.EPCIS  # one JSON document, often pretty-printed: not JSON lines
    first = _first_record(path)
    if isinstance(first, dict):
        if "schema" in first and "properties" in first:
            return InputFormat.FTM
        if "recordType" in first or "statementType" in first or "recordDetails" in first:
            return InputFormat.BODS
        if "company_number" in first or "data" in first:
            return InputFormat.PSC
    raise InvalidInput(
        f"{path}: cannot tell its format from its first record; name it with --format "
        "ftm|bods|psc (a JSON-lines or JSON-array file), epcis (an EPCISDocument), or "
        "icij|bundle for a folder"
    )


def _first_record(path: Path) -> object:
    with path.open("rb") as stream:
        head = stream.read(1 << 20)
    text = head.lstrip()
    if text.startswith(b"["):
        import ijson

        try:
            with path.open("rb") as stream:
                for item in ijson.items(stream, "item"):
                    return item
        except Exception:  # malformed: the reader reports it where it is
            return None
        return None
    line = text.split(b"\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        return None


def require_interop() -> None:
    """Raise a clear :class:`InvalidInput` when the ``interop`` extra is not installed."""
    try:
        import followthemoney  # noqa: F401
        import ijson  # noqa: F401
        import libcovebods  # noqa: F401
    except ImportError as exc:
        raise InvalidInput(
            f"third-party formats need the interop extra ({exc.name} is missing): "
            "pip install 'creditnet[interop]'"
        ) from exc


def read_list_map(path: Path) -> dict[str, str]:
    """A ``--list-map`` file: one ``programme,LIST`` a line (``#`` comments), programme names
    or ids of FtM Sanction entities mapped to a list of the catalogue."""
    mapping: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--list-map {path}: cannot read it ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        program, sep, name = text.rpartition(",")
        if not sep or not program.strip() or not name.strip():
            raise InvalidInput(
                f"--list-map {path} line {number}: write 'programme,LIST_NAME', got {text!r}"
            )
        mapping[program.strip()] = name.strip().upper()
    return mapping


def load_interop(
    store: GraphStore,
    path: Path,
    fmt: InputFormat | str | None = None,
    *,
    dataset: str | None = None,
    allow_rejects: bool = False,
    batch_size: int = 5000,
    list_map: Mapping[str, str] | None = None,
    rules: RuleSet | None = None,
    progress: Callable[[int, int], None] | None = None,
    validate: bool = True,
    party_map: Mapping[str, str] | None = None,
) -> InteropResult:
    """Load a FtM, BODS, PSC or ICIJ file (or folder) into ``store`` (spec/INTEROP.md).

    ``validate`` checks each BODS statement against the BODS 0.4 schema (libcovebods ``jsv``);
    it is most of a BODS load's time, and a publisher's file already checked may skip it.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from graph.memory import MemoryStore
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "x.ftm.json"
    >>> _ = file.write_text(json.dumps({"id": "c1", "schema": "Company",
    ...                                 "properties": {"name": ["Acme"]}}) + "\\n")
    >>> load_interop(MemoryStore(), file).written
    {'Company': 1}
    """
    kind = InputFormat(fmt) if fmt is not None else detect_format(path)
    if kind is InputFormat.BUNDLE:
        raise InvalidInput(f"{path} is a bundle: load it with loaders.bundle.load_bundle")
    name = dataset or path.name
    require_interop()
    if kind is InputFormat.EPCIS:
        from loaders.interop.epcis import load_epcis

        if not path.is_file():
            raise InvalidInput(f"{path} is not a file; an EPCIS input is one JSON document")
        # Supply movements take the bundle's supply checks (loaders.bundle), not the entity
        # pipeline below.
        return load_epcis(
            store,
            path,
            party_map=party_map,
            dataset=name,
            allow_rejects=allow_rejects,
            batch_size=batch_size,
        )
    read: Callable[[], Iterator[Record]]
    if kind is InputFormat.FTM:
        from loaders.interop.ftm import read_ftm

        mapping = dict(list_map or {})
        read = lambda: read_ftm(path, name, mapping)  # noqa: E731
    elif kind is InputFormat.BODS:
        from loaders.interop.bods import BodsCache, read_bods

        cache = BodsCache()
        read = lambda: read_bods(path, name, validate=validate, cache=cache)  # noqa: E731
    elif kind is InputFormat.PSC:
        from loaders.interop.psc import read_psc

        read = lambda: read_psc(path, name)  # noqa: E731
    else:
        from loaders.interop.icij import read_icij

        if not path.is_dir():
            raise InvalidInput(f"{path}: an ICIJ export is a folder of CSV files")
        read = lambda: read_icij(path, name)  # noqa: E731
    if kind is not InputFormat.ICIJ and not path.is_file():
        raise InvalidInput(f"{path} is not a file; a {kind.value} input is one file")
    result = InteropResult(path=path, format=kind.value, dataset=name)
    catalogue = (rules if rules is not None else load_rules(None)).catalogue
    return load_records(
        store,
        read,
        result,
        allow_rejects=allow_rejects,
        batch_size=batch_size,
        catalogue=catalogue,
        progress=progress,
    )
