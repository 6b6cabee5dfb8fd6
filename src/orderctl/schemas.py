"""Pydantic v2 schemas: validated input (`XCreate`, `XUpdate`) and output documents (`XRead`).

The output documents are the JSON contract of DESIGN.md §6; the CLI's `-o json` and the HTTP
API both serialise them with `model_dump(mode="json")`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from orderctl.enums import OrderStatus, Role, TokenState
from orderctl.errors import ValidationFailed, without_internals
from orderctl.parsing import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    FREE_TEXT_PATTERN,
    NON_BLANK_PATTERN,
    SINGLE_LINE_PATTERN,
    format_money,
    free_text,
    normalize_email,
    single_line,
    to_utc,
)
from orderctl.tables import MONEY_MAX

NOTES_MAX = 2000
SHIPPING_ADDRESS_MAX = 1000
QUANTITY_MAX = 100_000
#: The lengths of a SKU, a name, an external ref, and the lines of one order.
SKU_MAX = 64
NAME_MAX = 200
REF_MAX = 100
ITEMS_MAX = 1000


_CENT = Decimal("0.01")
_ZERO = Decimal(0)


def money_cents(value: Decimal) -> Decimal:
    # Runs for every price of every imported line: plain comparisons only (as_tuple() was 4x
    # slower). The bound is checked before quantize(), which fails beyond 28 digits (1e308).
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value < _ZERO:
        raise ValueError("must not be negative")
    if value > MONEY_MAX:
        raise ValueError(f"must be at most {MONEY_MAX}")
    cents = value.quantize(_CENT)
    if cents != value:
        raise ValueError("must have at most two decimals")
    return cents


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Money in and out: Decimal with two places, a string with two decimals in JSON.
#: What `money_cents` takes, for the OpenAPI document: a number, or a string of digits.
MONEY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": float(MONEY_MAX), "multipleOf": 0.01},
        {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"},
    ]
}
Money = Annotated[
    Decimal,
    Field(allow_inf_nan=False, json_schema_extra=MONEY_SCHEMA),
    AfterValidator(money_cents),
    PlainSerializer(format_money, return_type=str, when_used="json"),
]
Timestamp = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
Email = Annotated[
    str,
    AfterValidator(normalize_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN, "maxLength": EMAIL_MAX}),
]
# Names, SKUs and refs are shown in tables and typed back on command lines: no control
# characters at all (`parsing.single_line`). Notes keep newline and tab (`parsing.free_text`).
# Each rule is also written into the JSON schema as a pattern (the API's OpenAPI document).
NON_BLANK = Field(json_schema_extra={"pattern": NON_BLANK_PATTERN})


Sku = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=SKU_MAX),
    AfterValidator(single_line),
    NON_BLANK,
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(single_line),
    NON_BLANK,
]
OptionalName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=NAME_MAX),
    AfterValidator(single_line),
    Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN}),
]
FREE_TEXT = Field(json_schema_extra={"pattern": FREE_TEXT_PATTERN})
Notes = Annotated[
    str, StringConstraints(max_length=NOTES_MAX), AfterValidator(free_text), FREE_TEXT
]
ShippingAddress = Annotated[
    str, StringConstraints(max_length=SHIPPING_ADDRESS_MAX), AfterValidator(free_text), FREE_TEXT
]
ExternalRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=REF_MAX),
    AfterValidator(single_line),
    NON_BLANK,
]
#: A token's name: the rule of a ref (one line, 1-100 characters once stripped).
TokenName = ExternalRef
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.@+-]+$"),
]
#: The names a user can have (`services.auth.check_username`).
USERNAME_PATTERN = r"[A-Za-z0-9._@+-]{1,64}"
#: An existing user named in a request body, taken as given (not stripped), so that the
#: OpenAPI document's pattern is exactly what the API accepts.
ExactUsername = Annotated[str, StringConstraints(pattern=f"^{USERNAME_PATTERN}$")]
Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]


def _not_bool(value: Any) -> Any:
    # Pydantic's lax mode reads `true` as 1; a count is never a yes/no.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


#: Last in each `Annotated`, so that it runs first and the bounds stay in the JSON schema.
NOT_BOOL = BeforeValidator(_not_bool)
Quantity = Annotated[int, Field(ge=1, le=QUANTITY_MAX), NOT_BOOL]
STOCK_MAX = 2_000_000_000
Stock = Annotated[int, Field(ge=0, le=STOCK_MAX), NOT_BOOL]
StockDelta = Annotated[int, Field(ge=-STOCK_MAX, le=STOCK_MAX), NOT_BOOL]


# defer_build: a model's validator is built on its first use, not at import; a command uses
# two or three of these models, and building all of them cost ~40 ms of every start-up.
class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# ---- output documents (DESIGN.md §6) ----


class ProductRead(ReadModel):
    sku: str
    name: str
    unit_price: Money
    stock: int | None
    active: bool


class CustomerRef(ReadModel):
    id: int
    email: str
    name: str | None


class CustomerRead(ReadModel):
    id: int
    email: str
    name: str | None
    created_at: Timestamp


class CustomerDetail(CustomerRead):
    order_count: int
    #: Per currency (`{"EUR": "60.85"}`); a currency with nothing paid is left out.
    total_spent: dict[str, Money]


class OrderItemRead(ReadModel):
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class OrderRead(ReadModel):
    id: int
    external_ref: str | None
    status: OrderStatus
    currency: str
    total: Money
    notes: str | None
    shipping_address: str | None
    created_at: Timestamp
    updated_at: Timestamp
    customer: CustomerRef
    items: list[OrderItemRead]


class OrderPageRead(ReadModel):
    """A page of `GET /api/orders` (`services.order_listing.OrderPage`, validated)."""

    items: list[OrderRead]
    next_cursor: str | None


class EventRead(ReadModel):
    at: Timestamp
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None


class _EventIds(ReadModel):
    id: int
    order_id: int
    external_ref: str | None


class OrderEventRead(EventRead, _EventIds):
    """One event of `events tail` and `GET /api/events`: the history event (DESIGN.md §6)
    with its own id and its order's id and external_ref in front (pydantic takes the fields
    of the last base first)."""


class EventPageRead(ReadModel):
    """`GET /api/events`: the events, oldest first, and the `after` of the next request."""

    items: list[OrderEventRead]
    next_after: int


class MovementRead(ReadModel):
    """One row of `products history`: a stock movement and the ledger's stock after it."""

    id: int
    at: Timestamp
    reason: str
    quantity: int
    stock_after: int
    order_id: int | None
    actor: str
    note: str | None


