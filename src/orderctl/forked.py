"""Run a generator in a forked child process and iterate over what it yields.

`orderctl import` spends about half its time parsing and validating (pure Python, so one core
at most under the GIL) and half writing (SQLite runs inside this process). A thread cannot
overlap the two: sqlite3 takes the GIL back for every row it inserts. A forked child can: it
reads and validates while the parent writes, on the second core.

The child gets everything by fork (the open input stream, the reader's state), so nothing but
the yielded items crosses the pipe, pickled; the pipe's small buffer bounds the items in flight.
The child dies with the parent (PR_SET_PDEATHSIG on Linux, and a broken pipe anywhere), and the
parent kills and reaps the child when it stops iterating early. Where there is no fork the
generator runs here, unchanged.

Stdlib only. Only code that touches no shared resource may run in the child: it must not use
the parent's database connections, and it leaves through `os._exit`, so no buffer or atexit
hook of the parent's runs twice.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2
_BUFFER = 1 << 16


@contextlib.contextmanager
def bulk_gc() -> Generator[None, None, None]:
    """Run the cyclic garbage collector rarely while a bulk job churns through objects.

    A batch of parsed orders is thousands of container objects that live for a moment and form
    no cycles (reference counting frees them). With the default thresholds they trigger a
    collection every 700 allocations and full collections of the whole heap as batches come
    and go: a quarter of an import's time, measured. Memory stays bounded.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _child(produce: Callable[[], Iterable[Any]], fd: int, parent: int) -> None:
    _die_with_parent(parent)
    # Ctrl-C reaches the whole process group; the parent decides, the child just stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with os.fdopen(fd, "wb", buffering=_BUFFER) as out:
        try:
            for item in produce():
                pickle.dump((_ITEM, item), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()  # the parent is waiting for the whole item
            pickle.dump((_DONE, None), out)
        except BrokenPipeError:
            return
        except BaseException as exc:
            pickle.dump((_ERROR, _portable(exc)), out)


def iterate_in_child(
    produce: Callable[[], Iterable[T]], *, fork: bool = True
) -> Generator[T, None, None]:
    """The items of `produce()`, computed in a forked child process (here if `fork` is False
    or the platform has no fork). An exception in the child is raised here."""
    if not fork or not hasattr(os, "fork"):
        yield from produce()
        return
    for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    parent = os.getpid()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        code = 0
        try:
            os.close(read_fd)
            _child(produce, write_fd, parent)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    finished = False
    try:
        with os.fdopen(read_fd, "rb", buffering=_BUFFER) as inp:
            while True:
                try:
                    kind, value = pickle.load(inp)
                except EOFError:
                    raise RuntimeError("the reading process stopped unexpectedly") from None
                if kind == _ITEM:
                    yield value
                elif kind == _ERROR:
                    finished = True
                    raise value
                else:
                    finished = True
                    return
    finally:
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
