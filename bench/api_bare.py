"""The baseline of bench/api_load: a bare FastAPI app with SQLAlchemy Core over orderctl's own
migrated tables, doing what orderctl's three measured operations do and nothing more.

- every request: the bearer token looked up by its SHA-256 hash in `api_tokens` joined to
  `users`, refused when unknown, revoked, expired or its user disabled; the role checked;
- `GET /api/orders/{id}`: the order with its customer, then its lines;
- `GET /api/orders?limit=30`: the newest 31 orders with their customers, then the lines of
  the 30 shown (one `= ANY` query), and the keyset cursor of the next page;
- `POST /api/orders`: the products by SKU, the stock reserved (conditional UPDATE), the
  customer read or inserted, the order, its lines, its `created` event and the stock
  movements inserted, one commit.

No validation beyond what the statements need, no error documents: it is the floor that
orderctl is measured against, run as `api_bare:create_app` (a factory) by the launcher of
`orderctl serve` (`cli.serve.run_server`), with BARE_DATABASE_URL naming the database. Not
part of orderctl (bench/README.md).
"""

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

TOKEN = text(
    "SELECT t.id, t.expires_at, t.revoked_at, u.username, u.role, u.active "
    "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = :hash"
)
ORDER = text(
    "SELECT o.id, o.external_ref, o.status, o.currency, o.total, o.notes, o.shipping_address, "
    "o.created_at, o.updated_at, c.id, c.email, c.name "
    "FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = :id"
)
PAGE = text(
    "SELECT o.id, o.external_ref, o.status, o.currency, o.total, o.notes, o.shipping_address, "
    "o.created_at, o.updated_at, c.id, c.email, c.name "
    "FROM orders o JOIN customers c ON c.id = o.customer_id "
    "ORDER BY o.created_at DESC, o.id DESC LIMIT :limit"
)
ITEMS = text(
    "SELECT order_id, sku, name, quantity, unit_price, line_total FROM order_items "
    "WHERE order_id = ANY(:ids) ORDER BY order_id, id"
)
PRODUCTS = text("SELECT id, sku, name, unit_price, stock FROM products WHERE sku = ANY(:skus)")
RESERVE = text(
    "UPDATE products SET stock = stock - :q WHERE id = :id AND stock IS NOT NULL AND stock >= :q"
)
CUSTOMER = text("SELECT id, email, name FROM customers WHERE email = :email")
NEW_CUSTOMER = text(
    "INSERT INTO customers (email, name, created_at, created_by) "
    "VALUES (:email, NULL, :now, :actor) RETURNING id"
)
NEW_ORDER = text(
    "INSERT INTO orders (customer_id, status, currency, total, created_at, updated_at, "
    "created_by) VALUES (:customer_id, 'pending', :currency, :total, :now, :now, :actor) "
    "RETURNING id"
)
NEW_ITEM = text(
    "INSERT INTO order_items (order_id, product_id, sku, name, quantity, unit_price, "
    "line_total, reserved) VALUES (:order_id, :product_id, :sku, :name, :quantity, "
    ":unit_price, :line_total, :reserved)"
)
NEW_EVENT = text(
    "INSERT INTO order_events (order_id, at, actor, action, to_status) "
    "VALUES (:order_id, :now, :actor, 'created', 'pending')"
)
NEW_MOVEMENT = text(
    "INSERT INTO stock_movements (product_id, quantity, reason, order_id, actor, at) "
    "VALUES (:product_id, :quantity, 'reserve', :order_id, :actor, :now)"
)
RANK = {"viewer": 0, "operator": 1, "admin": 2}


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _order_doc(row: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row[0],
        "external_ref": row[1],
        "status": row[2],
        "currency": row[3],
        "total": f"{row[4]:.2f}",
        "notes": row[5],
        "shipping_address": row[6],
        "created_at": _stamp(row[7]),
        "updated_at": _stamp(row[8]),
        "customer": {"id": row[9], "email": row[10], "name": row[11]},
        "items": items,
    }


