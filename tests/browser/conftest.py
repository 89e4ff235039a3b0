"""Fixtures of the browser tests: the demo data served by ``creditnet serve``, keys made by
``creditnet keys add``, and a page of Debian's Chromium that may reach no other origin.

Chromium is the ``chromium`` Debian package (scripts/test installs it when it is missing). A
missing browser fails these tests, it never skips them; deselect them with ``-m "not browser"``
on a machine that cannot have one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import OriginGuard, Served, add_key, chromium_path, cli, png_stats, serve

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass
class Demo:
    served: Served
    keys: dict[str, str]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("explorer-demo")
    cli(["load", "--demo", "--json"], folder)
    keys = {role: add_key(folder, role) for role in ("agency", "investigator")}
    served = serve(folder)
    try:
        yield Demo(served, keys)
    finally:
        served.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.fail(
            "no Chromium: install Debian's package (apt-get install -y chromium; scripts/test "
            'does it), or deselect the browser tests with -m "not browser"'
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Page:
    """A page of the explorer, and the requests to other origins it tried (each one aborted)."""

    page: Any
    base: str
    guard: OriginGuard
    errors: list[str]

    def connect(self, key: str, query: str = "") -> None:
        self.page.goto(f"{self.base}/explore{query}")
        self.page.get_by_test_id("api-key").fill(key)
        self.page.get_by_test_id("connect").click()
        self.page.get_by_test_id("who").wait_for(state="visible")
        self.settle()

    def settle(self) -> None:
        """Wait until the explorer has no request in flight."""
        self.page.wait_for_function("window.explorer && window.explorer.ready")
        self.page.wait_for_function("window.explorer.pending() === 0")

    def call(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def shot(self, name: str) -> Path:
        """A screenshot kept as a test artifact, checked not to be blank."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        png = self.page.screenshot(path=str(path))
        colours, drawn = png_stats(png)
        assert colours > 20 and drawn > 0.02, (
            f"screenshot {path} looks blank ({colours} colours, {drawn:.1%} drawn)"
        )
        return path


@pytest.fixture
def explorer(browser: Any, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    guard = OriginGuard(demo.served.base)
    context.route(re.compile(r"^https?://"), guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield Page(page, demo.served.base, guard, errors)
    finally:
        context.close()
    assert guard.foreign == [], f"the page asked another origin: {guard.foreign}"
    assert errors == [], f"script errors on the page: {errors}"
