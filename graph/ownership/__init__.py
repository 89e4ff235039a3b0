"""Ownership arithmetic (DOMAIN.md "Ownership and control"), as pure functions over OWNS links.

Shared by the rule engine (R1 reaches companies a sanctioned company controls; R2 reaches persons
who control a judgment debtor) and by the investigation queries. Nothing here reads a store: the
callers extract the links (an ownership closure) and hand them over.

Definitions (percentages in and out, fractions inside):

- *Effective ownership* of O in C: the sum, over the simple directed paths O -> ... -> C of at most
  ``max_hops`` OWNS links, of the product of the shares. A link without a share contributes
  nothing (but still counts as a link for depth, cycles and explanations).
- *Control*: O controls C when O together with the companies O controls holds more than 50% of C,
  or O is recorded as C's ``actual_controller`` (that control then propagates like any other: the
  actual controller of a parent that holds 60% of a subsidiary controls the subsidiary). No hop
  limit. Nobody controls itself.
- A company never owns itself: self-held shares are left out (and reported as a data issue),
  without rescaling the other holders. Holdings that sum to more than 100% are used as given and
  reported.

One topic a module:

- :mod:`~graph.ownership.holdings`: :class:`HoldingIndex` and the thresholds;
- :mod:`~graph.ownership.walk`: :class:`SimplePaths`, the one simple-path walker (with a hop
  limit and the running product of the shares) behind effective shares, explanations, cycles and
  the bulk engine's search;
- :mod:`~graph.ownership.sweep`: the owners-first pass that settles the acyclic part at once, and
  the control fixpoint for the rest;
- :mod:`~graph.ownership.effective`: :class:`EffectiveOwnership`, :func:`effective_shares`;
- :mod:`~graph.ownership.control`: control by recursive majority and actual controllers;
- :mod:`~graph.ownership.paths`: :func:`ownership_paths` (explanations), :func:`depths`;
- :mod:`~graph.ownership.cycles`: :func:`cycles_through`, :func:`canonical_cycle`;
- :mod:`~graph.ownership.issues`: :func:`data_issues`;
- :mod:`~graph.ownership.bulk` (on :mod:`~graph.ownership.levels`): the vectorised engine,
  :func:`all_beneficial_owners` for many companies at once.
"""

from __future__ import annotations

from graph.ownership.bulk import OwnerTable, all_beneficial_owners
from graph.ownership.control import (
    control_map,
    control_path,
    controlled_companies,
    controllers_of,
)
from graph.ownership.cycles import canonical_cycle, cycles_through
from graph.ownership.effective import EffectiveOwnership, effective_shares
from graph.ownership.holdings import (
    BO_THRESHOLD,
    CONTROL_THRESHOLD,
    EPSILON,
    MAX_HOPS,
    HoldingIndex,
)
from graph.ownership.issues import DataIssue, IssueKind, data_issues
from graph.ownership.paths import depths, ownership_paths
from graph.ownership.walk import SimplePaths, hop_distances

__all__ = [
    "BO_THRESHOLD",
    "CONTROL_THRESHOLD",
    "EPSILON",
    "MAX_HOPS",
    "DataIssue",
    "EffectiveOwnership",
    "HoldingIndex",
    "IssueKind",
    "OwnerTable",
    "SimplePaths",
    "all_beneficial_owners",
    "canonical_cycle",
    "control_map",
    "control_path",
    "controlled_companies",
    "controllers_of",
    "cycles_through",
    "data_issues",
    "depths",
    "effective_shares",
    "hop_distances",
    "ownership_paths",
]
