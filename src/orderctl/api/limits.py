"""A cap on request bodies, so a hostile client cannot make a worker buffer gigabytes.

The biggest valid document (an order of 1,000 lines with a 2,000-character note) is well
under 256 KiB; anything over `MAX_BODY_BYTES` is refused with 413 before it is parsed, by its
`Content-Length` when it has one and by counting the bytes as they arrive when it is chunked.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderctl.parsing import JSON_MAX_BYTES

#: One limit for a JSON document, wherever it comes from (1 MiB).
MAX_BODY_BYTES = JSON_MAX_BYTES
TOO_LARGE = f"request body too large (at most {MAX_BODY_BYTES} bytes)"


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            too_big = not value.isdigit() or int(value) > self.max_bytes
            if name == b"content-length" and too_big:
                await _reject(send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised where the app reads the body; FastAPI turns it into the response.
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited, send)


async def _reject(send: Send) -> None:
    body = json.dumps({"detail": TOO_LARGE}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