def _items(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    lines: dict[int, list[dict[str, Any]]] = {order_id: [] for order_id in ids}
    for order_id, sku, name, quantity, price, line_total in conn.execute(ITEMS, {"ids": ids}):
        lines[order_id].append(
            {
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "unit_price": f"{price:.2f}",
                "line_total": f"{line_total:.2f}",
            }
        )
    return lines


def create_app() -> FastAPI:
    """The bare app on BARE_DATABASE_URL (a postgresql+psycopg URL)."""
    # orderctl's driver settings (db.make_engine): no server-side prepared statements; and
    # its server's pool (api.app.POOL_SIZE): with SQLAlchemy's default of 5, eight requests
    # at once kept opening and closing connections, which slowed this app more than orderctl.
    connect_args = {"connect_timeout": 5, "prepare_threshold": None}
    engine: Engine = create_engine(
        os.environ["BARE_DATABASE_URL"], connect_args=connect_args, pool_size=20, max_overflow=20
    )
    app = FastAPI()

    def actor(minimum: str) -> Any:
        def check(authorization: Annotated[str | None, Header()] = None) -> str:
            if not authorization or not authorization.startswith("Bearer "):
                raise HTTPException(401, "not authenticated")
            digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
            with engine.connect() as conn:
                row = conn.execute(TOKEN, {"hash": digest}).first()
            if row is None or row[2] is not None:
                raise HTTPException(401, "token refused")
            if row[1] is not None and row[1] <= datetime.now(UTC):
                raise HTTPException(401, "token expired")
            if not row[5]:
                raise HTTPException(401, "user disabled")
            if RANK[row[4]] < RANK[minimum]:
                raise HTTPException(403, "permission denied")
            username: str = row[3]
            return username

        return Depends(check)

    @app.get("/api/orders/{order_id}")
    def get_order(order_id: int, _: Annotated[str, actor("viewer")]) -> Any:
        with engine.connect() as conn:
            row = conn.execute(ORDER, {"id": order_id}).first()
            if row is None:
                raise HTTPException(404, f"order {order_id} not found")
            return _order_doc(row, _items(conn, [order_id])[order_id])

    @app.get("/api/orders")
    def list_orders(_: Annotated[str, actor("viewer")], limit: int = 30) -> Any:
        with engine.connect() as conn:
            rows = conn.execute(PAGE, {"limit": limit + 1}).all()
            more = len(rows) > limit
            rows = rows[:limit]
            lines = _items(conn, [row[0] for row in rows])
        cursor = None
        if more and rows:
            raw = json.dumps(["-created", rows[-1][7].isoformat(), rows[-1][0]])
            cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        return {"items": [_order_doc(row, lines[row[0]]) for row in rows], "next_cursor": cursor}

    @app.post("/api/orders", status_code=201)
    def create_order(
        body: Annotated[dict[str, Any], Body()], username: Annotated[str, actor("operator")]
    ) -> Any:
        now = datetime.now(UTC)
        wanted = {item["sku"]: int(item["quantity"]) for item in body["items"]}
        with engine.begin() as conn:
            products = {row[1]: row for row in conn.execute(PRODUCTS, {"skus": list(wanted)}).all()}
            if len(products) != len(wanted):
                raise HTTPException(422, "unknown SKU")
            lines = []
            for sku, quantity in sorted(wanted.items(), key=lambda kv: products[kv[0]][0]):
                product = products[sku]
                reserved = 0
                if product[4] is not None:
                    if conn.execute(RESERVE, {"q": quantity, "id": product[0]}).rowcount != 1:
                        raise HTTPException(409, f"insufficient stock for {sku}")
                    reserved = quantity
                price: Decimal = product[3]
                lines.append((product, quantity, price, price * quantity, reserved))
            total = sum((line[3] for line in lines), Decimal(0))
            email = body["customer_email"].strip().lower()
            customer = conn.execute(CUSTOMER, {"email": email}).first()
            if customer is None:
                new = conn.execute(NEW_CUSTOMER, {"email": email, "now": now, "actor": username})
                customer = (new.scalar_one(), email, None)
            order_id = conn.execute(
                NEW_ORDER,
                {
                    "customer_id": customer[0],
                    "currency": body.get("currency") or "EUR",
                    "total": total,
                    "now": now,
                    "actor": username,
                },
            ).scalar_one()
            conn.execute(
                NEW_ITEM,
                [
                    {
                        "order_id": order_id,
                        "product_id": product[0],
                        "sku": product[1],
                        "name": product[2],
                        "quantity": quantity,
                        "unit_price": price,
                        "line_total": line_total,
                        "reserved": reserved,
                    }
                    for product, quantity, price, line_total, reserved in lines
                ],
            )
            conn.execute(NEW_EVENT, {"order_id": order_id, "now": now, "actor": username})
            movements = [
                {
                    "product_id": product[0],
                    "quantity": -reserved,
                    "order_id": order_id,
                    "actor": username,
                    "now": now,
                }
                for product, _, _, _, reserved in lines
                if reserved
            ]
            if movements:
                conn.execute(NEW_MOVEMENT, movements)
        items = [
            {
                "sku": product[1],
                "name": product[2],
                "quantity": quantity,
                "unit_price": f"{price:.2f}",
                "line_total": f"{line_total:.2f}",
            }
            for product, quantity, price, line_total, _ in lines
        ]
        row = (order_id, None, "pending", body.get("currency") or "EUR", total, None, None)
        return _order_doc((*row, now, now, *customer), items)

    return app
