"""Batch screening (issue 11 item 15): one extraction for many ids, the same answers as one at a
time, on both stores."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.errors import InvalidInput
from graph.model import Sanction
from graph.rules.engine import lookup_many, restrictions_for
from graph.rules.schema import load_rules
from graph.store import GraphStore, Step, Subgraph
from loaders.bundle import load_bundle
from loaders.generate import generate_bundle
from queries.screen import screen

RULES = load_rules(None)
DAY = date(2025, 6, 1)


# Records added to the generated network so that every kind of reach fires: (list, every n-th
# company, every n-th person).
_EXTRA = (
    ("SERIOUS_DISHONEST", 5, 0),
    ("DISHONEST_JUDGMENT_DEBTOR", 7, 9),
    ("MARKET_BAN", 11, 13),
    ("ABNORMAL_OPERATION", 4, 0),
)


def _generated(store: GraphStore, folder: Path) -> list[str]:
    """A fixed generated network in ``store``, with more records in force on :data:`DAY`;
    every company id, then every person id."""
    generate_bundle(folder, companies=250, seed=17)
    ids: dict[str, list[str]] = {}
    for name in ("companies.csv", "persons.csv"):
        with (folder / name).open(encoding="utf-8") as handle:
            ids[name] = [row["id"] for row in csv.DictReader(handle)]
    with (folder / "sanctions.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for kind, every_company, every_person in _EXTRA:
            subjects = ids["companies.csv"][::every_company]
            if every_person:
                subjects += ids["persons.csv"][::every_person]
            for subject in subjects:
                # id, subject_id, list, then the 12 optional columns with start = 2024-01-01
                writer.writerow(
                    [f"X-{kind}-{subject}", subject, kind, *[""] * 4, "2024-01-01"] + [""] * 7
                )
    result = load_bundle(store, folder, id_hash_salt="test salt")
    assert result.applied and not result.rejects, result.rejects[:3]
    return ids["companies.csv"] + ids["persons.csv"]


def test_a_batch_lookup_equals_one_entity_at_a_time(store: GraphStore, tmp_path: Path) -> None:
    ids = _generated(store, tmp_path / "g")
    batch = lookup_many(store, [*ids, "NO-SUCH-ID"], DAY, RULES)
    assert "NO-SUCH-ID" not in batch and set(batch) == set(ids)
    linked = 0
    for ident in ids:
        alone = restrictions_for(store, ident, DAY, RULES)
        assert list(batch[ident].restrictions) == alone, ident
        linked += sum(1 for r in alone if not r.own)
    # the network must exercise the reaches, not only own records
    assert linked >= 20


def test_a_screen_answers_each_measure_as_the_engine_does(
    store: GraphStore, tmp_path: Path
) -> None:
    ids = _generated(store, tmp_path / "g")
    asked = ["  " + ids[0].lower() + " ", *ids[1:], "NO-SUCH-ID", ids[1]]
    found = screen(store, asked, DAY, RULES, ["bidding_ban", "HONOR_BAN"])
    assert found.measures == ("BIDDING_BAN", "HONOR_BAN")
    assert [row.id for row in found.rows] == [*ids, "NO-SUCH-ID"]  # trimmed, once each
    # the batch lookup equals one entity at a time (the test above): compare with it
    batch = lookup_many(store, ids, DAY, RULES)
    restricted = 0
    for row in found.rows[:-1]:
        alone = batch[row.id].restrictions
        for answer in row.measures:
            expected = tuple(r for r in alone if r.measure == answer.measure)
            assert answer.restrictions == expected, (row.id, answer.measure)
            restricted += answer.restricted
    assert restricted >= 10
    unknown = found.rows[-1]
    assert not unknown.found and not unknown.restricted and unknown.measures == ()


class _Counting:
    """A reader proxy that counts store calls."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.calls = 0

    def neighbourhood(
        self, seeds: Iterable[str], *, steps: Sequence[Step], hops: int, as_of: date | None
    ) -> Subgraph:
        self.calls += 1
        return self.inner.neighbourhood(seeds, steps=steps, hops=hops, as_of=as_of)

    def sanctions(self, subject_ids: Iterable[str] | None = None) -> Iterable[Sanction]:
        self.calls += 1
        return self.inner.sanctions(subject_ids)

    def __getattr__(self, name: str) -> Any:
        # every other read counts too
        self.calls += 1
        return getattr(self.inner, name)


def test_store_calls_do_not_grow_with_the_number_of_ids(store: GraphStore, tmp_path: Path) -> None:
    ids = _generated(store, tmp_path / "g")
    counts = []
    for size in (2, 20, len(ids) // 2):
        counting = _Counting(store)
        # companies and persons alike: the calls depend on the kinds asked about, not the number
        screen(counting, ids[:size] + ids[-size:], DAY, RULES)  # type: ignore[arg-type]
        counts.append(counting.calls)
    assert counts[0] == counts[1] == counts[2] <= 3, counts


@pytest.mark.parametrize(
    ("ids", "measures", "message"),
    [
        ([], None, "at least one id"),
        (["C1", " "], None, "empty"),
        (["C1"], ["NO_SUCH_MEASURE"], "NO_SUCH_MEASURE"),
        (["C1"], ["GREEN_CHANNEL"], "not a restriction measure"),
        ([f"C{i}" for i in range(10_001)], None, "the limit is 10000"),
    ],
)
def test_a_screen_refuses_what_it_cannot_answer(
    store: GraphStore, ids: list[str], measures: list[str] | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        screen(store, ids, DAY, RULES, measures)
