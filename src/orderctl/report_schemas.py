"""The API's response models of the reports (`GET /api/reports/...`, its OpenAPI document):
Pydantic models made from the rows of `report_rows`, field for field, so both faces print
the same documents from one declaration. Money is a string with two decimals in JSON, as
everywhere (§6). `orderctl report` does not import this module (start-up)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from types import GenericAlias
from typing import Annotated, Any, get_type_hints

from pydantic import PlainSerializer, create_model

from orderctl import report_rows
from orderctl.parsing import format_money
from orderctl.schemas import ReadModel

#: A sum of money: like `schemas.Money` in JSON, but not bounded by one column's size.
Amount = Annotated[Decimal, PlainSerializer(format_money, return_type=str, when_used="json")]


def _read_model(row: type[report_rows.ReportRow]) -> type[ReadModel]:
    """A read schema with `row`'s name, docstring and fields (a Decimal is an `Amount`)."""
    hints = get_type_hints(row, vars(report_rows))
    declared: dict[str, Any] = {
        field.name: (Amount if hints[field.name] is Decimal else hints[field.name], ...)
        for field in fields(row)
    }
    return create_model(row.__name__, __base__=ReadModel, __doc__=row.__doc__, **declared)


SalesRow = _read_model(report_rows.SalesRow)
ProductSalesRow = _read_model(report_rows.ProductSalesRow)
CustomerSpendRow = _read_model(report_rows.CustomerSpendRow)
StatusRow = _read_model(report_rows.StatusRow)

#: The routes' response models, `list[SalesRow]` and so on, made as values: the models are
#: made at run time, and mypy would read `list[SalesRow]` as a type.
SalesRows = GenericAlias(list, (SalesRow,))
ProductSalesRows = GenericAlias(list, (ProductSalesRow,))
CustomerSpendRows = GenericAlias(list, (CustomerSpendRow,))
StatusRows = GenericAlias(list, (StatusRow,))
