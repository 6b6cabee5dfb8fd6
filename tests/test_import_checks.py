"""The import's fast checks (`services/import_checks.py`) against `OrderCreate` itself: on a
corpus of hostile, boundary, unicode and SQL-looking values they never accept what the schema
refuses, never give another value than the schema, and accept everything the schema accepts
except the few forms they leave to it (`LEFT_TO_SCHEMA`). No database: pure rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderctl.services.import_checks import FastChecks
from orderctl.services.import_reader import RawOrder
from orderctl.services.imports import _validate, as_valid

BASE: dict[str, Any] = {
    "external_ref": "W-1",
    "customer_email": "a@b.co",
    "customer_name": "Ann",
    "status": "paid",
    "currency": "EUR",
    "created_at": "2026-11-02T09:15:00Z",
    "notes": "gift",
    "shipping_address": "1 Main St",
    "items": [{"sku": "MUG-01", "quantity": "2", "unit_price": "12.50"}],
}

STRINGS = [
    "", " ", "  x  ", "x", "\t", "\n", "a\nb", "a\tb", "a\rb", "\x00", "a\x00", "\x1b[31m",
    "\x1c", "\x1cabc", "abc\x1f", "\x7f", "\x85", "abc\x85", "\x85abc", "\x9f", "\xa0",
    "\xa0abc\u3000", "\u200b", "\u200babc", "\u200e", "\u202e", "\u2028", "\u2066x",
    "\u3000", "\ufeff", "\ufeffabc", "\ud800", "a\udfffb", "é", "Ünïcødé", "日本語", "🙂",
    "ﬀ", "ß", "x' OR 1=1; --", "'; DROP TABLE orders; --", "Robert'); --", "%s", "?", "{}",
    "$(rm -rf /)", "`id`", "a" * 63, "a" * 64, "a" * 65, "a" * 99, "a" * 100, "a" * 101,
    " " + "a" * 100 + " ", "a" * 199, "a" * 200, "a" * 201, "a" * 1000, "a" * 1001,
    "a" * 2000, "a" * 2001, "é" * 64, "é" * 65, "null", "None", "0", "-1", "1e999999",
]  # fmt: skip
EMAILS = [
    "a@b.co", " A@B.CO ", "a@b", "a@@b.co", "@b.co", "a@.co", "a@b.co.", "a b@c.de",
    "a@b.c\u00e9", "ä@b.co", "a\x00@b.co", "a@b.co\x1c", "\x1ca@b.co", "\xa0a@b.co\u3000",
    "a@b.co\x85", "x' OR 1=1@b.co", "a" * 250 + "@b.co", "a" * 245 + "@b.co",
    "A" * 246 + "@b.co", "a@b.c0", "a@b.co\n", "",
]  # fmt: skip
QUANTITIES = [
    "1", "2", "007", "100000", "100001", "0", "00", "-1", "+5", "1.0", "1.5", "1_000", " 5",
    "5 ", "1e2", "٣", "¹", "99999999999999999999", "9" * 5000, "", "two", "0x10", "true",
    1, 0, 100000, 100001, -3, True, False, 1.0, Decimal("2"), Decimal("2.0"), Decimal("2.5"),
    None, [], {}, 10**100,
]  # fmt: skip
PRICES = [
    "0", "0.00", "1", "1.5", "1.50", "1.500", "1.505", "12.50", "9999999999.99",
    "10000000000", "9999999999.999", "99999999999", "1e2", "+1", "-1", "-0", " 1", "1_0",
    "1,50", "Infinity", "NaN", "nan", "١", "1." , ".5", "0" * 30 + "1", "1" * 40, "",
    1, 0, -1, 10**100, True, Decimal("1.5"), Decimal("1.505"), Decimal("-0"),
    Decimal("1E+2"), Decimal("1e-2"), None, [],
]  # fmt: skip
CURRENCIES = [
    "EUR", "eur", " eur ", "Usd", "EU", "EURO", "ﬀa", "éur", "\x1ceur", "e u", "123", "",
    "\xa0EUR\u3000", "EUR\x85", None, 3, [],
]  # fmt: skip
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded", "PAID",
            " paid", "Paid", "sent", "", None, 1]  # fmt: skip
TIMES = [
    "2026-11-02", "2026-11-02T09:15", "2026-11-02 09:15:00", "2026-11-02T09:15:00Z",
    "2026-11-02T09:15:00+0100", "2026-11-02T09:15:00+01:00", "2026-11-02T09:15:00-00:00",
    "2026-11-02T09:15:00+23:59", "2026-11-02T09:15:00+24:00", "2026-11-02T09:15:00+00:60",
    "2026-11-02T24:00:00", "2026-11-02T23:59:60", "2026-11-02T23:60", "2026-02-29",
    "2024-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "0001-01-01",
    "0001-01-01T00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59",
    "2026-11-02T09:15:00.1", "2026-11-02T09:15:00.123456", "2026-11-02T09:15:00.1234567",
    "2026-11-02t09:15", "2026-11-02T09:15z", " 2026-11-02", "2026-11-02\n", "02/11/2026",
    "1700000000", "２０２６-11-02", "2026-11-02T09:15:00+01", "", "now", None, 1700000000,
]  # fmt: skip
ITEM_LISTS: list[Any] = [
    [],
    [{"sku": "A", "quantity": "1"}, {"sku": "A", "quantity": "2"}],
    [{"sku": "A", "quantity": "1"}, {"sku": " A ", "quantity": "2"}],
    [{"sku": "A", "quantity": "1"}, {"sku": "a", "quantity": "2"}],
    [{"sku": f"S{n}", "quantity": "1"} for n in range(1000)],
    [{"sku": f"S{n}", "quantity": "1"} for n in range(1001)],
    [{"sku": "A"}],
    [{"quantity": "1"}],
    [{"sku": "A", "quantity": "1", "extra": 1}],
    [{"sku": "A", "quantity": "1", "unit_price": None}],
    ["A"],
    "A",
    None,
    {"sku": "A", "quantity": "1"},
]
#: Forms the schema accepts that the fast checks leave to it (they are rare in files).
LEFT_TO_SCHEMA = {
    ("quantity", v) for v in ("+5", "1.0", "1_000", " 5", "5 ", "٣", "¹", 1.0, Decimal("2"),
                              Decimal("2.0"), 10**100, True, False)
} | {
    ("unit_price", v) for v in ("1e2", "+1", "-0", " 1", "1_0", "١", "1.", ".5", "0" * 30 + "1",
                                True)
}  # fmt: skip


def _schema(data: dict[str, Any]) -> Any:
    """The import's verdict through the schema: the `Valid` tuple, or the error string."""
    parsed = _validate(RawOrder(lines=[2], data=data, raw=[], ref="W-1"), is_csv=False)
    return parsed if isinstance(parsed, str) else as_valid(parsed)


