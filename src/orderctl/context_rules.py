"""The shape of contexts in config.toml (DESIGN.md §17): names, the keys of a table, and the
look-up that names the known contexts. A leaf below `config`, which checks every file it reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orderctl.errors import ConfigError

#: The keys of one `[contexts.NAME]` table.
CONTEXT_KEYS = ("database_url", "read_database_url", "currency", "protect")
#: Letters, digits, `-`, `_` and `.`, starting with a letter or digit: safe in a shell, a file
#: name and a TOML key, and never taken for an option (`-x`) or a folder (`..`).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def check_name(name: str) -> str:
    """A context name as given, or `ConfigError` (exit 2) saying which names are allowed."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"invalid context name {name!r}: use letters, digits, '-', '_' and '.', starting "
            "with a letter or digit (at most 63 characters)"
        )
    return name


def check_contexts(data: Mapping[str, Any], path: Path) -> None:
    """Refuse a hand-edited context table orderctl could not use (exit 2, naming the file)."""
    current = data.get("current_context")
    if current is not None and not isinstance(current, str):
        raise ConfigError(f"invalid current_context in config file {path}: not a string")
    contexts = data.get("contexts", {})
    if not isinstance(contexts, dict):
        raise ConfigError(f"invalid contexts in config file {path}: not a table")
    for name, table in contexts.items():
        where = f"context {name!r} in config file {path}"
        if not isinstance(table, dict):
            raise ConfigError(f"invalid {where}: not a table")
        unknown = sorted(set(table) - set(CONTEXT_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r} in {where} (known: {', '.join(CONTEXT_KEYS)})"
            )
        if not isinstance(table.get("database_url"), str):
            raise ConfigError(f"invalid {where}: database_url must be a string")
        for key in ("read_database_url", "currency"):
            if key in table and not isinstance(table[key], str):
                raise ConfigError(f"invalid {where}: {key} must be a string")
        if not isinstance(table.get("protect", False), bool):
            raise ConfigError(f"invalid {where}: protect must be true or false")


def context_table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The `[contexts.NAME]` table of config data; an unknown name is a `ConfigError` (exit 2)
    naming the known ones."""
    contexts: dict[str, Any] = data.get("contexts", {})
    if name not in contexts:
        known = ", ".join(sorted(contexts)) or "none; add one with `orderctl context add`"
        raise ConfigError(f"unknown context {name!r} (known: {known})")
    table: dict[str, Any] = contexts[name]
    return table
