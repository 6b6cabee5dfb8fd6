"""The stock ledger (DESIGN.md §13): giving back what cancelled orders reserved, and a
product's history.

Every change of a tracked product's stock writes one movement in the same transaction; the
writers are `services.products` (set, adjust), `services.orders` (reserve, release on cancel),
`services.maintenance` (release on expire) and `services.verify` (correction).
"""

from __future__ import annotations

from datetime import datetime

from orderctl.enums import Role, StockReason
from orderctl.errors import ValidationFailed
from orderctl.repositories.stock import movement
from orderctl.schemas import MovementRead
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

#: `products history` shows this many movements unless told otherwise.
DEFAULT_HISTORY_LIMIT = 30
MAX_HISTORY_LIMIT = 10_000


def release_reservations(
    uow: UnitOfWork, order_ids: list[int], *, actor: str, at: datetime, note: str | None
) -> int:
    """Give back exactly what the orders' lines reserved and set them to hold nothing, so no
    order can release twice. The caller has just moved the orders to cancelled with a
    compare-and-set, so no other writer releases them concurrently.

    One UPDATE per product, in ascending product id (order creation locks products in the same
    order: no deadlock), and one executemany for the movements, one per line. A product that
    stopped tracking stock meanwhile gets nothing back and no movement. Returns the units.
    """
    lines = uow.stock.reservations_of(order_ids)
    per_product: dict[int, int] = {}
    for _, product_id, reserved in lines:
        per_product[product_id] = per_product.get(product_id, 0) + reserved
    tracked = {pid for pid, qty in per_product.items() if uow.products.release_stock(pid, qty)}
    uow.stock.clear_reservations(order_ids)
    uow.stock.add_movements(
        [
            movement(pid, reserved, StockReason.RELEASE, actor, order_id=oid, note=note, at=at)
            for oid, pid, reserved in lines
            if pid in tracked
        ]
    )
    return sum(qty for pid, qty in per_product.items() if pid in tracked)


@requires(Role.VIEWER)
def product_history(
    uow: UnitOfWork, actor: Actor, sku: str, *, limit: int | None = DEFAULT_HISTORY_LIMIT
) -> list[MovementRead]:
    """The product's stock movements, newest first, each with the ledger's stock after it;
    `limit=None` gives all. Raises `NotFound` (exit 5), `ValidationFailed` (limit)."""
    if limit is not None and not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValidationFailed(f"limit: must be between 1 and {MAX_HISTORY_LIMIT}")
    product = uow.products.get_one_by_sku(sku.strip())
    return [MovementRead.model_validate(row) for row in uow.stock.history(product.id, limit)]
