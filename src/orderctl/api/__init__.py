"""The HTTP API (DESIGN.md §11): a FastAPI app over the same services as the CLI.

Needs the `api` extra (`pip install 'orderctl[api]'`). Nothing outside this package and
`orderctl serve` imports it, so the CLI never loads FastAPI.
"""
