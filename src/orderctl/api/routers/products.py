"""`/api/products` (to be built as the products service lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/products", tags=["products"])
