"""JSON request bodies read by `parsing.load_json`, the one parser of every JSON document that
orderctl reads (`--from-file`, JSONL import lines, API bodies).

FastAPI parses a body with `Request.json()` (plain `json.loads`): a deeply nested body ended in
RecursionError (400), a duplicate key silently kept its last value, and `NaN` passed the
parser. `JsonRoute` hands FastAPI a request whose `json()` is strict; a refusal is raised as
`json.JSONDecodeError`, which FastAPI turns into a `RequestValidationError` (422) carrying the
reason, so the usual `{"detail": "body: <reason>"}` answer follows (api/errors.py).
Every router is built with `route_class=JsonRoute`; a test checks that no route escapes it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from orderctl.parsing import InvalidJson, load_json


class StrictJsonRequest(Request):
    """A request whose `json()` is `parsing.load_json` (Decimal numbers, strict)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = load_json(body)
            except InvalidJson as exc:
                raise json.JSONDecodeError(str(exc), "", 0) from None
        return self._json


class JsonRoute(APIRoute):
    """The route class of every router: its handler sees a `StrictJsonRequest`, and a plain
    `def` route ends its unit of work in its own worker thread (`deps.end_with_route`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        call = self.dependant.call
        if call is not None and not inspect.iscoroutinefunction(call):
            from orderctl.api.deps import end_with_route

            self.dependant.call = end_with_route(call)
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
