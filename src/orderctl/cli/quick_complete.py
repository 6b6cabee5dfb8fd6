"""The lean path of shell completion: a Tab press for a stored value (SKU, ref, email,
username, context name) answered without importing typer, SQLAlchemy, Pydantic or Rich.

A Tab press starts one `orderctl` process; through the Typer app it costs the import of the
whole CLI stack before the one query (docs/performance.md, *Completion*). `answer` reads the
request of a generated script (Click's protocol as typer speaks it: `COMP_WORDS`/`COMP_CWORD`
for bash, `_TYPER_COMPLETE_ARGS` for zsh and fish), finds the parameter being completed as
Click's `_resolve_incomplete` would, and when it is one of `DYNAMIC`, prints the candidates of
the same completer (`lookup_rules.candidates`, through `quick_lookup`). Anything else (command
and option names, fixed values, a line it does not follow) it leaves to the Typer app, which
answers every request, so a gap here costs time, never a wrong answer.

`DYNAMIC` repeats what the completers of the Typer app are attached to; tests/
test_completion_lean.py derives it from the app and fails when they differ.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping

#: The commands with options or arguments completed from stored values: (options by name,
#: the command's arguments in order), each named by its completer (None: completed otherwise).
DYNAMIC: dict[tuple[str, ...], tuple[dict[str, str], tuple[str | None, ...]]] = {
    (): ({"--context": "contexts"}, ()),
    ("context", "add"): ({}, ("contexts",)),
    ("context", "use"): ({}, ("contexts",)),
    ("context", "show"): ({}, ("contexts",)),
    ("context", "remove"): ({}, ("contexts",)),
    ("auth", "token", "create"): ({"--user": "usernames"}, ()),
    ("users", "create"): ({}, ("usernames",)),
    ("users", "disable"): ({}, ("usernames",)),
    ("users", "enable"): ({}, ("usernames",)),
    ("users", "set-role"): ({}, ("usernames", None)),
    ("users", "reset-password"): ({}, ("usernames",)),
    ("products", "add"): ({}, ("skus",)),
    ("products", "show"): ({}, ("skus",)),
    ("products", "update"): ({}, ("skus",)),
    ("products", "history"): ({}, ("skus",)),
    ("customers", "add"): ({}, ("emails",)),
    ("customers", "list"): ({"--after": "emails"}, ()),
    ("customers", "show"): ({}, ("emails",)),
    ("orders", "create"): ({"--customer": "emails", "--item": "item_lines"}, ()),
    ("orders", "list"): ({"--customer": "emails", "--sku": "skus"}, ()),
    ("orders", "export"): ({"--customer": "emails", "--sku": "skus"}, (None,)),
    ("orders", "show"): ({"--ref": "order_refs"}, ("order_refs",)),
    ("orders", "set-status"): ({"--ref": "order_refs"}, ("order_refs", None)),
    ("orders", "history"): ({"--ref": "order_refs"}, ("order_refs",)),
}
#: The root's options that take a value, and its flags that may come before a command.
ROOT_VALUE_OPTIONS = ("--database-url", "--context", "--color")
ROOT_FLAGS = ("--debug", "-h", "--help")


def answer(env: Mapping[str, str]) -> int | None:
    """Answer the completion request in `env` and return the exit code, or None when the
    Typer app is to answer it."""
    shell = env.get("_ORDERCTL_COMPLETE", "").removeprefix("complete_")
    try:
        args, incomplete = _request(shell, env)
        found = _target(args, incomplete)
    except (KeyError, ValueError):  # a request this path does not read: the app will
        return None
    if found is None:
        return None
    completer, incomplete, flags = found
    try:
        values = _candidates(completer, incomplete, flags)
    except Exception:  # not logged in, expired, offline, not migrated: offer nothing
        values = []
    return _print(shell, env, values)


def _request(shell: str, env: Mapping[str, str]) -> tuple[list[str], str]:
    """The words before the one being completed, and that word (typer's `get_completion_args`)."""
    if shell == "bash":
        words = _split(env["COMP_WORDS"])
        cword = int(env["COMP_CWORD"])
        return words[1:cword], words[cword] if cword < len(words) else ""
    if shell not in ("zsh", "fish"):
        raise ValueError(shell)
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    args = _split(line)[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _split(line: str) -> list[str]:
    """Words as Click's `split_arg_string` reads them (an open quote keeps its partial word)."""
    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:
        out.append(lex.token)
    return out


def _target(args: list[str], incomplete: str) -> tuple[str, str, dict[str, str]] | None:
    """(completer, word to complete, root flags given) of a request for a stored value; None
    when it is anything else or not surely one."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):  # the root's options
        name, eq, value = args[i].partition("=")
        if name in ROOT_VALUE_OPTIONS:
            if not eq:
                if i + 1 == len(args):
                    break  # its value is the word being completed
                i += 1
                value = args[i]
                if value.startswith("-"):
                    return None
            flags[name] = value
        elif args[i] not in ROOT_FLAGS:
            return None
        i += 1
    path: tuple[str, ...] = ()  # the root: a group, so the words after it name a command
    while i < len(args) and not args[i].startswith("-") and (path == () or path not in DYNAMIC):
        path = (*path, args[i])
        if not any(key[: len(path)] == path for key in DYNAMIC):
            return None  # a command without stored values, or an unknown word
        i += 1
    if path not in DYNAMIC:
        return None  # a group: its commands are completed
    options, arguments = DYNAMIC[path]
    rest = args[i:]
    # Click's `_resolve_incomplete`, for what it can resolve to here.
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        name, _, incomplete = incomplete.partition("=")
        args, rest = [*args, name], [*rest, name]
    if "--" in args or incomplete.startswith("-"):
        return None
    if args and args[-1].startswith("-"):
        completer = options.get(args[-1])
        return None if completer is None else (completer, incomplete, flags)
    if any(word.startswith("-") for word in rest) or len(rest) >= len(arguments):
        return None
    completer = arguments[len(rest)]
    return None if completer is None else (completer, incomplete, flags)


def _candidates(completer: str, incomplete: str, flags: dict[str, str]) -> list[str]:
    url, context = flags.get("--database-url"), flags.get("--context")
    if completer == "contexts":
        from orderctl.contexts import context_names
        from orderctl.lookup_rules import MAX_CANDIDATES

        return context_names(incomplete, MAX_CANDIDATES)
    from orderctl.lookup_rules import candidates
    from orderctl.quick_lookup import lookup

    return candidates(completer, incomplete, lookup(url, context))


def _print(shell: str, env: Mapping[str, str], values: list[str]) -> int:
    """Write the candidates as typer's completion classes do (bash, zsh, fish)."""
    if shell == "bash":
        out = "\n".join(values)
    elif shell == "zsh":
        quoted = "\n".join(f'"{_zsh_escape(value)}"' for value in values)
        out = f"_arguments '*: :(({quoted}))'" if values else "_files"
    elif env.get("_TYPER_COMPLETE_FISH_ACTION", "") == "is-args":
        return 0 if values else 1
    else:
        out = "\n".join(values) if env.get("_TYPER_COMPLETE_FISH_ACTION") == "get-args" else ""
    sys.stdout.write(out + "\n")
    return 0


def _zsh_escape(value: str) -> str:
    for char, escaped in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", r"\\:")):
        value = value.replace(char, escaped)
    return value


def run() -> None:
    """Console-script entry point: a Tab press for a stored value is answered here, all else
    by the Typer app (cli/main.py)."""
    if os.environ.get("_ORDERCTL_COMPLETE", "").startswith("complete_"):
        code = answer(os.environ)
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from orderctl.cli.main import run as run_app

    run_app()
