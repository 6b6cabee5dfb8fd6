"""A follower of order events run in a thread, as `events tail --follow` runs it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from orderctl.db import Database
from orderctl.services.access import Actor
from orderctl.services.events import EventFilters, follow_events
from orderctl.services.uow import UnitOfWork

#: Seconds; only reached when a test is broken, never part of a passing run.
FOLLOW_WAIT = 30


class Follower:
    """`follow_events(..., wait=None)` in its own thread and unit of work: the ids it hands
    out, in order, and how many reads it has completed (each read yields one batch, an empty
    one while there is nothing new). `with Follower(...) as f:` starts it and waits for its
    first read; leaving stops it."""

    def __init__(
        self,
        database: Database,
        actor: Actor,
        *,
        after: int | None = None,
        filters: EventFilters | None = None,
    ) -> None:
        self.database, self.actor, self.after = database, actor, after
        self.filters = filters or EventFilters()
        self.ids: list[int] = []
        self.reads = 0
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with UnitOfWork(self.database, write=False) as u:
                batches = follow_events(u, self.actor, self.filters, after=self.after, wait=None)
                for batch in batches:
                    with self._changed:
                        self.ids += [event.id for event in batch.items]
                        self.reads += 1
                        self._changed.notify_all()
                    if self._stop.is_set():
                        batches.close()
                        return
        except BaseException as exc:  # reported to the test by wait_until
            with self._changed:
                self.error = exc
                self._changed.notify_all()

    def wait_until(self, done: Callable[[], bool]) -> None:
        """Wait until `done()` holds (checked after each read); fails on the follower's error."""
        with self._changed:
            assert self._changed.wait_for(lambda: done() or self.error is not None, FOLLOW_WAIT), (
                f"follower stuck: {self.ids}"
            )
        assert self.error is None, repr(self.error)

    def settle(self) -> None:
        """Wait for two more completed reads, so at least one began after what the caller
        just did (a commit): whatever that read could hand out, it has."""
        seen = self.reads
        self.wait_until(lambda: self.reads >= seen + 2)

    def __enter__(self) -> Follower:
        self._thread.start()
        self.wait_until(lambda: self.reads >= 1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(FOLLOW_WAIT)
