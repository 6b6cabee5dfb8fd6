"""The bench scripts run outside the test suite; their imports of orderctl must still resolve
(a moved name broke bench/api_load once, found only when it was next run)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(
    path
    for path in [*(ROOT / "bench").iterdir(), *(ROOT / "scripts").iterdir()]
    if path.is_file() and path.read_text(errors="replace").startswith("#!/usr/bin/env python")
)


def test_the_python_scripts_are_found() -> None:
    assert {"api_load", "import", "maintenance", "reads", "startup"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_orderctl_import_of_a_script_resolves(script: Path) -> None:
    tree = ast.parse(script.read_text(), filename=str(script))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orderctl"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                found = hasattr(module, alias.name) or (
                    hasattr(module, "__path__")
                    and importlib.util.find_spec(f"{node.module}.{alias.name}") is not None
                )
                assert found, f"{script.name}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("orderctl"):
                    importlib.import_module(alias.name)
