"""What the promotions context needs from the outside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from platform_core.promotions.model import PromoCode, PromoCodeFilter


class DuplicatePromoCode(Exception):
    """The organizer already has a code with this key."""


class GuessThrottle(Protocol):
    """Counts unknown promo codes per client address, so codes cannot be guessed.

    Only misses are counted: a crowd behind one address that all use the
    code they were given is never held back.
    """

    async def blocked(self, *, address: str) -> int | None:
        """The seconds to wait if the address missed too often, else None."""
        ...

    async def missed(self, *, address: str) -> None:
        """Count one unknown code named from the address."""
        ...


class PromoCodeRepository(Protocol):
    async def add(self, code: PromoCode) -> None:
        """Raises DuplicatePromoCode when the organizer has the key already."""
        ...

    async def get(self, code_id: UUID) -> PromoCode | None: ...

    async def get_by_key(self, organizer_id: UUID, key: str) -> PromoCode | None: ...

    async def update(self, code: PromoCode) -> None:
        """Write every field but `times_used`; raises DuplicatePromoCode."""
        ...

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: PromoCodeFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[PromoCode], int]:
        """Newest first, and how many match."""
        ...

    async def use(self, code_id: UUID) -> bool:
        """Count one use if the code is active and not used up, in one statement.

        Under any number of concurrent callers, at most `max_uses` succeed.
        """
        ...

    async def give_back(self, code_id: UUID) -> bool:
        """Return one use, never going below zero."""
        ...
