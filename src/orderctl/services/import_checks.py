"""The import's fast path for `OrderCreate`'s rules (DESIGN.md §7): plain Python checks of a
batch of orders as read from the file, for the reading process of `import orders`.

`OrderCreate.model_validate` costs ~30 µs an order, most of the reading process's time; these
checks cost a fraction of it. They apply the schema's rules (`schemas.py`, with the rules
themselves from `parsing.py`: `normalize_email`, the control-character classes, the stripped
whitespace, `to_utc`; `schemas.money_cents`) to exactly the values the schema would give, and
say nothing about a value they are unsure of. The contract, which `tests/test_import_checks.py`
checks on a corpus of hostile values against the schema itself:

- an order these checks accept, `OrderCreate` accepts, with the same values;
- an order `OrderCreate` refuses, these checks refuse.

An order they refuse goes through `OrderCreate` as before (`imports._validate`), which gives the
error message, or, for the few forms left to it (`+5` or `1.0` as a quantity, `1e2` as a
price, non-ASCII digits), accepts it. The verdict of an import is therefore always the schema's.

No database access: this runs in the forked reading process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from orderctl.enums import OrderStatus
from orderctl.order_content import TEXT_FIELDS
from orderctl.parsing import (
    CONTROL_CHARACTERS,
    TEXT_CONTROL_CHARACTERS,
    WHITE_SPACE,
    normalize_email,
    to_utc,
)
from orderctl.pricing import WantedLine
from orderctl.schemas import (
    ITEMS_MAX,
    NAME_MAX,
    NOTES_MAX,
    QUANTITY_MAX,
    REF_MAX,
    SHIPPING_ADDRESS_MAX,
    SKU_MAX,
    OrderCreate,
    OrderItemCreate,
    money_cents,
)
from orderctl.services.import_rules import Valid

_TEXT_MAX = {"notes": NOTES_MAX, "shipping_address": SHIPPING_ADDRESS_MAX}
assert tuple(_TEXT_MAX) == TEXT_FIELDS, "a text field without its limit here"
_ORDER_KEYS = frozenset(OrderCreate.model_fields)
_ITEM_KEYS = frozenset(OrderItemCreate.model_fields)
_STATUSES = frozenset(status.value for status in OrderStatus)
_DEFAULT_STATUS = OrderStatus.PENDING.value
#: A price these checks read: plain ASCII digits with an optional fraction (the schema also
#: takes exponents, signs, underscores and other scripts' digits: those go to it).
_PRICE = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")
#: A timestamp these checks read: a subset of `imports._ISO_DATE` whose every match
#: `datetime.fromisoformat` reads as pydantic does (fields in range; the day of the month is
#: checked by both).
_WHEN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?"
)
#: Values seen per batch repeat (customers order again, SKUs recur): their verdicts are kept
#: until this many, then forgotten, so memory stays flat.
_CACHE_MAX = 50_000


class FastChecks:
    """`OrderCreate`'s rules for the orders of an import; one instance per import.

    The values a file repeats (emails, names, SKUs, quantities, prices, currencies) are checked
    once: each accepted raw string is kept with its checked value, per rule, until there are
    `_CACHE_MAX` of them (then forgotten, so memory stays flat). Only strings are kept: `1`,
    `True` and `"1"` are different inputs to the schema.
    """

    def __init__(self) -> None:
        self._emails: dict[Any, str] = {}
        self._names: dict[Any, str] = {}
        self._currencies: dict[Any, str] = {}
        self._skus: dict[Any, str] = {}
        self._quantities: dict[Any, int] = {}
        self._prices: dict[Any, Decimal] = {}
        self._caches: tuple[dict[str, Any], ...] = (
            self._emails, self._names, self._currencies, self._skus, self._quantities,
            self._prices,
        )  # fmt: skip

    def batch(self, orders: Sequence[dict[str, Any]]) -> list[Valid | None]:
        """Each order's `Valid` tuple, or None where the schema must decide."""
        if sum(len(cache) for cache in self._caches) > _CACHE_MAX:
            for cache in self._caches:
                cache.clear()
        check = self.order
        return [check(data) for data in orders]

    def order(self, data: dict[str, Any]) -> Valid | None:
        """The order as `OrderCreate` would give it (a `Valid` tuple), or None: not sure."""
        try:
            return self._order(data)
        except TypeError:  # a list or an object where a value belongs: not hashable
            return None

    def _order(self, data: dict[str, Any]) -> Valid | None:
        if not _ORDER_KEYS.issuperset(data):
            return None
        ref = _stripped_line(data.get("external_ref"), 1, REF_MAX)
        email = _kept(self._emails, data.get("customer_email"), _email)
        if ref is None or email is None:
            return None
        name = _optional(data.get("customer_name"), self._names, _name)
        status = data.get("status", _DEFAULT_STATUS)
        currency = _optional(data.get("currency"), self._currencies, _currency)
        created = _optional(data.get("created_at"), None, _when)
        texts = _texts(data)
        if (
            name is _REFUSED
            or status not in _STATUSES
            or currency is _REFUSED
            or created is _REFUSED
            or texts is None
        ):
            return None
        lines = self._items(data.get("items"))
        if lines is None:
            return None
        return (ref, email, name or None, status, currency, texts, created, lines)

    def _items(self, items: Any) -> list[WantedLine] | None:
        """`OrderCreate.items`: 1 to 1,000 lines, each SKU once."""
        if type(items) is not list or not 1 <= len(items) <= ITEMS_MAX:
            return None
        skus, quantities, prices = self._skus, self._quantities, self._prices
        lines: list[WantedLine] = []
        for item in items:  # the hot loop: `_kept` inlined for the values seen before
            if type(item) is not dict or not _ITEM_KEYS.issuperset(item):
                return None
            raw = item.get("sku")
            sku = skus.get(raw)
            if sku is None and (sku := _kept(skus, raw, _sku)) is None:
                return None
            raw = item.get("quantity")
            quantity = quantities.get(raw)
            if quantity is None and (quantity := _kept(quantities, raw, _quantity)) is None:
                return None
            raw = item.get("unit_price")
            price = None
            if raw is not None:
                price = prices.get(raw)
                if price is None and (price := _kept(prices, raw, _price)) is None:
                    return None
            lines.append((sku, quantity, price))
        if len(lines) > 1 and len({line[0] for line in lines}) < len(lines):
            return None  # a SKU on two lines
        return lines


