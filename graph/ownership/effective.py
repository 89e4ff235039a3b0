"""Effective ownership: the sum, over the simple paths of at most ``max_hops`` links, of the
product of the shares (DOMAIN.md "Ownership and control")."""

from __future__ import annotations

from collections.abc import Container, Iterable

from graph.model import Officer
from graph.ownership.holdings import MAX_HOPS, PERCENT, HoldingIndex, actual_controller_links
from graph.ownership.sweep import sweep
from graph.ownership.walk import SimplePaths

__all__ = ["EffectiveOwnership", "effective_shares"]


class EffectiveOwnership:
    """Effective shares over simple paths of at most ``max_hops`` links, one target at a time.

    ``upward=True`` answers "who owns C, and how much" (:meth:`shares_of` gives owner -> percent);
    ``upward=False`` answers "what does O own" (company -> percent). ``keep`` narrows the answer
    (for instance to natural persons); the propagation still passes through everything.

    Construction makes one owners-first pass over the whole index (:func:`sweep`), settling every
    company with an acyclic upstream (its vector is the share-weighted sum of its owners'
    vectors). A company in or below a cycle, or with a longer upstream than ``max_hops``, is
    answered by the simple-path walk, which stops at settled companies and reuses their vectors.
    So answers for every company of a large graph cost about one pass.

    Parameters
    ----------
    index
        The ownership links (the whole upstream, or downstream, of every target asked about).
    upward
        Who owns the target (True) or what the target owns (False).
    max_hops
        Paths longer than this many links are ignored (at least 1).
    keep
        Only these entities appear in the answers (None: every entity).
    officers
        With ``upward``, recorded ``actual_controller`` positions: :meth:`controllers` then
        answers who controls each company.

    Examples
    --------
    The worked example of the spec: X 25% directly, B (100% owned by W) 25%, C (90% Y, 10% Z) 50%.

    >>> from graph.model import Ownership
    >>> links = [Ownership("X", "T", 25), Ownership("B", "T", 25), Ownership("W", "B", 100),
    ...          Ownership("C", "T", 50), Ownership("Y", "C", 90), Ownership("Z", "C", 10)]
    >>> engine = EffectiveOwnership(HoldingIndex(links), keep={"W", "X", "Y", "Z"})
    >>> {k: round(v, 6) for k, v in sorted(engine.shares_of("T").items())}
    {'W': 25.0, 'X': 25.0, 'Y': 45.0, 'Z': 5.0}
    """

    def __init__(
        self,
        index: HoldingIndex,
        *,
        upward: bool = True,
        max_hops: int = MAX_HOPS,
        keep: Container[str] | None = None,
        officers: Iterable[Officer] | None = None,
    ) -> None:
        if max_hops < 1:
            raise ValueError(f"max_hops must be at least 1, got {max_hops}")
        self.max_hops = max_hops
        self._adj = index.adjacency(upward)
        self._keep = keep
        actual = None
        if officers is not None and upward:
            actual = actual_controller_links(officers, upward=True)
        settled = sweep(self._adj, index.adjacency(not upward), keep=keep, actual=actual)
        self._height = settled.height
        self._memo = settled.memo
        self._ctrl = settled.ctrl
        self.cyclic: frozenset[str] = frozenset(settled.left)
        """Companies in an ownership cycle or below one (above one when downward)."""

    def controllers(self, company_id: str) -> set[str]:
        """Who controls ``company_id`` (only when built upward with ``officers``, else empty).

        Examples
        --------
        >>> from graph.model import Ownership
        >>> links = [Ownership("P", "A", 60), Ownership("A", "B", 51)]
        >>> sorted(EffectiveOwnership(HoldingIndex(links), officers=[]).controllers("B"))
        ['A', 'P']
        """
        return set(self._ctrl.get(company_id, ()))

    def fractions_of(self, target: str) -> dict[str, float]:
        """Like :meth:`shares_of`, in fractions (0..1) rather than percent.

        Examples
        --------
        A and B hold shares of each other (a cycle): Q's 60% of B reaches A through B's 10%.

        >>> from graph.model import Ownership
        >>> links = [Ownership("P", "A", 50), Ownership("B", "A", 10), Ownership("A", "B", 40),
        ...          Ownership("Q", "B", 60)]
        >>> {k: round(v, 6) for k, v in EffectiveOwnership(HoldingIndex(links)).fractions_of("A")
        ...  .items()}
        {'P': 0.5, 'B': 0.1, 'Q': 0.06}
        """
        max_hops = self.max_hops
        heights = self._height
        height = heights.get(target)
        if height is not None and height <= max_hops:
            return dict(self._memo.get(target, {}))
        memo = self._memo
        keep = self._keep
        acc: dict[str, float] = {}
        walk = SimplePaths(target, self._adj, max_hops=max_hops)
        for other, value, hops in walk:
            if keep is None or other in keep:
                acc[other] = acc.get(other, 0.0) + value
            other_height = heights.get(other)
            if other_height is not None and other_height <= max_hops - hops:
                # Every path beyond ``other`` is simple and within reach: its vector sums them.
                for far, far_value in memo[other].items():
                    acc[far] = acc.get(far, 0.0) + value * far_value
                walk.skip()
        return acc

    def shares_of(self, target: str) -> dict[str, float]:
        """Effective percent of ``target`` held by (upward) or in (downward) each other entity.

        Only entities with a positive effective share appear; ``target`` itself never does.

        Examples
        --------
        >>> from graph.model import Ownership
        >>> links = [Ownership("P", "D", 50), Ownership("D", "T", 60)]
        >>> {k: round(v, 6) for k, v in EffectiveOwnership(HoldingIndex(links)).shares_of("T")
        ...  .items()}
        {'D': 60.0, 'P': 30.0}
        """
        return {k: v * PERCENT for k, v in self.fractions_of(target).items()}


def effective_shares(
    target: str,
    index: HoldingIndex,
    *,
    upward: bool = True,
    max_hops: int = MAX_HOPS,
) -> dict[str, float]:
    """Effective percent of ``target`` held by each upstream entity (or held by it, downward).

    A convenience over :class:`EffectiveOwnership` for one question.

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership("P", "D", 50), Ownership("D", "T", 30),
    ...          Ownership("P", "E", 80), Ownership("E", "T", 25)]
    >>> round(effective_shares("T", HoldingIndex(links))["P"], 9)
    35.0
    >>> round(effective_shares("P", HoldingIndex(links), upward=False)["T"], 9)
    35.0
    """
    return EffectiveOwnership(index, upward=upward, max_hops=max_hops).shares_of(target)
