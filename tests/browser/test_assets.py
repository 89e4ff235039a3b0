"""The explorer's committed build is current and offline: api/static/explorer/manifest.json names
the sha256 of every source in scripts/explorer-src/ it was built from and of every file built,
with the package versions the lock file pins; the server serves them. No browser needed.

After changing the sources, run scripts/explorer-src/build and commit its output.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.audit import AuditLog
from api.auth import KeyStore
from api.settings import Settings
from graph.memory import MemoryStore
from tests.conftest import ROOT

SOURCES = ROOT / "scripts" / "explorer-src"
BUILT = ROOT / "api" / "static" / "explorer"
REBUILD = "run scripts/explorer-src/build and commit api/static/explorer/"


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((BUILT / "manifest.json").read_text())
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_build_is_from_the_current_sources() -> None:
    recorded = _manifest()["sources"]
    current = {
        str(p.relative_to(SOURCES)): _sha256(p)
        for p in [
            SOURCES / "package.json",
            SOURCES / "package-lock.json",
            SOURCES / "build",
            *(SOURCES / "src").iterdir(),
        ]
    }
    changed = sorted(
        k for k in current.keys() | recorded.keys() if current.get(k) != recorded.get(k)
    )
    assert not changed, f"explorer sources changed since the build ({changed}): {REBUILD}"


def test_the_built_files_are_the_ones_recorded() -> None:
    files = _manifest()["files"]
    present = {p.name for p in BUILT.iterdir() if p.name != "manifest.json"}
    assert present == set(files), f"built files differ from the manifest: {REBUILD}"
    for name, entry in files.items():
        assert _sha256(BUILT / name) == entry["sha256"], f"{name} was changed by hand: {REBUILD}"


def test_the_packages_are_the_pinned_ones() -> None:
    pins = json.loads((SOURCES / "package.json").read_text())
    wanted = {**pins["dependencies"], **pins["devDependencies"]}
    lock = json.loads((SOURCES / "package-lock.json").read_text())["packages"]
    for name, version in _manifest()["packages"].items():
        assert wanted[name] == version, f"{name}: built with {version}, pinned {wanted[name]}"
        assert lock[f"node_modules/{name}"]["version"] == version


def test_nothing_is_loaded_from_another_origin() -> None:
    page = (BUILT / "index.html").read_text()
    for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"^(?:[a-z]+:)?//", ref), f"index.html loads {ref} from elsewhere"
    for script in BUILT.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        # import() and fetch() of absolute URLs would leave this server
        assert not re.search(r"""(?:import|fetch)\(\s*["'`]https?://""", text), script.name


def test_the_server_serves_the_explorer(tmp_path: Path) -> None:
    store = MemoryStore()
    app = create_app(
        store,
        Settings(data_dir=tmp_path),
        keys=KeyStore(tmp_path / "keys.json"),
        audit=AuditLog(tmp_path / "audit.jsonl"),
    )
    with TestClient(app) as client:
        page = client.get("/explore?id=X&asOf=2026-11-28")
        assert page.status_code == 200 and 'data-testid="api-key"' in page.text
        assert page.headers["content-type"].startswith("text/html")
        script = client.get("/explore/assets/explorer.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert script.content == (BUILT / "explorer.js").read_bytes()
    store.close()
