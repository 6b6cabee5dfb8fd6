"""The production password and token settings (tests elsewhere use a cheap argon2 profile)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from orderctl.services import access, auth


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> None:
    """Overrides the conftest fixture: this module checks the real, production hasher."""


def test_production_hasher_is_argon2id_with_library_defaults() -> None:
    fresh = auth
    hasher = fresh._hasher
    assert isinstance(hasher, PasswordHasher)
    assert hasher.type is Type.ID
    assert hasher.time_cost >= 2 and hasher.memory_cost >= 19 * 1024
    stored = fresh.hash_password("a long password")
    assert stored.startswith("$argon2id$")
    assert fresh.verify_password(stored, "a long password")
    assert not fresh.verify_password(stored, "a long passworD")
    assert not fresh.verify_password("not a hash", "x")
    # The dummy hash that unknown users are checked against costs the same as a real one.
    assert fresh._DUMMY_HASH.split("$")[3] == stored.split("$")[3]


def test_tokens_are_random_prefixed_and_stored_hashed() -> None:
    secrets = {auth.new_token_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("oct_") and len(secret) >= 4 + 43  # 32 bytes, base64url
        assert len(access.hash_token(secret)) == 64 and secret not in access.hash_token(secret)
