"""The installed orderctl on a pseudo-terminal, as a person at a terminal runs it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

ORDERCTL = Path(sys.executable).parent / "orderctl"
PROMPT = b"[y/N]"


@dataclass(frozen=True)
class TerminalRun:
    exit_code: int
    raw: bytes  # every byte the terminal received, escape sequences included
    asked: bool  # whether the prompt appeared (and was answered)

    @property
    def output(self) -> str:
        """stdout and stderr as the terminal showed them (echoed answer included)."""
        return self.raw.decode(errors="replace").replace("\r\n", "\n")


def run_on_terminal(
    args: list[str],
    *,
    answer: str | None = None,
    env: dict[str, str | None],
    columns: int = 80,
    timeout: float = 60,
    prompt: bytes = PROMPT,
) -> TerminalRun:
    """Run the installed `orderctl ARGS` with stdin, stdout and stderr on a pseudo-terminal
    of `columns` columns, as a person at a terminal would (TERM=xterm-256color, colours on).

    When `prompt` (default the `[y/N]` one) appears, type `answer` and Enter (`None`: Ctrl-D,
    end of input).
    `env` is laid over this process's environment; a None value removes the variable.
    """
    full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    full_env.pop("NO_COLOR", None)
    for key, value in env.items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [str(ORDERCTL), *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=full_env,
        close_fds=True,
        start_new_session=True,  # its own session: the pty is all the terminal it has
    )
    os.close(secondary)
    output = b""
    asked = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([primary], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"orderctl {args} still running after {timeout} s: {output!r}")
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: every process holding the terminal has closed it
                break
            if not chunk:
                break
            output += chunk
            if not asked and prompt in output:
                asked = True
                os.write(primary, b"\x04" if answer is None else answer.encode() + b"\r")
        exit_code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    return TerminalRun(exit_code, output, asked)
