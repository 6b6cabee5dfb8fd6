"""The root command: global options, command groups, and the one path from error to exit code."""

from __future__ import annotations

import os
import sys
from difflib import get_close_matches
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from orderctl import __version__
from orderctl.cli import (
    auth,
    completion,
    config,
    contexts,
    customers,
    db,
    demo,
    events,
    imports,
    init,
    maintenance,
    orders,
    products,
    reports,
    serve,
    topics,
    users,
)
from orderctl.cli.completion import contexts as complete_contexts
from orderctl.cli.context import AppState, get_state
from orderctl.cli.fields import bare_json
from orderctl.cli.helptext import polish
from orderctl.cli.render import error, set_color
from orderctl.enums import ColorMode
from orderctl.errors import without_internals

try:  # typer's private option coercion: see cli/fastparams.py for why and what if it goes
    from orderctl.cli import fastparams
except (ImportError, AttributeError):
    pass
else:
    fastparams.install()


class OrderctlGroup(TyperGroup):
    """The root command. Maps every error to `error: <message>` on stderr and the exit code of
    DESIGN.md §9, and turns a command group (a Typer app in `_GROUPS`) into a Click group only
    when it is asked for (Click's `get_command`/`list_commands`, as hatch's cli/lazy.py does):
    building one inspects the signature and type hints of each of its commands, which for all
    groups costs about as much as importing typer (start-up, docs/performance.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._built: dict[str, Any] = {}
        polish(self)

    def list_commands(self, ctx: Any) -> list[str]:
        """The plain commands, then the groups, in the order `--help` lists them."""
        return [*self.commands, *(name for name in _GROUPS if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A plain command, or a group, built on first use."""
        if cmd_name in self.commands or cmd_name not in _GROUPS:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self._built:
            self._built[cmd_name] = polish(_build_group(cmd_name))
        return self._built[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Click's, with the groups not built yet among the "did you mean" names."""
        name = args[0] if args else ""
        unknown = name and not name.startswith("-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:  # completing: Click offers nothing by itself
            close = get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of `--help`, with each group's short help read from its Typer app,
        so listing them builds none."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in _GROUPS and name not in self._built:
                # A bare command holding the group's help shortens it exactly as Click does.
                command = TyperCommand(name, help=str(_GROUPS[name].info.help or ""))
            else:
                command = self.get_command(ctx, name)
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """As Click's, keeping the command line for the `--debug` hint, reporting a usage
        error of the root's own options (`orderctl --bogus`) as every other one is, and with a
        bare `--json` asking for the list of fields (cli/fields.py)."""
        ctx.meta[_ARGS_KEY] = list(args)
        try:
            return super().parse_args(ctx, bare_json(args))
        except typer.TyperException as exc:
            raise typer.Exit(_report_usage(exc)) from None

    def invoke(self, ctx: Any) -> Any:
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


#: Where `parse_args` keeps the command line, in the root context's `meta`.
_ARGS_KEY = "orderctl.args"


def _build_group(name: str) -> Any:
    """The Click group of `_GROUPS[name]`, built through typer's public `get_command` on an app
    that holds just that group: so it is a group even with a single command (`import orders`),
    and it inherits the root's settings (plain Click help, no completion options)."""
    from typer.main import get_command

    holder = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    holder.add_typer(_GROUPS[name], name=name)
    built = get_command(holder)
    assert isinstance(built, TyperGroup)
    return built.commands[name]


def _report(ctx: typer.Context, exc: Exception) -> int:
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
    hint = "" if state.debug else f" (for the traceback run {_debug_command(ctx)})"
    error(f"unexpected error: {type(exc).__name__}: {first_line}{hint}")
    return 1


def _debug_command(ctx: typer.Context) -> str:
    """This command line with `--debug` where the option goes (right after `orderctl`: it is
    a global option), or the variable; passwords in URLs are masked."""
    import shlex

    from orderctl.config import mask_url

    args = [mask_url(arg) for arg in ctx.find_root().meta.get(_ARGS_KEY, [])]
    return f"`{shlex.join(['orderctl', '--debug', *args])}` or set ORDERCTL_DEBUG=1"


def _report_usage(exc: typer.TyperException) -> int:
    """A usage error as one `error:` line naming the help to read (exit 2).

    Click's usage errors are known by their exit code 2 (typer keeps Click's classes private);
    the one whose message is the help screen (a group run without a command) and the other
    framework exits keep their own rendering.
    """
    ctx: Any = getattr(exc, "ctx", None)
    message = exc.format_message()
    if exc.exit_code != 2 or (ctx is not None and message == ctx.get_help()):
        raise exc
    hint = f" (try '{ctx.command_path} --help')" if ctx is not None else ""
    # typer converts values through Pydantic, whose words leak into Click's messages.
    error(without_internals(" ".join(message.split())) + hint)  # one line, even for choices
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
    help=(
        "Administer an order database: orders, catalog, customers, users, imports, "
        "maintenance, events."
    ),
    no_args_is_help=True,
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
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="Use this context (orderctl context list) for this command; overrides "
            "ORDERCTL_CONTEXT and the current context.",
            show_default=False,
            autocompletion=complete_contexts,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also ORDERCTL_DEBUG=1).")
    ] = False,
    color: Annotated[
        ColorMode,
        typer.Option(
            "--color",
            help="Colour output: auto (a terminal, unless NO_COLOR is set or CLICOLOR_FORCE "
            "forces it), always or never.",
            case_sensitive=False,
        ),
    ] = ColorMode.AUTO,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """orderctl: the order database administration tool.

    Example: orderctl --database-url sqlite:///shop.db orders list --status paid
    """
    set_color(color)
    ctx.obj = AppState(
        database_url_flag=database_url,
        context_flag=context,
        debug=debug or os.environ.get("ORDERCTL_DEBUG") == "1",
    )
    get_state(ctx)  # the state of this command from now on (`current_state`)


app.command("init")(init.init)
#: Command groups, built by `OrderctlGroup.get_command` on first use, in help order.
_GROUPS: dict[str, typer.Typer] = {}
for _name, _module in (
    ("config", config),
    ("context", contexts),
    ("db", db),
    ("auth", auth),
    ("users", users),
    ("products", products),
    ("customers", customers),
    ("orders", orders),
    ("import", imports),
    ("report", reports),
    ("maintenance", maintenance),
    ("events", events),
):
    _GROUPS[_name] = _module.app
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("help")(topics.help_topic)
app.command("completion")(completion.completion)


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
