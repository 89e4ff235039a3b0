"""Synthetic CSV bundles (spec/BUNDLE.md) with the shape of a real Chinese enterprise registry.

The output is meant for load tests, benchmarks and demos, so it imitates the statistics that make
real registry graphs hard rather than uniform noise:

- a few registration-agent addresses hold hundreds or thousands of companies (集中登记地);
- most people hold one position, while nominee officers hold dozens and, at 100k companies, the
  busiest one holds thousands;
- holding groups form ownership chains several levels deep, plus a few cross-holding cycles;
- officers change (ended positions), shares are transferred, some companies are deregistered or
  revoked, and about 3% of companies and 0.5% of persons carry sanction records on all six lists.

Everything is drawn from one ``random.Random(seed)`` and written in creation order with the plain
``csv`` module, so a seed always gives byte-identical files. All dates lie before
:data:`REFERENCE_DAY`. National ID numbers are synthetic (random, with a valid check digit).
"""

from __future__ import annotations

import csv
import gc
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Final

from graph.model import CompanyStatus, OfficerRole, SanctionList, SanctionStatus, Severity
from graph.rules.schema import load_rules
from loaders.bundle import BUNDLE_FILES
from loaders.uscc import make_uscc
from loaders.vocabulary import (
    CITIES,
    CITY_CUM,
    COMPANY_LIST_CUM,
    COMPANY_LISTS,
    COMPOUND_SURNAMES,
    FOREIGN,
    GIVEN_FEMALE,
    GIVEN_MALE,
    HOLDING_INDUSTRY,
    ID_CHECK,
    ID_WEIGHTS,
    INDUSTRIES,
    INDUSTRY_CUM,
    MARKET_BANS,
    PENALTIES,
    PERSON_LIST_CUM,
    PERSON_LISTS,
    ROADS,
    SEVERITY_FINES,
    SURNAME_CUM,
    SURNAMES,
    TRADE_CHARS,
    City,
)

__all__ = ["COLUMNS", "REFERENCE_DAY", "generate_bundle"]

REFERENCE_DAY: Final = date(2026, 11, 28)
"""Generated dates lie strictly before this day, so the bundle is consistent "as of" it."""

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    name: columns for name, (columns, _required) in BUNDLE_FILES.items()
}
"""The columns written to each file, in order (all of BUNDLE.md's columns)."""

_LAST_DAY: Final = REFERENCE_DAY.toordinal() - 1
_FIRST_FOUNDED: Final = date(1995, 1, 1).toordinal()
_LAST_FOUNDED: Final = date(2026, 9, 30).toordinal()
_FIRST_SANCTION: Final = date(2019, 1, 1).toordinal()
_USCC_REFORM: Final = date(2015, 10, 1).toordinal()
_YEAR: Final = 365

Row = tuple[str, ...]


_MIN_PUBLICITY_DAYS: Final = {Severity.MINOR: 0, Severity.GENERAL: 91, Severity.SERIOUS: _YEAR}
_MAX_PUBLICITY_DAYS: Final = {
    Severity.MINOR: 91,
    Severity.GENERAL: _YEAR,
    Severity.SERIOUS: 3 * _YEAR,
}

_NOMINEE_SHARE: Final = 0.035
"""Fraction of officer positions that go to professional nominees."""
_REUSE_SHARE: Final = 0.56
"""Fraction that go to someone already in the registry (half by number of appearances)."""
_MAX_DEPTH: Final = 6
"""Deepest level of a holding chain below its root."""


def _iso(ordinal: int | None) -> str:
    return "" if ordinal is None else _iso_day(ordinal)


