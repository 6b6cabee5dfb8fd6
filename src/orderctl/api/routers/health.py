"""`GET /healthz`: 200 when the database is reachable and at the latest migration, else 503."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from orderctl.api.deps import get_database
from orderctl.api.errors import public_database_message, responses
from orderctl.api.jsonbody import JsonRoute
from orderctl.db import SCHEMA_REVISION, Database
from orderctl.errors import DatabaseUnavailable

router = APIRouter(route_class=JsonRoute, tags=["health"])


UNAVAILABLE = "Database unreachable or not migrated"


class Health(BaseModel):
    status: str
    schema_revision: str


@router.head("/healthz", response_model=Health, responses=responses(503, description=UNAVAILABLE))
@router.get("/healthz", response_model=Health, responses=responses(503, description=UNAVAILABLE))
def healthz(request: Request, db: Annotated[Database, Depends(get_database)]) -> JSONResponse:
    """Liveness and readiness: checks the database every time (no token needed)."""
    try:
        db.check_schema()
    except DatabaseUnavailable as exc:
        request.app.state.schema_ok = False
        return JSONResponse({"detail": public_database_message(exc)}, status_code=503)
    request.app.state.schema_ok = True
    return JSONResponse({"status": "ok", "schema_revision": SCHEMA_REVISION})
