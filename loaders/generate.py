"""Synthetic CSV bundles (spec/BUNDLE.md) with the shape of a real Chinese enterprise registry.

The output is meant for load tests, benchmarks and demos, so it imitates the statistics that make
real registry graphs hard rather than uniform noise:

- a few registration-agent addresses hold hundreds or thousands of companies (集中登记地);
- most people hold one position, while nominee officers hold dozens and, at 100k companies, the
  busiest one holds thousands (the tails grow with the registry: the number of nominees and agent
  addresses is proportional to it);
- holding groups form ownership chains several levels deep, plus a few cross-holding cycles;
- officers change (ended positions), shares are transferred, some companies are deregistered or
  revoked, and about 3% of companies and 0.5% of persons carry sanction records on all six lists.

Rows are written as they are made (the generator keeps only what later companies draw on: the
company ids, the holding groups' heads, the people's appearances, counters), so memory stays far
below the size of the output and a million companies fit in a few hundred megabytes. Company
names and ids are unique by construction rather than by a set of those already issued: an id's
organisation code is a per-authority serial number scrambled by a bijection, and a name whose
trade name (字号) is taken in its city, industry and form becomes a numbered branch (分公司), so
neither can run out at any size.

The structure is drawn from one ``random.Random(seed)`` and the records (sanctions, commitments)
from a second one derived from the seed, all written with the plain ``csv`` module, so a seed
always gives byte-identical files. All dates lie before :data:`REFERENCE_DAY`. National ID
numbers are synthetic (random, with a valid check digit).
"""

from __future__ import annotations

import csv
import gc
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Final

from graph.model import CompanyStatus, OfficerRole, SanctionList, SanctionStatus, Severity
from graph.rules.schema import load_rules
from loaders.bundle import BUNDLE_FILES
from loaders.registry_parts import (
    FORMS,
    HOLDING_FORMS,
    MODERN_CODES,
    NAME_KEYS,
    NAME_TRIES,
    OLD_CODES,
    SCRAMBLE,
    SUFFIX_WEIGHTS,
    SUFFIXES,
    TRADES,
    company_name,
    iso,
    org_body,
    person_id,
    share_text,
    split_shares,
)
from loaders.uscc import org_code_check_char, uscc_check_char
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
    City,
)

__all__ = ["COLUMNS", "NAME_KEYS", "REFERENCE_DAY", "company_name", "generate_bundle"]

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
_RING_SIZE: Final = 3
"""The mean number of companies in a cross-holding ring (drawn from 2 to 4)."""


@dataclass(frozen=True, slots=True)
class _Head:
    """What a subsidiary reads of a company that may head or join a holding group."""

    index: int
    trade: int
    depth: int
    legal_rep: int
    officers: array[int]


@dataclass(slots=True)
class _Company:
    """A company while it is made; afterwards only companies waiting for a cross-holding ring
    are kept (and a :class:`_Head` of each holding-group member)."""

    index: int
    id: str
    trade: int
    city: City
    founded: int
    dissolved: int | None = None
    status: CompanyStatus = CompanyStatus.ACTIVE
    depth: int = 0
    owners: list[str] = field(default_factory=list)
    owned_bp: list[int | None] = field(default_factory=list)
    legal_rep: int = -1
    officers: list[int] = field(default_factory=list)
    ownership: list[list[str]] = field(default_factory=list)
    """Its ownership rows, held back until the company is complete (and its ring, if any)."""


class _Writer:
    """One CSV file of the bundle, written row by row.

    Rows shorter than the header get empty cells for the columns the generator does not fill
    (a column BUNDLE.md added after the generator was written stays valid, and empty).
    """

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        self.csv = csv.writer(self.handle, lineterminator="\n")
        self.csv.writerow(columns)
        self.width = len(columns)
        self.count = 0

    def row(self, row: Sequence[str]) -> None:
        if len(row) < self.width:
            row = (*row, *[""] * (self.width - len(row)))
        self.csv.writerow(row)
        self.count += 1

    def rows(self, rows: Sequence[Sequence[str]]) -> None:
        for row in rows:
            self.row(row)


