"""Deterministic sample data for demos and trying things out (`orderctl demo`).

Everything goes through the order services (so stock, history and actors are real); products
are added through the product repository. Orders carry external refs DEMO-0001…, so a second
run skips what exists and never duplicates.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel

from orderctl import clock
from orderctl.enums import TRANSITIONS, OrderStatus, Role
from orderctl.errors import InsufficientStock
from orderctl.models import Product
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

#: sku, name, price, stock (None: not tracked)
PRODUCTS: tuple[tuple[str, str, str, int | None], ...] = (
    ("MUG-01", "Stoneware mug", "12.50", 900),
    ("MUG-02", "Espresso cup set (4)", "24.00", 400),
    ("TEE-S", "T-shirt (S)", "19.99", 500),
    ("TEE-M", "T-shirt (M)", "19.99", 600),
    ("TEE-L", "T-shirt (L)", "19.99", 450),
    ("CAP-01", "Baseball cap", "9.99", None),
    ("BAG-01", "Canvas tote bag", "14.90", 700),
    ("NB-A5", "Notebook A5, dotted", "7.45", None),
    ("PEN-03", "Fountain pen", "39.00", 250),
    ("STK-10", "Sticker pack (10)", "3.50", None),
    ("POS-A2", "Poster A2 «Nordlicht»", "29.00", 200),
    ("GFT-50", "Gift card 50", "50.00", None),
)
FIRST = (
    "Ana", "Li", "Orla", "Kofi", "Mateo", "Yuki", "Sara", "Jonas", "Amara", "Noah",
    "Chloé", "Ravi", "Ingrid", "Omar", "Zoë", "Lars", "Priya", "Tomás", "Hana", "Emeka",
)  # fmt: skip
LAST = (
    "Souza", "Wei", "O'Brien", "Mensah", "García", "Tanaka", "Cohen", "Berg", "Okafor",
    "Müller", "Dubois", "Iyer", "Hansen", "Haddad", "Nowak", "Silva",
)  # fmt: skip
NOTES = (
    None, None, None, None, "Gift wrap, please", "Leave at the side entrance",
    "Call before delivery", "Invoice to company address",
)  # fmt: skip
REASONS = {
    OrderStatus.PAID: ("card payment", "bank transfer received", None),
    OrderStatus.SHIPPED: ("DHL 00340434", "UPS 1Z999AA1", "collected at shop"),
    OrderStatus.DELIVERED: (None, "signed by recipient"),
    OrderStatus.CANCELLED: ("customer changed their mind", "payment not received"),
    OrderStatus.REFUNDED: ("damaged in transit", "returned within 14 days"),
}
#: How far an order gets along the happy path, with a few cancellations and refunds.
PATHS: tuple[tuple[OrderStatus, ...], ...] = (
    (),
    (OrderStatus.PAID,),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.CANCELLED,),
    (OrderStatus.PAID, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED),
)
CUSTOMERS = 50
DEFAULT_ORDERS = 300
SPREAD = timedelta(weeks=6)


class DemoSummary(BaseModel):
    products_created: int
    orders_created: int
    orders_skipped: int
    #: Orders not created because a product ran out (only with very large --orders).
    orders_out_of_stock: int = 0


#: Told `(what, done, total)` as the demo goes, e.g. `("orders", 120, 300)`.
Progress = Callable[[str, int, int], None]


def demo_ref(number: int) -> str:
    return f"DEMO-{number:04d}"


@requires(Role.ADMIN)
def load_demo(
    uow: UnitOfWork,
    actor: Actor,
    *,
    orders_count: int = DEFAULT_ORDERS,
    currency: str = "EUR",
    progress: Progress | None = None,
) -> DemoSummary:
    """Add the sample catalog, ~50 customers and `orders_count` orders over recent weeks.

    Deterministic (a fixed seed): the same refs get the same content. Existing products and
    existing DEMO-nnnn orders are left alone. Commits per order, as the services do.
    `progress` is told each product and order done (skipped ones too).
    """
    tell = progress or (lambda what, done, total: None)
    products_created = 0
    for done, (sku, name, price, stock) in enumerate(PRODUCTS, 1):
        if uow.products.get_by_sku(sku) is None:
            uow.products.add(
                Product(
                    sku=sku,
                    name=name,
                    unit_price=Decimal(price),
                    stock=stock,
                    active=True,
                    updated_by=actor.username,
                )
            )
            products_created += 1
        tell("products", done, len(PRODUCTS))
    uow.commit()

    rng = random.Random(4242)
    people = [(f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}", i) for i in range(CUSTOMERS)]
    now = clock.utcnow().replace(microsecond=0)
    start = now - SPREAD
    created = skipped = short = 0
    for number in range(1, orders_count + 1):
        tell("orders", number - 1, orders_count)  # at the top: the body has `continue`s
        # Draw every random value first, so a skipped order leaves the sequence unchanged.
        name, index = people[rng.randrange(CUSTOMERS)]
        first = unicodedata.normalize("NFKD", name.split()[0]).encode("ascii", "ignore")
        email = f"{first.decode().lower()}.{index:02d}@example.com"
        lines = rng.sample(PRODUCTS, k=rng.choice((1, 1, 1, 2, 2, 3)))
        quantities = [rng.choice((1, 1, 1, 2, 2, 3, 4)) for _ in lines]
        notes = rng.choice(NOTES)
        offset = SPREAD * (number / (orders_count + 1)) + timedelta(minutes=rng.randrange(600))
        created_at = min(start + offset, now - timedelta(minutes=5))
        path = rng.choice(PATHS)
        steps = [(s, rng.choice(REASONS[s]), timedelta(hours=rng.randrange(2, 72))) for s in path]

        ref = demo_ref(number)
        if uow.orders.get_by_external_ref(ref) is not None:
            skipped += 1
            continue
        data = OrderCreate.model_validate(
            {
                "customer_email": email,
                "customer_name": name,
                "items": [
                    {"sku": sku, "quantity": qty}
                    for (sku, *_), qty in zip(lines, quantities, strict=True)
                ],
                "notes": notes,
                "currency": currency,
                "external_ref": ref,
                "created_at": created_at,
            }
        )
        try:
            order, _ = orders.create_order(uow, actor, data)
        except InsufficientStock:
            uow.rollback()
            short += 1
            continue
        created += 1
        at = created_at
        current = OrderStatus.PENDING
        for status, reason, delay in steps:
            at = min(at + delay, now)
            if status not in TRANSITIONS[current]:
                break
            orders.set_status(uow, actor, order.id, status, reason, at=at)
            current = status
    tell("orders", orders_count, orders_count)
    return DemoSummary(
        products_created=products_created,
        orders_created=created,
        orders_skipped=skipped,
        orders_out_of_stock=short,
    )
