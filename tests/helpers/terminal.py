"""The installed orderctl on a pseudo-terminal, as a person at a terminal runs it, and in a
pipe, as a script reads it; either with its peak memory measured."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ORDERCTL = Path(sys.executable).parent / "orderctl"
PROMPT = b"[y/N]"

#: orderctl run in-process by `python -c`, writing its peak resident memory (VmHWM, in KiB) to
#: the file named by ORDERCTL_TEST_PEAK_FILE as it exits. Not getrusage: a child forked from
#: pytest keeps pytest's own peak in ru_maxrss across exec, while VmHWM starts afresh.
_PEAK_PROBE = """
import os, sys
sys.argv = ["orderctl", *sys.argv[1:]]
from orderctl.cli.main import run
try:
    run()
finally:
    status = open("/proc/self/status").read()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    with open(os.environ["ORDERCTL_TEST_PEAK_FILE"], "w") as out:
        out.write(peak.split()[1])
"""


@contextmanager
def _peak_memory(measure: bool) -> Iterator[tuple[list[str], dict[str, str], list[int]]]:
    """The command line and environment that run orderctl, and a list that receives its peak
    memory in KiB when it has exited (stays empty unless `measure`)."""
    if not measure:
        yield [str(ORDERCTL)], {}, []
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "peak"
        peak: list[int] = []
        yield [sys.executable, "-c", _PEAK_PROBE], {"ORDERCTL_TEST_PEAK_FILE": str(path)}, peak
        if path.exists():
            peak.append(int(path.read_text()))


@dataclass(frozen=True)
class TerminalRun:
    exit_code: int
    raw: bytes  # every byte the terminal received, escape sequences included
    asked: bool  # whether the prompt appeared (and was answered)
    peak_kb: int = 0  # peak resident memory, when measured

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
    measure: bool = False,
) -> TerminalRun:
    """Run the installed `orderctl ARGS` with stdin, stdout and stderr on a pseudo-terminal
    of `columns` columns, as a person at a terminal would (TERM=xterm-256color, colours on).

    When `prompt` (default the `[y/N]` one) appears, type `answer` and Enter (`None`: Ctrl-D,
    end of input).
    `env` is laid over this process's environment; a None value removes the variable.
    `measure`: run it through a probe that reports its peak memory (`peak_kb`).
    """
    with _peak_memory(measure) as (command, probe_env, peak):
        run = _run_on_terminal(
            command + args, answer, {**env, **probe_env}, columns, timeout, prompt
        )
    return TerminalRun(run.exit_code, run.raw, run.asked, peak[0] if peak else 0)


def _run_on_terminal(
    command: list[str],
    answer: str | None,
    env: dict[str, str | None],
    columns: int,
    timeout: float,
    prompt: bytes,
) -> TerminalRun:
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
        command,
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
                raise AssertionError(f"{command} still running after {timeout} s: {output!r}")
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


@dataclass(frozen=True)
class PipeRun:
    exit_code: int
    first_line: str
    running_after_first_line: bool  # the first line was read before the process ended
    lines: int  # lines on stdout, the first one included
    peak_kb: int  # peak resident memory
    stderr: str


def run_in_pipe(args: list[str], *, env: dict[str, str], timeout: float = 120) -> PipeRun:
    """Run the installed orderctl's code (`orderctl ARGS`, through the memory probe) with stdout
    on a pipe: read its first line, note whether the process is still running then, count the
    rest."""
    with _peak_memory(True) as (command, probe_env, peak):
        proc = subprocess.Popen(
            command + args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env, **probe_env},
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            first = proc.stdout.readline().decode()
            running = proc.poll() is None
            lines = (1 if first else 0) + sum(1 for _ in proc.stdout)
            stderr = proc.stderr.read().decode()
            exit_code = proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
    return PipeRun(exit_code, first, running, lines, peak[0] if peak else 0, stderr)
