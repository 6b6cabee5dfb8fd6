"""Contexts in config.toml (DESIGN.md §17): add, use, list, show and remove named databases.

Stored as a top-level `current_context = "NAME"` and one `[contexts."NAME"]` table each, with
`database_url`, `read_database_url`, `currency` and `protect`. Which context a command uses,
and what it overrides, is decided in one place: `config.load_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orderctl.config import (
    Settings,
    chosen_context,
    config_file,
    context_table,
    mask_url,
    normalize_database_url,
    read_config_file,
    write_config,
)
from orderctl.context_rules import check_name
from orderctl.errors import ConfigError, Conflict


def add_context(
    name: str,
    *,
    database_url: str,
    read_database_url: str | None = None,
    currency: str | None = None,
    protect: bool = False,
) -> Path:
    """Store a new context (every value checked first) and return config.toml's path.

    Raises `ConfigError` (exit 2) for a bad name, URL or currency, `Conflict` (exit 6) when
    the name is taken.
    """
    check_name(name)
    table: dict[str, Any] = {"database_url": _checked_url(database_url)}
    if read_database_url is not None:
        table["read_database_url"] = _checked_url(read_database_url)
    if currency is not None:
        try:
            table["currency"] = Settings._check_currency(currency)
        except ValueError as exc:
            raise ConfigError(f"invalid currency: {exc}") from None
    table["protect"] = protect
    path = config_file()
    data = read_config_file(path)
    contexts = data.setdefault("contexts", {})
    if name in contexts:
        raise Conflict(
            f"context {name!r} already exists; remove it first (`orderctl context remove {name}`)"
        )
    contexts[name] = table
    write_config(path, data)
    return path


def _checked_url(url: str) -> str:
    """The URL as given (stripped), after checking it is one orderctl can use."""
    normalize_database_url(url)
    return url.strip()


def use_context(name: str) -> Path:
    """Make `name` the current context; an unknown name is `ConfigError` (exit 2)."""
    path = config_file()
    data = read_config_file(path)
    context_table(data, name)
    data["current_context"] = name
    write_config(path, data)
    return path


def remove_context(name: str) -> tuple[Path, bool]:
    """Remove a context: (config.toml's path, whether it was the current one, which then no
    context is). An unknown name is `ConfigError` (exit 2)."""
    path = config_file()
    data = read_config_file(path)
    context_table(data, name)
    del data["contexts"][name]
    if not data["contexts"]:
        del data["contexts"]
    was_current = data.get("current_context") == name
    if was_current:
        del data["current_context"]
    write_config(path, data)
    return path, was_current


def list_contexts() -> list[dict[str, Any]]:
    """Every context as a document (URLs masked), `current` marking config.toml's current one."""
    data = read_config_file()
    current = data.get("current_context")
    return [
        _document(name, table, current=name == current)
        for name, table in sorted(data.get("contexts", {}).items())
    ]


def show_context(name: str | None) -> dict[str, Any]:
    """One context as a document; None means the one in use (ORDERCTL_CONTEXT, else the
    current one). `ConfigError` when there is none, or for an unknown name."""
    data = read_config_file()
    current = data.get("current_context")
    if name is None:
        name, _ = chosen_context(data, None)
        if name is None:
            raise ConfigError(
                "no context in use: name one, or choose one with `orderctl context use NAME`"
            )
    return _document(name, context_table(data, name), current=name == current)


def _document(name: str, table: dict[str, Any], *, current: bool) -> dict[str, Any]:
    read_url = table.get("read_database_url")
    return {
        "name": name,
        "current": current,
        "database_url": mask_url(table["database_url"]),
        "read_database_url": mask_url(read_url) if read_url is not None else None,
        "currency": table.get("currency"),
        "protect": bool(table.get("protect", False)),
    }


def context_names(prefix: str, limit: int) -> list[str]:
    """Up to `limit` context names starting with `prefix`, sorted: shell completion's
    candidates, so a config file that cannot be read offers none."""
    try:
        names = read_config_file().get("contexts", {})
    except ConfigError:  # the command itself will say why
        return []
    if not isinstance(names, dict):
        return []
    return sorted(name for name in names if name.startswith(prefix))[:limit]
