"""Stored values for shell completion: SKUs, order refs, customer emails, usernames (§20)."""

from __future__ import annotations

from orderctl.enums import LookupKind, Role
from orderctl.services.access import Actor, check_role
from orderctl.services.uow import UnitOfWork

#: At most this many candidates per completion (DESIGN.md §20).
MAX_CANDIDATES = 50

#: The least role that may read each kind: the role of the command that lists such values.
READ_ROLE = {
    LookupKind.SKU: Role.VIEWER,
    LookupKind.REF: Role.VIEWER,
    LookupKind.EMAIL: Role.VIEWER,
    LookupKind.USERNAME: Role.ADMIN,
}


def values_starting_with(uow: UnitOfWork, actor: Actor, kind: LookupKind, prefix: str) -> list[str]:
    """Up to `MAX_CANDIDATES` stored values of `kind` starting with `prefix`, sorted (one
    query). Emails are stored lower-cased, so their prefix is lower-cased too.

    Raises `PermissionDenied` (exit 4) when the actor's role may not list that kind.
    """
    check_role(actor, READ_ROLE[kind])
    if kind is LookupKind.EMAIL:
        prefix = prefix.lower()
    return uow.lookups.starting_with(kind, prefix, MAX_CANDIDATES)