def _agree(data: dict[str, Any], field: str, value: Any) -> None:
    fast = FastChecks().order(data)
    schema = _schema(data)
    if fast is not None:
        assert not isinstance(schema, str), (field, value, schema)
        assert repr(fast) == repr(schema), (field, value)
    elif not isinstance(schema, str):
        assert (field, value) in LEFT_TO_SCHEMA, (field, value, schema)


def _with(field: str, value: Any) -> dict[str, Any]:
    data = {**BASE, "items": [dict(BASE["items"][0])]}
    if field in ("sku", "quantity", "unit_price"):
        data["items"][0][field] = value
    else:
        data[field] = value
    return data


CORPUS = (
    [(f, v) for f in ("external_ref", "customer_name", "sku", "notes", "shipping_address")
     for v in STRINGS]
    + [("customer_email", v) for v in EMAILS + STRINGS]
    + [("quantity", v) for v in QUANTITIES]
    + [("unit_price", v) for v in PRICES]
    + [("currency", v) for v in CURRENCIES + STRINGS]
    + [("status", v) for v in STATUSES + STRINGS]
    + [("created_at", v) for v in TIMES + STRINGS]
    + [("items", v) for v in ITEM_LISTS]
)  # fmt: skip


@pytest.mark.parametrize(("field", "value"), CORPUS, ids=lambda x: repr(x)[:30])
def test_fast_checks_give_the_schemas_verdict(field: str, value: Any) -> None:
    _agree(_with(field, value), field, value)


def test_a_missing_optional_field_and_an_unknown_key() -> None:
    for field in ("customer_name", "status", "currency", "created_at", "notes"):
        data = _with(field, None)
        del data[field]
        _agree(data, field, "<missing>")
        assert FastChecks().order(data) is not None, field
    for extra in ({"customer": "x"}, {"total": "1"}):
        data = {**BASE, **extra}
        assert FastChecks().order(data) is None
        assert isinstance(_schema(data), str)


