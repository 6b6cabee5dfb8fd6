"""Services see use cases only (docs/architecture.md, *Layers*): no session, no SQLAlchemy, no
fork, no thread. Storage techniques live below the repository line; this reads the source of
every module of `services/` (ast, nothing imported) and names each breach."""

from __future__ import annotations

import ast
from pathlib import Path

import orderctl

SERVICES = Path(orderctl.__file__).parent / "services"

#: Modules that may not be imported by a service, at run time (a `TYPE_CHECKING` import of
#: SQLAlchemy for an annotation is fine).
BANNED = ("sqlalchemy", "orderctl.forked", "threading", "concurrent.futures", "multiprocessing")

#: The two services that stand on the storage line themselves, and why.
EXEMPT = {
    # The unit of work owns the session and the transaction: that is its job.
    "uow.py": "the unit of work",
    # Migrations drive Alembic on the engine, before any unit of work or repository can
    # exist (an empty or old schema); docs/architecture.md says so.
    "schema.py": "Alembic on the engine",
}


def _banned(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in BANNED)


def _typing_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def breaches(source: str) -> list[str]:
    """What in this module's source a service may not do, one line each (`line N: ...`)."""
    found: list[str] = []
    skip: set[int] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _typing_only(node):
            skip.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _banned(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            if _banned(node.module) or any(_banned(name) for name in names):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            found.append(f"line {node.lineno}: .session")
    return found


def test_services_see_use_cases_only() -> None:
    modules = sorted(SERVICES.glob("*.py"))
    assert len(modules) > 10  # the folder was found
    problems = {
        path.name: breaches(path.read_text()) for path in modules if path.name not in EXEMPT
    }
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_checker_finds_each_breach() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy.orm import Session\n"  # typing only: allowed
        "from sqlalchemy.exc import IntegrityError\n"
        "import sqlalchemy\n"
        "from orderctl.forked import iterate_in_child\n"
        "from orderctl import forked\n"
        "import threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "def f(uow):\n"
        "    uow.session.flush()\n"
    )
    assert breaches(source) == [
        "line 5: from sqlalchemy.exc import ...",
        "line 6: import sqlalchemy",
        "line 7: from orderctl.forked import ...",
        "line 8: from orderctl import ...",
        "line 9: import threading",
        "line 10: from concurrent.futures import ...",
        "line 12: .session",
    ]


#: Layers from the top (DESIGN.md §1): a module may import its own layer and those below it,
#: never one above. Leaves (schemas, errors, config, ...) sit below the repositories.
LAYERS = ("cli", "api", "services", "repositories")
PACKAGE = SERVICES.parent


def _layer(module: str) -> int:
    """0 (cli) … 3 (repositories); 4 for the shared leaves and models below them; -1 for
    `python -m orderctl`, the entry point above everything."""
    if module == "orderctl.__main__":
        return -1
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1]) if parts[1] != "api" else 0
    return len(LAYERS)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, orderctl module) for every import of the package in a module, lazy ones too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("orderctl")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orderctl"):
            assert node.module is not None
            found.append((node.lineno, node.module))
    return found


def upward_imports(package: Path) -> list[str]:
    """Every import that points up a layer (`file:line imports module`)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        own = _layer(module)
        for line, imported in _imports(path):
            if _layer(imported) < own:
                found.append(f"{relative}.py:{line} imports {imported}")
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports(PACKAGE) == []


def test_the_upward_check_finds_an_upward_import(tmp_path: Path) -> None:
    package = tmp_path / "orderctl"
    (package / "repositories").mkdir(parents=True)
    (package / "repositories" / "x.py").write_text("from orderctl.services import uow\n")
    (package / "schemas.py").write_text("def f():\n    from orderctl.cli import render\n")
    (package / "services").mkdir()
    (package / "services" / "y.py").write_text("from orderctl.repositories import x\n")
    assert upward_imports(package) == [
        "orderctl/repositories/x.py:1 imports orderctl.services",
        "orderctl/schemas.py:2 imports orderctl.cli",
    ]
