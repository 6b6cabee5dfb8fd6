"""`/api/events`: order events after a cursor, as a long poll (DESIGN.md §11, §16)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orderctl.api.deps import ReadUow, role_of
from orderctl.api.errors import responses
from orderctl.api.jsonbody import JsonRoute
from orderctl.enums import EventAction
from orderctl.schemas import EventPageRead
from orderctl.services import events
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/events", tags=["events"])

MAX_LIMIT = 1000
#: The largest event id a client can name (a BIGINT).
MAX_ID = 2**63 - 1


@router.get("", response_model=EventPageRead, responses=responses(404))
def list_events(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(events.wait_for_events)],
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_ID,
            description="The `next_after` of the previous answer; without it, the newest "
            "`limit` events.",
        ),
    ] = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=events.MAX_WAIT,
            description="Seconds to wait for a new event when there is none yet (long poll).",
        ),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    order: Annotated[
        str | None,
        Query(max_length=100, description="Only this order's events (id, or external_ref)."),
    ] = None,
    action: Annotated[
        list[EventAction] | None, Query(description="Only this action; repeat for several.")
    ] = None,
) -> events.EventBatch:
    """Order events after `after`, oldest first, each committed event exactly once across
    successive calls with `after=next_after`. When there is none yet, waits up to `wait`
    seconds for one to be committed, then answers an empty `items`."""
    # The id-or-ref rule is the service's (`services.orders`): the text goes through as given.
    filters = events.EventFilters(order=order, actions=tuple(action or ()))
    return events.wait_for_events(uow, actor, filters, after=after, limit=limit, wait=wait)