@cache
def _iso_day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _share(basis_points: int | None) -> str:
    """A share in hundredths of a percent, written without trailing zeros ("25", "33.33")."""
    if basis_points is None:
        return ""
    whole, frac = divmod(basis_points, 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` basis points split into ``parts`` positive whole-percent shares, largest first."""
    if parts == 1:
        return [total]
    cuts = sorted(rng.sample(range(1, total // 100), parts - 1))
    shares = [(b - a) * 100 for a, b in zip([0, *cuts], [*cuts, total // 100], strict=True)]
    shares[-1] += total % 100
    return sorted(shares, reverse=True)


@dataclass
class _Company:
    index: int
    id: str
    name: str
    trade: str
    city: City
    founded: int
    dissolved: int | None = None
    status: CompanyStatus = CompanyStatus.ACTIVE
    depth: int = 0
    owners: list[str] = field(default_factory=list)
    owned_bp: list[int | None] = field(default_factory=list)
    legal_rep: int = -1
    officers: list[int] = field(default_factory=list)


@dataclass
class _Generator:
    """The state of one generation run; rows are accumulated per file and written at the end."""

    rng: random.Random
    n_companies: int
    companies: list[_Company] = field(default_factory=list)
    rows: dict[str, list[Row]] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    person_ids: list[str] = field(default_factory=list)
    appearances: list[int] = field(default_factory=list)
    nominees: list[int] = field(default_factory=list)
    nominee_cum: list[float] = field(default_factory=list)
    agent_addresses: list[tuple[str, City]] = field(default_factory=list)
    agent_cum: list[float] = field(default_factory=list)
    shared_addresses: dict[int, tuple[str, City]] = field(default_factory=dict)
    group_pool: list[int] = field(default_factory=list)
    used_ids: set[str] = field(default_factory=set)
    used_names: set[str] = field(default_factory=set)
    ownership: list[list[str]] = field(default_factory=list)

    # -- persons -------------------------------------------------------------------------------

    def new_person(self) -> int:
        rng = self.rng
        index = len(self.person_ids)
        pid = f"P{index + 1:08d}"
        birth_year = rng.randint(1950, 2001)
        national_id = ""
        if rng.random() < 0.03:
            nationality, firsts, lasts = FOREIGN[rng.randrange(len(FOREIGN))]
            name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        else:
            nationality = "CN"
            surname = (
                rng.choice(COMPOUND_SURNAMES)
                if rng.random() < 0.01
                else rng.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]
            )
            female = rng.random() < 0.35
            chars = GIVEN_FEMALE if female else GIVEN_MALE
            given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
            name = surname + given
            if rng.random() < 0.5:
                national_id = self.national_id(birth_year, female)
        self.person_ids.append(pid)
        self.rows["persons.csv"].append((pid, name, nationality, str(birth_year), national_id))
        return index

    def national_id(self, birth_year: int, female: bool) -> str:
        """A synthetic resident ID number (GB 11643) with a valid ISO 7064 MOD 11-2 check."""
        rng = self.rng
        city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
        birthday = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        sequence = rng.randrange(500) * 2 + (0 if female else 1)
        # Municipalities (division "xx0000") number their districts "xx01nn".
        prefix = city.division[:2] + "01" if city.division[2:4] == "00" else city.division[:4]
        body = f"{prefix}{rng.randint(1, 9):02d}{birthday:%Y%m%d}{sequence:03d}"
        total = sum(int(char) * weight for char, weight in zip(body, ID_WEIGHTS, strict=True))
        return body + ID_CHECK[total % 11]

    def pick_person(self, exclude: Sequence[int] = ()) -> int:
        """An officer or owner: mostly someone new, sometimes a nominee or a known entrepreneur."""
        rng = self.rng
        for _ in range(8):
            draw = rng.random()
            if draw < _NOMINEE_SHARE:
                person = rng.choices(self.nominees, cum_weights=self.nominee_cum)[0]
            elif draw < _NOMINEE_SHARE + _REUSE_SHARE / 2 and self.appearances:
                # Choosing by appearance rather than by person is preferential attachment: it
                # gives the long tail of serial entrepreneurs that real registries show.
                person = rng.choice(self.appearances)
            elif draw < _NOMINEE_SHARE + _REUSE_SHARE and self.person_ids:
                person = rng.randrange(len(self.person_ids))
            else:
                return self.new_person()
            if person not in exclude:
                return person
        return self.new_person()

    # -- addresses -----------------------------------------------------------------------------

    def new_address(self, city: City, suffix: str = "") -> str:
        rng = self.rng
        aid = f"A{len(self.rows['addresses.csv']) + 1:08d}"
        text = f"{city.full}{rng.choice(city.districts)}{rng.choice(ROADS)}{rng.randint(1, 2999)}号"
        if suffix:
            text += suffix
        elif rng.random() < 0.6:
            text += f"{rng.randint(1, 30)}幢{rng.randint(1, 28)}{rng.randint(1, 20):02d}室"
        self.rows["addresses.csv"].append((aid, text, city.full))
        return aid

    def pick_address(self) -> tuple[str, City]:
        rng = self.rng
        draw = rng.random()
        if draw < 0.07:
            return rng.choices(self.agent_addresses, cum_weights=self.agent_cum)[0]
        if draw < 0.27:
            slot = rng.randrange(max(1, self.n_companies // 15))
            if slot not in self.shared_addresses:
                city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
                floor = f"{rng.randint(1, 30)}层"
                self.shared_addresses[slot] = (self.new_address(city, floor), city)
            return self.shared_addresses[slot]
        city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
        return self.new_address(city), city

    # -- companies -----------------------------------------------------------------------------

    def setup(self) -> None:
        rng = self.rng
        n_agents = max(2, self.n_companies // 5000)
        for _ in range(n_agents):
            city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
            suffix = f"{rng.randint(1, 9)}幢{rng.randint(1, 6)}层（集中登记地）"
            self.agent_addresses.append((self.new_address(city, suffix), city))
        self.agent_cum = list(accumulate(1 / (rank + 1) for rank in range(n_agents)))
        n_nominees = max(5, self.n_companies // 400)
        self.nominees = [self.new_person() for _ in range(n_nominees)]
        self.nominee_cum = list(accumulate(1 / (rank + 1) ** 1.1 for rank in range(n_nominees)))

    def company_name(self, city: City, trade: str, phrase: str, holding: bool) -> str:
        rng = self.rng
        for attempt in range(50):
            if attempt:
                trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
            if holding:
                name = city.short + trade + rng.choice(("投资控股有限公司", "集团有限公司"))
            else:
                suffix = rng.choices(("有限公司", "有限责任公司", "股份有限公司"), (85, 8, 7))[0]
                name = city.short + trade + phrase + suffix
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("could not find a free company name")  # pragma: no cover

    def add_company(self, index: int, founded: int) -> None:
        rng = self.rng
        address_id, city = self.pick_address()
        parent: _Company | None = None
        if self.group_pool and rng.random() < 0.22:
            for _ in range(4):
                candidate = self.companies[rng.choice(self.group_pool)]
                if candidate.depth < _MAX_DEPTH:
                    parent = candidate
                    break
        holding = parent is None and rng.random() < 0.05
        if parent is not None and rng.random() < 0.6:
            trade = parent.trade  # group members share the parent's trade name (字号)
        else:
            trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
        phrase, industry, _ = rng.choices(INDUSTRIES, cum_weights=INDUSTRY_CUM)[0]
        if holding:
            industry = HOLDING_INDUSTRY
        name = self.company_name(city, trade, phrase, holding)
        # Organisation codes of the "MA..." shape exist only since the 2015 registration reform.
        modern = founded >= _USCC_REFORM and rng.random() < 0.95
        uscc = make_uscc(rng, division=city.division, modern=modern)
        while uscc in self.used_ids:
            uscc = make_uscc(rng, division=city.division, modern=modern)
        self.used_ids.add(uscc)
        company = _Company(index, uscc, name, trade, city, founded)
        if parent is not None:
            company.depth = parent.depth + 1
        if (holding or (parent is not None and rng.random() < 0.5)) and company.depth < _MAX_DEPTH:
            self.group_pool.append(index)
        if founded < _LAST_DAY - _YEAR and rng.random() < 0.045:
            company.dissolved = rng.randint(founded + _YEAR, _LAST_DAY)
            company.status = (
                CompanyStatus.REVOKED if rng.random() < 0.35 else CompanyStatus.DEREGISTERED
            )
        self.companies.append(company)

        size = rng.random()
        self.add_officers(company, size, parent)
        self.add_owners(company, parent, holding)

        capital_options = (100_000, 500_000, 1_000_000, 3_000_000, 5_000_000, 10_000_000)
        capital = rng.choice(capital_options) * (10 if holding or size > 0.97 else 1)
        self.rows["companies.csv"].append(
            (
                uscc,
                name,
                "CN",
                company.status.value,
                _iso(founded),
                _iso(company.dissolved),
                str(capital),
                industry,
                address_id,
            )
        )

    def officer(
        self, company: _Company, person: int, role: OfficerRole, start: int, end: int | None = None
    ) -> None:
        self.rows["officers.csv"].append(
            (self.person_ids[person], company.id, role.value, _iso(start), _iso(end))
        )
        self.appearances.append(person)
        company.officers.append(person)

    def add_officers(self, company: _Company, size: float, parent: _Company | None) -> None:
        rng = self.rng
        start = company.founded
        if parent is not None and parent.officers and rng.random() < 0.4:
            legal_rep = rng.choice(parent.officers)  # a group manager sent to run the subsidiary
        else:
            legal_rep = self.pick_person()
        company.legal_rep = legal_rep
        management = [legal_rep]
        if size < 0.8:
            # A small limited company: an executive director who is the legal representative,
            # usually also the manager, and a supervisor who by law may not be either.
            if rng.random() < 0.85:
                self.officer(company, legal_rep, OfficerRole.DIRECTOR, start)
            draw = rng.random()
            if draw < 0.6:
                self.officer(company, legal_rep, OfficerRole.GENERAL_MANAGER, start)
            elif draw < 0.85:
                manager = self.pick_person(management)
                management.append(manager)
                self.officer(company, manager, OfficerRole.GENERAL_MANAGER, start)
            supervisors = 1 if rng.random() < 0.9 else 0
        else:
            large = size > 0.97
            chairman = legal_rep if rng.random() < 0.85 else self.pick_person(management)
            if chairman not in management:
                management.append(chairman)
            self.officer(company, chairman, OfficerRole.CHAIRMAN, start)
            for _ in range(rng.randint(4, 8) if large else rng.randint(2, 4)):
                director = self.pick_person(management)
                management.append(director)
                self.officer(company, director, OfficerRole.DIRECTOR, start)
            manager = rng.choice(management) if rng.random() < 0.5 else self.pick_person(management)
            if manager not in management:
                management.append(manager)
            self.officer(company, manager, OfficerRole.GENERAL_MANAGER, start)
            for _ in range(rng.randint(1, 3) if large or rng.random() < 0.3 else 0):
                other = self.pick_person(management)
                management.append(other)
                self.officer(company, other, OfficerRole.MANAGER, start)
            if large and rng.random() < 0.5:
                secretary = self.pick_person(management)
                management.append(secretary)
                self.officer(company, secretary, OfficerRole.OTHER, start)
            supervisors = 3 if large else rng.randint(1, 3)
        supervisor_ids: list[int] = []
        first_supervisor_row = len(self.rows["officers.csv"])
        for _ in range(supervisors):
            supervisor = self.pick_person([*management, *supervisor_ids])
            supervisor_ids.append(supervisor)
            self.officer(company, supervisor, OfficerRole.SUPERVISOR, start)
        if company.founded < _LAST_DAY - 2 * _YEAR and rng.random() < 0.10:
            # The legal representative changed: the old position ends the day the new one starts.
            change = rng.randint(company.founded + _YEAR // 2, _LAST_DAY - 30)
            self.officer(company, legal_rep, OfficerRole.LEGAL_REPRESENTATIVE, start, change)
            successor = self.pick_person([*management, *supervisor_ids])
            company.legal_rep = successor
            self.officer(company, successor, OfficerRole.LEGAL_REPRESENTATIVE, change)
        else:
            self.officer(company, legal_rep, OfficerRole.LEGAL_REPRESENTATIVE, start)
        if supervisor_ids and company.founded < _LAST_DAY - 3 * _YEAR and rng.random() < 0.05:
            # The first supervisor's three-year term ended and someone else took the seat.
            rows = self.rows["officers.csv"]
            end = company.founded + 3 * _YEAR
            rows[first_supervisor_row] = (*rows[first_supervisor_row][:4], _iso(end))
            successor = self.pick_person([*management, *supervisor_ids])
            self.officer(company, successor, OfficerRole.SUPERVISOR, end)

    def own(self, company: _Company, owner: str, bp: int | None, start: int) -> None:
        company.owners.append(owner)
        company.owned_bp.append(bp)
        self.ownership.append([owner, company.id, _share(bp), _iso(start), ""])

    def person_owner(self, company: _Company, exclude: list[int]) -> int:
        rng = self.rng
        officers = [officer for officer in company.officers if officer not in exclude]
        if company.legal_rep not in exclude and rng.random() < 0.8:
            person = company.legal_rep
        elif officers and rng.random() < 0.6:
            person = rng.choice(officers)  # co-founders usually also sit on the board
        else:
            person = self.pick_person(exclude)
        exclude.append(person)
        return person

    def add_owners(self, company: _Company, parent: _Company | None, holding: bool) -> None:
        rng = self.rng
        start = company.founded
        total = 10_000 if rng.random() < 0.9 else rng.randint(60, 95) * 100
        owners: list[str] = []
        persons: list[int] = []
        if parent is not None:
            draw = rng.random()
            parent_bp = (
                total
                if draw < 0.5
                else rng.randint(51, 90) * 100
                if draw < 0.85
                else rng.randint(20, 50) * 100
            )
            parent_bp = min(parent_bp, total)
            owners.append(parent.id)
            rest = total - parent_bp
            shares = [parent_bp]
            if rest >= 100:
                parts = min(rng.randint(1, 2), rest // 100)
                shares.extend(_split(rng, rest, parts))
                for _ in range(parts):
                    if rng.random() < 0.2 and company.index > 1:
                        other = self.companies[rng.randrange(company.index)]
                        if other.id not in owners:
                            owners.append(other.id)
                            continue
                    owners.append(self.person_ids[self.person_owner(company, persons)])
                shares = shares[: len(owners)]
        else:
            parts = rng.choices((1, 2, 3, 4, 5), (35, 40, 15, 7, 3))[0]
            shares = _split(rng, total, parts)
            for position in range(parts):
                if position and not holding and rng.random() < 0.05 and company.index > 1:
                    other = self.companies[rng.randrange(company.index)]
                    if other.id not in owners:
                        owners.append(other.id)
                        continue
                owners.append(self.person_ids[self.person_owner(company, persons)])
        for owner, bp in zip(owners, shares, strict=True):
            self.own(company, owner, None if rng.random() < 0.02 else bp, start)
        if persons and company.founded < _LAST_DAY - 2 * _YEAR and rng.random() < 0.04:
            # A share transfer: the first person owner sold to someone new on one day.
            position = company.owners.index(self.person_ids[persons[0]])
            row = self.ownership[len(self.ownership) - len(owners) + position]
            day = rng.randint(company.founded + _YEAR, _LAST_DAY - 30)
            row[4] = _iso(day)
            buyer = self.pick_person([*persons, *company.officers])
            self.own(company, self.person_ids[buyer], company.owned_bp[position], day)
            self.appearances.append(buyer)
        self.appearances.extend(persons)
        if rng.random() < 0.015:
            # A recorded actual controller: the main person owner, or the group's boss behind a
            # subsidiary that persons do not hold directly.
            boss = persons[0] if persons else parent.legal_rep if parent is not None else -1
            if boss >= 0:
                self.officer(company, boss, OfficerRole.ACTUAL_CONTROLLER, start)

    def add_cycles(self) -> None:
        """Cross-holdings: rings A -> B -> ... -> A of stakes carved out of each largest holding."""
        rng = self.rng
        candidates = [
            c.index
            for c in self.companies
            if c.status is CompanyStatus.ACTIVE
            and len(c.owners) < 5
            and any(bp is not None and bp >= 2_000 for bp in c.owned_bp)
        ]
        rows_by_company: dict[str, list[list[str]]] = {}
        for row in self.ownership:
            rows_by_company.setdefault(row[1], []).append(row)
        wanted = max(2, self.n_companies // 1500)
        for _ in range(wanted):
            if len(candidates) < 4:
                break
            ring = [self.companies[i] for i in rng.sample(candidates, rng.randint(2, 4))]
            if any(len(set(c.owners) & {r.id for r in ring}) for c in ring):
                continue
            for position, target in enumerate(ring):
                owner = ring[position - 1]
                stake = rng.randint(5, 15) * 100
                largest = max(
                    (row for row in rows_by_company[target.id] if row[2] and not row[4]),
                    key=lambda row: float(row[2]),
                )
                largest_bp = round(float(largest[2]) * 100)
                stake = min(stake, largest_bp - 100)
                largest[2] = _share(largest_bp - stake)
                start = max(owner.founded, target.founded) + rng.randint(30, 700)
                target.owners.append(owner.id)
                target.owned_bp.append(stake)
                row = [owner.id, target.id, _share(stake), _iso(min(start, _LAST_DAY)), ""]
                self.ownership.append(row)
                rows_by_company[target.id].append(row)
            for company in ring:
                candidates.remove(company.index)

    # -- sanctions -----------------------------------------------------------------------------

    def authority(self, sanction_list: SanctionList, city: City, office: str = "") -> str:
        rng = self.rng
        if sanction_list is SanctionList.DISHONEST_JUDGMENT_DEBTOR:
            if city.municipality or rng.random() < 0.6:
                return f"{city.full}{rng.choice(city.districts)}人民法院"
            return rng.choice((f"{city.full}中级人民法院", "最高人民法院"))
        if sanction_list is SanctionList.MAJOR_TAX_VIOLATION or office == "税务局":
            return f"国家税务总局{city.full}税务局"
        if sanction_list is SanctionList.MARKET_BAN:
            return office
        return f"{city.full}{office or '市场监督管理局'}"

    def sanction(
        self,
        subject: str,
        sanction_list: SanctionList,
        city: City,
        lo: int,
        hi: int,
        decided: int | None = None,
    ) -> None:
        rng = self.rng
        if decided is None:
            decided = rng.randint(lo, hi)
        start = min(decided + rng.randint(0, 15), _LAST_DAY)
        severity = (
            load_rules(None).catalogue.list_entry(sanction_list).default_severity
            or rng.choices((Severity.MINOR, Severity.GENERAL, Severity.SERIOUS), (50, 35, 15))[0]
        )
        fine = ""
        end: int | None = None
        office = ""
        if sanction_list is SanctionList.ADMIN_PENALTY:
            office, basis, description = rng.choice(PENALTIES)
            low, high, step = SEVERITY_FINES[severity]
            fine = str(rng.randint(low // step, high // step) * step)
            description = f"{description}，罚款人民币{fine}元"
            if rng.random() < 0.5:
                end = start + _MAX_PUBLICITY_DAYS[severity]
        elif sanction_list is SanctionList.ABNORMAL_OPERATION:
            basis = "《企业经营异常名录管理暂行办法》第四条"
            description = rng.choice(
                ("未按照规定的期限公示年度报告", "通过登记的住所或者经营场所无法联系")
            )
            if rng.random() < 0.25:
                end = start + rng.randint(60, 700)  # removed from the list after correcting
        elif sanction_list is SanctionList.SERIOUS_DISHONEST:
            basis = "《市场监督管理严重违法失信名单管理办法》第二条"
            description = rng.choice(
                (
                    "提交虚假材料取得公司登记，情节严重",
                    "生产销售假冒伪劣产品，受到较重行政处罚",
                    "列入经营异常名录届满3年仍未履行相关义务",
                )
            )
            end = start + 3 * _YEAR
        elif sanction_list is SanctionList.MAJOR_TAX_VIOLATION:
            basis = "《重大税收违法失信主体信息公布管理办法》第六条"
            amount = rng.randint(100, 9_000) * 1_000
            description = rng.choice(
                (f"偷税，少缴税款人民币{amount}元", f"虚开增值税专用发票，价税合计{amount}元")
            )
            end = start + 3 * _YEAR
        elif sanction_list is SanctionList.DISHONEST_JUDGMENT_DEBTOR:
            basis = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条"
            description = "有履行能力而拒不履行生效法律文书确定义务"
            if rng.random() < 0.5:
                end = start + 2 * _YEAR
        else:
            office, basis = rng.choice(MARKET_BANS)
            years = rng.choice((1, 3, 5, 10, 0))
            end = start + years * _YEAR if years else None
            description = f"{years}年内市场禁入" if years else "终身市场禁入"
        status = SanctionStatus.ACTIVE
        status_day: int | None = None
        disputed = False
        draw = rng.random()
        repairable = sanction_list not in (
            SanctionList.MARKET_BAN,
            SanctionList.DISHONEST_JUDGMENT_DEBTOR,
        )
        earliest_repair = start + _MIN_PUBLICITY_DAYS[severity] + 30
        if draw < 0.06 and repairable and earliest_repair < _LAST_DAY:
            status = SanctionStatus.REPAIRED
            status_day = rng.randint(earliest_repair, min(_LAST_DAY, earliest_repair + _YEAR))
        elif draw < 0.075 and decided + 20 < _LAST_DAY:
            status = SanctionStatus.REVOKED
            status_day = rng.randint(decided + 20, min(_LAST_DAY, decided + 200))
        elif draw < 0.095:
            disputed = True
        sid = f"S{len(self.rows['sanctions.csv']) + 1:08d}"
        self.rows["sanctions.csv"].append(
            (
                sid,
                subject,
                sanction_list.value,
                self.authority(sanction_list, city, office),
                severity.value,
                fine,
                _iso(decided),
                _iso(start),
                _iso(end),
                basis,
                description,
                status.value,
                _iso(status_day),
                "true" if disputed else "false",
            )
        )

    def add_sanctions(self) -> None:
        rng = self.rng
        forced = [sanction_list for sanction_list, _ in COMPANY_LISTS]
        for company in self.companies:
            lo = max(company.founded + 30, _FIRST_SANCTION)
            hi = min(company.dissolved or _LAST_DAY, _LAST_DAY) - 1
            if lo >= hi:
                continue
            revoked = company.status is CompanyStatus.REVOKED
            if rng.random() >= 0.03 and not (revoked and rng.random() < 0.3):
                continue
            if revoked:
                chosen = SanctionList.ABNORMAL_OPERATION
            elif forced:
                chosen = forced.pop()  # every list appears even in a small bundle
            else:
                chosen = rng.choices(COMPANY_LISTS, cum_weights=COMPANY_LIST_CUM)[0][0]
            if chosen is SanctionList.ADMIN_PENALTY and rng.random() < 0.2 and hi - lo > _YEAR:
                # A repeat offender: three or four fines within two years (a market-ban candidate).
                first = rng.randint(lo, hi - _YEAR)
                for _ in range(rng.randint(3, 4)):
                    day = rng.randint(first, min(hi, first + 2 * _YEAR - 30))
                    self.sanction(company.id, chosen, company.city, lo, hi, decided=day)
                continue
            self.sanction(company.id, chosen, company.city, lo, hi)
            serious = (SanctionList.SERIOUS_DISHONEST, SanctionList.DISHONEST_JUDGMENT_DEBTOR)
            if chosen in serious and rng.random() < 0.3:
                self.sanction(company.id, SanctionList.ABNORMAL_OPERATION, company.city, lo, hi)
        forced_persons = [sanction_list for sanction_list, _ in PERSON_LISTS]
        for person in self.person_ids:
            if rng.random() >= 0.005:
                continue
            if forced_persons:
                chosen = forced_persons.pop()
            else:
                chosen = rng.choices(PERSON_LISTS, cum_weights=PERSON_LIST_CUM)[0][0]
            city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
            self.sanction(person, chosen, city, _FIRST_SANCTION, _LAST_DAY - 1)

    def add_commitments(self) -> None:
        """Credit commitments of one company in ten: mostly kept, some pending or overdue, a few
        broken (the loader writes their COMMITMENT_BREACH records)."""
        rng = self.rng
        kinds = ("TAX_DECLARATION", "NOTIFICATION_PERMIT", "PROACTIVE", "INDUSTRY")
        agencies = ("税务局", "市场监督管理局", "人力资源和社会保障局", "生态环境局")
        rows = self.rows["commitments.csv"]
        for company in self.companies:
            lo = max(company.founded + 30, _FIRST_SANCTION)
            hi = min(company.dissolved or _LAST_DAY, _LAST_DAY) - 1
            if lo >= hi or rng.random() >= 0.1:
                continue
            for _ in range(rng.randint(1, 2)):
                made = rng.randint(lo, hi)
                due = made + rng.choice((30, 90, 180, 365))
                kind = rng.choice(kinds)
                agency = f"{company.city.short}{rng.choice(agencies)}"
                draw = rng.random()
                verified: int | None = None
                outcome, severity = "pending", ""
                if draw < 0.8 and min(due, _LAST_DAY) > made:
                    verified = rng.randint(made + 1, min(due, _LAST_DAY))
                    outcome = "kept" if draw < 0.74 else "broken"
                    if outcome == "broken":
                        severity = rng.choice(("minor", "general", "general", "serious"))
                cid = f"K{len(rows) + 1:08d}"
                rows.append(
                    (
                        cid,
                        company.id,
                        kind,
                        agency,
                        f"{kind.lower()} {date.fromordinal(made).year}",
                        _iso(made),
                        _iso(due),
                        _iso(verified),
                        outcome,
                        severity,
                    )
                )

    # -- driver --------------------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        self.setup()
        span = _LAST_FOUNDED - _FIRST_FOUNDED
        # More companies are founded every year: the exponent skews draws toward recent dates.
        days = sorted(
            _FIRST_FOUNDED + int(span * rng.random() ** 0.6) for _ in range(self.n_companies)
        )
        for index, founded in enumerate(days):
            self.add_company(index, founded)
        self.add_cycles()
        self.rows["ownership.csv"] = [tuple(row) for row in self.ownership]
        self.add_sanctions()
        self.add_commitments()


def generate_bundle(out_dir: Path, companies: int, seed: int = 0) -> dict[str, int]:
    """Write a synthetic bundle of ``companies`` companies and their network to ``out_dir``.

    Parameters
    ----------
    out_dir
        The bundle folder; created when missing. Existing files of the same names are replaced.
    companies
        How many companies to generate (persons, addresses and sanctions scale with it).
    seed
        The random seed; the same seed and size always give byte-identical files.

    Returns
    -------
    dict[str, int]
        The number of data rows (header excluded) written to each file, by file name.
    """
    if companies < 1:
        raise ValueError(f"companies must be at least 1, got {companies}")
    generator = _Generator(random.Random(seed), companies)
    # Millions of small tuples and no reference cycles: the cyclic collector would only rescan
    # them again and again (a third of the run time at 100k companies).
    collecting = gc.isenabled()
    gc.disable()
    try:
        generator.run()
    finally:
        if collecting:
            gc.enable()
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, columns in COLUMNS.items():
        rows = generator.rows[name]
        with (out_dir / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts
