"""The completion scripts, run as the shells run them: the installed `orderctl` answering
each shell's protocol in a real process, bash sourcing its script and calling its function,
and Typer's `--show-completion`/`--install-completion` writing the same scripts."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import ORDERCTL, Cli, bash_env, clean_env, run_completion
from orderctl.enums import Role
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork

SHELLS = ("bash", "zsh", "fish")


def _script(shell: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [str(ORDERCTL), "completion", shell],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """No login and a database that does not exist: a script needs neither."""
    return {
        **clean_env(),
        "HOME": str(tmp_path),
        "ORDERCTL_CONFIG_DIR": str(tmp_path / "config"),
        "ORDERCTL_DATABASE_URL": f"sqlite:///{tmp_path}/none.db",
    }


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_a_script_without_login_or_database(shell: str, tmp_path: Path) -> None:
    script = _script(shell, _offline_env(tmp_path))
    assert f"_ORDERCTL_COMPLETE=complete_{shell}" in script
    assert "orderctl" in script
    assert not (tmp_path / "none.db").exists()


def test_show_and_install_completion_write_the_same_script(tmp_path: Path) -> None:
    env = {**_offline_env(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [str(ORDERCTL), "--show-completion", "bash"], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == _script("bash", env).strip()
    installed = subprocess.run(
        [str(ORDERCTL), "--install-completion", "bash"], env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    written = (tmp_path / ".bash_completions" / "orderctl.sh").read_text()
    assert written.strip() == _script("bash", env).strip()
    assert "source" in (tmp_path / ".bashrc").read_text()


def _widgets(cli: Cli) -> dict[str, str]:
    """Two widgets in the catalog; the environment of a logged-in viewer's `orderctl`."""
    with UnitOfWork(cli.database) as u:
        for sku in ("WIDGET-1", "WIDGET-2"):
            u.products.add(Product(sku=sku, name="Widget", unit_price=Decimal("1.00")))
        u.commit()
    return cli.subprocess_env(Role.VIEWER)


def test_the_bash_protocol(cli: Cli) -> None:
    env = _widgets(cli)
    proc = run_completion(env, bash_env(["orders", "create", "--item", "WID"]))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.split() == ["WIDGET-1:", "WIDGET-2:"]


def test_the_zsh_protocol(cli: Cli) -> None:
    env = _widgets(cli)
    protocol = {
        "_ORDERCTL_COMPLETE": "complete_zsh",
        "_TYPER_COMPLETE_ARGS": "orderctl products show WID",
    }
    proc = run_completion(env, protocol)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert '"WIDGET-1"' in proc.stdout and '"WIDGET-2"' in proc.stdout
    assert proc.stdout.startswith("_arguments")


def test_the_fish_protocol(cli: Cli) -> None:
    env = _widgets(cli)
    args = {
        "_ORDERCTL_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_ARGS": "orderctl products show WID",
    }
    proc = run_completion(env, {**args, "_TYPER_COMPLETE_FISH_ACTION": "get-args"})
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.split() == ["WIDGET-1", "WIDGET-2"]
    is_args = run_completion(env, {**args, "_TYPER_COMPLETE_FISH_ACTION": "is-args"})
    assert is_args.returncode == 0  # there are candidates: fish offers them, not files


def test_silently_nothing_in_a_real_process_when_logged_out(cli: Cli) -> None:
    env = _widgets(cli)
    env = {k: v for k, v in env.items() if k != "ORDERCTL_TOKEN"}
    proc = run_completion(env, bash_env(["products", "show", "WID"]))
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_sources_its_script_and_completes(cli: Cli) -> None:
    env = _widgets(cli)
    """The generated function, called by bash as Tab would call it."""
    env = {**env, "PATH": f"{ORDERCTL.parent}:{env.get('PATH', '/usr/bin:/bin')}"}
    script = _script("bash", env)
    probe = (
        script
        + "\nCOMP_WORDS=(orderctl products show WIDGET-); COMP_CWORD=3"
        + "\n_orderctl_completion orderctl"
        + '\nprintf "%s\\n" "${COMPREPLY[@]}"'
        + "\ncomplete -p orderctl"
    )
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["WIDGET-1", "WIDGET-2"]
    assert lines[2].startswith("complete -o default -F _orderctl_completion orderctl")
