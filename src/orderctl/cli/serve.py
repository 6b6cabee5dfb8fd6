"""`orderctl serve`: the HTTP API (optional extra `orderctl[api]`, DESIGN.md §11)."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes [default: one per CPU core on PostgreSQL, 1 on SQLite].",
            show_default=False,
        ),
    ] = None,
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
        import uvicorn  # noqa: F401
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
    exposed = exposure_warning(host, [str(info[4][0]) for info in infos])
    if exposed is not None:
        warning(exposed)

    try:
        state.ready_database()
    except DatabaseUnavailable as exc:
        # A server may start before its migration job; /healthz says 503 until then.
        warning(f"{exc.message}; /healthz answers 503 until that is fixed")

    # Workers are separate processes: they read the resolved URL (and the context chosen
    # with --context, for its other settings) from the environment.
    os.environ["ORDERCTL_DATABASE_URL"] = settings.database_url
    if settings.context is not None:
        os.environ["ORDERCTL_CONTEXT"] = settings.context
    database = state.database()
    where = database.display_url
    if workers is None:
        workers = default_workers(sqlite=database.engine.dialect.name == "sqlite")
    state.close()  # each worker builds its own engine
    plural = "s" if workers > 1 else ""
    message(
        f"serving the orderctl API for {where} on http://{host}:{port} ({workers} worker{plural})"
    )
    run_server(
        "orderctl.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        log_config=stderr_log_config(),
    )


def run_server(target: str, **options: Any) -> None:
    """`uvicorn.run(target, **options)`, except that with several workers each connection
    gets TCP_NODELAY.

    With `workers > 1` uvicorn binds the listening socket itself with `proto` 0; accepted
    sockets inherit it, and asyncio turns Nagle's algorithm off only for a socket that says
    IPPROTO_TCP. So every keep-alive request after the first waited ~40 ms for the client's
    delayed ACK (20 requests/s per connection; uvicorn issue #3149, open). One worker is
    unaffected: asyncio builds that listener itself.
    """
    import uvicorn

    if options.get("workers", 1) <= 1:
        uvicorn.run(target, **options)
        return
    from contextlib import suppress

    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(target, **options)
    with suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C stops the workers quietly
        Multiprocess(config, sockets=[nodelay_listener(config.bind_socket())]).run()


def nodelay_listener(sock: Any) -> Any:
    """The listening TCP socket `sock` as one whose `proto` is IPPROTO_TCP (read back from
    its descriptor), so that asyncio sets TCP_NODELAY on each connection it accepts."""
    import socket

    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        return socket.socket(fileno=sock.detach())
    return sock


def default_workers(*, sqlite: bool) -> int:
    """The worker processes `serve` runs without `--workers`: one per CPU core this process may
    use (its affinity, as a container's cpuset limits it); on SQLite one. A SQLite file has one
    writer at a time, so more processes add no write throughput, and SQLite serves one user
    or a handful; `--workers N` is still honoured for a read-heavy SQLite server (docs/api.md).
    """
    if sqlite:
        return 1
    return max(1, cpu_cores())


def cpu_cores() -> int:
    """The CPU cores this process may run on (`os.cpu_count()` where affinity is unknown)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def exposure_warning(host: str, addresses: list[str]) -> str | None:
    """The warning for listening beyond loopback (`addresses`: what `host` resolved to), or
    None when every address is a loopback one: the API speaks plain HTTP, so tokens and
    passwords would cross the network in the clear unless a TLS proxy terminates it."""
    import ipaddress

    def loopback(address: str) -> bool:
        try:
            return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
        except ValueError:
            return False

    if addresses and all(loopback(address) for address in addresses):
        return None
    return (
        f"listening on {host}, beyond loopback, with plain HTTP: tokens and passwords cross "
        "the network unencrypted; put a TLS proxy in front (or --host 127.0.0.1)"
    )


def stderr_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access log on stderr too (its default sends
    it to stdout): stdout carries data only (DESIGN.md §6)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config
