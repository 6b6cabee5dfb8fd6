"""`orderctl demo` shows its progress on a terminal and only a final line in a pipe."""

from __future__ import annotations

from helpers import Cli
from orderctl.enums import Role
from orderctl.services.demo import PRODUCTS, load_demo
from orderctl.services.uow import UnitOfWork


def test_the_service_reports_each_kind_with_counts(cli: Cli) -> None:
    told: list[tuple[str, int, int]] = []
    with UnitOfWork(cli.database) as uow:
        load_demo(uow, cli.actor(Role.ADMIN), orders_count=4, progress=lambda *a: told.append(a))
    products = [t for t in told if t[0] == "products"]
    orders = [t for t in told if t[0] == "orders"]
    assert products[-1] == ("products", len(PRODUCTS), len(PRODUCTS))
    assert [done for _, done, _ in orders] == [0, 1, 2, 3, 4]
    assert {total for _, _, total in orders} == {4}


def test_in_a_pipe_only_the_final_line(cli: Cli) -> None:
    result = cli("demo", "--orders", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("demo data: 12 products")


def test_on_a_terminal_it_shows_what_it_creates(cli: Cli) -> None:
    run = cli.on_terminal("demo", "--orders", "3", answer=None)
    assert run.exit_code == 0, run.output
    assert "creating products" in run.output and "creating orders" in run.output
    assert "demo data: 12 products and 3 orders added" in run.output
