from __future__ import annotations

import pytest
from argon2 import PasswordHasher as RawArgon2
from argon2 import extract_parameters

from adapters.memory import MemoryPasswordHasher
from adapters.security import Argon2PasswordHasher
from platform_core.identity.ports import PasswordHasher


@pytest.fixture(params=["argon2", "memory"])
def hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    if request.param == "argon2":
        return Argon2PasswordHasher()
    return MemoryPasswordHasher()


class TestPasswordHasherContract:
    async def test_the_right_password_verifies_and_a_wrong_one_does_not(
        self, hasher: PasswordHasher
    ) -> None:
        hashed = await hasher.hash("plum orchard lantern 42")

        assert await hasher.verify(hashed, "plum orchard lantern 42")
        assert not await hasher.verify(hashed, "plum orchard lantern 43")
        assert not hasher.needs_rehash(hashed)

    async def test_long_unicode_passwords_are_never_truncated(
        self, hasher: PasswordHasher
    ) -> None:
        password = "ñandú 🦩 " * 40
        hashed = await hasher.hash(password)

        assert await hasher.verify(hashed, password)
        assert not await hasher.verify(hashed, password[:-1])

    async def test_garbage_hash_never_verifies(self, hasher: PasswordHasher) -> None:
        assert not await hasher.verify("not a hash", "anything at all")
        assert hasher.needs_rehash("not a hash")


class TestArgon2:
    async def test_hashes_are_argon2id_with_at_least_19_mib_and_2_passes(self) -> None:
        hashed = await Argon2PasswordHasher().hash("plum orchard lantern 42")

        params = extract_parameters(hashed)
        assert hashed.startswith("$argon2id$")
        assert params.memory_cost >= 19 * 1024
        assert params.time_cost >= 2

    async def test_hash_with_weaker_parameters_needs_rehash(self) -> None:
        weak = RawArgon2(time_cost=1, memory_cost=8 * 1024).hash("plum orchard 42")
        hasher = Argon2PasswordHasher()

        assert await hasher.verify(weak, "plum orchard 42")
        assert hasher.needs_rehash(weak)
