"""A refused token from ORDERCTL_TOKEN is named as such: `auth login` would not help, since
the variable overrides whatever a login caches (issue 15, item 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from helpers import Cli, create_token, create_user, database_snapshot
from orderctl import clock
from orderctl.credentials import save_token
from orderctl.enums import Role
from orderctl.tables import api_tokens

ENV_HINT = "unset it or set a valid one"


def refused(cli: Cli, token: str) -> str:
    """The one error line of `orders list` with ORDERCTL_TOKEN=token (exit 3)."""
    before = database_snapshot(cli.database)
    result = cli("orders", "list", role=None, env={"ORDERCTL_TOKEN": token})
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert database_snapshot(cli.database) == before
    return result.stderr


def set_token_column(cli: Cli, secret: str, **values: object) -> None:
    from orderctl.services.access import hash_token

    with cli.database.engine.begin() as conn:
        conn.execute(
            update(api_tokens).where(api_tokens.c.token_hash == hash_token(secret)).values(values)
        )


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("revoked", "has been revoked"),
        ("expired", "expired at"),
        ("unknown", "is not known to this database"),
        ("malformed", "is not a valid orderctl token"),
    ],
)
def test_a_refused_env_token_names_the_variable(cli: Cli, case: str, problem: str) -> None:
    create_user(cli.database, "cron", Role.OPERATOR)
    secret = create_token(cli.database, "cron")
    if case == "revoked":
        set_token_column(cli, secret, revoked_at=clock.utcnow())
    elif case == "expired":
        set_token_column(cli, secret, expires_at=clock.utcnow() - timedelta(days=1))
    elif case == "unknown":
        secret = "oct_" + "x" * 43
    else:
        secret = "not-a-token"
    line = refused(cli, secret)
    assert line.startswith(f"error: the token in ORDERCTL_TOKEN {problem}")
    assert ENV_HINT in line and "auth login" not in line


def test_a_refused_cached_login_still_points_to_auth_login(cli: Cli) -> None:
    save_token(cli.db_url, "oct_" + "y" * 43, "gone")
    result = cli("orders", "list", role=None)
    assert result.exit_code == 3
    assert result.stderr == (
        "error: token is not known to this database: run `orderctl auth login`\n"
    )
