"""`/api/products`: the catalog (list, show, add, update; DESIGN.md §4) and each product's
stock ledger (§13)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query

from orderctl.api.deps import ReadUow, WriteUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.schemas import MovementRead, ProductCreate, ProductRead, ProductUpdate
from orderctl.services import products, stock
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/products", tags=["products"])

SkuPath = Annotated[str, Path(max_length=64, description="The product's SKU.")]


class ActiveFilter(StrEnum):
    TRUE = "true"
    FALSE = "false"
    ALL = "all"


_ACTIVE = {ActiveFilter.TRUE: True, ActiveFilter.FALSE: False, ActiveFilter.ALL: None}


@router.get("", response_model=list[ProductRead])
def list_products(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(products.list_products)],
    active: Annotated[
        ActiveFilter, Query(description="`true` (default): on offer; `false`: withdrawn; `all`.")
    ] = ActiveFilter.TRUE,
) -> list[ProductRead]:
    """Products by SKU (`orderctl products list`)."""
    return products.list_products(uow, actor, active=_ACTIVE[active])


# Before `/{sku:path}`, which would otherwise take "MUG-01/history" as a SKU.
@router.get("/{sku:path}/history", response_model=list[MovementRead])
def product_history(
    sku: SkuPath,
    uow: ReadUow,
    actor: Annotated[Actor, role_of(stock.product_history)],
    limit: Annotated[
        int | None,
        Query(ge=1, le=stock.MAX_HISTORY_LIMIT, description="At most N movements; none: all."),
    ] = stock.DEFAULT_HISTORY_LIMIT,
) -> list[MovementRead]:
    """The product's stock movements, newest first, with the stock after each
    (`orderctl products history`)."""
    return stock.product_history(uow, actor, sku, limit=limit)


@router.get("/{sku:path}", response_model=ProductRead)
def get_product(
    sku: SkuPath, uow: ReadUow, actor: Annotated[Actor, role_of(products.get_product)]
) -> ProductRead:
    """One product, active or not."""
    return products.get_product(uow, actor, sku)


@router.post("", response_model=ProductRead, status_code=201)
def add_product(
    body: ProductCreate, uow: WriteUow, actor: Annotated[Actor, role_of(products.add_product)]
) -> ProductRead:
    """Add a product (admin); 409 when the SKU exists. No `stock`: stock is not tracked."""
    return products.add_product(uow, actor, body)


@router.patch("/{sku:path}", response_model=ProductRead)
def update_product(
    sku: SkuPath,
    body: ProductUpdate,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(products.update_product)],
) -> ProductRead:
    """Change the fields given (admin); `"stock": null` stops tracking stock."""
    return products.update_product(uow, actor, sku, body)
