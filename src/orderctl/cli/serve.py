"""`orderctl serve`: the HTTP API (optional extra `orderctl[api]`, DESIGN.md §11)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request to stderr.")
    ] = True,
) -> None:
    """Run the HTTP API on the configured database until interrupted.

    Requests need `Authorization: Bearer TOKEN` (from POST /api/auth/token).

    Plain HTTP on 127.0.0.1 by default: put a TLS proxy in front to expose it.

    Example: orderctl --database-url postgresql://app@db/shop serve --port 8080 --workers 4
    """
    import os
    import socket

    from orderctl.cli.context import get_state
    from orderctl.cli.render import message, warning
    from orderctl.errors import DatabaseUnavailable, OrderctlError, UsageError

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise UsageError(
            f"the HTTP API needs the 'api' extra ({exc.name} is not installed): "
            "pip install 'orderctl[api]'"
        ) from None

    state = get_state(ctx)
    settings = state.settings()
    # Refuse a busy or bad address with one line rather than uvicorn's log and traceback.
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise OrderctlError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    try:
        state.ready_database()
    except DatabaseUnavailable as exc:
        # A server may start before its migration job; /healthz says 503 until then.
        warning(f"{exc.message}; /healthz answers 503 until that is fixed")

    # Workers are separate processes: they read the resolved URL from the environment.
    os.environ["ORDERCTL_DATABASE_URL"] = settings.database_url
    where = state.database().display_url
    state.close()  # each worker builds its own engine
    message(f"serving the orderctl API for {where} on http://{host}:{port}")
    uvicorn.run(
        "orderctl.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
    )
