"""In-memory promo codes; the store's lock makes their uses atomic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import UUID

from platform_core.promotions.model import PromoCode, PromoCodeFilter
from platform_core.promotions.ports import DuplicatePromoCode

if TYPE_CHECKING:
    from adapters.memory.store import _Tables


class MemoryPromoCodeRepository:
    """Codes keyed by id; links to deleted events vanish, as the SQL cascade does."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, code: PromoCode) -> None:
        self._guard_key(code)
        self._t.promo_codes[code.id] = replace(code)

    async def get(self, code_id: UUID) -> PromoCode | None:
        found = self._t.promo_codes.get(code_id)
        return self._read(found) if found else None

    async def get_by_key(self, organizer_id: UUID, key: str) -> PromoCode | None:
        for code in self._t.promo_codes.values():
            if code.organizer_id == organizer_id and code.key == key:
                return self._read(code)
        return None

    async def update(self, code: PromoCode) -> None:
        stored = self._t.promo_codes.get(code.id)
        if stored is None:
            raise KeyError(code.id)
        self._guard_key(code)
        self._t.promo_codes[code.id] = replace(code, times_used=stored.times_used)

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: PromoCodeFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[PromoCode], int]:
        found = [
            self._read(code)
            for code in self._t.promo_codes.values()
            if code.organizer_id == organizer_id
        ]
        found = [
            code
            for code in found
            if (criteria.is_active is None or code.is_active is criteria.is_active)
            and (criteria.event_id is None or code.applies_to(criteria.event_id))
        ]
        found.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return found[offset : offset + limit], len(found)

    async def use(self, code_id: UUID) -> bool:
        code = self._t.promo_codes.get(code_id)
        if code is None or not code.is_active:
            return False
        if code.max_uses is not None and code.times_used >= code.max_uses:
            return False
        code.times_used += 1
        return True

    async def give_back(self, code_id: UUID) -> bool:
        code = self._t.promo_codes.get(code_id)
        if code is None or code.times_used <= 0:
            return False
        code.times_used -= 1
        return True

    def _read(self, code: PromoCode) -> PromoCode:
        events = tuple(sorted(e for e in code.event_ids if e in self._t.events))
        return replace(code, event_ids=events)

    def _guard_key(self, code: PromoCode) -> None:
        """The unique (organizer, key) index of the SQL table."""
        for other in self._t.promo_codes.values():
            if (
                other.id != code.id
                and other.organizer_id == code.organizer_id
                and other.key == code.key
            ):
                raise DuplicatePromoCode(code.key)
