"""`orderctl serve`: the HTTP API (optional extra `orderctl[api]`)."""

from __future__ import annotations

import typer


def serve(ctx: typer.Context) -> None:
    """Run the HTTP API (not built yet)."""
    from orderctl.errors import UsageError

    raise UsageError("the HTTP API is not available in this build")
