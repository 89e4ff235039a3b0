"""Store calls are blocking (the Neo4j driver's sync API, the embedded store's lock); resolvers
run them in worker threads so that one slow extraction does not stall every other request on the
event loop, and so that requests waiting on Neo4j overlap.

The exception is :func:`short_read`: a bounded read of a store whose reads are pure CPU over
memory (``reads_in_memory``, the embedded store) runs inline on the event loop. A worker thread
buys such a read nothing (its Python holds the GIL throughout, and the embedded store serialises
reads on one lock anyway) and costs two thread switches, and under concurrent requests the
CPU-bound worker thread and the event loop trade the GIL in 5 ms slices (bench/api.py). Only
reads whose cost is bounded by a neighbourhood, never by the graph, go inline: an inline call
cannot be abandoned at the request's deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import to_thread

__all__ = ["blocking", "reads_in_memory", "short_read"]

T = TypeVar("T")
P = ParamSpec("P")


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a worker thread."""
    # abandoned on cancel: a request past its deadline answers at once (the thread finishes alone)
    return await to_thread.run_sync(partial(fn, *args, **kwargs), abandon_on_cancel=True)


def reads_in_memory(store: object) -> bool:
    """Whether ``store`` says its reads never wait on a network or a disk (only on its own lock)."""
    return getattr(store, "reads_in_memory", False) is True


async def short_read(store: object, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, a read of ``store`` whose cost a neighbourhood bounds: inline when
    the store reads from memory, else in a worker thread (:func:`blocking`)."""
    if reads_in_memory(store):
        return fn(*args, **kwargs)
    return await blocking(fn, *args, **kwargs)
