"""Store calls are blocking (the Neo4j driver's sync API, the embedded store's lock); resolvers
run them in worker threads so that one slow extraction does not stall every other request on the
event loop, and so that requests waiting on Neo4j overlap."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import to_thread

__all__ = ["blocking"]

T = TypeVar("T")
P = ParamSpec("P")


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a worker thread."""
    # abandoned on cancel: a request past its deadline answers at once (the thread finishes alone)
    return await to_thread.run_sync(partial(fn, *args, **kwargs), abandon_on_cancel=True)
