"""A FILE argument that a command writes (`orders export FILE`): `-` is stdout; a file is
written beside its final name and renamed into place only when the command succeeds.

So an interrupted or failed export never leaves a truncated file under the name a script
waits for, and `--force` replaces an old file only with a complete new one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def output_file(name: str, *, force: bool) -> Iterator[IO[str]]:
    """A text stream for FILE (UTF-8, line ends as written), or stdout for `-`.

    Raises `UsageError` (2) for a path in a missing folder or one that is a directory, and
    `Conflict` (6) for an existing file without `force`; nothing is written then.
    """
    from orderctl.errors import Conflict, UsageError

    if name == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"cannot write {name!r}: it is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {name!r}: folder {str(path.parent)!r} does not exist")
    if path.exists() and not force:
        raise Conflict(f"{name!r} exists already; pass --force to replace it")
    try:
        fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {name!r}: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
