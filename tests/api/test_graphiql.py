"""GraphiQL served offline from the package (issue 11 item 9)."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from api.app import ApiSettings
from graph.memory import MemoryStore
from tests.api.conftest import make_api
from tests.conftest import ROOT

ASSETS = ROOT / "api" / "static" / "graphiql"
PINS = ROOT / "scripts" / "graphiql-assets" / "package.json"


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def test_page_and_assets_are_same_origin(tmp_path: Path) -> None:
    api = make_api(MemoryStore(), tmp_path)
    page = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    parser = _Urls()
    parser.feed(page.text)
    assert len(parser.urls) >= 5
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not same-origin"
        asset = api.client.get(urljoin("http://testserver/graphql", url))
        assert asset.status_code == 200 and asset.content, url


def test_page_opens_on_a_credit_report_and_keeps_the_key_in_the_session() -> None:
    script = (ASSETS / "creditnet-graphiql.js").read_text(encoding="utf-8")
    assert "creditReport(id: $id" in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "shouldPersistHeaders: false" in script


def test_graphiql_can_be_turned_off(tmp_path: Path) -> None:
    api = make_api(MemoryStore(), tmp_path, ApiSettings(graphiql=False))
    page = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "CREDITNET_GRAPHIQL" in page.text
    assert api.client.get("/graphiql/graphiql.min.js").status_code == 404


def test_committed_assets_match_the_pinned_packages() -> None:
    pins = json.loads(PINS.read_text(encoding="utf-8"))["dependencies"]
    lock = json.loads((PINS.parent / "package-lock.json").read_text(encoding="utf-8"))
    manifest = json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))
    for name, version in manifest["packages"].items():
        assert pins[name] == version, f"{name}: built from {version}, pinned {pins[name]}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for name, entry in manifest["files"].items():
        data = (ASSETS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} changed; rebuild"
        assert len(data) == entry["bytes"]
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    assert total < 3_000_000, f"GraphiQL assets are {total} bytes"
