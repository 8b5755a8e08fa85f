"""argon2id password hashing."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_MEMORY_KIB = 19 * 1024
MIN_ITERATIONS = 2


class Argon2PasswordHasher:
    """argon2id; hashes made with weaker parameters report that they need rehashing."""

    def __init__(
        self,
        *,
        memory_kib: int = MIN_MEMORY_KIB,
        iterations: int = MIN_ITERATIONS,
        parallelism: int = 1,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=iterations,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
