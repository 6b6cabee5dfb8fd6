"""`orderctl import`: (to be built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Batch imports.", no_args_is_help=True)
