"""Goods in the network explorer (issue 17): headless Chromium on ``creditnet serve`` with the
demo's dairy chain (loaders/demo/README.md "Supply network and recall"). Like every browser
test, a request to another origin or a script error fails it, and its screenshots are kept."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Demo, Page

pytestmark = pytest.mark.browser

AS_OF = "2026-11-28"
PROCESSOR = "91150105MA0LCCBX4F"  # 呼和浩特澄润乳品
DISTRIBUTOR = "91110115MAHUN17P2L"
RETAILER = "91110105MAB3LWF66X"  # received yoghurt A
UNSAFE = "06938127050018:RM20261109"
CLEAN = "06938127050018:RM20261110"
YOGHURT_A = "06938127051022:YG20261111A"
YOGHURT_B = "06938127051022:YG20261111B"


def _nodes(page: Page) -> dict[str, dict[str, object]]:
    return {n["id"]: n for n in page.call("window.explorer.nodes()")}


def _edges(page: Page, kind: str) -> set[tuple[str, str, str | None, float | None]]:
    return {
        (e["source"], e["target"], e["start"], e["quantity"])
        for e in page.call("window.explorer.edges()")
        if e["type"] == kind
    }


def test_the_processor_shows_its_batches_and_movements(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={PROCESSOR}&asOf={AS_OF}")
    nodes = _nodes(explorer)
    for batch in (UNSAFE, CLEAN, YOGHURT_A, YOGHURT_B):
        assert nodes[batch]["kind"] == "BATCH", batch
    assert nodes[UNSAFE]["sanctioned"] and not nodes[CLEAN]["sanctioned"]
    assert _edges(explorer, "SHIPPED") == {
        (UNSAFE, PROCESSOR, "2026-11-09", 8000),
        (CLEAN, PROCESSOR, "2026-11-10", 8000),
        (YOGHURT_A, DISTRIBUTOR, "2026-11-13", 12000),
        (YOGHURT_B, DISTRIBUTOR, "2026-11-13", 6000),
    }
    assert {(s, t) for s, t, _, _ in _edges(explorer, "TRANSFORMED_INTO")} == {
        (UNSAFE, YOGHURT_A),
        (CLEAN, YOGHURT_A),
        (CLEAN, YOGHURT_B),
    }
    explorer.shot("supply-processor")

    # yoghurt A leads on to the retailer that must recall it, and to its product
    assert explorer.call(f"window.explorer.expand({YOGHURT_A!r})") >= 2
    explorer.settle()
    nodes = _nodes(explorer)
    assert nodes["06938127051022"]["kind"] == "PRODUCT"
    assert nodes[RETAILER]["kind"] == "COMPANY"
    assert (YOGHURT_A, RETAILER, "2026-11-15", 2400) in _edges(explorer, "SHIPPED")

    # hovering shows a batch's dates and a movement's date and quantity
    box = explorer.page.locator("#graph").bounding_box()
    assert box is not None

    def hover(x: float, y: float) -> str | None:
        explorer.page.mouse.move(box["x"] + x, box["y"] + y)
        explorer.page.wait_for_timeout(60)
        shown: str | None = explorer.call("window.explorer.tooltip()")
        return shown

    batch = explorer.call(f"window.explorer.viewport({YOGHURT_A!r})")
    shown = hover(batch["x"], batch["y"])
    assert shown is not None and "produced 2026-11-11, expires 2026-12-02" in shown
    end = explorer.call(f"window.explorer.viewport({RETAILER!r})")
    hover(2, 2)  # away from everything first: the tooltip goes
    # a link is a line 1.5 pixels wide: try points along its middle, a pixel either side
    tips = [
        hover(
            batch["x"] + (end["x"] - batch["x"]) * t + dx,
            batch["y"] + (end["y"] - batch["y"]) * t + dy,
        )
        for t in (0.4, 0.5, 0.6)
        for dx, dy in ((0, 0), (1, 0), (0, 1), (-1, 0), (0, -1))
    ]
    shown = next((tip for tip in tips if tip and "SHIPPED" in tip), None)
    assert shown is not None, tips
    assert "date: 2026-11-15" in shown and "quantity: 2400" in shown
    explorer.shot("supply-yoghurt")


def test_movements_appear_from_their_date(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={PROCESSOR}&asOf=2026-11-10")
    nodes = _nodes(explorer)
    assert {UNSAFE, CLEAN} <= nodes.keys()
    assert YOGHURT_A not in nodes and YOGHURT_B not in nodes  # made on 2026-11-11
    explorer.call(f"window.explorer.setAsOf({AS_OF!r})")
    explorer.settle()
    assert {YOGHURT_A, YOGHURT_B, DISTRIBUTOR} <= _nodes(explorer).keys()
    explorer.shot("supply-as-of")
