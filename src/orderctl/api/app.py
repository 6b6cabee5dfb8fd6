"""The FastAPI application factory (DESIGN.md §11).

`create_app(settings)` builds one app over one `Database`; `orderctl serve` runs it with uvicorn
through `app_from_environment` (a factory, so each worker process builds its own engine).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from orderctl import __version__
from orderctl.api import errors, openapi
from orderctl.api.limits import BodyLimit
from orderctl.api.methods import AllowedMethods
from orderctl.api.routers import auth, customers, events, health, orders, products, reports, users
from orderctl.config import Settings, load_settings
from orderctl.db import Database

#: PostgreSQL connections a server process keeps open (and as many again for a burst). A
#: request holds one at a time; with SQLAlchemy's default of 5, eight requests at once
#: opened and closed a connection for about one request in ten, and opening one costs
#: more than a request (docs/performance.md, *HTTP API*).
POOL_SIZE = 20


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """An app on `settings.database_url` (or on `database`, which the caller then owns)."""
    owned = database is None
    if database is None:
        settings = settings or load_settings()
        database = Database(settings.database_url, pool_size=POOL_SIZE)
    currency = settings.currency if settings is not None else "EUR"
    db = database

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.dispose()

    app = FastAPI(
        title="orderctl",
        version=__version__,
        description="The order database over HTTP: the same services, rules and documents "
        "as the `orderctl` CLI. Authenticate with `POST /api/auth/token`, then send "
        "`Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.database = db
    app.state.schema_ok = False
    app.state.default_currency = currency
    errors.install(app)
    app.add_middleware(BodyLimit)
    routers = [health.router] + [
        module.router for module in (auth, orders, products, customers, users, events, reports)
    ]
    # The routers' routes go into the app's own list (their paths are whole: `/api/...`).
    # `include_router` would keep each router as a branch that FastAPI walks on every
    # request to find the route and its context, which cost more than the rest of the
    # framework's work for `POST /api/orders` (docs/performance.md, *HTTP API*).
    for router in routers:
        app.router.routes.extend(router.routes)
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    # Outermost: a method the path does not serve is refused before anything else runs.
    app.add_middleware(AllowedMethods, routes=routes)
    app.openapi = lambda: openapi.document(app, routes)  # type: ignore[method-assign]
    _quiet_alias_warning()
    return app


def _quiet_alias_warning() -> None:
    """Silence pydantic's false "alias has no effect" warning about FastAPI's parameters.

    FastAPI hands a request body to pydantic as `Field(alias="body")`; pydantic >= 2.12 warns
    that such an alias has no effect there (pydantic/pydantic#12356), on the server's stderr
    at the first request to each route with a body and at the first visit to /docs.
    """
    from pydantic.warnings import UnsupportedFieldAttributeWarning

    warnings.filterwarnings(
        "ignore",
        message=r"The '\w+' attribute with value '\w+' was provided to the `Field\(\)` function",
        category=UnsupportedFieldAttributeWarning,
    )


def app_from_environment() -> FastAPI:
    """The uvicorn factory used by `orderctl serve`: settings from env and the config file."""
    return create_app(load_settings())
