"""What a completion look-up reads (DESIGN.md §20), apart from how it reads it: the
repository (repositories/lookups.py) builds it as a Core query, the lean completion path
(cli/quick_complete.py) as SQL for the bare driver, from the same rules here.

Stdlib only: the lean completion path imports this without SQLAlchemy or Pydantic.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from orderctl.enums import LookupKind, Role

#: At most this many candidates per completion (DESIGN.md §20).
MAX_CANDIDATES = 50

#: The least role that may read each kind: the role of the command that lists such values.
READ_ROLE = {
    LookupKind.SKU: Role.VIEWER,
    LookupKind.REF: Role.VIEWER,
    LookupKind.EMAIL: Role.VIEWER,
    LookupKind.USERNAME: Role.ADMIN,
}

#: (table, column) of each kind: one unique, so b-tree indexed, column.
COLUMNS = {
    LookupKind.SKU: ("products", "sku"),
    LookupKind.REF: ("orders", "external_ref"),
    LookupKind.EMAIL: ("customers", "email"),
    LookupKind.USERNAME: ("users", "username"),
}


def typed_prefix(kind: LookupKind, prefix: str) -> str:
    """The prefix as stored values spell it: emails are stored lower-cased."""
    return prefix.lower() if kind is LookupKind.EMAIL else prefix


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """The range `low <= value < high` (no `high`: unbounded) holding the values that start
    with `prefix`, which a b-tree index answers where LIKE would not be served by one."""
    cut = prefix.rstrip(chr(sys.maxunicode))  # the last character that can be raised
    if not cut:
        return prefix, None
    return prefix, cut[:-1] + chr(ord(cut[-1]) + 1)


def starting_with(values: Iterable[str], prefix: str) -> list[str]:
    """The values that really start with `prefix`: a database's collation may order a few
    others into the range."""
    return [value for value in values if value.startswith(prefix)]


#: The completers of stored values (cli/completion.py): the kind each reads and the text
#: offered after each value (`--item SKU:QTY` goes on with the quantity).
COMPLETERS = {
    "skus": (LookupKind.SKU, ""),
    "item_lines": (LookupKind.SKU, ":"),
    "order_refs": (LookupKind.REF, ""),
    "emails": (LookupKind.EMAIL, ""),
    "usernames": (LookupKind.USERNAME, ""),
}


def candidates(
    completer: str, incomplete: str, lookup: Callable[[LookupKind, str], list[str]]
) -> list[str]:
    """What `completer` offers for the word being typed, its values read through `lookup`
    (kind, prefix -> values)."""
    kind, suffix = COMPLETERS[completer]
    if suffix and suffix in incomplete:  # the part after the value is being typed
        return []
    # Typer offers only candidates that start with the word as typed (an email typed in
    # capitals is looked up lower-cased, and then offers nothing): so does the lean path.
    offered = (value + suffix for value in lookup(kind, incomplete))
    return [value for value in offered if value.startswith(incomplete)]
