"""One error hierarchy; each error carries the exit code of DESIGN.md §9."""

from __future__ import annotations

import re

#: What Pydantic adds to a message that means nothing to a user: the validator's kind
#: (`Value error, `), its error type and input (`[type=..., input_value=...]`) and its URL.
_INTERNALS = re.compile(
    r"(?:Value error|Assertion failed), "
    r"|\s*\[type=[^\]]*\]"
    r"|\s*For further information visit \S+"
)


def without_internals(message: str) -> str:
    """A validation message as a user should read it, without the validation library's words.

    Every place that turns a Pydantic or typer error into text passes through here (schemas,
    the import, the API's 422, the CLI's usage errors).
    """
    return _INTERNALS.sub("", message).strip()


class OrderctlError(Exception):
    """Base of every error a user can cause or meet. `exit_code` is the process exit status."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(OrderctlError):
    """A value that cannot be parsed at all (exit 2)."""

    exit_code = 2


class ConfigError(OrderctlError):
    """A broken configuration: bad URL, unreadable or invalid config file (exit 2)."""

    exit_code = 2


class NotAuthenticated(OrderctlError):
    """No token, wrong password, expired or revoked token (exit 3)."""

    exit_code = 3


class TokenRefused(NotAuthenticated):
    """A token that is malformed, unknown, revoked or expired (exit 3). `problem` completes
    "the token ...", so a face can say which token it means (e.g. the one in ORDERCTL_TOKEN).
    """

    def __init__(self, problem: str) -> None:
        super().__init__(f"token {problem}: run `orderctl auth login`")
        self.problem = problem


class PermissionDenied(OrderctlError):
    """The role of the logged-in user is too low (exit 4)."""

    exit_code = 4


class NotFound(OrderctlError):
    """The record asked for does not exist (exit 5)."""

    exit_code = 5


class RuleViolation(OrderctlError):
    """A well-formed value that breaks a rule, invalid content, or a conflict (exit 6)."""

    exit_code = 6


class ValidationFailed(RuleViolation):
    """Input that failed validation (exit 6)."""


class Conflict(RuleViolation):
    """A write that clashes with what is stored (exit 6; HTTP 409)."""


class IntegrityConflict(Conflict):
    """A write the database refused by a constraint (exit 6; HTTP 409), made by `db.translate`
    from the driver's error. `constraint` names it where the driver says (PostgreSQL's
    constraint name; SQLite's `table.column` list), else None."""

    def __init__(self, message: str, *, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class DuplicateKey(IntegrityConflict):
    """A unique key already taken (an external_ref, an email, a SKU)."""


class MissingReference(IntegrityConflict):
    """A foreign key that points at a row that does not exist (any more)."""


class InvalidTransition(Conflict):
    """An order status change outside the transition table (exit 6)."""


class InsufficientStock(Conflict):
    """Not enough stock for an order line (exit 6)."""


class DatabaseUnavailable(OrderctlError):
    """The database cannot be reached, or its schema is not at the latest revision (exit 7)."""

    exit_code = 7


class ConnectionLost(DatabaseUnavailable):
    """The connection to the database broke while a command was using it (exit 7)."""


class DatabaseBusy(DatabaseUnavailable):
    """A lock this work needs is held by another transaction, and it chose not to wait."""


class PoolExhausted(DatabaseBusy):
    """Every pooled connection stayed busy for the pool's timeout: overloaded, retry later."""


class JobAlreadyRunning(OrderctlError):
    """Another run of the same maintenance job holds its lock (exit 75, EX_TEMPFAIL)."""

    exit_code = 75
