"""Lists and measures are data (spec/DOMAIN.md "Lists and measures are data"), on every store.

An agency's rules file adds a list (PROVINCIAL_X), a measure (PROVINCIAL_BAN) and a rule on
them: records of that list load through the bundle loader, are stored and read back as they
are, and produce the rule's restrictions and score with no code change. Under rules that do not
define the list, the loader rejects them and says how to add it.
"""

from __future__ import annotations

import textwrap
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.errors import RulesError
from graph.model import SanctionList, Severity
from graph.rules.engine import Restriction, materialise, restrictions_for
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from loaders.bundle import load_bundle
from queries.report import credit_report

AS_OF = date(2024, 6, 1)

Row = tuple[str, str, str, str, str]


def agency_rules_raw() -> dict[str, Any]:
    """The shipped rules plus a provincial list, a provincial measure and a rule on them."""
    text = resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    raw["name"] = "fujian-2024"
    raw["lists"]["PROVINCIAL_X"] = {
        "meaning": "provincial list of dishonest food producers",
        "default_severity": "serious",
        "weight": 250,
        "ended_factor": 0.2,
    }
    raw["measures"]["PROVINCIAL_BAN"] = {
        "meaning": "may not bid in provincial tenders",
        "kind": "restriction",
    }
    raw["rules"].append(
        {
            "id": "FJ1",
            "name": "provincial-food",
            "trigger": {"lists": ["PROVINCIAL_X"]},
            "subject": {
                "kind": "COMPANY",
                "measures": {
                    "PROVINCIAL_BAN": "《福建省某条例》第十条",
                    "ENHANCED_SUPERVISION": "《福建省某条例》第十一条",
                },
            },
            "reaches": [
                {
                    "name": "legal representative",
                    "edge": "OFFICER_OF",
                    "direction": "IN",
                    "roles": ["legal_representative"],
                    "max_hops": 1,
                    "measures": {"PROVINCIAL_BAN": "《福建省某条例》第十二条"},
                }
            ],
        }
    )
    return raw


def write_agency_rules(folder: Path) -> Path:
    path = folder / "fujian.yaml"
    path.write_text(yaml.safe_dump(agency_rules_raw(), allow_unicode=True), encoding="utf-8")
    return path


def write_agency_bundle(folder: Path) -> Path:
    """C1 on the provincial list (spelled in lower case), C2 on WAGE_ARREARS (with a hyphen)."""
    files = {
        "companies.csv": "id,name\nC1,Fuzhou Foods\nC2,Xiamen Builders\n",
        "persons.csv": "id,name\nP1,Lin Feng\n",
        "officers.csv": "person_id,company_id,role\nP1,C1,legal_representative\n",
        "sanctions.csv": """
            id,subject_id,list,severity,start
            S1,C1,provincial_x,,2024-01-01
            S2,C2,WAGE-ARREARS,,2024-01-01
            """,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def rows(items: list[Restriction]) -> list[Row]:
    return [(r.entity_id, r.measure, r.rule, r.source.id, r.path.describe()) for r in items]


@pytest.fixture
def agency(tmp_path: Path) -> RuleSet:
    return load_rules(write_agency_rules(tmp_path))


def test_records_of_a_list_the_rules_lack_are_rejected_with_how_to_add_it(
    store: GraphStore, tmp_path: Path
) -> None:
    result = load_bundle(store, write_agency_bundle(tmp_path / "bundle"))
    assert not result.applied
    (reject,) = result.rejects
    assert (reject.file, reject.line, reject.column, reject.value) == (
        "sanctions.csv",
        2,
        "list",
        "PROVINCIAL_X",
    )
    assert "unknown list PROVINCIAL_X" in reject.reason
    assert "graph/rules/default.yaml" in reject.reason  # the rules in force
    assert "add PROVINCIAL_X under lists:" in reject.reason
    assert "--rules" in reject.reason
    assert list(store.sanctions()) == []  # nothing at all was written


def test_an_agency_list_loads_and_restricts_with_no_code_change(
    store: GraphStore, tmp_path: Path, agency: RuleSet
) -> None:
    result = load_bundle(store, write_agency_bundle(tmp_path / "bundle"), rules=agency)
    assert result.applied and result.rejects == []
    assert result.written["sanctions.csv"] == 2

    (stored,) = store.sanctions(["C1"])
    assert (stored.list, type(stored.list), stored.severity) == ("PROVINCIAL_X", str, None)
    (wages,) = store.sanctions(["C2"])
    assert wages.list is SanctionList.WAGE_ARREARS  # "WAGE-ARREARS" as the registry wrote it
    assert agency.catalogue.severity_of(stored) is Severity.SERIOUS  # the list's default

    assert rows(restrictions_for(store, "C1", AS_OF, agency)) == [
        ("C1", "ENHANCED_SUPERVISION", "FJ1", "S1", "C1"),
        ("C1", "PROVINCIAL_BAN", "FJ1", "S1", "C1"),
    ]
    assert rows(restrictions_for(store, "P1", AS_OF, agency)) == [
        ("P1", "PROVINCIAL_BAN", "FJ1", "S1", "C1 <-[OFFICER_OF legal_representative]- P1")
    ]
    assert rows(list(materialise(store, AS_OF, agency, "PROVINCIAL_BAN"))) == [
        ("C1", "PROVINCIAL_BAN", "FJ1", "S1", "C1"),
        ("P1", "PROVINCIAL_BAN", "FJ1", "S1", "C1 <-[OFFICER_OF legal_representative]- P1"),
    ]
    everything = list(materialise(store, AS_OF, agency))
    on_read = [r for i in ("C1", "C2", "P1") for r in restrictions_for(store, i, AS_OF, agency)]
    assert everything == sorted(on_read, key=Restriction.sort_key)
    assert {r.rule for r in everything} == {"FJ1", "R8"}

    report = credit_report(store, "C1", AS_OF, agency)
    assert [(d.points, d.reason) for d in report.deductions] == [
        (250, "own PROVINCIAL_X (serious) record S1 in force")
    ]
    assert report.score == 750
    person = credit_report(store, "P1", AS_OF, agency)
    assert [d.points for d in person.deductions] == [50]
    assert "PROVINCIAL_BAN; rule FJ1" in person.deductions[0].reason


def test_records_the_rules_in_force_lack_are_not_weighed_silently(
    store: GraphStore, tmp_path: Path, agency: RuleSet
) -> None:
    load_bundle(store, write_agency_bundle(tmp_path / "bundle"), rules=agency)
    shipped = load_rules(None)
    # No shipped rule fires on the provincial record...
    assert restrictions_for(store, "C1", AS_OF, shipped) == []
    # ...and its weight is unknown: the report says which rules to use instead of guessing.
    with pytest.raises(RulesError, match="the list PROVINCIAL_X is not in the lists catalogue"):
        credit_report(store, "C1", AS_OF, shipped)