def test_the_fast_checks_take_the_plain_forms_of_every_field() -> None:
    """The point of the fast path: an ordinary order never reaches the schema."""
    checks = FastChecks()
    assert checks.order(BASE) is not None
    json_form = {**BASE, "items": [{"sku": "MUG-01", "quantity": 2, "unit_price": Decimal("12.5")}]}
    assert checks.order(json_form) is not None
    accepted = [v for f, v in CORPUS if f == "quantity" and checks.order(_with(f, v))]
    assert accepted == ["1", "2", "007", "100000", 1, 100000]


def test_remembered_verdicts_do_not_leak_between_fields() -> None:
    """A value's verdict is kept per rule: 65 characters are a name but not a SKU."""
    checks = FastChecks()
    assert checks.order(_with("customer_name", "a" * 65)) is not None
    assert checks.order(_with("sku", "a" * 65)) is None
    assert checks.order(_with("customer_name", " x ")) is not None
    assert checks.order(_with("sku", " x ")) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(
        ["external_ref", "customer_name", "customer_email", "sku", "notes", "currency",
         "status", "created_at", "quantity", "unit_price"]
    ),
    value=st.one_of(
        st.text(max_size=12),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=70),
        st.from_regex(r"\A[0-9 .+_-]{0,8}\Z"),
        st.from_regex(r"\A2026-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?\Z"),
    ),
)  # fmt: skip
def test_fast_checks_agree_on_random_text(field: str, value: str) -> None:
    data = _with(field, value)
    fast = FastChecks().order(data)
    schema = _schema(data)
    if fast is not None:
        assert repr(fast) == repr(schema)
    else:
        assert isinstance(schema, str) or field in ("quantity", "unit_price"), (value, schema)


def test_a_batch_as_columns_gives_back_each_order_and_its_lines() -> None:
    """`CheckedBatch` (what crosses the pipe) returns every order with its own rows, lines and
    raw text, in order, after pickling."""
    import pickle
    from datetime import UTC, datetime

    from orderctl.services.import_rules import CheckedBatch

    when = datetime(2026, 11, 2, tzinfo=UTC)
    wanted = [
        (RawOrder(lines=[2, 3, 5], data=None, raw=[["a"], ["b"], ["c"]], ref="A"),
         ("A", "a@b.co", "Ann", "paid", "EUR", ("n", None), when,
          [("X", 1, Decimal("1.50")), ("Y", 2, None), ("Z", 3, Decimal("0.00"))])),
        (RawOrder(lines=[6], data=None, raw=[["d"]], ref="B"),
         ("B", "c@d.co", None, "pending", None, (None, None), None, [("X", 4, None)])),
    ]  # fmt: skip
    for keep_rows in (True, False):
        batch = CheckedBatch()
        for order, valid in wanted:
            batch.add(order, valid, keep_rows=keep_rows)
        back = pickle.loads(pickle.dumps(batch)).valid()
        assert [v for _, v in back] == [v for _, v in wanted]
        assert [o.lines for o, _ in back] == [[2, 3, 5], [6]]
        assert [o.where for o, _ in back] == ["lines 2-5", "line 6"]
        assert [o.raw for o, _ in back] == ([o.raw for o, _ in wanted] if keep_rows else [[], []])


def test_priced_lines_kept_give_the_same_prices_and_problems() -> None:
    """`price_lines(…, known)`: a line priced before gives what pricing it again gives; a
    refused line is not kept, and the order total is checked every time."""
    from orderctl.pricing import PricingProblem, price_lines
    from orderctl.repositories.orders.records import CatalogEntry

    catalog = {"X": CatalogEntry(1, "Mug", Decimal("2.50"), True)}
    known: dict[Any, Any] = {}
    orders = [
        [("X", 2, None)],
        [("X", 2, None), ("Y", 1, None)],
        [("X", 2, None)],
        [("X", 1, Decimal("9999999999.99")), ("X", 2, None)],
    ]
    for lines in orders:
        assert price_lines(lines, catalog, known) == price_lines(lines, catalog)
    assert ("Y", 1, None) not in known
    too_much = price_lines([("X", 1, Decimal("9999999999.99")), ("X", 2, None)], catalog, known)
    assert isinstance(too_much, PricingProblem) and too_much.field == "total"
