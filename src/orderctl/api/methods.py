"""405 with the `Allow` the OpenAPI document promises: every method a path serves.

Starlette answers 405 with the methods of the first route whose path matches, so
`DELETE /api/products/X` said `Allow: GET` though PATCH is served too. And a path can match
two templates: `PATCH /api/products/A/history` was served by `PATCH /api/products/{sku}`
(a SKU `A/history`) while the document lists only GET for `/api/products/{sku}/history`.
Here a request belongs to the first template that matches its path, in route order, the
template it is routed by for GET; a method that template does not serve is 405, with `Allow`
naming every method it does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send


def allowed_methods(routes: Iterable[APIRoute]) -> dict[str, set[str]]:
    """Every path template (with its converters) and the methods it serves, in route order."""
    table: dict[str, set[str]] = {}
    for route in routes:
        table.setdefault(route.path, set()).update(route.methods or ())
    return table


def _pattern(route: APIRoute) -> str:
    # The route's own regex (converters included), its named groups made plain so that the
    # templates can share one alternation.
    body = route.path_regex.pattern.removeprefix("^").removesuffix("$")
    return re.sub(r"\(\?P<\w+>", "(?:", body)


class AllowedMethods:
    """Pure ASGI middleware: 405 `{"detail"}` with `Allow` for a method its path's template
    does not serve; anything else goes on to the router unchanged."""

    def __init__(self, app: ASGIApp, routes: Iterable[APIRoute]) -> None:
        self.app = app
        routes = list(routes)
        self.templates: list[str] = []
        patterns: dict[str, str] = {}
        for route in routes:
            if route.path not in patterns:
                patterns[route.path] = _pattern(route)
                self.templates.append(route.path)
        self.methods = allowed_methods(routes)
        # One regex: Python tries the alternatives in order, so the first template wins.
        self.regex = re.compile(
            "|".join(f"(?P<t{i}>{patterns[t]})" for i, t in enumerate(self.templates))
        )

    def template_of(self, path: str) -> str | None:
        """The template a request for `path` belongs to (None: no route has this path)."""
        match = self.regex.fullmatch(path)
        if match is None or match.lastgroup is None:
            return None
        return self.templates[int(match.lastgroup[1:])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            template = self.template_of(scope["path"])
            if template is not None and scope["method"] not in self.methods[template]:
                await _refuse(send, scope["method"], sorted(self.methods[template]))
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, method: str, allow: list[str]) -> None:
    allowed = ", ".join(allow)
    detail = f"method {method[:20]} not allowed here (this path serves {allowed})"
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"allow", allowed.encode()),
    ]
    await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send({"type": "http.response.body", "body": body})
