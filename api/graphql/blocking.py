"""Store calls are blocking (the Neo4j driver's sync API, the embedded store's lock); resolvers
run them in worker threads so that one slow extraction does not stall every other request on the
event loop, and so that requests waiting on Neo4j overlap."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import to_thread

__all__ = ["blocking"]

T = TypeVar("T")


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread."""
    return await to_thread.run_sync(partial(fn, *args, **kwargs))