class UserRead(ReadModel):
    id: int
    username: str
    role: Role
    active: bool
    created_at: Timestamp


class TokenRead(ReadModel):
    id: int
    name: str
    prefix: str
    user: str
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    state: TokenState


# ---- input ----


class OrderItemCreate(InputModel):
    sku: Sku
    quantity: Quantity
    unit_price: Money | None = None


class OrderCreate(InputModel):
    """One order to create: the `--from-file` document and one JSONL import line."""

    customer_email: Email
    customer_name: OptionalName | None = None
    items: list[OrderItemCreate] = Field(min_length=1, max_length=ITEMS_MAX)
    notes: Notes | None = None
    shipping_address: ShippingAddress | None = None
    currency: Currency | None = None
    external_ref: ExternalRef | None = None
    status: OrderStatus = OrderStatus.PENDING
    created_at: Timestamp | None = None

    @field_validator("items")
    @classmethod
    def _unique_skus(cls, items: list[OrderItemCreate]) -> list[OrderItemCreate]:
        seen: set[str] = set()
        for item in items:
            if item.sku in seen:
                raise ValueError(f"SKU {item.sku!r} appears on more than one line")
            seen.add(item.sku)
        return items


class ProductCreate(InputModel):
    sku: Sku
    name: Name
    unit_price: Money
    stock: Stock | None = None
    active: StrictBool = True


class ProductUpdate(InputModel):
    # The rules of `_something`, for the OpenAPI document.
    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "not": {
                "required": ["stock", "add_stock"],
                "properties": {"add_stock": {"not": {"type": "null"}}},
            },
        }
    )

    name: Name | None = None
    unit_price: Money | None = None
    stock: Stock | None = None
    #: Added to the stock atomically (negative takes away): returns and corrections that
    #: must not race orders reserving stock at the same moment.
    add_stock: StockDelta | None = None
    active: StrictBool | None = None

    @model_validator(mode="after")
    def _something(self) -> ProductUpdate:
        if not self.model_fields_set:
            raise ValueError(
                "nothing to update: give at least one of name, price, stock, add_stock, active"
            )
        if "stock" in self.model_fields_set and self.add_stock is not None:
            raise ValueError("give stock (a new level) or add_stock (a change), not both")
        return self


class CustomerCreate(InputModel):
    email: Email
    name: OptionalName | None = None


class UserCreate(InputModel):
    username: Username
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class PasswordSet(InputModel):
    """A new password (`users reset-password`): the same rule as `UserCreate.password`."""

    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class TokenCreate(InputModel):
    """The name of a token made by `auth token create`."""

    name: TokenName


M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError, *, where: str = "") -> str:
    """One line for a Pydantic error: `field: reason` (the first problem, and how many more)."""
    errors = error.errors(include_url=False)
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "input"
    msg = without_internals(str(first["msg"]))
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    prefix = f"{where}: " if where else ""
    return f"{prefix}{field}: {msg}{more}"


def parse(model: type[M], data: Any, *, where: str = "") -> M:
    """Validate `data` into `model`, raising `ValidationFailed` (exit 6) with a one-line reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(describe(exc, where=where)) from None
