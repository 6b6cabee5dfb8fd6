"""Dependencies: the app's one `Database`, a unit of work per request, the current actor.

Order matters and matches the CLI (DESIGN.md §3): the database is checked first (503), then the
token (401). Roles are declared only on the services (`@requires`); `role_of` reads that
declaration to answer 403 before the body is validated, and the service checks it again.

FastAPI runs a plain `def` dependency in its thread pool, a hand-off to a worker thread and
back that cost more than the work of most of these (docs/performance.md, *HTTP API*). So the
dependencies that do no I/O are `async def` and run on the event loop; only the checks of
`role_of` (schema, token, role: one hand-off), the end of a unit of work (ROLLBACK, the
connection back to the pool) and the route itself go to a thread.
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


def _check_schema(request: Request) -> Database:
    """The app's database, checked reachable and at the latest migration until the first
    check succeeds, then trusted: a database that goes away later fails the request's own
    queries, which map to 503 as well. (In a worker thread: the check is I/O.)"""
    db: Database = request.app.state.database
    if not request.app.state.schema_ok:
        db.check_schema()
        request.app.state.schema_ok = True
    return db


async def _ready(request: Request) -> Database:
    db: Database = request.app.state.database
    if not request.app.state.schema_ok:
        await run_in_threadpool(_check_schema, request)
    return db


async def ready_database(request: Request) -> Database:
    """The database, checked reachable and at the latest migration (503 otherwise)."""
    return await _ready(request)


#: Read by api.openapi: a dependency marked so can answer 503 (the database is checked).
ready_database.checks_database = True  # type: ignore[attr-defined]


ReadyDatabase = Annotated[Database, Depends(ready_database)]


class RequestUnitOfWork(UnitOfWork):
    """A request's unit of work; `ends_with_route`: the route's own worker thread ends it
    (`end_with_route`), so its end costs no second hand-off to the thread pool."""

    def __init__(self, db: Database, *, write: bool, ends_with_route: bool) -> None:
        super().__init__(db, write=write)
        self.ends_with_route = ends_with_route
        self.ended = False

    def end(self, error: BaseException | None = None) -> None:
        """Leave the unit of work (once) as `with` would, with the route's `error` if any."""
        if not self.ended:
            self.ended = True
            if error is None:
                self.__exit__(None, None, None)
            else:
                self.__exit__(type(error), error, error.__traceback__)


@asynccontextmanager
async def _unit_of_work(
    db: Database, *, write: bool, ends_with_route: bool
) -> AsyncIterator[UnitOfWork]:
    """A unit of work for this request. Opening one makes nothing yet (its session or Core
    connection is made at the first query), so it opens on the event loop; its end rolls back
    and returns the connection: in the route's worker thread right after the route
    (`end_with_route`), else (a streamed answer, a request refused before its route ran) in
    the thread pool here.
    An error of the route passes through `__exit__` as with `with`, which turns a database
    error into an orderctl one."""
    uow = RequestUnitOfWork(db, write=write, ends_with_route=ends_with_route)
    uow.__enter__()
    try:
        yield uow
    except BaseException as error:
        if not uow.ended:
            await run_in_threadpool(uow.end, error)
        raise
    if not uow.ended:
        await run_in_threadpool(uow.end)


def end_with_route(route: Callable[..., Any]) -> Callable[..., Any]:
    """`route` (a plain `def`, run in a worker thread) ending the request's unit of work in
    that thread when it returns or raises, as `with` would."""

    def call(**values: Any) -> Any:
        uows = [
            value
            for value in values.values()
            if isinstance(value, RequestUnitOfWork) and value.ends_with_route
        ]
        if not uows:
            return route(**values)
        try:
            result = route(**values)
        except BaseException as error:
            for uow in uows:
                uow.end(error)
            raise
        for uow in uows:
            uow.end()
        return result

    return call


async def read_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A read-only unit of work for this request (rolled back at the end)."""
    async with _unit_of_work(await _ready(request), write=False, ends_with_route=True) as uow:
        yield uow


async def write_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A writing unit of work for this request; the service commits it."""
    async with _unit_of_work(await _ready(request), write=True, ends_with_route=True) as uow:
        yield uow


async def stream_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A read-only unit of work that lives while a streamed answer is sent."""
    async with _unit_of_work(await _ready(request), write=False, ends_with_route=False) as uow:
        yield uow


stream_uow.checks_database = True  # type: ignore[attr-defined]
read_uow.checks_database = True  # type: ignore[attr-defined]
write_uow.checks_database = True  # type: ignore[attr-defined]


def _authenticated(db: Database, token: str | None) -> Actor:
    if not token:
        raise NotAuthenticated("not authenticated: send `Authorization: Bearer <token>`")
    return authenticate(db, token)


def current_actor(db: ReadyDatabase, token: Annotated[str | None, Depends(bearer)]) -> Actor:
    """The user behind `Authorization: Bearer <token>` (401 when missing or not valid)."""
    return _authenticated(db, token)


# `scope="function"`: the unit of work ends (rolls back, returns its connection) before the
# response is sent, and errors raised while leaving it still reach the exception handlers.
ReadUow = Annotated[UnitOfWork, Depends(read_uow, scope="function")]
WriteUow = Annotated[UnitOfWork, Depends(write_uow, scope="function")]
# `scope="request"`: a streamed answer reads while it is sent, so its unit of work ends after.
StreamUow = Annotated[UnitOfWork, Depends(stream_uow, scope="request")]
CurrentActor = Annotated[Actor, Depends(current_actor)]


def role_of(service: Callable[..., Any]) -> Any:
    """`Depends` on the current actor having the role `service` declares with `@requires`.

    Not a second rule book: the role is read from the service, which checks it again. It
    only moves the check before body validation, so a viewer gets 403 for a write however
    malformed the body is, and the order of answers is 503, 401, 403, 422.

    One dependency (and one trip to a worker thread) for the database check, the token check
    and the role: each dependency and each hand-off to the thread pool costs FastAPI more
    than the work of most of them (docs/performance.md, *HTTP API*).
    """
    role: Role = service.required_role  # type: ignore[attr-defined]

    def authorised(request: Request, token: str | None) -> Actor:
        db = _check_schema(request)
        actor = _authenticated(db, token)
        check_role(actor, role)
        return actor

    async def check(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Actor:
        return await run_in_threadpool(authorised, request, token)

    check.checks_role = True  # type: ignore[attr-defined]  # read by api.openapi: 403
    check.checks_database = True  # type: ignore[attr-defined]  # 503
    return Depends(check)