class _Generator:
    """The state of one generation run: only what later rows draw on, never the rows."""

    def __init__(self, seed: int, n_companies: int, out: dict[str, _Writer]) -> None:
        self.rng = random.Random(seed)
        # Records get their own stream so that adding or changing one never reshapes the graph.
        self.side = random.Random(f"{seed}:records")
        self.n_companies = n_companies
        self.out = out
        self.company_ids = bytearray()
        """Every company's USCC, 18 ASCII bytes each, by company index."""
        self.group_pool: list[_Head] = []
        """Companies that may head or join a holding group."""
        self.n_persons = 0
        self.appearances = array("i")
        self.nominees: list[int] = []
        self.nominee_cum: list[float] = []
        self.agent_addresses: list[tuple[str, City]] = []
        self.agent_cum: list[float] = []
        self.shared_addresses: dict[int, tuple[str, City]] = {}
        self.name_uses = bytearray(NAME_KEYS)
        """How many companies used each name key; a count reaching 255 continues in
        :attr:`name_overflow`."""
        self.name_overflow: dict[int, int] = {}
        self.code_serials: dict[tuple[str, bool], int] = {}
        self.code_offsets: dict[tuple[str, bool], int] = {}
        self.ring: list[_Company] = []
        self.ring_size = 0
        self.rings_left = max(2, n_companies // 1500)
        self.forced_lists = [sanction_list for sanction_list, _ in COMPANY_LISTS]
        self.forced_person_lists = [sanction_list for sanction_list, _ in PERSON_LISTS]
        self.sanction_ids = 0
        self.commitment_ids = 0

    def company_id(self, index: int) -> str:
        return self.company_ids[index * 18 : index * 18 + 18].decode("ascii")

    # -- persons -------------------------------------------------------------------------------

    def new_person(self) -> int:
        rng = self.rng
        index = self.n_persons
        self.n_persons += 1
        pid = person_id(index)
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
        self.out["persons.csv"].row((pid, name, nationality, str(birth_year), national_id))
        if self.side.random() < 0.005:
            self.person_sanction(pid)
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
            elif draw < _NOMINEE_SHARE + _REUSE_SHARE and self.n_persons:
                person = rng.randrange(self.n_persons)
            else:
                return self.new_person()
            if person not in exclude:
                return person
        return self.new_person()

    # -- addresses -----------------------------------------------------------------------------

    def new_address(self, city: City, suffix: str = "") -> str:
        rng = self.rng
        writer = self.out["addresses.csv"]
        aid = f"A{writer.count + 1:08d}"
        text = f"{city.full}{rng.choice(city.districts)}{rng.choice(ROADS)}{rng.randint(1, 2999)}号"
        if suffix:
            text += suffix
        elif rng.random() < 0.6:
            text += f"{rng.randint(1, 30)}幢{rng.randint(1, 28)}{rng.randint(1, 20):02d}室"
        writer.row((aid, text, city.full))
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
        for city in CITIES:
            for modern in (True, False):
                space = MODERN_CODES if modern else OLD_CODES
                self.code_offsets[city.division, modern] = rng.randrange(space)

    def uscc(self, city: City, modern: bool) -> str:
        """The next company id of ``city``'s registration authority: unique by construction."""
        key = (city.division, modern)
        serial = self.code_serials.get(key, 0)
        space = MODERN_CODES if modern else OLD_CODES
        if serial >= space:
            raise ValueError(
                f"more than {space:,} companies registered in {city.full}: the generator's"
                " organisation codes are exhausted; generate fewer companies"
            )
        self.code_serials[key] = serial + 1
        body = org_body((serial * SCRAMBLE[modern] + self.code_offsets[key]) % space, modern)
        first17 = "91" + city.division + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)

    def name(self, city: int, trade: int, form: int, holding: bool) -> str:
        """A name nobody has: the first free trade name among a few, else a numbered branch."""
        rng = self.rng
        first = (city * TRADES + trade) * len(FORMS) + form
        key = first
        for attempt in range(NAME_TRIES):
            if self.name_uses[key] == 0:
                break
            if attempt == NAME_TRIES - 1:
                key = first  # a branch of the first choice (a group's trade name, say)
                break
            trade = rng.randrange(TRADES)
            if holding:
                form = len(FORMS) - len(HOLDING_FORMS) + rng.randrange(len(HOLDING_FORMS))
            key = (city * TRADES + trade) * len(FORMS) + form
        uses = self.name_uses[key]
        if uses == 255:
            uses = self.name_overflow.get(key, 255)
            self.name_overflow[key] = uses + 1
        else:
            self.name_uses[key] = uses + 1
        return company_name(key, uses)

    def add_company(self, index: int, founded: int) -> None:
        rng = self.rng
        address_id, city = self.pick_address()
        parent: _Head | None = None
        if self.group_pool and rng.random() < 0.22:
            for _ in range(4):
                candidate = rng.choice(self.group_pool)
                if candidate.depth < _MAX_DEPTH:
                    parent = candidate
                    break
        holding = parent is None and rng.random() < 0.05
        # Group members share the parent's trade name (字号).
        trade = parent.trade if parent is not None and rng.random() < 0.6 else rng.randrange(TRADES)
        phrase = rng.choices(_INDUSTRY_INDEX, cum_weights=INDUSTRY_CUM)[0]
        industry = INDUSTRIES[phrase][1]
        if holding:
            industry = HOLDING_INDUSTRY
            form = len(FORMS) - len(HOLDING_FORMS) + rng.randrange(len(HOLDING_FORMS))
        else:
            suffix = rng.choices(_SUFFIX_INDEX, SUFFIX_WEIGHTS)[0]
            form = phrase * len(SUFFIXES) + suffix
        city_index = _CITY_POSITION[city.division]
        name = self.name(city_index, trade, form, holding)
        # Organisation codes of the "MA..." shape exist only since the 2015 registration reform.
        modern = founded >= _USCC_REFORM and rng.random() < 0.95
        uscc = self.uscc(city, modern)
        self.company_ids += uscc.encode("ascii")
        company = _Company(index, uscc, trade, city, founded)
        if parent is not None:
            company.depth = parent.depth + 1
        group = (
            holding or (parent is not None and rng.random() < 0.5)
        ) and company.depth < _MAX_DEPTH
        if founded < _LAST_DAY - _YEAR and rng.random() < 0.045:
            company.dissolved = rng.randint(founded + _YEAR, _LAST_DAY)
            company.status = (
                CompanyStatus.REVOKED if rng.random() < 0.35 else CompanyStatus.DEREGISTERED
            )

        size = rng.random()
        officers: list[Row] = []
        self.add_officers(company, size, parent, officers)
        self.add_owners(company, parent, holding, officers)
        self.out["officers.csv"].rows(officers)
        if group:
            head = _Head(
                index, trade, company.depth, company.legal_rep, array("i", company.officers)
            )
            self.group_pool.append(head)

        capital_options = (100_000, 500_000, 1_000_000, 3_000_000, 5_000_000, 10_000_000)
        capital = rng.choice(capital_options) * (10 if holding or size > 0.97 else 1)
        self.out["companies.csv"].row(
            (
                uscc,
                name,
                "CN",
                company.status.value,
                iso(founded),
                iso(company.dissolved),
                str(capital),
                industry,
                address_id,
            )
        )
        self.join_ring(company)
        self.add_sanctions(company)
        self.add_commitments(company)

    def officer(
        self,
        company: _Company,
        person: int,
        role: OfficerRole,
        start: int,
        rows: list[Row],
        end: int | None = None,
    ) -> None:
        rows.append((person_id(person), company.id, role.value, iso(start), iso(end)))
        self.appearances.append(person)
        company.officers.append(person)

    def add_officers(
        self, company: _Company, size: float, parent: _Head | None, rows: list[Row]
    ) -> None:
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
                self.officer(company, legal_rep, OfficerRole.DIRECTOR, start, rows)
            draw = rng.random()
            if draw < 0.6:
                self.officer(company, legal_rep, OfficerRole.GENERAL_MANAGER, start, rows)
            elif draw < 0.85:
                manager = self.pick_person(management)
                management.append(manager)
                self.officer(company, manager, OfficerRole.GENERAL_MANAGER, start, rows)
            supervisors = 1 if rng.random() < 0.9 else 0
        else:
            large = size > 0.97
            chairman = legal_rep if rng.random() < 0.85 else self.pick_person(management)
            if chairman not in management:
                management.append(chairman)
            self.officer(company, chairman, OfficerRole.CHAIRMAN, start, rows)
            for _ in range(rng.randint(4, 8) if large else rng.randint(2, 4)):
                director = self.pick_person(management)
                management.append(director)
                self.officer(company, director, OfficerRole.DIRECTOR, start, rows)
            manager = rng.choice(management) if rng.random() < 0.5 else self.pick_person(management)
            if manager not in management:
                management.append(manager)
            self.officer(company, manager, OfficerRole.GENERAL_MANAGER, start, rows)
            for _ in range(rng.randint(1, 3) if large or rng.random() < 0.3 else 0):
                other = self.pick_person(management)
                management.append(other)
                self.officer(company, other, OfficerRole.MANAGER, start, rows)
            if large and rng.random() < 0.5:
                secretary = self.pick_person(management)
                management.append(secretary)
                self.officer(company, secretary, OfficerRole.OTHER, start, rows)
            supervisors = 3 if large else rng.randint(1, 3)
        supervisor_ids: list[int] = []
        first_supervisor_row = len(rows)
        for _ in range(supervisors):
            supervisor = self.pick_person([*management, *supervisor_ids])
            supervisor_ids.append(supervisor)
            self.officer(company, supervisor, OfficerRole.SUPERVISOR, start, rows)
        if company.founded < _LAST_DAY - 2 * _YEAR and rng.random() < 0.10:
            # The legal representative changed: the old position ends the day the new one starts.
            change = rng.randint(company.founded + _YEAR // 2, _LAST_DAY - 30)
            self.officer(company, legal_rep, OfficerRole.LEGAL_REPRESENTATIVE, start, rows, change)
            successor = self.pick_person([*management, *supervisor_ids])
            company.legal_rep = successor
            self.officer(company, successor, OfficerRole.LEGAL_REPRESENTATIVE, change, rows)
        else:
            self.officer(company, legal_rep, OfficerRole.LEGAL_REPRESENTATIVE, start, rows)
        if supervisor_ids and company.founded < _LAST_DAY - 3 * _YEAR and rng.random() < 0.05:
            # The first supervisor's three-year term ended and someone else took the seat.
            end = company.founded + 3 * _YEAR
            rows[first_supervisor_row] = (*rows[first_supervisor_row][:4], iso(end))
            successor = self.pick_person([*management, *supervisor_ids])
            self.officer(company, successor, OfficerRole.SUPERVISOR, end, rows)

    def own(self, company: _Company, owner: str, bp: int | None, start: int) -> None:
        company.owners.append(owner)
        company.owned_bp.append(bp)
        company.ownership.append([owner, company.id, share_text(bp), iso(start), ""])

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

    def add_owners(
        self, company: _Company, parent: _Head | None, holding: bool, officers: list[Row]
    ) -> None:
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
            owners.append(self.company_id(parent.index))
            rest = total - parent_bp
            shares = [parent_bp]
            if rest >= 100:
                parts = min(rng.randint(1, 2), rest // 100)
                shares.extend(split_shares(rng, rest, parts))
                for _ in range(parts):
                    if rng.random() < 0.2 and company.index > 1:
                        other = self.company_id(rng.randrange(company.index))
                        if other not in owners:
                            owners.append(other)
                            continue
                    owners.append(person_id(self.person_owner(company, persons)))
                shares = shares[: len(owners)]
        else:
            parts = rng.choices((1, 2, 3, 4, 5), (35, 40, 15, 7, 3))[0]
            shares = split_shares(rng, total, parts)
            for position in range(parts):
                if position and not holding and rng.random() < 0.05 and company.index > 1:
                    other = self.company_id(rng.randrange(company.index))
                    if other not in owners:
                        owners.append(other)
                        continue
                owners.append(person_id(self.person_owner(company, persons)))
        for owner, bp in zip(owners, shares, strict=True):
            self.own(company, owner, None if rng.random() < 0.02 else bp, start)
        if persons and company.founded < _LAST_DAY - 2 * _YEAR and rng.random() < 0.04:
            # A share transfer: the first person owner sold to someone new on one day.
            position = company.owners.index(person_id(persons[0]))
            row = company.ownership[position]
            day = rng.randint(company.founded + _YEAR, _LAST_DAY - 30)
            row[4] = iso(day)
            buyer = self.pick_person([*persons, *company.officers])
            self.own(company, person_id(buyer), company.owned_bp[position], day)
            self.appearances.append(buyer)
        self.appearances.extend(persons)
        if rng.random() < 0.015:
            # A recorded actual controller: the main person owner, or the group's boss behind a
            # subsidiary that persons do not hold directly.
            boss = persons[0] if persons else parent.legal_rep if parent is not None else -1
            if boss >= 0:
                self.officer(company, boss, OfficerRole.ACTUAL_CONTROLLER, start, officers)

    # -- cross-holdings ------------------------------------------------------------------------

    def join_ring(self, company: _Company) -> None:
        """Hold ``company`` back for a cross-holding ring, or write its ownership rows now.

        Rings A -> B -> ... -> A form among companies met along the way: each candidate joins the
        open ring with the chance that spreads the rings still wanted over the companies still to
        come, so the rings are made without keeping every company until the end.
        """
        rng = self.rng
        candidate = (
            self.rings_left > 0
            and company.status is CompanyStatus.ACTIVE
            and len(company.owners) < 5
            and any(bp is not None and bp >= 2_000 for bp in company.owned_bp)
            and not set(company.owners) & {member.id for member in self.ring}
        )
        remaining = self.n_companies - company.index
        if candidate and rng.random() < _RING_SIZE * self.rings_left / remaining:
            if not self.ring:
                self.ring_size = rng.randint(2, 4)
            self.ring.append(company)
            if len(self.ring) == self.ring_size:
                self.close_ring()
            return
        self.out["ownership.csv"].rows(company.ownership)

    def close_ring(self) -> None:
        """Give each ring member a stake carved out of the next member's largest holding."""
        rng = self.rng
        ring = self.ring
        cycle: list[list[str]] = []
        if len(ring) >= 2:
            self.rings_left -= 1
            for position, target in enumerate(ring):
                owner = ring[position - 1]
                stake = rng.randint(5, 15) * 100
                largest = max(
                    (row for row in target.ownership if row[2] and not row[4]),
                    key=lambda row: float(row[2]),
                )
                largest_bp = round(float(largest[2]) * 100)
                stake = min(stake, largest_bp - 100)
                largest[2] = share_text(largest_bp - stake)
                start = max(owner.founded, target.founded) + rng.randint(30, 700)
                target.owners.append(owner.id)
                target.owned_bp.append(stake)
                cycle.append(
                    [owner.id, target.id, share_text(stake), iso(min(start, _LAST_DAY)), ""]
                )
        writer = self.out["ownership.csv"]
        for member in ring:
            writer.rows(member.ownership)
            member.ownership = []
        writer.rows(cycle)
        self.ring = []

    # -- sanctions -----------------------------------------------------------------------------

    def authority(self, sanction_list: SanctionList, city: City, office: str = "") -> str:
        rng = self.side
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
        rng = self.side
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
        self.sanction_ids += 1
        sid = f"S{self.sanction_ids:08d}"
        self.out["sanctions.csv"].row(
            (
                sid,
                subject,
                sanction_list.value,
                self.authority(sanction_list, city, office),
                severity.value,
                fine,
                iso(decided),
                iso(start),
                iso(end),
                basis,
                description,
                status.value,
                iso(status_day),
                "true" if disputed else "false",
            )
        )

    def add_sanctions(self, company: _Company) -> None:
        rng = self.side
        lo = max(company.founded + 30, _FIRST_SANCTION)
        hi = min(company.dissolved or _LAST_DAY, _LAST_DAY) - 1
        if lo >= hi:
            return
        revoked = company.status is CompanyStatus.REVOKED
        if rng.random() >= 0.03 and not (revoked and rng.random() < 0.3):
            return
        if revoked:
            chosen = SanctionList.ABNORMAL_OPERATION
        elif self.forced_lists:
            chosen = self.forced_lists.pop()  # every list appears even in a small bundle
        else:
            chosen = rng.choices(COMPANY_LISTS, cum_weights=COMPANY_LIST_CUM)[0][0]
        if chosen is SanctionList.ADMIN_PENALTY and rng.random() < 0.2 and hi - lo > _YEAR:
            # A repeat offender: three or four fines within two years (a market-ban candidate).
            first = rng.randint(lo, hi - _YEAR)
            for _ in range(rng.randint(3, 4)):
                day = rng.randint(first, min(hi, first + 2 * _YEAR - 30))
                self.sanction(company.id, chosen, company.city, lo, hi, decided=day)
            return
        self.sanction(company.id, chosen, company.city, lo, hi)
        serious = (SanctionList.SERIOUS_DISHONEST, SanctionList.DISHONEST_JUDGMENT_DEBTOR)
        if chosen in serious and rng.random() < 0.3:
            self.sanction(company.id, SanctionList.ABNORMAL_OPERATION, company.city, lo, hi)

    def person_sanction(self, person_id: str) -> None:
        rng = self.side
        if self.forced_person_lists:
            chosen = self.forced_person_lists.pop()
        else:
            chosen = rng.choices(PERSON_LISTS, cum_weights=PERSON_LIST_CUM)[0][0]
        city = rng.choices(CITIES, cum_weights=CITY_CUM)[0]
        self.sanction(person_id, chosen, city, _FIRST_SANCTION, _LAST_DAY - 1)

    def add_commitments(self, company: _Company) -> None:
        """Credit commitments of one company in ten: mostly kept, some pending or overdue, a few
        broken (the loader writes their COMMITMENT_BREACH records)."""
        rng = self.side
        kinds = ("TAX_DECLARATION", "NOTIFICATION_PERMIT", "PROACTIVE", "INDUSTRY")
        agencies = ("税务局", "市场监督管理局", "人力资源和社会保障局", "生态环境局")
        writer = self.out["commitments.csv"]
        lo = max(company.founded + 30, _FIRST_SANCTION)
        hi = min(company.dissolved or _LAST_DAY, _LAST_DAY) - 1
        if lo >= hi or rng.random() >= 0.1:
            return
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
            self.commitment_ids += 1
            writer.row(
                (
                    f"K{self.commitment_ids:08d}",
                    company.id,
                    kind,
                    agency,
                    f"{kind.lower()} {date.fromordinal(made).year}",
                    iso(made),
                    iso(due),
                    iso(verified),
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
        # Counting draws per day gives them in sorted order without holding a list of them all.
        per_day = array("l", bytes(8 * (span + 1)))
        for _ in range(self.n_companies):
            per_day[int(span * rng.random() ** 0.6)] += 1
        index = 0
        for offset, count in enumerate(per_day):
            for _ in range(count):
                self.add_company(index, _FIRST_FOUNDED + offset)
                index += 1
        if self.ring:
            self.close_ring()


_CITY_POSITION: Final = {city.division: position for position, city in enumerate(CITIES)}
_INDUSTRY_INDEX: Final = range(len(INDUSTRIES))
_SUFFIX_INDEX: Final = range(len(SUFFIXES))


def generate_bundle(out_dir: Path, companies: int, seed: int = 0) -> dict[str, int]:
    """Write a synthetic bundle of ``companies`` companies and their network to ``out_dir``.

    Rows are written as they are made, so memory grows far slower than the output: about
    100 bytes per company for the ids and draws that later companies need (145 MB at 1M).

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
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {name: _Writer(out_dir / name, columns) for name, columns in COLUMNS.items()}
    # Small long-lived objects and no reference cycles: the cyclic collector would only rescan
    # them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _Generator(seed, companies, writers).run()
    finally:
        if collecting:
            gc.enable()
        for writer in writers.values():
            writer.handle.close()
    return {name: writer.count for name, writer in writers.items()}
