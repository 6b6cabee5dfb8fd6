"""`--json FIELDS` and `--jq EXPR`: field selection and jq filters on the documents a command
prints (DESIGN.md §12, docs/output.md, *Field selection*).

Both options are checked while the command line is parsed, before the command does any work:
`--json` alone (or with an empty list) names the available fields and exits 2, so does an
unknown field, and a jq syntax error is exit 2 too. The available fields come from the
document's own declaration (a read schema's fields, or a module's tuple of names such as
`order_listing.DOCUMENT_FIELDS`), named by a `"module:NAME"` string so that declaring the
option imports nothing at start-up.

`render.render_list`, `render_one` and `render_json_text` hand their records to this module
when either option is given. Without `--jq` the selected documents go back to render's own
json/jsonl writers; with it, each result of the expression is one line: a string raw, any
other value as compact JSON (as `gh` prints them). `-o jsonl` applies the expression to each
document as it streams; otherwise to the whole JSON the command would print (the array of a
list, the object of a single record).

jq is imported only when `--jq` is used (start-up, tests/test_startup.py). The expression runs
in libjq with no access to the environment or to files: `env`, `$ENV` and the builtins that
read files or report paths are shadowed by definitions placed before it, and module
directives (`import`, `include`) cannot follow a definition, so they are syntax errors.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from orderctl.enums import OutputFormat

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Shadows what a jq program could read beyond its input: the environment (`env`, `$ENV`),
#: module files and paths (`get_search_list`, `input_filename`, the origin functions), other
#: inputs, and what would write on stderr. On the expression's own line, so `$__loc__` and
#: error positions keep the user's line numbers (columns are shifted back in `_compile_error`).
_GUARD = (
    "def env: {}; def get_search_list: []; def input_filename: null; "
    "def get_jq_origin: null; def get_prog_origin: null; "
    'def input: error("input is not available in --jq"); def inputs: empty; '
    "def debug: .; def debug(m): .; def stderr: .; "
    "{} as $ENV | "
)
_POSITION = re.compile(r" at <top-level>, line (\d+), column (\d+):?$")


def field_names(*sources: str) -> tuple[str, ...]:
    """The top-level fields of a document type, from its declaration: each source is
    `"module:NAME"` (a Pydantic model, a `TypedDict` or a sequence of names; in their order),
    or one field's plain name."""
    from importlib import import_module

    names: list[str] = []
    for source in sources:
        if ":" not in source:  # one more field by name (`orders show`'s `history`)
            names.append(source)
            continue
        module, _, attr = source.partition(":")
        declared: Any = getattr(import_module(module), attr)
        # A read schema's fields, a TypedDict's keys, or the names themselves.
        declared = getattr(declared, "model_fields", None) or getattr(
            declared, "__annotations__", declared
        )
        # A flattened declaration (`customer.email`, as csv prints it) selects `customer`.
        names += [name.split(".")[0] for name in declared]
    return tuple(dict.fromkeys(names))


def bare_json(args: list[str]) -> list[str]:
    """`args` with a `--json` that has no value (last, or followed by another option) given
    the empty value, so its check names the available fields (Click would only say that the
    option needs an argument). Nothing after `--` is touched."""
    result = list(args)
    for n, arg in enumerate(result):
        if arg == "--":
            break
        if arg == "--json" and (n + 1 == len(result) or result[n + 1].startswith("-")):
            result[n] = "--json="
    return result


def parse_fields(text: str, available: Iterable[str]) -> tuple[str, ...]:
    """The names in a `--json` value, in the order given, each once.

    Raises `UsageError` (exit 2) naming the available fields when the list is empty or holds
    a name that is not one of them.
    """
    from orderctl.errors import UsageError

    known = tuple(available)
    names = field_list(text)
    listing = ", ".join(known)
    if not names:
        raise UsageError(f"specify one or more comma-separated fields for --json: {listing}")
    unknown = [name for name in names if name not in known]
    if unknown:
        top = unknown[0].split(".")[0]
        hint = f" (select {top!r}; --jq reaches inside it)" if top in known else ""
        raise UsageError(f"unknown field {unknown[0]!r} for --json{hint}; available: {listing}")
    return names


def field_list(text: str) -> tuple[str, ...]:
    """The names of a `--json` value, in the order given, each once."""
    return tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def json_check(*sources: str) -> Callable[[str | None], str | None]:
    """The callback of a `--json` option whose command prints documents of `sources`: checks
    the value when the command line is parsed (exit 2), and keeps it as given."""

    def check(value: str | None) -> str | None:
        if value is not None:
            parse_fields(value, field_names(*sources))
        return value

    return check


