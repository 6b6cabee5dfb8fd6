"""How a CSV file's columns become the import's columns (DESIGN.md §7; docs/import.md).

Three things a shop's own CSV may need before `import_reader` can group it into orders: another
delimiter (Excel in many locales writes `;`), other column names (`--map COLUMN=FIELD`), and a
whole other layout (`--preset shopify`, in `import_presets`). A `CsvLayout` says which; a
`RowMapper` turns each row of the file into a row of the import's own columns and may refuse
it with a reason (the whole order is then rejected). The file's own rows are what a rejects
file keeps, so a rejects file imports again with the same options.

Stdlib only, so it stays a leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: The delimiters `--delimiter` takes, by the names a user may type.
DELIMITER_NAMES = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}
#: What detection chooses between, in order of preference on a tie.
DETECTED = (",", ";", "\t", "|")
DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class CsvLayout:
    """`--delimiter` (None: detect from the header line), `--preset`, and `--map` pairs."""

    delimiter: str | None = None
    preset: str | None = None
    #: (file column as typed, import field), in the order given.
    renames: tuple[tuple[str, str], ...] = ()


#: A row of the file → (the row in the import's columns, why the order cannot be imported).
Mapper = Callable[[list[str]], tuple[list[str], str | None]]


@dataclass(frozen=True)
class RowMapper:
    """The import's header for a file, and how to turn each file row into it (None: as is)."""

    names: list[str]
    convert: Mapper | None = None
    #: Where the file's own rows keep the ref (None: where `names` has `external_ref`).
    source_ref: int | None = None


def parse_delimiter(text: str) -> str:
    """The delimiter `--delimiter TEXT` names. Raises ValueError (a usage error)."""
    try:
        return DELIMITER_NAMES[text.lower()]
    except KeyError:
        raise ValueError(f"--delimiter must be one of ',' ';' '|' or 'tab', not {text!r}") from None


def parse_map(text: str, fields: Sequence[str]) -> tuple[str, str]:
    """(column, field) from `--map COLUMN=FIELD`. Raises ValueError (a usage error)."""
    column, sep, field = text.rpartition("=")
    column, field = column.strip(), field.strip().lower()
    if not sep or not column or not field:
        raise ValueError(
            f"--map takes COLUMN=FIELD (e.g. 'Order Number=external_ref'), not {text!r}"
        )
    if field not in fields:
        raise ValueError(
            f"--map {text!r}: {field!r} is not an import field (one of: {', '.join(fields)})"
        )
    return column, field


def check_renames(renames: Sequence[tuple[str, str]]) -> None:
    """Two `--map`s onto one field, or of one column, are a usage error (ValueError)."""
    fields: dict[str, str] = {}
    columns: set[str] = set()
    for column, field in renames:
        if field in fields:
            raise ValueError(f"--map gives {field!r} twice ({fields[field]!r} and {column!r})")
        if column.lower() in columns:
            raise ValueError(f"--map names the column {column!r} twice")
        fields[field] = column
        columns.add(column.lower())


def detect_delimiter(header_line: str) -> str:
    """The delimiter a header line uses: the most frequent of `DETECTED` outside quotes."""
    counts = dict.fromkeys(DETECTED, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DETECTED, key=lambda d: (counts[d], -DETECTED.index(d)))
    return best if counts[best] else ","


def delimiter_hint(names: Sequence[str], delimiter: str) -> str:
    """A hint when a header of one column holds another delimiter ('' when it does not)."""
    if len(names) != 1:
        return ""
    for other in DETECTED:
        if other != delimiter and other in names[0]:
            word = DELIMITER_WORDS[other]
            typed = "tab" if other == "\t" else other
            return (
                f"; the header looks {word}-separated, not {DELIMITER_WORDS[delimiter]}-separated: "
                f"pass --delimiter '{typed}'"
            )
    return ""


def renamed(names: list[str], renames: Sequence[tuple[str, str]]) -> list[str]:
    """The header `names` (normalised) with each `--map` column given its field's name.

    Raises LookupError naming a mapped column the header does not have."""
    out = list(names)
    for column, field in renames:
        key = column.strip().lower()
        if key not in names:
            raise LookupError(column)
        out[names.index(key)] = field
    return out
