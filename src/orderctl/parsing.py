"""Parsing and checks of values shared by the CLI, the HTTP API and the schemas (stdlib
only, a leaf).

Both faces accept the same dates and amounts; each maps the errors to its own codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from orderctl import clock

#: Filters beyond this can match nothing a Numeric(12, 2) column holds; refusing them keeps
#: absurd numbers (1e999999) away from the database, where PostgreSQL would overflow.
AMOUNT_LIMIT = Decimal("99999999999.90")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OutOfRange(ValueError):
    """A well-formed value outside what the filter accepts."""


#: `90m`, `24h`, `7d`: that long before now.
_AGO = re.compile(r"([0-9]{1,9})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: Relative times reach back at most this far (`36500d`); more is a typo, not a filter.
AGO_LIMIT = timedelta(days=36500)
WHEN_FORMS = (
    "an ISO date or datetime (2026-11-26, 2026-11-26T13:45:00Z), a time ago (90m, 24h, 7d; "
    "up to 36500d), today or yesterday (UTC days)"
)


def parse_when(text: str, *, end_of_day: bool, now: datetime | None = None) -> datetime:
    """A point in time for `--since/--until` and the API's `since/until`, in UTC.

    An ISO date is a whole UTC day (its start, or with `end_of_day` the next day's start),
    and so are `today` and `yesterday`; an ISO datetime is UTC when it has no zone; `90m`,
    `24h`, `7d` are that long before `now` (default `clock.utcnow()`). Raises ValueError
    naming the accepted forms.
    """
    value = text.strip()
    lowered = value.lower()
    try:
        day: date | None = None
        if lowered in ("today", "yesterday"):
            day = (now or clock.utcnow()).astimezone(UTC).date()
            day -= timedelta(days=1 if lowered == "yesterday" else 0)
        elif _DATE.fullmatch(value):
            day = date.fromisoformat(value)
        if day is not None:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if not end_of_day:
                return start
            return start + timedelta(days=1) if day < date.max else datetime.max.replace(tzinfo=UTC)
        ago = _AGO.fullmatch(lowered)
        if ago is not None:
            delta = timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
            if delta > AGO_LIMIT:
                raise ValueError
            return (now or clock.utcnow()).astimezone(UTC) - delta
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"expected {WHEN_FORMS}; got {text[:40]!r}") from None


def parse_when_or(
    value: str | None, *, end_of_day: bool, name: str, error: Callable[[str], Exception]
) -> datetime | None:
    """`parse_when` of an optional value (`--since`, `until=`); a value that cannot be parsed
    raises `error("NAME: reason")`, the face's own error class."""
    if value is None:
        return None
    try:
        return parse_when(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise error(f"{name}: {exc}") from None


def parse_amount(text: str) -> Decimal:
    """A decimal amount such as 12.50. Raises ValueError, or `OutOfRange` beyond ±AMOUNT_LIMIT."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValueError(f"expected an amount such as 12.50, got {text[:40]!r}")
    if abs(amount) > AMOUNT_LIMIT:
        raise OutOfRange(f"must be between -{AMOUNT_LIMIT} and {AMOUNT_LIMIT}")
    return amount


def format_money(value: Decimal) -> str:
    """An amount as JSON and CSV carry it: a string with two decimals (DESIGN.md §6)."""
    return f"{value:.2f}"


#: Characters that act on a terminal instead of showing as themselves: C0 controls (tab and
#: newline included), DEL, C1 controls, the bidirectional formatting controls (which reorder
#: what follows them), the Unicode line and paragraph separators, and lone surrogates (what
#: undecodable bytes or a `\ud800` JSON escape leave in a string; no database stores them).
#: As regex class text, so that the OpenAPI patterns below are made of the same characters.
_C0 = r"\x00-\x1f"
_C0_TEXT = r"\x00-\x08\x0b-\x1f"
_BEYOND_C0 = r"\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SURROGATES = r"\ud800-\udfff"
CONTROL_CHARACTERS = re.compile(f"[{_C0}{_BEYOND_C0}{_SURROGATES}]")
#: The same, less newline and tab: what free text (notes, reasons) may not hold.
TEXT_CONTROL_CHARACTERS = re.compile(f"[{_C0_TEXT}{_BEYOND_C0}{_SURROGATES}]")


def _refuse_controls(value: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(value)
    if found is None:
        return value
    if found.group() == "\x00":  # the reason most callers know, and PostgreSQL's own limit
        raise ValueError("must not contain NUL characters")
    raise ValueError(
        f"must not contain control characters (U+{ord(found.group()):04X} at position "
        f"{found.start() + 1})"
    )


def single_line(value: str) -> str:
    """`value`, unless it holds a control character (`CONTROL_CHARACTERS`, tab and newline
    included): the rule for SKUs, names, emails, usernames, token names and refs. Raises
    ValueError naming the first one (`U+001B at position 3`)."""
    return _refuse_controls(value, CONTROL_CHARACTERS)


def free_text(value: str) -> str:
    """`value`, unless it holds a control character other than newline and tab: the rule for
    notes and reasons. Raises ValueError."""
    return _refuse_controls(value, TEXT_CONTROL_CHARACTERS)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

#: What Pydantic's `strip_whitespace` removes: Unicode's White_Space characters (pydantic-core
#: trims with Rust's `str::trim`). `str.strip()` with no argument also removes U+001C-U+001F,
#: which a stripped field must refuse as control characters instead.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)

# ---- the same rules as JSON Schema patterns, for the API's OpenAPI document ----
# Without the lone surrogates: JSON text in UTF-8 cannot carry them (a `\ud800` escape is
# refused like any control character), and other regex engines refuse them in a class.

#: Whitespace that `str.strip()` removes and that is not a control character.
_SPACES = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_LINE = f"[^{_C0}{_BEYOND_C0}]"
#: `single_line`: no control character at all.
SINGLE_LINE_PATTERN = f"^{_LINE}*$"
#: `free_text`: newline and tab allowed.
FREE_TEXT_PATTERN = f"^[^{_C0_TEXT}{_BEYOND_C0}]*$"
_SOLID = f"[^{_C0}{_BEYOND_C0}{_SPACES}]"


def stripped_pattern(min_length: int) -> str:
    """`single_line` with at least `min_length` characters once stripped (1 or more)."""
    if min_length <= 1:
        return f"^{_LINE}*{_SOLID}{_LINE}*$"
    return f"^[{_SPACES}]*{_SOLID}{_LINE}{{{min_length - 2},}}{_SOLID}[{_SPACES}]*$"


#: A value with `min_length=1` and `strip_whitespace`: not blank, one line.
NON_BLANK_PATTERN = stripped_pattern(1)
#: `normalize_email`, before stripping (its length limit is the schema's `maxLength`).
_NOT_EMAIL = rf"@\s{_C0}{_BEYOND_C0}"
EMAIL_PATTERN = rf"^[{_SPACES}]*[^{_NOT_EMAIL}]+@[^{_NOT_EMAIL}]+\.[^.{_NOT_EMAIL}]+[{_SPACES}]*$"
EMAIL_MAX = 254


def normalize_email(value: str) -> str:
    """An email address stripped and in lower case (how orderctl stores and compares them).
    Raises ValueError."""
    value = single_line(value.strip().lower())
    if len(value) > EMAIL_MAX or not _EMAIL.fullmatch(value):
        raise ValueError("is not a valid email address")
    return value


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a timestamp without a zone is taken as UTC, the only zone orderctl
    stores. Raises ValueError."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
        raise ValueError("is out of the supported range of dates") from None


# ---- JSON documents from outside: `--from-file`, JSONL import lines, API request bodies ----

#: The largest JSON document read: one `--from-file` order, one JSONL line, one API body (the
#: biggest valid order, 1,000 lines and a 2,000-character note, is well under 256 KiB).
JSON_MAX_BYTES = 1 << 20
#: A valid order nests three levels; Python's parser recurses once per level and would stop
#: with RecursionError near 1,000, so deeper documents are refused before parsing.
JSON_MAX_DEPTH = 32
#: A number beyond this is refused while parsing: turning `1e999999999` into the int a
#: quantity needs would take minutes and gigabytes. Every field's own limit is far below.
JSON_MAX_NUMBER = Decimal("1e100")
_BOM = b"\xef\xbb\xbf"
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class InvalidJson(ValueError):
    """A JSON document orderctl refuses; the message is one line and never quotes the whole
    document."""


def load_json(data: bytes) -> Any:
    """Parse one JSON document strictly and return it (numbers with a fraction or an exponent
    as Decimal).

    Refused with `InvalidJson`: more than `JSON_MAX_BYTES`, bytes that are not UTF-8 (a BOM at
    the very start is dropped, as RFC 8259 allows), invalid syntax, nesting deeper than
    `JSON_MAX_DEPTH`, a key twice in one object (which value was meant cannot be known),
    `NaN`/`Infinity` (not JSON), numbers beyond `JSON_MAX_NUMBER` or over 4,300 digits.
    """
    if len(data) > JSON_MAX_BYTES:
        raise InvalidJson(
            f"larger than {JSON_MAX_BYTES} bytes (1 MiB), the limit of one JSON document"
        )
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if _too_deep(text):
        raise InvalidJson(f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
    try:
        return json.loads(
            text,
            parse_float=_json_number,
            parse_constant=_json_constant,
            object_pairs_hook=_json_object,
        )
    except InvalidJson:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise InvalidJson(f"not valid JSON at {where}: {exc.msg}") from None
    except RecursionError:  # cannot happen below JSON_MAX_DEPTH; kept as a last guard
        raise InvalidJson(f"JSON nested deeper than {JSON_MAX_DEPTH} levels") from None
    except ValueError:  # int() of a literal over sys.get_int_max_str_digits() digits
        raise InvalidJson("a number has more than 4300 digits") from None


def _too_deep(text: str) -> bool:
    # Counting brackets is C speed and settles nearly every document (an order of five lines
    # has six); only a document with many brackets is scanned, outside its strings.
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return False
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > JSON_MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _json_number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        value = Decimal("Infinity")
    if not value.copy_abs() <= JSON_MAX_NUMBER:  # copy_abs: abs() would overflow the context
        raise InvalidJson(f"the number {text[:40]} is too large")
    return value


def _json_constant(name: str) -> Any:
    raise InvalidJson(f"not valid JSON: {name} is not a JSON value (write a number or a string)")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJson(f"duplicate key {key[:40]!r}: a key may appear once in an object")
            seen.add(key)
    return result
