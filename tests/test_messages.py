"""Messages a newcomer can act on (issue 15, item 6): every usage error is one `error:` line
with the help to try, no message shows the validation library's words, and a shortage says
how much is left. (The `--debug` hint: tests/test_foundation.py.)"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from helpers import Api, Cli, add_product, database_snapshot, one_error
from orderctl.cli.main import app
from orderctl.enums import Role
from orderctl.errors import without_internals

#: Words of Pydantic and typer that mean nothing to a user of orderctl.
INTERNALS = ("Value error", "type=", "pydantic", "errors.pydantic.dev", "input_value")


def _no_internals(text: str) -> None:
    assert not [word for word in INTERNALS if word in text], text


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--bogus"], "error: No such option: --bogus (try 'orderctl --help')\n"),
        (["--bogus", "orders", "list"], "error: No such option: --bogus (try 'orderctl --help')\n"),
        (["-x"], "error: No such option: -x (try 'orderctl --help')\n"),
        (["orders", "--bogus"], "error: No such option: --bogus (try 'orderctl orders --help')\n"),
        (
            ["orders", "list", "--bogus"],
            "error: No such option: --bogus (try 'orderctl orders list --help')\n",
        ),
        (
            ["auth", "token", "list", "--bogus"],
            "error: No such option: --bogus (try 'orderctl auth token list --help')\n",
        ),
    ],
)
@pytest.mark.usefixtures("config_dir")
def test_an_unknown_option_is_one_error_line_at_every_level(args: list[str], line: str) -> None:
    assert one_error(CliRunner().invoke(app, args), 2) == line


@pytest.mark.parametrize(
    ("args", "needle", "command"),
    [
        (["orders", "list", "--limit", "abc"], "Invalid value for '--limit'", "orders list"),
        (["customers", "list", "--limit", "0"], "greater than or equal to 1", "customers list"),
        (["completion", "tcsh"], "'tcsh' is not one of 'bash', 'zsh', 'fish'", "completion"),
        (["users", "set-role", "bob", "king"], "'king' is not one of 'viewer'", "users set-role"),
        (["orders", "set-status", "1", "lost"], "'lost' is not one of", "orders set-status"),
        (["serve", "--port", "99999"], "less than or equal to 65535", "serve"),
    ],
)
@pytest.mark.usefixtures("config_dir")
def test_a_bad_value_names_the_problem_without_library_words(
    args: list[str], needle: str, command: str
) -> None:
    line = one_error(CliRunner().invoke(app, args), 2, needle)
    _no_internals(line)
    assert line.endswith(f"(try 'orderctl {command} --help')\n")


def test_validation_of_input_says_what_is_wrong_in_plain_words(cli: Cli) -> None:
    cli.token(Role.ADMIN)
    before = database_snapshot(cli.database)
    for args, needle in [
        (["products", "add", "BAD\x01SKU", "--name", "x", "--price", "1"], "sku: "),
        (["customers", "add", "not-an-email"], "email: "),
        (["orders", "create", "--customer", "a\x02@b.co", "--item", "X:1"], "customer_email: "),
    ]:
        _no_internals(one_error(cli(*args), 6, needle))
    assert database_snapshot(cli.database) == before


def test_api_422_messages_are_plain(api: Api) -> None:
    add_product(api, "MUG-01", "1.00", 3)
    body = {"customer_email": "a\x02@b.co", "items": [{"sku": "MUG-01", "quantity": "two"}]}
    r = api.post("/api/orders", json=body)
    assert r.status_code == 422
    answer = r.json()
    _no_internals(answer["detail"])
    for item in answer["errors"]:
        _no_internals(item["msg"])


def test_without_internals_cleans_every_form_pydantic_gives() -> None:
    from pydantic import BaseModel, ValidationError, field_validator

    class Thing(BaseModel):
        n: int

        @field_validator("n")
        @classmethod
        def small(cls, value: int) -> int:
            if value > 1:
                raise ValueError("must be at most 1")
            return value

    with pytest.raises(ValidationError) as raised:
        Thing(n=5)
    assert without_internals(raised.value.errors()[0]["msg"]) == "must be at most 1"
    whole = without_internals(str(raised.value))
    assert "must be at most 1" in whole
    _no_internals(whole)


def test_insufficient_stock_says_how_many_are_left(cli: Cli, api: Api) -> None:
    """On create and on the API, in the same words; nothing is written."""
    add_product(api, "WIDGET-1", "1.00", 2)
    cli.token(Role.OPERATOR)
    before = database_snapshot(cli.database)
    args = ["--customer", "a@b.co", "--item", "WIDGET-1:5"]
    result = cli("orders", "create", *args, role=Role.OPERATOR)
    line = one_error(result, 6)
    assert line == "error: insufficient stock for WIDGET-1: 2 left, 5 requested\n"
    body = {"customer_email": "a@b.co", "items": [{"sku": "WIDGET-1", "quantity": 3}]}
    r = api.post("/api/orders", json=body)
    assert r.status_code == 409
    assert r.json()["detail"] == "insufficient stock for WIDGET-1: 2 left, 3 requested"
    assert database_snapshot(cli.database) == before
