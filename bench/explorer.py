"""The network explorer in headless Chromium: time to first draw, and the time to expand a node
with 1,000 neighbours two hops from the entity opened (issue 16: goals 1 s and 2 s).

A scratch data folder gets a company whose director (the hub) sits on 1,000 other boards; one
of them is sanctioned, so marking restrictions is part of the work. ``creditnet serve`` serves it
on a loopback port; Chromium (Debian's, /usr/bin/chromium) opens ``/explore?id=ROOT`` with an
investigator key already in the tab's sessionStorage.

- first draw: from navigation start to sigma's first render of the root's neighbourhood;
- expansion: ``explorer.expand(HUB, {all: true})``, every page of the hub's 1,000 links fetched
  (10 GraphQL pages of 100, the API's largest), marked, placed and drawn.

    python -m bench.explorer [--runs 3] [--neighbours 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from graph.memory import MemoryStore
from graph.model import Company, Officer, OfficerRole, Person, Sanction, SanctionList
from graph.store import WriteBatch
from tests.browser.harness import OriginGuard, add_key, chromium_path, serve

ROOT_ID = "BENCH-ROOT"
HUB_ID = "BENCH-HUB"
AS_OF = "2026-11-28"


def write_hub(data_dir: Path, neighbours: int) -> None:
    """The root company, its director the hub, and the hub's ``neighbours`` other boards."""
    store = MemoryStore(data_dir)
    try:
        companies = [Company(ROOT_ID, "基准根公司")]
        companies += [Company(f"BENCH-C{i:05d}", f"基准公司{i:05d}") for i in range(neighbours)]
        store.write(
            WriteBatch(
                nodes=[
                    *companies,
                    Person(HUB_ID, "枢纽董事"),
                    Sanction(
                        "BENCH-S1",
                        "BENCH-C00000",
                        SanctionList.SERIOUS_DISHONEST,
                        start=date(2026, 1, 1),
                    ),
                ],
                links=[
                    Officer(HUB_ID, c.id, OfficerRole.DIRECTOR, start=date(2020, 1, 1))
                    for c in companies
                ],
            )
        )
    finally:
        store.close()


def measure(base: str, key: str, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise SystemExit("no Chromium: apt-get install -y chromium")
    first: list[float] = []
    expand: list[float] = []
    nodes = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                guard = OriginGuard(base)
                context.route("**/*", guard)
                context.add_init_script(
                    f"sessionStorage.setItem('creditnet.apiKey', {json.dumps(key)})"
                )
                page = context.new_page()
                page.goto(f"{base}/explore?id={ROOT_ID}&asOf={AS_OF}")
                page.wait_for_function("window.explorer && window.explorer.timings.firstDraw")
                first.append(page.evaluate("window.explorer.timings.firstDraw"))
                page.wait_for_function("window.explorer.pending() === 0")
                started = time.perf_counter()
                page.evaluate(f"window.explorer.expand({json.dumps(HUB_ID)}, {{all: true}})")
                expand.append((time.perf_counter() - started) * 1000)
                nodes = len(page.evaluate("window.explorer.nodes()"))
                if guard.foreign:
                    raise SystemExit(f"the page asked another origin: {guard.foreign}")
                context.close()
        finally:
            browser.close()
    return {
        "runs": runs,
        "nodes_after_expansion": nodes,
        "first_draw_ms": round(statistics.median(first), 1),
        "expansion_ms": round(statistics.median(expand), 1),
        "first_draw_ms_all": [round(x, 1) for x in first],
        "expansion_ms_all": [round(x, 1) for x in expand],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--neighbours", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="creditnet-bench-explorer-") as scratch:
        folder = Path(scratch)
        write_hub(folder / "data", args.neighbours)
        key = add_key(folder, "investigator")
        served = serve(folder)
        try:
            result = {"neighbours": args.neighbours, **measure(served.base, key, args.runs)}
        finally:
            served.stop()
    if args.json:
        print(json.dumps(result))
        return
    print(f"explorer, headless Chromium, hub with {args.neighbours} neighbours, {args.runs} runs")
    print(f"  first draw        {result['first_draw_ms']:8.1f} ms (goal 1000)")
    print(
        f"  2-hop expansion   {result['expansion_ms']:8.1f} ms (goal 2000), "
        f"{result['nodes_after_expansion']} nodes drawn"
    )


if __name__ == "__main__":
    main()
