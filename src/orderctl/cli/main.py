"""The root command: global options, command groups, and the one path from error to exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from orderctl import __version__
from orderctl.cli import (
    auth,
    config,
    customers,
    db,
    demo,
    fastparams,
    imports,
    init,
    maintenance,
    orders,
    products,
    serve,
    topics,
    users,
)
from orderctl.cli.context import AppState, get_state
from orderctl.cli.render import error

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext


fastparams.install()


class _LazyGroups(MutableMapping[str, Any]):
    """The root's commands, where a command group (a Typer app) becomes a Click group only
    when it is looked up: building one inspects the signature and type hints of each of its
    commands, which for all groups costs about as much as importing typer (start-up).
    """

    def __init__(self, built: Mapping[str, Any], lazy: dict[str, typer.Typer]) -> None:
        self._built = dict(built)
        self._lazy = {name: sub for name, sub in lazy.items() if name not in built}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in self._lazy:
            from typer.main import get_group_from_info
            from typer.models import TyperInfo

            self._built[name] = get_group_from_info(
                TyperInfo(self._lazy[name], name=name),
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
                suggest_commands=app.suggest_commands,
            )
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._built
        yield from (name for name in self._lazy if name not in self._built)

    def __len__(self) -> int:
        return len(set(self._built) | set(self._lazy))

    def short_help(self, name: str) -> str | None:
        """The help of a group not built yet (None once built: ask the command)."""
        if name in self._built or name not in self._lazy:
            return None
        return str(self._lazy[name].info.help or "")


class OrderctlGroup(TyperGroup):
    """Maps every error to `error: <message>` on stderr and the exit code of DESIGN.md §9."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyGroups(self.commands, _GROUPS)

    def format_commands(self, ctx: ClickContext, formatter: Any) -> None:
        """The command list of `--help`, without building the groups to read their help."""
        from typer._click.utils import make_default_short_help

        commands = self.commands
        if not isinstance(commands, _LazyGroups):
            return super().format_commands(ctx, formatter)
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            lazy_help = commands.short_help(name)
            if lazy_help is not None:
                rows.append((name, make_default_short_help(lazy_help, limit)))
                continue
            command = commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as exc:
            raise typer.Exit(_report_usage(exc)) from None
        except BrokenPipeError:
            # The reader went away (`orderctl orders list | head`): stop quietly.
            _silence_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # the one place that turns errors into exit codes
            raise typer.Exit(_report(ctx, exc)) from None
        finally:
            if isinstance(ctx.obj, AppState):
                ctx.obj.close()


def _report(ctx: ClickContext, exc: Exception) -> int:
    from orderctl.errors import OrderctlError

    state = get_state(ctx)
    mapped: Exception = exc
    if not isinstance(exc, OrderctlError) and "sqlalchemy" in sys.modules:
        from orderctl.db import translate

        mapped = translate(exc, state._db) or exc
    if state.debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(mapped, OrderctlError):
        error(mapped.message)
        return mapped.exit_code
    first_line = (str(exc).strip().splitlines() or [""])[0]
    hint = "" if state.debug else " (run with --debug for the traceback)"
    error(f"unexpected error: {type(exc).__name__}: {first_line}{hint}")
    return 1


def _report_usage(exc: typer.TyperException) -> int:
    """A usage error as one `error:` line naming the help to read (exit 2)."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    if isinstance(exc, NoArgsIsHelpError) or not isinstance(exc, UsageError):
        raise exc  # help screens and other framework exits keep their own rendering
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    message = " ".join(exc.format_message().split())  # one line, even for choice lists
    error(f"{message}{hint}")
    return exc.exit_code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


app = typer.Typer(
    cls=OrderctlGroup,
    name="orderctl",
    help="Administer an order database: orders, catalog, customers, users, imports, maintenance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click help: Rich help formatting imports rich.markdown & co. (~2x `import typer`).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"orderctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database URL (sqlite:///PATH or postgresql://...). Overrides "
            "ORDERCTL_DATABASE_URL and the config file.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also ORDERCTL_DEBUG=1).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """orderctl: the order database administration tool.

    Example: orderctl --database-url sqlite:///shop.db orders list --status paid
    """
    ctx.obj = AppState(
        database_url_flag=database_url,
        debug=debug or os.environ.get("ORDERCTL_DEBUG") == "1",
    )


app.command("init")(init.init)
#: Command groups, joined lazily by `OrderctlGroup` (see `_LazyGroups`), in help order.
_GROUPS: dict[str, typer.Typer] = {}
for _name, _module in (
    ("config", config),
    ("db", db),
    ("auth", auth),
    ("users", users),
    ("products", products),
    ("customers", customers),
    ("orders", orders),
    ("import", imports),
    ("maintenance", maintenance),
):
    _GROUPS[_name] = _module.app
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("help")(topics.help_topic)


def _open_closed_streams() -> None:
    """A process started with stdout or stderr closed (`>&-`) has None there, and every print
    would fail after the work is done; its output is discarded instead, as asked."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def run() -> None:
    """Console-script entry point."""
    _open_closed_streams()
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
