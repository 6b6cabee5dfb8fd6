"""Dependencies: the app's one `Database`, a unit of work per request, the current actor.

Order matters and matches the CLI (DESIGN.md §3): the database is checked first (503), then the
token (401). Roles are declared only on the services (`@requires`); `role_of` reads that
declaration to answer 403 before the body is validated, and the service checks it again.

FastAPI runs a plain `def` dependency in its thread pool, a hand-off to a worker thread and
back that cost more than the work of most of these (docs/performance.md, *HTTP API*). So the
dependencies that do no I/O are `async def` and run on the event loop; only the token check,
the end of a unit of work (ROLLBACK, the connection back to the pool) and the route itself
go to a thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from orderctl.db import Database
from orderctl.enums import Role
from orderctl.errors import NotAuthenticated
from orderctl.services.access import Actor, authenticate, check_role
from orderctl.services.uow import UnitOfWork

#: Reads `Authorization: Bearer <token>`; `auto_error=False` so a missing token goes through
#: our own 401 (one message shape for every error). Also makes Swagger's "Authorize" work.
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_database(request: Request) -> Database:
    """The app's database, not checked (for `/healthz`)."""
    db: Database = request.app.state.database
    return db


async def ready_database(
    db: Annotated[Database, Depends(get_database)], request: Request
) -> Database:
    """The database, checked reachable and at the latest migration (503 otherwise).

    Checked until it first succeeds, then trusted: a database that goes away later fails the
    request's own queries, which map to 503 as well.
    """
    if not request.app.state.schema_ok:
        await run_in_threadpool(db.check_schema)
        request.app.state.schema_ok = True
    return db


ReadyDatabase = Annotated[Database, Depends(ready_database)]


@asynccontextmanager
async def _unit_of_work(db: Database, *, write: bool) -> AsyncIterator[UnitOfWork]:
    """A unit of work for this request. Opening one makes a `Session` only (its connection is
    taken at the first query), so it opens on the event loop; its end rolls back and returns
    the connection, in the thread pool. An error of the route passes through `__exit__` as
    with `with`, which turns a database error into an orderctl one."""
    uow = UnitOfWork(db, write=write).__enter__()
    try:
        yield uow
    except BaseException as error:
        await run_in_threadpool(uow.__exit__, type(error), error, error.__traceback__)
        raise
    await run_in_threadpool(uow.__exit__, None, None, None)


async def read_uow(db: ReadyDatabase) -> AsyncIterator[UnitOfWork]:
    """A read-only unit of work for this request (rolled back at the end)."""
    async with _unit_of_work(db, write=False) as uow:
        yield uow


async def write_uow(db: ReadyDatabase) -> AsyncIterator[UnitOfWork]:
    """A writing unit of work for this request; the service commits it."""
    async with _unit_of_work(db, write=True) as uow:
        yield uow


def current_actor(db: ReadyDatabase, token: Annotated[str | None, Depends(bearer)]) -> Actor:
    """The user behind `Authorization: Bearer <token>` (401 when missing or not valid)."""
    if not token:
        raise NotAuthenticated("not authenticated: send `Authorization: Bearer <token>`")
    return authenticate(db, token)


# `scope="function"`: the unit of work ends (rolls back, returns its connection) before the
# response is sent, and errors raised while leaving it still reach the exception handlers.
ReadUow = Annotated[UnitOfWork, Depends(read_uow, scope="function")]
WriteUow = Annotated[UnitOfWork, Depends(write_uow, scope="function")]
# `scope="request"`: a streamed answer reads while it is sent, so its unit of work ends after.
StreamUow = Annotated[UnitOfWork, Depends(read_uow, scope="request")]
CurrentActor = Annotated[Actor, Depends(current_actor)]


def role_of(service: Callable[..., Any]) -> Any:
    """`Depends` on the current actor having the role `service` declares with `@requires`.

    Not a second rule book: the role is read from the service, which checks it again. It
    only moves the check before body validation, so a viewer gets 403 for a write however
    malformed the body is, and the order of answers is 503, 401, 403, 422.
    """
    role: Role = service.required_role  # type: ignore[attr-defined]

    async def check(actor: CurrentActor) -> Actor:
        check_role(actor, role)
        return actor

    check.checks_role = True  # type: ignore[attr-defined]  # read by api.openapi: 403
    return Depends(check)