def jq_check(value: str | None) -> str | None:
    """The callback of `--jq`: a syntax error is a usage error, before any work is done."""
    if value is not None:
        program(value)
    return value


@cache
def program(expression: str) -> Any:
    """The compiled jq program of `expression`, guarded (see the module's docstring).

    Raises `UsageError` (exit 2) for an empty expression or one libjq cannot compile.
    """
    from orderctl.errors import UsageError

    if not expression.strip():
        raise UsageError("--jq needs an expression, e.g. --jq '.[].id'")
    import jq

    try:
        return jq.compile(_GUARD + expression)
    except ValueError as exc:
        raise UsageError(f"--jq: {_compile_error(str(exc))}") from None


def _compile_error(text: str) -> str:
    """libjq's first message line, its position counted in the user's expression."""
    first = text.strip().splitlines()[0].removeprefix("jq: error: ")
    found = _POSITION.search(first)
    if found is None:
        return first
    line, column = int(found[1]), int(found[2])
    if line == 1:
        column = max(column - len(_GUARD), 0)
    return f"{first[: found.start()]} at line {line}, column {column}"


def _selected(docs: Iterable[dict[str, Any]], json_fields: str | None) -> Iterable[dict[str, Any]]:
    if json_fields is None:
        return docs
    names = field_list(json_fields)
    return ({name: doc.get(name) for name in names} for doc in docs)


def printed_format(fmt: OutputFormat, json_fields: str | None, jq: str | None) -> OutputFormat:
    """The format a command prints in: with `--json` or `--jq`, JSON whatever `-o` says (as
    gh's `--json`), one document a line with `-o jsonl`; else `fmt`. A command that prints
    its own way on `-o table` (a summary, a secret) asks this instead of reading `-o`."""
    if json_fields is None and jq is None:
        return fmt
    return OutputFormat.JSONL if fmt is OutputFormat.JSONL else OutputFormat.JSON


def select_list(
    records: Iterable[BaseModel | dict[str, Any]],
    fmt: OutputFormat,
    json_fields: str | None,
    jq: str | None,
) -> int:
    """`render_list` with `--json`/`--jq`: streamed unless `--jq` applies to the whole array.
    Returns the count of records."""
    from orderctl.cli.render import document, render_list

    docs = _selected((document(record) for record in records), json_fields)
    if jq is None:
        return render_list(docs, printed_format(fmt, json_fields, jq), ())
    if fmt is OutputFormat.JSONL:
        return _per_record(docs, program(jq).input_value)
    whole = list(docs)
    _emit(program(jq).input_value(whole), None)
    sys.stdout.flush()
    return len(whole)


def select_one(
    record: BaseModel | dict[str, Any],
    fmt: OutputFormat,
    json_fields: str | None,
    jq: str | None,
) -> None:
    """`render_one` with `--json`/`--jq`."""
    from orderctl.cli.render import document, render_one

    (doc,) = _selected([document(record)], json_fields)
    if jq is None:
        render_one(doc, printed_format(fmt, json_fields, jq))
    else:
        _emit(program(jq).input_value(doc), None)
        sys.stdout.flush()


def select_json_text(
    texts: Iterable[str], fmt: OutputFormat, json_fields: str | None, jq: str | None
) -> int:
    """`render_json_text` with `--json`/`--jq`: documents that are JSON text already (streamed
    `orders list --all`); with `-o jsonl` and `--jq` alone each text goes to libjq as is."""
    if json_fields is not None or fmt is not OutputFormat.JSONL or jq is None:
        return select_list((json.loads(text) for text in texts), fmt, json_fields, jq)
    return _per_record(texts, program(jq).input_text)


def _per_record(inputs: Iterable[Any], run: Callable[[Any], Iterator[Any]]) -> int:
    """The jq program on each input as it comes (`-o jsonl`: a stream stays a stream)."""
    count = 0
    for count, item in enumerate(inputs, 1):
        _emit(run(item), count)
    sys.stdout.flush()
    return count


def _emit(results: Iterator[Any], record: int | None) -> None:
    """Each result on its own line: a string raw in a pipe (escaped on a terminal, as every
    table cell is), any other value as compact JSON.

    Raises `RuleViolation` (exit 6) when the expression fails on this data (`.[0]` of an
    object, `error("...")`), naming the record of a jsonl stream; lines already printed stay.
    """
    from orderctl.cli.render import printable
    from orderctl.errors import RuleViolation

    terminal = sys.stdout.isatty()
    write = sys.stdout.write
    try:
        for value in results:
            if isinstance(value, str):
                write((printable(value) if terminal else value) + "\n")
            else:
                write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
    except ValueError as exc:
        sys.stdout.flush()
        where = f" (record {record})" if record is not None else ""
        raise RuleViolation(f"--jq{where}: {exc}") from None
