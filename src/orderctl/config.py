"""Settings, resolved flag > environment > context > config file > default (DESIGN.md §2, §17)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orderctl.context_rules import check_contexts, context_table
from orderctl.errors import ConfigError

__all__ = ["context_table"]  # re-exported: resolving settings and `orderctl context` use it

APP_NAME = "orderctl"
ENV_PREFIX = "ORDERCTL_"
#: Keys `config set` writes, each overridden by ORDERCTL_<KEY> (and by a context's own value).
FILE_KEYS = ("database_url", "read_database_url", "currency")
#: The other top-level keys of config.toml, written by `orderctl context` (DESIGN.md §17).
CONTEXT_FILE_KEYS = ("current_context", "contexts")


@dataclass(frozen=True)
class EnvironmentVariable:
    """One variable orderctl reads: `orderctl help environment` and its docs come from these."""

    name: str
    text: str
    #: The config.toml key it overrides (and the flag that overrides it), if any.
    key: str | None = None
    flag: str | None = None


#: Every environment variable orderctl (or a library on its behalf) reads, in help order;
#: tests/test_environment.py checks it against the code and the docs.
ENVIRONMENT = (
    EnvironmentVariable(
        "ORDERCTL_DATABASE_URL",
        "The database: sqlite:///PATH or postgresql://USER@HOST/DB (psycopg 3). "
        "Default: sqlite:///<user data dir>/orderctl.db.",
        key="database_url",
        flag="--database-url",
    ),
    EnvironmentVariable(
        "ORDERCTL_READ_DATABASE_URL",
        "A read replica of the database: commands that only read data (list, show, history) "
        "run their queries on it; writes and the token check stay on the primary. Taken only "
        "with a database URL from the same place or a lower one (never a replica of "
        "another database). Default: none, reads run on the primary.",
        key="read_database_url",
    ),
    EnvironmentVariable(
        "ORDERCTL_CONTEXT",
        "The context (orderctl context list) to use for one command instead of the current "
        "one; an unknown name is an error (exit 2).",
        key="current_context",
        flag="--context",
    ),
    EnvironmentVariable(
        "ORDERCTL_CURRENCY",
        "The currency of new orders, a three-letter ISO 4217 code. Default: EUR.",
        key="currency",
    ),
    EnvironmentVariable(
        "ORDERCTL_TOKEN",
        "An API token (oct_...) used instead of the cached login: for scripts and cron "
        "(`orderctl auth token create`). `auth login` does not replace it; unset it to use "
        "the cached login again.",
    ),
    EnvironmentVariable(
        "ORDERCTL_CONFIG_DIR",
        "The folder of config.toml and credentials.json. Default: the platform's user config "
        "folder, e.g. ~/.config/orderctl (XDG_CONFIG_HOME is honoured).",
    ),
    EnvironmentVariable(
        "ORDERCTL_DEBUG",
        "1: print the Python traceback of an unexpected error, as --debug does.",
        flag="--debug",
    ),
    EnvironmentVariable(
        "NO_COLOR",
        "Any non-empty value: no colours, even on a terminal (https://no-color.org). "
        "--color always still colours.",
        flag="--color",
    ),
    EnvironmentVariable(
        "CLICOLOR_FORCE",
        "Non-empty and not 0: colours even when stdout is not a terminal (escape codes "
        "around the statuses of tab-separated output). NO_COLOR and --color win over it.",
        flag="--color",
    ),
    EnvironmentVariable(
        "XDG_CONFIG_HOME",
        "Where the default config folder lives (Linux; default ~/.config).",
    ),
    EnvironmentVariable(
        "XDG_DATA_HOME",
        "Where the default SQLite database lives (Linux; default ~/.local/share).",
    ),
)


def env_value(name: str) -> str | None:
    """An environment variable's value; an empty (or blank) one counts as unset, as
    `ORDERCTL_DATABASE_URL= orderctl ...` is how a shell user clears a variable for one command.
    """
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def config_dir() -> Path:
    """The folder holding config.toml and credentials.json (`ORDERCTL_CONFIG_DIR` overrides)."""
    override = env_value("ORDERCTL_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def default_database_url() -> str:
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir(APP_NAME)) / 'orderctl.db'}"


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """Read config.toml; a missing file is empty, a broken one a `ConfigError`."""
    path = path or config_file()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = (*FILE_KEYS, *CONTEXT_FILE_KEYS)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in config file {path} (known: {', '.join(known)})"
        )
    check_contexts(data, path)
    return data


_SCHEME = re.compile(r"^(sqlite|postgresql|postgres)(\+[a-z0-9_]+)?://", re.IGNORECASE)


def normalize_database_url(url: str) -> str:
    """Check a database URL and pick the driver: psycopg 3 for PostgreSQL, pysqlite for SQLite."""
    url = url.strip()
    match = _SCHEME.match(url)
    if not match and "://" not in url and _looks_like_path(url):
        # Say the URL that means it (sqlite:/// + the path: four slashes when absolute).
        raise ConfigError(
            f"database URL {url!r} is a file path, not a URL; for an SQLite file use "
            f"sqlite:///{Path(url).expanduser()}"
        )
    if not match:
        scheme = url.split("://", 1)[0] if "://" in url else url
        raise ConfigError(
            f"unsupported database URL {mask_url(url)!r}: expected sqlite:///PATH or "
            f"postgresql://USER@HOST/DB (got scheme {scheme!r})"
        )
    base, driver = match.group(1).lower(), (match.group(2) or "").lower()
    rest = url[match.end() :]
    if base in ("postgresql", "postgres"):
        if driver not in ("", "+psycopg"):
            raise ConfigError(
                f"unsupported PostgreSQL driver {driver[1:]!r}: orderctl uses psycopg"
            )
        return f"postgresql+psycopg://{rest}"
    if driver not in ("", "+pysqlite"):
        raise ConfigError(f"unsupported SQLite driver {driver[1:]!r}")
    return f"sqlite:///{rest[1:]}" if rest.startswith("/") else f"sqlite://{rest}"


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or text.endswith((".db", ".sqlite", ".sqlite3"))


def mask_url(url: str) -> str:
    """Hide the password in a URL (`postgresql://u:***@h/db`)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@dataclass(frozen=True)
