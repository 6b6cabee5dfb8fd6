"""The wheel is a working orderctl: built from the checkout and installed into a fresh virtual
env outside it, `orderctl init` migrates a new database with the migrations the wheel carries."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from orderctl.services import schema

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str | Path, **kwargs: Any) -> str:
    """Run `argv` and return its stdout; any failure fails the test with its output."""
    proc = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
    return proc.stdout


def _installed_venv(tmp_path: Path) -> Path:
    """A fresh venv holding the wheel built from the checkout; its dependencies come from the
    test env's site-packages (a .pth after its own), so nothing is downloaded."""
    pip = [sys.executable, "-m", "pip"]
    wheels = tmp_path / "wheels"
    # --no-build-isolation: hatchling is a dev dependency, so the build needs no index.
    _run(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT)
    (wheel,) = wheels.glob("orderctl-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(site.strip()) / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    return venv


@pytest.mark.slow
def test_installed_wheel_migrates_a_fresh_database(tmp_path: Path) -> None:
    venv = _installed_venv(tmp_path)
    work = tmp_path / "work"  # outside the checkout: nothing can fall back on its migrations/
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(work),
        "ORDERCTL_CONFIG_DIR": str(work / "config"),
        "ORDERCTL_DATABASE_URL": f"sqlite:///{work / 'fresh.db'}",
    }
    probe = "import orderctl.services.schema as s; print(s.__file__); print(s.MIGRATIONS_DIR)"
    where = _run(venv / "bin" / "python", "-c", probe, cwd=work, env=env).split()
    assert [Path(p).is_relative_to(venv) for p in where] == [True, True], where

    def orderctl(*args: str, stdin: str | None = None) -> str:
        return _run(venv / "bin" / "orderctl", *args, input=stdin, cwd=work, env=env)

    orderctl("init", "--password-stdin", stdin="a-long-enough-password\n")
    state = json.loads(orderctl("db", "current", "-o", "json"))
    assert (state["current"], state["up_to_date"]) == (schema.head_revision(), True)
    assert json.loads(orderctl("db", "history", "-o", "json")) == schema.history()
