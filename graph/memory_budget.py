"""How many companies the embedded store can hold on this machine (``creditnet stats``).

The figure is the machine's memory (``MemTotal`` of ``/proc/meminfo``) less a reserve for the
system and the process's own code, divided by the bytes one company takes in the store. Those
bytes are measured in the running process: the growth of its resident set from just before the
store opened (the journal replay included) to now, divided by the companies it holds. "Per
company" covers everything a company brings at the registry's ratios (its persons, addresses,
holdings, positions, records). A store with fewer than :data:`MIN_MEASURED` companies is too
small for that quotient to mean anything (the interpreter's own growth dominates it), so the
figure measured at 100k companies with ``python -m bench.embedded`` stands in, and says so.
See docs/operations.md, "Embedded store memory".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "MIN_MEASURED",
    "REFERENCE_BYTES_PER_COMPANY",
    "RESERVE_BYTES",
    "Footprint",
    "footprint",
    "machine_memory_bytes",
    "rss_bytes",
]

MIN_MEASURED: Final = 10_000
"""Below this many companies the reference figure is used instead of the measured one."""

REFERENCE_BYTES_PER_COMPANY: Final = 4_660
"""Resident bytes per company of a store replayed from its journal, generated 100k bundle
(``python -m bench.embedded --companies 100000``: ``replay_rss_per_company``)."""

RESERVE_BYTES: Final = 2 * 1024**3
"""Left to the system, the interpreter and a request's working memory."""


@dataclass(frozen=True, slots=True)
class Footprint:
    """The embedded store's measured size and the ceiling it implies on this machine."""

    companies: int
    bytes_per_company: int
    measured: bool
    """False: the store is too small to measure, ``bytes_per_company`` is the reference."""
    machine_bytes: int
    ceiling_companies: int

    def describe(self) -> str:
        """One line for ``creditnet stats``."""
        how = "measured" if self.measured else "reference figure at 100k; too few to measure"
        return (
            f"embedded store: {self.companies:,} companies, ~{self.bytes_per_company / 1000:.1f} "
            f"kB per company ({how}), ceiling ~{self.ceiling_companies / 1e6:.1f} M companies "
            f"on this machine's {self.machine_bytes / 1024**3:.0f} GB"
        )


def rss_bytes() -> int:
    """This process's resident set size now (0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def machine_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    """``MemTotal`` of ``meminfo`` in bytes (0 where it cannot be read)."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def footprint(companies: int, store_bytes: int, machine_bytes: int) -> Footprint:
    """The per-company bytes and ceiling for a store of ``companies`` taking ``store_bytes``.

    >>> f = footprint(100_000, 466_000_000, 24 * 1024**3)
    >>> f.bytes_per_company, f.measured, f.ceiling_companies
    (4660, True, 5069167)
    >>> footprint(20, 50_000_000, 24 * 1024**3).bytes_per_company
    4660
    """
    measured = companies >= MIN_MEASURED and store_bytes > 0
    per_company = store_bytes // companies if measured else REFERENCE_BYTES_PER_COMPANY
    ceiling = max(0, machine_bytes - RESERVE_BYTES) // max(1, per_company)
    return Footprint(
        companies=companies,
        bytes_per_company=per_company,
        measured=measured,
        machine_bytes=machine_bytes,
        ceiling_companies=ceiling,
    )
