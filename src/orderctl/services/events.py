"""Following order events (DESIGN.md §16): what happened to orders, oldest first, and what
happens next as it is committed. How nothing is missed or repeated: docs/events.md and
`repositories/events.py`."""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from typing import Any

from orderctl.enums import EventAction, Role
from orderctl.schemas import OrderEventRead
from orderctl.services.access import Actor, requires
from orderctl.services.orders import get_order
from orderctl.services.uow import UnitOfWork

#: Without `after`: how many of the newest events come first (like `tail`).
DEFAULT_TAIL = 20
#: Events read per query.
PAGE = 500
#: The longest `GET /api/events` waits for new events (`wait=`).
MAX_WAIT = 60.0


@dataclass(frozen=True)
class EventFilters:
    """Which events: one order (id or external_ref) and/or some actions (any, when empty)."""

    order: int | str | None = None
    actions: tuple[EventAction, ...] = ()


@dataclass(frozen=True)
class EventBatch:
    """Events, oldest first, and the id to pass as `after` to continue after them."""

    items: list[OrderEventRead]
    next_after: int


@requires(Role.VIEWER)
def follow_events(
    uow: UnitOfWork,
    actor: Actor,
    filters: EventFilters,
    *,
    after: int | None = None,
    limit: int | None = None,
    wait: float | None = 0.0,
) -> Generator[EventBatch, None, None]:
    """Order events in batches, oldest first; each committed event exactly once.

    Without `after`: first the newest `limit` events (default `DEFAULT_TAIL`), then what comes
    after them. With `after` (an event id): the events after that one, at most `limit` in all
    (None: no cap).
    `wait`: 0 stops once caught up; None follows until the caller stops iterating; seconds:
    stops once caught up after that long. While waiting, an empty batch comes each time the
    wait wakes (at least every few seconds), so a caller can check that its reader is still
    there.

    Raises `NotFound` (an unknown order), `ConnectionLost` or `DatabaseUnavailable` (exit 7)
    when the database goes away.
    """
    order_id = None if filters.order is None else get_order(uow, actor, filters.order).id
    which: dict[str, Any] = {
        "order_id": order_id,
        "actions": tuple(a.value for a in filters.actions),
    }
    deadline = None if wait is None else time.monotonic() + wait
    wake: AbstractContextManager[Any] = uow.events.wake_ups() if wait != 0 else nullcontext()
    # Listening starts before the first read: a commit right after that read still wakes us.
    with wake as wait_for_commit:
        remaining = limit
        if after is None:
            position = uow.events.head()
            rows = uow.events.up_to(position, **which, limit=limit or DEFAULT_TAIL)
            uow.commit()  # ends the read: the next one sees what was committed since
            remaining = None
            yield EventBatch([OrderEventRead.model_validate(doc) for _, doc in rows], position[1])
        else:
            position = uow.events.position_of(after)
            uow.commit()
        while remaining is None or remaining > 0:
            rows = uow.events.after(position, **which, limit=min(PAGE, remaining or PAGE))
            uow.commit()
            if rows:
                position = rows[-1][0]
                remaining = None if remaining is None else remaining - len(rows)
                yield EventBatch(
                    [OrderEventRead.model_validate(doc) for _, doc in rows], position[1]
                )
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            yield EventBatch([], position[1])
            wait_for_commit(3600.0 if left is None else left)


@requires(Role.VIEWER)
def wait_for_events(
    uow: UnitOfWork,
    actor: Actor,
    filters: EventFilters,
    *,
    after: int | None,
    limit: int,
    wait: float,
) -> EventBatch:
    """The first events after `after` (as `follow_events`), waiting up to `wait` seconds
    (at most `MAX_WAIT`) for some to be committed; an empty batch when none came."""
    last = EventBatch([], after or 0)
    batches = follow_events(
        uow, actor, filters, after=after, limit=limit, wait=min(max(wait, 0.0), MAX_WAIT)
    )
    with closing(batches):  # stops listening at once, not when the generator is collected
        for batch in batches:
            if batch.items:
                return batch
            last = batch
    return last
