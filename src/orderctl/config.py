"""Settings, resolved flag > environment > config file > default (DESIGN.md §2)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from orderctl.errors import ConfigError

APP_NAME = "orderctl"
ENV_PREFIX = "ORDERCTL_"
#: Keys a config file may hold, with the environment variable that overrides each.
FILE_KEYS = ("database_url", "currency")

Source = Literal["flag", "env", "config file", "default"]


def config_dir() -> Path:
    """The folder holding config.toml and credentials.json (`ORDERCTL_CONFIG_DIR` overrides)."""
    override = os.environ.get("ORDERCTL_CONFIG_DIR")
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
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in config file {path} (known: {', '.join(FILE_KEYS)})"
        )
    return data


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


_SCHEME = re.compile(r"^(sqlite|postgresql|postgres)(\+[a-z0-9_]+)?://", re.IGNORECASE)


def normalize_database_url(url: str) -> str:
    """Check a database URL and pick the driver: psycopg 3 for PostgreSQL, pysqlite for SQLite."""
    url = url.strip()
    match = _SCHEME.match(url)
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


def mask_url(url: str) -> str:
    """Hide the password in a URL (`postgresql://u:***@h/db`)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


class Settings(BaseSettings):
    """Effective settings. Build with `load_settings`, which also records each value's source."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    currency: str = "EUR"
    debug: bool = False

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("currency must be a three-letter ISO 4217 code such as EUR")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls, read_config_file()))


def load_settings(database_url: str | None = None) -> Settings:
    """Resolve settings; `database_url` is the `--database-url` flag when given."""
    flags: dict[str, Any] = {}
    if database_url is not None:
        flags["database_url"] = database_url
    try:
        return Settings(**flags)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, ConfigError):
            raise ctx_error from None
        raise ConfigError(f"invalid {field}: {err['msg']}") from None


def setting_sources(database_url_flag: str | None = None) -> dict[str, Source]:
    """Where each setting's effective value comes from."""
    file_data = read_config_file()
    sources: dict[str, Source] = {}
    for key in FILE_KEYS:
        if key == "database_url" and database_url_flag is not None:
            sources[key] = "flag"
        elif os.environ.get(ENV_PREFIX + key.upper()):
            sources[key] = "env"
        elif key in file_data:
            sources[key] = "config file"
        else:
            sources[key] = "default"
    return sources


def write_config_value(key: str, value: str) -> Path:
    """Set one key in config.toml (validated first) and return the file's path."""
    if key not in FILE_KEYS:
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(FILE_KEYS)})")
    if key == "database_url":
        normalize_database_url(value)
    else:
        try:
            Settings._check_currency(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    path = config_file()
    data = read_config_file(path)
    data[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {_toml_string(v)}\n" for k, v in data.items()]
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)
    return path


def _toml_string(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
