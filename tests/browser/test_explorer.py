"""The network explorer in a real browser (issue 16): headless Chromium on ``creditnet serve``
with the demo data (loaders/demo/README.md names the scenarios).

Every test fails on a request to another origin and on a script error (the ``explorer``
fixture), and keeps a screenshot under tests/browser/artifacts/, checked not to be blank.
"""

from __future__ import annotations

import base64

import pytest

from tests.browser.conftest import Demo, Page
from tests.browser.harness import png_stats

pytestmark = pytest.mark.browser

AS_OF = "2026-11-28"
RING = ["91310151MAU789XW8J", "91310151MA67JXEX77", "91310151MAJ564YN45", "91310151MAD0D0LH4L"]
SISTER = "91440307MA7X9X3T5F"  # 深圳华兴建设工程, S0001 seriously dishonest
MINGDE = "91110108MAX72FW5XR"  # 北京明德科技, the beneficial-owner textbook case


def _edges(page: Page) -> list[dict[str, object]]:
    edges: list[dict[str, object]] = page.call("window.explorer.edges()")
    return edges


def _node_ids(page: Page) -> set[str]:
    return {n["id"] for n in page.call("window.explorer.nodes()")}


def test_connect_keeps_the_key_in_this_tab_only(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"])
    who = explorer.page.get_by_test_id("who").inner_text()
    assert "investigator" in who
    stored = explorer.call(
        "[sessionStorage.getItem('creditnet.apiKey'), localStorage.length, document.cookie]"
    )
    assert stored == [demo.keys["investigator"], 0, ""]
    # the page, its script, its styles: all from this server
    assert explorer.call("[...document.scripts].map(s => new URL(s.src).origin)") == [explorer.base]
    explorer.page.get_by_test_id("search").fill("上海瀚宇")
    explorer.page.get_by_test_id("result").first.wait_for()
    explorer.shot("connect")


def test_a_wrong_key_is_refused_and_forgotten(explorer: Page) -> None:
    explorer.page.goto(f"{explorer.base}/explore")
    explorer.page.get_by_test_id("api-key").fill("cn_not_a_key")
    explorer.page.get_by_test_id("connect").click()
    error = explorer.page.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "key" in error.inner_text().lower()
    assert explorer.call("sessionStorage.getItem('creditnet.apiKey')") is None
    explorer.shot("wrong-key")


def test_search_in_traditional_chinese_finds_the_simplified_name(
    explorer: Page, demo: Demo
) -> None:
    explorer.connect(demo.keys["investigator"])
    # 上海瀚宇商貿 is the traditional spelling of 上海瀚宇商贸 (ring company A)
    explorer.page.get_by_test_id("search").fill("瀚宇商貿")
    hit = explorer.page.locator(f"[data-testid=result][data-id='{RING[0]}']")
    hit.wait_for()
    hit.click()
    explorer.settle()
    assert RING[0] in _node_ids(explorer)
    explorer.shot("search-traditional")


def test_the_shell_ring_and_its_cycle(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={RING[0]}&asOf={AS_OF}")
    assert set(RING) <= _node_ids(explorer)
    (cycle,) = explorer.call("window.explorer.cycles()")
    assert set(cycle) == set(RING)
    owns = {(e["source"], e["target"]): e["share"] for e in _edges(explorer) if e["type"] == "OWNS"}
    # A->B 70%, B->C 60%, C->D 80%, D->A 55% (loaders/demo/README.md)
    assert owns[(RING[0], RING[1])] == 70
    assert owns[(RING[1], RING[2])] == 60
    assert owns[(RING[2], RING[3])] == 80
    assert owns[(RING[3], RING[0])] == 55
    kinds = {n["id"]: n["kind"] for n in explorer.call("window.explorer.nodes()")}
    assert kinds["A0001"] == "ADDRESS"  # the registration-agent address all four share
    restricted = {n["id"] for n in explorer.call("window.explorer.nodes()") if n["restricted"]}
    assert RING[2] in restricted  # S0008, abnormal operation, on ring company C
    explorer.shot("shell-ring-cycle")


def test_expand_a_node_and_collapse_it(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={RING[0]}&asOf={AS_OF}")
    assert "P0001" in _node_ids(explorer)  # the nominee director
    before = _node_ids(explorer)
    added = explorer.call("window.explorer.expand('P0001')")
    explorer.settle()
    after = _node_ids(explorer)
    assert added == len(after - before) > 0
    positions = {
        e["target"]
        for e in _edges(explorer)
        if e["source"] == "P0001" and e["type"] == "OFFICER_OF"
    }
    assert len(positions) == 8  # officer of 8 companies at A0001
    explorer.shot("expand")
    explorer.call("window.explorer.collapse('P0001')")
    assert _node_ids(explorer) == before


def test_the_date_slider_removes_a_link_after_it_ends(explorer: Page, demo: Demo) -> None:
    # 刘海波 P0011 was legal representative of the sister company until 2019-05-20
    explorer.connect(demo.keys["investigator"], f"?id={SISTER}&asOf=2019-05-01")
    ended = [e for e in _edges(explorer) if e["source"] == "P0011" and e["target"] == SISTER]
    assert ended and all(e["end"] == "2019-05-20" for e in ended)
    slider = explorer.page.get_by_test_id("as-of")
    day = explorer.call("Math.round((Date.parse('2019-06-01') - Date.UTC(2000, 0, 1)) / 86400000)")
    # what dragging the slider does: input events while it moves, change where it is let go
    slider.evaluate(
        "(el, day) => { el.value = String(day); el.dispatchEvent(new Event('input'));"
        " el.dispatchEvent(new Event('change')); }",
        day,
    )
    explorer.settle()
    assert explorer.page.get_by_test_id("as-of-text").inner_text() == "2019-06-01"
    assert explorer.call("window.explorer.asOf()") == "2019-06-01"
    assert not [e for e in _edges(explorer) if e["source"] == "P0011"]
    assert "P0011" not in _node_ids(explorer)
    assert "as_of=2019-06-01" not in explorer.page.url and "asOf=2019-06-01" in explorer.page.url
    explorer.shot("date-slider")


def test_an_agency_key_sees_no_links(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["agency"], f"?id={SISTER}&asOf={AS_OF}")
    error = explorer.page.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "investigator" in error.inner_text()
    assert _node_ids(explorer) == {SISTER}
    assert _edges(explorer) == []
    refused = explorer.call(
        "id => window.explorer.expand(id).then(() => 'expanded', e => e.code)", SISTER
    )
    assert refused == "FORBIDDEN"
    explorer.page.get_by_test_id("error").click()  # dismissed, so the shot shows the page
    explorer.shot("agency-forbidden")


def test_owners_paths_restrictions_and_exports(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={MINGDE}&asOf={AS_OF}")
    explorer.page.get_by_test_id("owners").click()
    explorer.settle()
    owners = explorer.page.get_by_test_id("owners-list").inner_text()
    for person, share in (("P0040", "25.00%"), ("P0041", "25.00%"), ("P0042", "45.00%")):
        assert f"{person}): {share}" in owners
    lit = explorer.call("window.explorer.highlighted()")
    assert {"P0040", "P0041", "P0042", MINGDE} <= set(lit["nodes"])
    explorer.shot("beneficial-owners")

    graphml = explorer.call("window.explorer.exportGraphML()")
    assert f'<node id="{MINGDE}">' in graphml and "<edge " in graphml
    gexf = explorer.call("window.explorer.exportGEXF()")
    assert f'<node id="{MINGDE}"' in gexf
    png = explorer.call("window.explorer.exportPng()")
    assert png.startswith("data:image/png;base64,")
    colours, drawn = png_stats(base64.b64decode(png.split(",", 1)[1]))
    assert colours > 5 and drawn > 0.005
    link = explorer.call("window.explorer.link()")
    assert f"id={MINGDE}" in link and f"asOf={AS_OF}" in link

    # a restriction's path from the report: the legal representative of the sister company
    explorer.page.goto(f"{explorer.base}/explore?id={SISTER}&asOf={AS_OF}")
    explorer.settle()
    explorer.call("window.explorer.select('P0010')")
    explorer.page.get_by_test_id("show-path").first.click()
    lit = explorer.call("window.explorer.highlighted()")
    assert {SISTER, "P0010"} <= set(lit["nodes"]) and lit["edges"]
    explorer.shot("restriction-path")

    # a path between two chosen entities: P0010 to his new company (the phoenix)
    count = explorer.call("window.explorer.showPath('P0010', '91440307MA5AJK249F')")
    assert count >= 1
    assert "91440307MA5AJK249F" in explorer.call("window.explorer.highlighted()")["nodes"]


def test_every_person_opened_is_audited(explorer: Page, demo: Demo) -> None:
    explorer.connect(demo.keys["investigator"], f"?id={SISTER}&asOf={AS_OF}")
    explorer.call("window.explorer.select('P0010')")
    explorer.settle()
    explorer.page.get_by_test_id("restrictions").wait_for()
    events = demo.served.audit_events()
    read = {s for e in events if e["operation"] == "person_read" for s in e["subject_ids"]}
    assert "P0010" in read
    reports = {s for e in events if e["operation"] == "credit_report" for s in e["subject_ids"]}
    assert "P0010" in reports
    assert all(e["key_name"] for e in events)
    explorer.shot("audited-person")