class Settings:
    """Effective settings. Build with `load_settings` (flag > environment > context > config
    file > default); `sources` tells where each value came from.

    A plain dataclass rather than pydantic-settings: a few values do not need it, and loading
    pydantic-settings (with dotenv and argparse) cost ~25 ms of every command's start-up.
    """

    database_url: str
    currency: str = "EUR"
    debug: bool = False
    #: The read replica of `database_url`, if any (DESIGN.md §19).
    read_database_url: str | None = None
    #: The context in use (chosen by --context or ORDERCTL_CONTEXT, or the current one).
    context: str | None = None
    #: Where the context's name came from: "flag", "env" or "config file" (current_context).
    context_source: str | None = None
    #: Whether the context in use was added with --protect (DESIGN.md §17, §18).
    protected: bool = False
    #: Each setting's source: "flag", "env", "context NAME", "config file" or "default".
    sources: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def _check_currency(value: str) -> str:
        value = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("currency must be a three-letter ISO 4217 code such as EUR")
        return value


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def load_settings(database_url: str | None = None, context: str | None = None) -> Settings:
    """Resolve settings; `database_url` and `context` are the `--database-url` and
    `--context` flags when given. The one place of the precedence of DESIGN.md §17: flag >
    environment > the chosen or current context > config file > default.

    Raises `ConfigError` for a bad URL, currency or debug value, an unknown context, or a
    broken config file.
    """
    file_data = read_config_file()
    name, name_source = chosen_context(file_data, context)
    table = context_table(file_data, name) if name is not None else {}
    env = {key: value for key in FILE_KEYS if (value := env_value(ENV_PREFIX + key.upper()))}
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("flag", {"database_url": database_url} if database_url is not None else {}),
        ("env", env),
        (f"context {name}", table),
        ("config file", {key: file_data[key] for key in FILE_KEYS if key in file_data}),
    ]
    url, url_source = _pick("database_url", layers)
    # A read URL pairs with its database URL: one from a lower layer than the database URL's
    # belongs to another database, and reading there would show another shop's data.
    depth = next((i + 1 for i, (source, _) in enumerate(layers) if source == url_source), None)
    read_url, read_source = _pick("read_database_url", layers[:depth])
    currency, currency_source = _pick("currency", layers)
    for key, value in (("database_url", url), ("read_database_url", read_url)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"invalid {key}: Input should be a valid string")
    url = normalize_database_url(url if url is not None else default_database_url())
    if read_url is not None:
        read_url = normalize_database_url(read_url)
    if currency is None:
        currency = "EUR"
    elif not isinstance(currency, str):
        raise ConfigError("invalid currency: Input should be a valid string")
    try:
        currency = Settings._check_currency(currency)
    except ValueError as exc:
        raise ConfigError(f"invalid currency: {exc}") from None
    debug_text = env_value(ENV_PREFIX + "DEBUG")
    debug = False
    if debug_text is not None:
        word = debug_text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ConfigError("invalid debug: Input should be a valid boolean")
        debug = word in _TRUE
    return Settings(
        database_url=url,
        currency=currency,
        debug=debug,
        read_database_url=read_url,
        context=name,
        context_source=name_source,
        protected=bool(table.get("protect", False)),
        sources={
            "database_url": url_source,
            "read_database_url": read_source,
            "currency": currency_source,
        },
    )


