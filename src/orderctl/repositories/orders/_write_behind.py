"""The bulk writer a batch import gets from `OrderRepository.bulk_writer()`: look-ups, writes
that overlap with the reading of the next batch, and the reading process itself.

Reading and validating (a forked process, `forked.iterate_in_child`) overlaps with looking up
and writing (here). PostgreSQL also writes the previous batch (and runs the caller's `then`,
e.g. its commit) in a worker thread, as psycopg holds no GIL while the server works; only one
thread uses the session at a time: look-ups wait for the pending write (`written()`). SQLite
writes inline, as sqlite3 takes the GIL back for every row it inserts.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy.orm import Session

from orderctl.forked import bulk_gc, iterate_in_child
from orderctl.repositories.orders._bulk import OrderBatchWriter
from orderctl.repositories.orders.records import CatalogEntry, NewOrder, StoredRef

T = TypeVar("T")


def _gc_rarely(produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    with bulk_gc():
        yield from produce()


class OrderBulkWriter:
    """`with uow.orders.bulk_writer() as writer:` — leaving waits for the batch in flight."""

    def __init__(self, session: Session) -> None:
        self.batches = OrderBatchWriter(session)
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[list[NewOrder]] | None = None
        self._stack = ExitStack()

    def __enter__(self) -> OrderBulkWriter:
        self._stack.enter_context(bulk_gc())
        if self.batches.server_side:
            self._executor = self._stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderctl-import")
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pending is not None:  # an error is on its way out: let the write finish
            wait([self._pending])
            self._pending = None
        self._stack.close()

    def read_ahead(
        self, produce: Callable[[], Iterator[T]], *, fork: bool = True
    ) -> Generator[T, None, None]:
        """What `produce` yields, made in a forked reading process (`fork=False`: here) while
        this one writes. `produce` must touch no database. Close the iterator when done."""
        return iterate_in_child(lambda: _gc_rarely(produce), fork=fork)

    def existing_orders(self, refs: list[str], marker: str) -> dict[str, StoredRef]:
        """The stored orders among `refs` (`mine` when their `imported` event says `marker`)."""
        return self.batches.existing_orders(refs, marker)

    def catalog(self, skus: list[str]) -> dict[str, CatalogEntry]:
        """The catalog entries of these SKUs (unknown ones are missing)."""
        return self.batches.catalog(skus)

    def write(
        self,
        orders: list[NewOrder],
        *,
        actor: str,
        reason: str,
        now: datetime,
        then: Callable[[list[NewOrder]], None] | None = None,
    ) -> None:
        """Start writing a batch (`OrderBatchWriter.add_orders`), then run `then(lost)`; wait
        for the previous batch first. Behind, in the worker thread, on PostgreSQL."""
        self.written()

        def write_batch() -> list[NewOrder]:
            lost = self.batches.add_orders(orders, actor=actor, reason=reason, now=now)
            if then is not None:
                then(lost)
            return lost

        if self._executor is not None:
            self._pending = self._executor.submit(write_batch)
        else:
            done: Future[list[NewOrder]] = Future()
            done.set_result(write_batch())
            self._pending = done

    def written(self) -> list[NewOrder]:
        """Wait for the batch being written; the orders of it that a concurrent writer stored
        first (their refs are taken: the caller decides whether that is a skip or a
        conflict). Raises what the write raised."""
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else []
