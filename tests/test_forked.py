"""`forked.iterate_in_child`: the reading process of `orderctl import` (no database needed)."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderctl.errors import ValidationFailed
from orderctl.forked import iterate_in_child

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def _children() -> set[int]:
    """Pids of this process's live children (Linux /proc; empty set elsewhere)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        pids.update(int(p) for p in task.read_text().split())
    return pids


def _numbers(n: int) -> Iterator[tuple[int, str, None]]:
    for i in range(n):
        yield i, f"row {i} – ünïcode", None


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "in-process"])
def test_yields_every_item_in_order(fork: bool) -> None:
    assert list(iterate_in_child(lambda: _numbers(5000), fork=fork)) == list(_numbers(5000))


@needs_fork
def test_runs_in_another_process() -> None:
    pids = list(iterate_in_child(lambda: iter([os.getpid()])))
    assert pids != [os.getpid()]


@needs_fork
def test_an_error_in_the_child_is_raised_here_with_its_message() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValidationFailed("line 7: quantity: must be positive")

    got = []
    with pytest.raises(ValidationFailed, match="line 7: quantity: must be positive"):
        for item in iterate_in_child(produce):
            got.append(item)
    assert got == [1]


@needs_fork
def test_an_unpicklable_error_still_arrives_as_a_runtime_error() -> None:
    class Local(Exception):  # a local class cannot be pickled
        pass

    def produce() -> Iterator[int]:
        raise Local("odd")
        yield 0

    with pytest.raises(RuntimeError, match="Local: odd"):
        list(iterate_in_child(produce))


@needs_fork
def test_stopping_early_kills_and_reaps_the_child() -> None:
    before = _children()
    gen = iterate_in_child(lambda: itertools.count())
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()
    assert _children() == before


@needs_fork
def test_the_parent_may_have_threads() -> None:
    # The CLI's progress bar refreshes from a thread while the import forks.
    stop = threading.Event()
    spinner = threading.Thread(target=stop.wait)
    spinner.start()
    try:
        assert sum(iterate_in_child(lambda: range(1000))) == sum(range(1000))
    finally:
        stop.set()
        spinner.join()
