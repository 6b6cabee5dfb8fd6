"""How `--help` names values and shows examples, the same on every command.

A value's placeholder (metavar) comes from its parameter's name: `--customer` and a customer
`email` argument both read `EMAIL`, every `--since/--until` reads `DATE`, on every command,
without each option spelling it out. A new parameter name gets an entry here, or falls back
to `TEXT` (a string) or `N` (an integer); a fixed list of choices is shown as typer shows it
(`<table|json|jsonl|csv>`), an explicit `metavar=` always wins. tests/test_help.py fails on
a placeholder that is none of these (`<str>`, `{sku}`, `<list[...]>`).

Click re-wraps every paragraph of a help text; an `Example:` paragraph is marked with
Click's `\\b` so its lines come out as written (a command line cut in two cannot be pasted).
"""

from __future__ import annotations

import re
from typing import Any

#: Parameter name (as in the Python signature) -> its placeholder in `--help`.
METAVARS = {
    "add_stock": "N",
    "admin_username": "USERNAME",
    "after": "EMAIL",
    "batch_size": "N",
    "context": "NAME",
    "currency": "CODE",
    "cursor": "CURSOR",
    "customer": "EMAIL",
    "database_url": "URL",
    "email": "EMAIL",
    "env_file": "FILE",
    "expires": "DURATION",
    "external_ref": "REF",
    "file": "FILE",
    "host": "HOST",
    "jq": "EXPR",
    "json": "FIELDS",
    "key": "KEY",
    "limit": "N",
    "max_total": "AMOUNT",
    "min_total": "AMOUNT",
    "name": "NAME",
    "notes": "TEXT",
    "older_than": "DURATION",
    "orders": "N",
    "port": "PORT",
    "price": "AMOUNT",
    "read_url": "URL",
    "reason": "TEXT",
    "ref": "REF",
    "revision": "REVISION",
    "search": "TEXT",
    "shipping_address": "TEXT",
    "since": "DATE",
    "sku": "SKU",
    "stock": "N",
    "token_id": "TOKEN_ID",
    "until": "DATE",
    "user": "USERNAME",
    "username": "USERNAME",
    "value": "VALUE",
    "workers": "N",
}

#: typer's own rendering of a value type, and what this help shows instead.
_GENERIC = {"str": "TEXT", "int": "N", "int range": "N", "float": "NUMBER"}
_TYPE = re.compile(r"<([^<>]*)>$")


def polish(command: Any) -> Any:
    """Give `command` (and the subcommands it already holds) the placeholders of `METAVARS`
    and verbatim example paragraphs; returns it."""
    ctx = _context(command)
    for param in command.params:
        if param.metavar is None:
            param.metavar = _metavar(param, ctx)
    if command.help and "Example" in command.help:
        command.help = _keep_examples(command.help)
    for sub in getattr(command, "commands", {}).values():
        polish(sub)
    return command


def _context(command: Any) -> Any:
    import typer

    return typer.Context(command)


def _metavar(param: Any, ctx: Any) -> str | None:
    if param.param_type_name == "argument":
        return METAVARS.get(param.name, str(param.name).upper())
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.name in METAVARS:
        return METAVARS[param.name]
    record = param.get_help_record(ctx)
    match = _TYPE.search(record[0]) if record else None
    if match is None:
        return None
    shown = match.group(1)
    if shown in _GENERIC:
        return _GENERIC[shown]
    if shown.startswith("list[") and shown.endswith("]"):  # a repeatable choice
        return f"<{shown[5:-1]}>"
    return None  # a choice list: typer's `<a|b|c>` stays


def _keep_examples(text: str) -> str:
    paragraphs = text.split("\n\n")
    for i, paragraph in enumerate(paragraphs):
        if paragraph.lstrip().startswith("Example") and not paragraph.startswith("\b"):
            paragraphs[i] = "\b\n" + paragraph
    return "\n\n".join(paragraphs)
