"""Shell completion driven as a shell drives it: the `_ORDERCTL_COMPLETE` protocol of the
generated scripts, in-process through the `cli` runner or in a real `orderctl` process."""

from __future__ import annotations

import os
import subprocess

from typer.testing import Result

from helpers.cli import Cli
from helpers.terminal import ORDERCTL
from orderctl.enums import Role


def bash_env(words: list[str]) -> dict[str, str]:
    """What the bash script sets: the words so far (the last one is being typed)."""
    return {
        "_ORDERCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(["orderctl", *words]),
        "COMP_CWORD": str(len(words)),
    }


def complete(
    cli: Cli, *words: str, role: Role | None = Role.ADMIN, env: dict[str, str] | None = None
) -> Result:
    """Press Tab after `orderctl WORDS` in bash (the last word is the one being typed; give
    "" to complete a new word): the real app run in-process, as `role`."""
    return cli(role=role, env={**bash_env(list(words)), **(env or {})})


def candidates(result: Result) -> list[str]:
    """The candidates of a completion run that must have succeeded silently."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr == "", result.stderr
    return [line for line in result.stdout.splitlines() if line]


def run_completion(
    env: dict[str, str], protocol: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The installed `orderctl` answering one completion request of `protocol` (the
    variables a generated script sets)."""
    return subprocess.run(
        [str(ORDERCTL)],
        env={**env, **protocol},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def clean_env() -> dict[str, str]:
    """The environment of this test process without orderctl's own variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ORDERCTL_")}
