"""The command-line face: Typer apps, one module per command group."""
