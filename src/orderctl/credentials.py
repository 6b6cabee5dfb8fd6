"""The local login cache: `<config dir>/credentials.json`, one token per database (DESIGN.md §3).

The file is 0600 in a 0700 folder and written atomically. A missing, unreadable or corrupted
file reads as "not logged in"; the next `auth login` rewrites it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orderctl.config import config_dir, env_value, write_private
from orderctl.errors import OrderctlError

TokenSource = Literal["ORDERCTL_TOKEN", "credentials file"]


@dataclass(frozen=True)
class CachedToken:
    token: str
    source: TokenSource
    username: str | None = None


def credentials_file() -> Path:
    return config_dir() / "credentials.json"


def cache_key(database_url: str) -> str:
    """Key a login by database: the URL without its password; SQLite by its absolute path."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
        if path and path != ":memory:":
            return "sqlite:///" + str(Path(path).expanduser().resolve())
        return database_url
    without_password = re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", database_url)
    return without_password.replace("postgresql+psycopg://", "postgresql://", 1)


def _read() -> dict[str, Any]:
    try:
        data = json.loads(credentials_file().read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: `[[[[...` nested too deep
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("logins"), dict):
        return {}
    return data


def _write(data: dict[str, Any]) -> None:
    try:
        write_private(credentials_file(), json.dumps(data, indent=2, sort_keys=True))
    except OSError as exc:
        raise OrderctlError(
            f"cannot write credentials file {credentials_file()}: {exc.strerror or exc}"
        ) from exc


def load_token(database_url: str) -> CachedToken | None:
    """The token to use for this database: `ORDERCTL_TOKEN` first, then the cache."""
    env = env_value("ORDERCTL_TOKEN")
    if env is not None:
        return CachedToken(env.strip(), "ORDERCTL_TOKEN")
    return cached_login(database_url)


def cached_login(database_url: str) -> CachedToken | None:
    """This database's login in the cache file, ignoring `ORDERCTL_TOKEN` (for `auth logout`)."""
    entry = _read().get("logins", {}).get(cache_key(database_url))
    if isinstance(entry, dict) and isinstance(entry.get("token"), str) and entry["token"]:
        username = entry.get("username")
        return CachedToken(
            entry["token"], "credentials file", username if isinstance(username, str) else None
        )
    return None


def save_token(database_url: str, token: str, username: str) -> Path:
    """Store a login for this database, keeping the other databases' logins."""
    # A broken file reads as empty, so a login rewrites it whole (keeping nothing unreadable).
    data = _read() or {"version": 1, "logins": {}}
    data["logins"][cache_key(database_url)] = {"token": token, "username": username}
    _write(data)
    return credentials_file()


def remove_token(database_url: str) -> bool:
    """Forget this database's login; True when there was one."""
    data = _read()
    if cache_key(database_url) not in data.get("logins", {}):
        return False
    del data["logins"][cache_key(database_url)]
    _write(data)
    return True
