"""`orderctl config`: show and set settings (DESIGN.md §2)."""

from __future__ import annotations

from typing import Annotated, TypedDict

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option
from orderctl.enums import OutputFormat

app = typer.Typer(help="Show and change settings.", no_args_is_help=True)


class Setting(TypedDict):
    """A row of `config show`."""

    key: str
    value: str | None
    source: str | None


SettingJson = Annotated[str | None, json_option("orderctl.cli.config:Setting")]


@app.command("show")
def show(
    ctx: typer.Context,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: SettingJson = None,
    jq: Jq = None,
) -> None:
    """Print the effective settings and where each comes from (passwords masked), and the
    context in use.

    Example: orderctl config show -o json
    """
    from orderctl.cli.render import render_list
    from orderctl.config import config_dir, config_file, env_value, mask_url
    from orderctl.credentials import credentials_file

    settings = get_state(ctx).settings()
    sources = settings.sources
    read_url = settings.read_database_url
    rows: list[Setting] = [
        {"key": "context", "value": settings.context, "source": settings.context_source},
        {
            "key": "database_url",
            "value": mask_url(settings.database_url),
            "source": sources["database_url"],
        },
        {
            "key": "read_database_url",
            "value": mask_url(read_url) if read_url is not None else None,
            "source": sources["read_database_url"],
        },
        {"key": "currency", "value": settings.currency, "source": sources["currency"]},
        {
            "key": "config_dir",
            "value": str(config_dir()),
            "source": "env" if env_value("ORDERCTL_CONFIG_DIR") else "default",
        },
        {"key": "config_file", "value": str(config_file()), "source": "derived"},
        {"key": "credentials_file", "value": str(credentials_file()), "source": "derived"},
    ]
    columns = [("KEY", "key"), ("VALUE", "value"), ("SOURCE", "source")]
    render_list(
        map(dict, rows), output, columns, headers=not no_headers, json_fields=json_fields, jq=jq
    )


@app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="database_url, read_database_url or currency.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Write one setting to the config file.

    Example: orderctl config set database_url postgresql://shop@localhost/shop
    """
    from orderctl.cli.render import message
    from orderctl.config import mask_url, write_config_value

    path = write_config_value(key, value)
    shown = mask_url(value) if key.endswith("database_url") else value
    message(f"set {key} = {shown} in {path}")


@app.command("unset")
def unset(
    key: Annotated[str, typer.Argument(help="database_url, read_database_url or currency.")],
) -> None:
    """Remove one setting from the config file (its default or environment value applies
    again). Removing a setting that is not there changes nothing.

    Example: orderctl config unset database_url
    """
    from orderctl.cli.render import message
    from orderctl.config import unset_config_value

    path, removed = unset_config_value(key)
    if removed:
        message(f"removed {key} from {path}")
    else:
        message(f"{key} is not set in {path}: nothing to do")
