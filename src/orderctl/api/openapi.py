"""The OpenAPI document as the app really answers (DESIGN.md §11).

FastAPI documents a route's success and, for any route with parameters, a 422 whose body is
its own `HTTPValidationError` array. orderctl answers every error with `api.errors.ErrorBody`
and can answer more than that: `document(app)` derives each operation's error statuses from
what the route depends on, in one place, so a new route is documented by the same rules:

| the route depends on | it can answer |
|---|---|
| the database checked (marked `checks_database`) | 503 (`Retry-After` when the pool is busy) |
| a bearer token (`deps.bearer`) | 401 with `WWW-Authenticate: Bearer` |
| a role (`deps.role_of`) | 403 |
| a path parameter (a lookup) | 404 |
| a writing unit of work (`deps.write_uow`) | 409 (a duplicate, a transition, a concurrent write) |
| any parameter or body | 422 |
| a request body | 413 (`api.limits`) |
| anything | 500 |

A route adds what only it can answer with `responses=errors.responses(...)` (415 of the token
form, the 404 of `/api/auth/me`). 405 belongs to a path, not an operation: `api.methods`
answers it with the `Allow` of the methods this document lists for the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from orderctl.api import deps
from orderctl.api.errors import ERROR_REF, ERROR_SCHEMAS

#: What each status means, the description of its entry in the document.
DESCRIPTIONS = {
    401: "Not authenticated: no token, or one that is unknown, expired or revoked",
    403: "Permission denied for this role",
    404: "Not found",
    409: "Conflict: it exists already, an invalid transition, insufficient stock, "
    "or a concurrent write",
    413: "Request body too large",
    422: "Invalid request: a parameter or the body breaks a rule (`errors` lists where, "
    "for a value that does not fit the document)",
    500: "Unexpected error (details only in the server log)",
    503: "Database unreachable or not migrated, or all connections busy",
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait, when every database connection was busy",
        "schema": {"type": "string"},
    }
}


#: OpenAPI links: what a client can do next with what a creation answered (the stateful
#: phase of schemathesis follows them). (path, method, status) -> {name: (path, method,
#: {parameter: expression})}.
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("/api/orders", "post", "201"): {
        "GetOrder": ("/api/orders/{id_or_ref}", "get", {"id_or_ref": "$response.body#/id"}),
        "OrderHistory": (
            "/api/orders/{id_or_ref}/history",
            "get",
            {"id_or_ref": "$response.body#/id"},
        ),
        "SetOrderStatus": (
            "/api/orders/{id_or_ref}/status",
            "post",
            {"id_or_ref": "$response.body#/id"},
        ),
    },
    ("/api/products", "post", "201"): {
        "GetProduct": ("/api/products/{sku}", "get", {"sku": "$response.body#/sku"}),
        "UpdateProduct": ("/api/products/{sku}", "patch", {"sku": "$response.body#/sku"}),
        "ProductHistory": ("/api/products/{sku}/history", "get", {"sku": "$response.body#/sku"}),
    },
    ("/api/customers", "post", "201"): {
        "GetCustomer": ("/api/customers/{email}", "get", {"email": "$response.body#/email"}),
    },
}


def _add_links(doc: dict[str, Any]) -> None:
    for (path, method, status), links in LINKS.items():
        response = doc["paths"][path][method]["responses"][status]
        response["links"] = {
            name: {
                "operationId": doc["paths"][target][verb]["operationId"],
                "parameters": parameters,
            }
            for name, (target, verb, parameters) in links.items()
        }


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _has_parameters(dependant: Dependant) -> bool:
    own = (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.body_params
    )
    return bool(own) or any(_has_parameters(sub) for sub in dependant.dependencies)


def _checks_database(calls: set[Any]) -> bool:
    """Whether one of `calls` checks the database (`deps.ready_database` and the
    dependencies that check it themselves)."""
    return any(getattr(call, "checks_database", False) for call in calls)


def statuses_of(route: APIRoute) -> set[int]:
    """The error statuses `route` can answer, from what it depends on (the table above)."""
    calls = set(_calls(route.dependant))
    found = {500}
    if _checks_database(calls):
        found.add(503)
    if deps.bearer in calls:
        found.add(401)
    if any(getattr(call, "checks_role", False) for call in calls):
        found.add(403)
    if route.dependant.path_params:
        found.add(404)
    if deps.write_uow in calls:
        found.add(409)
    if _has_parameters(route.dependant):
        found.add(422)
    if route.body_field is not None:
        found.add(413)
    return found


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without FastAPI's `null` alternative of an optional parameter:
    a query string, path or header has no null, only a parameter left out."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return schema
    rest = [option for option in options if option != {"type": "null"}]
    plain = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**rest[0], **plain} if len(rest) == 1 else {**plain, "anyOf": rest}


def _headers(route: APIRoute) -> dict[int, dict[str, Any]]:
    """The headers of `route`'s errors: every 401 names the scheme; a 503 of a route that
    takes a pooled connection may say when to retry (healthz's never does)."""
    headers = {401: _WWW_AUTHENTICATE}
    if _checks_database(set(_calls(route.dependant))):
        headers[503] = _RETRY_AFTER
    return headers


def document(app: FastAPI, routes: Iterable[APIRoute]) -> dict[str, Any]:
    """FastAPI's document with every operation's errors as the app sends them (cached);
    `routes` are the app's API routes."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(ERROR_SCHEMAS)
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = doc["paths"][route.path_format][method.lower()]
            for parameter in operation.get("parameters", ()):
                parameter["schema"] = _without_null(parameter["schema"])
            responses = operation.setdefault("responses", {})
            for status in statuses_of(route):
                if str(status) not in responses or status == 422:  # 422: FastAPI's words
                    responses[str(status)] = {"description": DESCRIPTIONS[status]}
            headers = _headers(route)
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
                    if int(status) in headers:
                        response.setdefault("headers", {}).update(headers[int(status)])
            operation["responses"] = dict(sorted(responses.items()))
    _add_links(doc)
    app.openapi_schema = doc
    return doc
