"""In-memory clock, mailer, dispatcher, throttle, hasher and token signer."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from platform_core.identity.errors import InvalidToken
from platform_core.identity.model import TokenClaims
from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import MailDeliveryError


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@dataclass(frozen=True, slots=True)
class SentMail:
    message: MailMessage
    message_id: str


@dataclass(slots=True)
class MemoryMailer:
    """Keeps sent mail in a list; set `failing` to refuse every message."""

    sent: list[SentMail] = field(default_factory=list)
    failing: bool = False

    async def send(self, message: MailMessage, *, message_id: str) -> None:
        if self.failing:
            raise MailDeliveryError("the in-memory mailer is set to fail")
        self.sent.append(SentMail(message, message_id))


@dataclass(slots=True)
class RecordingDispatcher:
    """Remembers which outbox messages were handed over after commit."""

    dispatched: list[UUID] = field(default_factory=list)

    async def dispatch(self, message_ids: Sequence[UUID]) -> None:
        self.dispatched.extend(message_ids)


class MemoryLoginThrottle:
    """Counts attempts in a sliding window, reading time from a clock."""

    def __init__(
        self,
        clock: ManualClock,
        *,
        per_account: int = 5,
        per_address: int = 50,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._clock = clock
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._failures: dict[tuple[str, str], list[datetime]] = {}

    def _keys(self, account: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("account", account)]
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key: tuple[str, str]) -> list[datetime]:
        horizon = self._clock.now() - self._window
        recent = [t for t in self._failures.get(key, []) if t > horizon]
        self._failures[key] = recent
        return recent

    async def acquire(self, *, account: str, address: str | None) -> int | None:
        for key in self._keys(account, address):
            recent = self._recent(key)
            limit = self._limits[key[0]]
            if len(recent) >= limit:
                free_at = recent[-limit] + self._window
                return max(1, int((free_at - self._clock.now()).total_seconds()))
            recent.append(self._clock.now())
        return None

    async def clear(self, *, account: str) -> None:
        self._failures.pop(("account", account), None)


class MemoryMailThrottle:
    """Counts mail requests per recipient and per address in a sliding window."""

    def __init__(
        self,
        clock: ManualClock,
        *,
        per_recipient: int = 5,
        per_address: int = 60,
        window: timedelta = timedelta(hours=1),
    ) -> None:
        self._counter = MemoryLoginThrottle(
            clock, per_account=per_recipient, per_address=per_address, window=window
        )

    async def acquire(self, *, recipient: str, address: str | None) -> int | None:
        return await self._counter.acquire(account=recipient, address=address)


class MemoryGuessThrottle:
    """Counts unknown promo codes per address in a sliding window."""

    def __init__(
        self,
        clock: ManualClock,
        *,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._clock = clock
        self._limit = per_address
        self._window = window
        self._misses: dict[str, list[datetime]] = {}

    def _recent(self, address: str) -> list[datetime]:
        horizon = self._clock.now() - self._window
        recent = [t for t in self._misses.get(address, []) if t > horizon]
        self._misses[address] = recent
        return recent

    async def blocked(self, *, address: str) -> int | None:
        recent = self._recent(address)
        if len(recent) < self._limit:
            return None
        free_at = recent[-self._limit] + self._window
        return max(1, int((free_at - self._clock.now()).total_seconds()))

    async def missed(self, *, address: str) -> None:
        self._recent(address).append(self._clock.now())


class MemoryPasswordHasher:
    """PBKDF2 with few rounds: fast for tests, never for production."""

    def __init__(self, rounds: int = 1000) -> None:
        self._rounds = rounds

    def _derive(self, password: str, salt: str, rounds: int) -> str:
        raw = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), rounds)
        return raw.hex()

    async def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        return (
            f"memory${self._rounds}${salt}${self._derive(password, salt, self._rounds)}"
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            scheme, rounds, salt, expected = password_hash.split("$")
        except ValueError:
            return False
        if scheme != "memory":
            return False
        return hmac.compare_digest(expected, self._derive(password, salt, int(rounds)))

    def needs_rehash(self, password_hash: str) -> bool:
        parts = password_hash.split("$")
        return len(parts) != 4 or int(parts[1]) < self._rounds


class MemoryTokenSigner:
    """Issues opaque random tokens and remembers their claims."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._issued: dict[str, TokenClaims] = {}

    def sign(self, claims: TokenClaims) -> str:
        token = secrets.token_urlsafe(24)
        self._issued[token] = claims
        return token

    def read(self, token: str) -> TokenClaims:
        claims = self._issued.get(token)
        if claims is None:
            raise InvalidToken("The token is not valid.")
        if self._clock.now() >= claims.expires_at:
            raise InvalidToken("The token has expired.")
        return claims
