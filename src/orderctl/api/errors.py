"""The orderctl error hierarchy as HTTP responses: `{"detail": "..."}` with the status of §11.

- NotAuthenticated (exit 3): 401, with `WWW-Authenticate: Bearer`
- PermissionDenied (4): 403
- NotFound (5): 404
- Conflict and its subclasses, InvalidTransition, InsufficientStock (6): 409
- RuleViolation, ValidationFailed (6), UsageError, ConfigError (2), request validation: 422
- DatabaseUnavailable (7): 503, with the kind of problem only (host and URL go to the log)
- JobAlreadyRunning (75): 409
- anything else (1): 500 with a generic detail; the traceback only in the server log
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from orderctl.db import UPGRADE_HINT, translate
from orderctl.errors import (
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    JobAlreadyRunning,
    NotAuthenticated,
    NotFound,
    OrderctlError,
    PermissionDenied,
    PoolExhausted,
    RuleViolation,
    UsageError,
    without_internals,
)

log = logging.getLogger("orderctl.api")

#: Most specific first: `Conflict` is a `RuleViolation` but answers 409, not 422.
STATUS_BY_ERROR: tuple[tuple[type[OrderctlError], int], ...] = (
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (JobAlreadyRunning, 409),
    (RuleViolation, 422),
    (UsageError, 422),
    (ConfigError, 422),
    (DatabaseUnavailable, 503),
)

INTERNAL_ERROR = "internal server error"


class ErrorItem(BaseModel):
    """One problem of a request that does not fit the document: where, what, which kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error answer: one line of `detail`; `errors` only for a request
    that does not fit the document (FastAPI's request validation)."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


def _error_schemas() -> dict[str, Any]:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs"), "ErrorBody": schema}


#: `ErrorBody` and `ErrorItem` as OpenAPI components, and the reference to the body.
ERROR_SCHEMAS = _error_schemas()
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def responses(*statuses: int, description: str | None = None) -> dict[int | str, Any]:
    """`responses=` for statuses only this route answers (the common ones are derived by
    `api.openapi`); the body is `ErrorBody`."""
    return {
        status: {"description": description or HTTPStatus(status).phrase, "model": ErrorBody}
        for status in statuses
    }


def status_for(error: OrderctlError) -> int:
    """The HTTP status of an orderctl error (500 for one that has no mapping)."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def error_response(error: OrderctlError) -> JSONResponse:
    status = status_for(error)
    if status == 500:
        log.error("unmapped orderctl error: %s", error.message)
        return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    detail = public_database_message(error) if status == 503 else error.message
    if isinstance(error, PoolExhausted):
        log.warning("connection pool exhausted")
        detail, headers = error.message, {"Retry-After": "1"}
    if status == 401:
        # The services speak to CLI users; an HTTP client gets its own way back in.
        detail = detail.replace(
            "run `orderctl auth login`", "get a token from POST /api/auth/token"
        )
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def public_database_message(error: OrderctlError) -> str:
    """What an anonymous client may learn about a database problem: its kind, not the host,
    URL or driver message (those go to the server log)."""
    log.error("database unavailable: %s", error.message)
    if UPGRADE_HINT in error.message:
        return f"database unavailable: the schema is not at the latest revision; {UPGRADE_HINT}"
    return "database unavailable: cannot reach the database"


async def _orderctl_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrderctlError)
    return error_response(exc)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _error_item(err: Any) -> dict[str, Any]:
    if err.get("type") == "json_invalid":
        # A body `parsing.load_json` refused (api/jsonbody.py): its reason, not FastAPI's
        # generic "JSON decode error" at a byte offset.
        reason = str((err.get("ctx") or {}).get("error", "")) or "not valid JSON"
        return {"loc": ["body"], "msg": reason, "type": "json_invalid"}
    loc = list(err.get("loc", ()))
    return {"loc": loc, "msg": without_internals(str(err.get("msg", ""))), "type": err.get("type")}


async def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own validation (query, path, header, body) as one readable line plus the list.

    The list keeps `loc`, `msg` and `type` only: echoing `input` back could return megabytes of
    a hostile body, and `ctx` may hold values that are not JSON.
    """
    assert isinstance(exc, RequestValidationError)
    errors = [_error_item(err) for err in exc.errors()]
    if errors:
        first = errors[0]
        msg = str(first["msg"])  # `_error_item` made it plain
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        detail = f"{_location(first['loc'])}: {msg}{more}"
    else:
        detail = "invalid request"
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A SQLAlchemy error that escaped a unit of work (the safety net: a unit of work already
    translates what leaves it): mapped by `db.translate` when it can name it, else 500."""
    mapped = translate(exc, getattr(request.app.state, "database", None))
    if mapped is not None:
        return error_response(mapped)
    # Handled here, not re-raised: log the traceback ourselves.
    log.error("unexpected database error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: a generic 500; the traceback goes to the server log, never the body.

    Starlette re-raises the exception after this response, so uvicorn logs the traceback.
    """
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(OrderctlError, _orderctl_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