T = TypeVar("T")
V = TypeVar("V")


def _kept(cache: dict[Any, T], raw: Any, check: Callable[[Any], T | None]) -> T | None:
    """`check(raw)`, from `cache` when a string was accepted before (and kept when accepted)."""
    value = cache.get(raw)
    if value is None:
        value = check(raw)
        if value is not None and type(raw) is str:
            cache[raw] = value
    return value


#: What `_optional` says of a value given and refused.
_REFUSED: Any = object()


def _optional(value: Any, cache: dict[Any, T] | None, check: Callable[[Any], T | None]) -> Any:
    """An optional field: None when missing (or null), its checked value, or `_REFUSED`."""
    if value is None:
        return None
    checked = check(value) if cache is None else _kept(cache, value, check)
    return _REFUSED if checked is None else checked


def _email(value: Any) -> str | None:
    """`schemas.Email`: `parsing.normalize_email`."""
    return _or_none(normalize_email, value) if type(value) is str else None


def _name(value: Any) -> str | None:
    """`schemas.OptionalName` (may be empty once stripped)."""
    return _stripped_line(value, 0, NAME_MAX)


def _sku(value: Any) -> str | None:
    """`schemas.Sku`."""
    return _stripped_line(value, 1, SKU_MAX)


def _stripped_line(value: Any, shortest: int, longest: int) -> str | None:
    """A stripped one-line string of `shortest`..`longest` characters (`schemas.Sku`, `Name`,
    `ExternalRef`: `StringConstraints(strip_whitespace=True, …)`, then `parsing.single_line`)."""
    if type(value) is not str:
        return None
    stripped = value.strip(WHITE_SPACE)
    if not shortest <= len(stripped) <= longest or CONTROL_CHARACTERS.search(stripped):
        return None
    return stripped


def _currency(value: Any) -> str | None:
    """`schemas.Currency`: three ASCII letters once stripped, in upper case."""
    if type(value) is not str:
        return None
    code = value.strip(WHITE_SPACE)
    return code.upper() if len(code) == 3 and code.isascii() and code.isalpha() else None


def _texts(data: dict[str, Any]) -> tuple[str | None, ...] | None:
    """The `TEXT_FIELDS` (`schemas.Notes`, `ShippingAddress`: a length, `parsing.free_text`),
    an empty one as None."""
    texts: list[str | None] = []
    for field, longest in _TEXT_MAX.items():
        value = data.get(field)
        if value is not None and (
            type(value) is not str or len(value) > longest or TEXT_CONTROL_CHARACTERS.search(value)
        ):
            return None
        texts.append(value or None)
    return tuple(texts)


def _quantity(value: Any) -> int | None:
    """`schemas.Quantity` for a JSON integer or a string of ASCII digits."""
    if type(value) is int:
        number = value
    elif type(value) is str and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
    else:
        return None
    return number if 1 <= number <= QUANTITY_MAX else None


def _price(value: Any) -> Decimal | None:
    """`schemas.Money` for a JSON number (Decimal or int) or a plain decimal string."""
    if type(value) is str:
        if not _PRICE.fullmatch(value):
            return None
        value = Decimal(value)
    elif type(value) is int:
        value = Decimal(value)
    elif type(value) is not Decimal:
        return None
    return _or_none(money_cents, value)


def _when(value: Any) -> datetime | None:
    """`schemas.Timestamp` for the ISO forms of `_WHEN`, in UTC."""
    if type(value) is not str or not _WHEN.fullmatch(value):
        return None
    return _or_none(_iso_utc, value)


def _iso_utc(value: str) -> datetime:
    return to_utc(datetime.fromisoformat(value))


def _or_none(check: Callable[[V], T], value: V) -> T | None:
    """`check(value)`, or None where it raises ValueError (the rules' way to refuse)."""
    try:
        return check(value)
    except ValueError:
        return None
