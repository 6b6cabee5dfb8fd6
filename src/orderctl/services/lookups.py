"""Stored values for shell completion: SKUs, order refs, customer emails, usernames (§20)."""

from __future__ import annotations

from orderctl.enums import LookupKind
from orderctl.lookup_rules import MAX_CANDIDATES, READ_ROLE, typed_prefix
from orderctl.services.access import Actor, check_role
from orderctl.services.uow import UnitOfWork

__all__ = ["MAX_CANDIDATES", "values_starting_with"]


def values_starting_with(uow: UnitOfWork, actor: Actor, kind: LookupKind, prefix: str) -> list[str]:
    """Up to `MAX_CANDIDATES` stored values of `kind` starting with `prefix`, sorted (one
    query). Emails are stored lower-cased, so their prefix is lower-cased too.

    Raises `PermissionDenied` (exit 4) when the actor's role may not list that kind.
    """
    check_role(actor, READ_ROLE[kind])
    return uow.lookups.starting_with(kind, typed_prefix(kind, prefix), MAX_CANDIDATES)
