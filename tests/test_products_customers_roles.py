"""Who may do what in the catalog and with customers: one table, every role, both backends."""

from __future__ import annotations

from pathlib import Path

from helpers import Cli, database_snapshot
from orderctl.db import Database
from orderctl.enums import Role

#: (command line, least role). `{r}` becomes the role's name so allowed writes don't collide.
MATRIX: list[tuple[list[str], Role]] = [
    (["products", "list"], Role.VIEWER),
    (["products", "list", "--all"], Role.VIEWER),
    (["products", "show", "P1"], Role.VIEWER),
    (["products", "add", "NEW-{r}", "--name", "New", "--price", "1.00"], Role.ADMIN),
    (["products", "update", "P1", "--price", "2.00"], Role.ADMIN),
    (["products", "update", "P1", "--stock", "9"], Role.ADMIN),
    (["products", "import", "{csv}"], Role.ADMIN),
    (["customers", "list"], Role.VIEWER),
    (["customers", "show", "c@example.com"], Role.VIEWER),
    (["customers", "add", "{r}@example.com"], Role.OPERATOR),
]


def test_role_matrix(cli: Cli, database: Database, tmp_path: Path) -> None:
    assert cli("products", "add", "P1", "--name", "One", "--price", "1.00").exit_code == 0
    assert cli("customers", "add", "c@example.com").exit_code == 0
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        csv_file = tmp_path / f"{role.value}.csv"
        csv_file.write_text(f"sku,name,unit_price,stock\nIMP-{role.value},Imported,3.00,\n")
        for template, least in MATRIX:
            args = [a.format(r=role.value, csv=csv_file) for a in template]
            before = database_snapshot(database)
            result = cli(*args, role=role)
            if role.rank >= least.rank:
                assert result.exit_code == 0, (role, args, result.stderr)
            else:
                assert result.exit_code == 4, (role, args, result.stderr)
                assert result.stdout == ""
                assert result.stderr == (
                    f"error: permission denied: this needs the {least.value} role "
                    f"(test-{role.value} is {role.value})\n"
                )
                assert database_snapshot(database) == before, (role, args)


def test_no_token_is_exit_3_for_every_command(cli: Cli, database: Database) -> None:
    for template, _ in MATRIX:
        args = [a.format(r="x", csv="missing.csv") for a in template]
        result = cli(*args, role=None)
        assert result.exit_code == 3, (args, result.stderr)
        assert "orderctl auth login" in result.stderr and result.stdout == ""
    contents = database_snapshot(database)
    assert contents["products"] == [] and contents["customers"] == []