def chosen_context(data: Mapping[str, Any], flag: str | None) -> tuple[str | None, str | None]:
    """The context in use and where its name came from: --context, ORDERCTL_CONTEXT, then
    config.toml's current_context."""
    if flag is not None:
        return flag, "flag"
    env = env_value("ORDERCTL_CONTEXT")
    if env is not None:
        return env, "env"
    current = data.get("current_context")
    return (current, "config file") if current is not None else (None, None)


def _pick(key: str, layers: list[tuple[str, Mapping[str, Any]]]) -> tuple[Any, str]:
    """The first layer's value of `key` and that layer's name ("default" and None if none)."""
    for source, values in layers:
        if key in values:
            return values[key], source
    return None, "default"


def _check_value(key: str, value: str) -> None:
    if key not in FILE_KEYS:
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(FILE_KEYS)})")
    if key in ("database_url", "read_database_url"):
        normalize_database_url(value)
    else:
        try:
            Settings._check_currency(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def write_config_value(key: str, value: str) -> Path:
    """Set one key in config.toml (validated first) and return the file's path."""
    _check_value(key, value)
    path = config_file()
    data = read_config_file(path)
    data[key] = value
    write_config(path, data)
    return path


def unset_config_value(key: str) -> tuple[Path, bool]:
    """Remove one key from config.toml: (the file's path, whether the key was there).

    An unknown key is a `ConfigError`; an absent one changes nothing.
    """
    if key not in FILE_KEYS:
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(FILE_KEYS)})")
    path = config_file()
    data = read_config_file(path)
    if key not in data:
        return path, False
    del data[key]
    write_config(path, data)
    return path, True


def write_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write config data as TOML: top-level values first, then one `[contexts."NAME"]` table
    per context (names quoted, so a `.` in one does not make a nested table)."""

    def assignments(values: Mapping[str, Any]) -> str:
        return "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items())

    top = {k: v for k, v in data.items() if k != "contexts"}
    parts = [assignments(top)] if top else []
    parts += [
        f"[contexts.{_toml_value(name)}]\n{assignments(table)}"
        for name, table in data.get("contexts", {}).items()
    ]
    text = "\n".join(parts)
    try:
        write_private(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror or exc}") from exc


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600, in a 0700 folder), atomically: config.toml
    may hold a database password, credentials.json holds tokens. A file or folder that
    existed with looser permissions is tightened."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _toml_value(value: Any) -> str:
    """A TOML boolean or basic string: JSON's string escapes are all valid TOML escapes, and
    DEL, which TOML wants escaped too, is added."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
