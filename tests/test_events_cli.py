"""`orderctl events tail` (DESIGN.md §16): the last events, a cursor, filters, formats, bad
input. The live follower as a real process: Ctrl-C, `| head -1`, a database that goes away
(tests/test_events_follow.py forces the races)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from helpers import (
    FOLLOW_WAIT,
    ORDERCTL,
    Cli,
    Shop,
    ago,
    create_order,
    database_snapshot,
    one_error,
    rows,
)
from orderctl.db import Database
from orderctl.enums import Role

#: The event document, in this order (DESIGN.md §6's history event, with its ids in front).
EVENT_KEYS = [
    "id",
    "order_id",
    "external_ref",
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "reason",
]


def _jsonl(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("events", "tail", *args, "-o", "jsonl", role=Role.VIEWER)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _ids(cli: Cli, *args: str) -> list[object]:
    return [doc["id"] for doc in _jsonl(cli, *args)]


def test_tail_prints_the_last_20_events_oldest_first(cli: Cli, database: Database) -> None:
    shop = Shop(database)
    for hour in range(25):
        shop.order("pending", created=ago(hours=30 - hour))
    docs = _jsonl(cli)
    assert [doc["id"] for doc in docs] == list(range(6, 26))
    assert list(docs[0]) == EVENT_KEYS
    assert docs[-1]["action"] == "created" and docs[-1]["actor"] == "seed"
    assert _ids(cli, "--limit", "3") == [23, 24, 25]
    table = cli("events", "tail", "--limit", "2", role=Role.VIEWER)
    assert table.exit_code == 0 and "ACTION" in table.stdout and "created" in table.stdout


def test_after_order_and_action_select_events(shop: Cli, database: Database) -> None:
    order = create_order(
        shop, "--customer", "a@b.co", "--item", "MUG-01:1", "--external-ref", "R-7"
    )
    other = create_order(shop, "--customer", "b@b.co", "--item", "MUG-01:1")
    done = shop("orders", "set-status", str(order["id"]), "paid", "--reason", "card")
    assert done.exit_code == 0, done.stderr
    assert _ids(shop, "--after", "0") == [1, 2, 3]
    assert _ids(shop, "--after", "1") == [2, 3]
    assert _ids(shop, "--after", "1", "--limit", "1") == [2]
    assert _ids(shop, "--after", "3") == []
    assert _ids(shop, "--order", str(order["id"])) == [1, 3]
    assert _ids(shop, "--order", "R-7", "--after", "1") == [3]
    assert _ids(shop, "--order", str(other["id"])) == [2]
    changed = _jsonl(shop, "--action", "status_changed")
    assert [(d["from_status"], d["to_status"], d["reason"]) for d in changed] == [
        ("pending", "paid", "card")
    ]
    assert changed[0]["external_ref"] == "R-7" and changed[0]["actor"] == "test-admin"
    assert _ids(shop, "--action", "created", "--action", "STATUS_CHANGED") == [1, 2, 3]
    assert _ids(shop, "--action", "imported") == []


def test_formats_and_an_empty_tail(cli: Cli, database: Database) -> None:
    empty_csv = cli("events", "tail", "-o", "csv", role=Role.VIEWER)
    assert empty_csv.exit_code == 0 and empty_csv.stdout == ",".join(EVENT_KEYS) + "\n"
    empty = cli("events", "tail", role=Role.VIEWER)
    assert empty.exit_code == 0 and empty.stdout == "" and "no events" in empty.stderr
    assert cli("events", "tail", "-o", "json", role=Role.VIEWER).stdout == "[]\n"
    Shop(database).order("pending", created=ago(hours=1))
    csv_out = cli("events", "tail", "-o", "csv", role=Role.VIEWER).stdout.splitlines()
    assert csv_out[0] == ",".join(EVENT_KEYS) and csv_out[1].startswith("1,1,,")


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--order", "999"], 5, "order 999 not found"),
        (["--order", "NOPE"], 5, "external_ref 'NOPE' not found"),
        (["--action", "bogus"], 2, "--action"),
        (["--after", "-1"], 2, "--after"),
        (["--after", "x"], 2, "--after"),
        (["--limit", "0"], 2, "--limit"),
        (["--follow", "-o", "json"], 2, "use -o jsonl"),
    ],
)
def test_bad_input_is_one_error_and_changes_nothing(
    cli: Cli, database: Database, args: list[str], code: int, needle: str
) -> None:
    cli.token(Role.VIEWER)
    Shop(database).order("pending", created=ago(hours=1))
    before = database_snapshot(database)
    one_error(cli("events", "tail", *args, role=Role.VIEWER), code, needle)
    assert database_snapshot(database) == before


def test_viewers_and_up_may_follow_no_token_may_not(cli: Cli) -> None:
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        assert cli("events", "tail", role=role).exit_code == 0
    one_error(cli("events", "tail", role=None), 3, "not logged in")


# ---- the live follower, as a real process ----


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The lines of `stream` as they come, read by a thread ("" at the end)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    return lines


def _default_sigint() -> None:
    # A run started in the background by a non-interactive shell (`... &`) ignores SIGINT, and
    # an ignored signal stays ignored across exec: the follower would never see the Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _follow(cli: Cli, *args: str) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    proc = subprocess.Popen(
        [ORDERCTL, "events", "tail", "--follow", "-o", "jsonl", *args],
        env=cli.subprocess_env(Role.VIEWER),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None
    return proc, _lines(proc.stdout)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        code = proc.wait(FOLLOW_WAIT)
    finally:
        proc.kill()
    assert proc.stderr is not None
    return code, proc.stderr.read()


def test_a_follower_prints_new_events_and_ends_with_exit_0_on_ctrl_c(
    cli: Cli, database: Database
) -> None:
    shop = Shop(database)
    order = shop.order("pending", created=ago(hours=1))
    proc, lines = _follow(cli)
    try:
        assert json.loads(lines.get(timeout=FOLLOW_WAIT))["action"] == "created"
        done = cli("orders", "set-status", str(order), "paid", "--reason", "live")
        assert done.exit_code == 0, done.stderr
        event = json.loads(lines.get(timeout=FOLLOW_WAIT))
        assert (event["to_status"], event["reason"], event["actor"]) == (
            "paid",
            "live",
            "test-admin",
        )
        proc.send_signal(signal.SIGINT)
        code, stderr = _finish(proc)
    finally:
        proc.kill()
    assert (code, stderr) == (0, "")
    assert lines.get(timeout=FOLLOW_WAIT) == ""  # nothing more was printed


def test_a_follower_piped_into_head_ends_quietly(cli: Cli, database: Database) -> None:
    """One event: after it nothing more is written, so no write fails; the follower notices
    on its own that the pipe's reader is gone."""
    Shop(database).order("pending", created=ago(hours=1))
    env = cli.subprocess_env(Role.VIEWER)
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{ORDERCTL}' events tail -f -o jsonl | head -1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=FOLLOW_WAIT,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [1]


def test_a_follower_whose_database_goes_away_exits_7(
    backend: str, cli: Cli, database: Database, db_url: str
) -> None:
    Shop(database).order("pending", created=ago(hours=1))
    proc, lines = _follow(cli)
    try:
        assert json.loads(lines.get(timeout=FOLLOW_WAIT))["id"] == 1
        if backend == "sqlite":
            path = Path(db_url.removeprefix("sqlite:///"))
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        else:
            database.dispose()
            rows(
                database,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
        code, stderr = _finish(proc)
    finally:
        proc.kill()
    assert code == 7, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    if backend == "sqlite":
        assert "is gone" in stderr
