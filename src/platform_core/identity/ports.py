"""What the identity context needs from the outside."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from platform_core.identity.model import (
    LoginSession,
    OneTimeToken,
    TokenClaims,
    TokenPurpose,
    User,
)


class UserRepository(Protocol):
    """Accounts, looked up by id or normalized email."""

    async def add(self, user: User) -> None:
        """Insert; raises DuplicateEmail when the email is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def update(self, user: User) -> None: ...


class DuplicateEmail(Exception):
    """Another account already holds this email."""


class LoginSessionRepository(Protocol):
    """Login sessions and the conditional updates that rotate and revoke them."""

    async def add(self, session: LoginSession) -> None: ...

    async def get(self, session_id: UUID) -> LoginSession | None: ...

    async def list_for_user(
        self, user_id: UUID, *, active_at: datetime
    ) -> Sequence[LoginSession]:
        """Unrevoked, unexpired sessions, newest first."""
        ...

    async def rotate(
        self, session_id: UUID, expected_token_id: str, new_token_id: str, now: datetime
    ) -> bool:
        """Swap the current refresh token id if it is still the expected one."""
        ...

    async def revoke(self, session_id: UUID, now: datetime, reason: str) -> bool:
        """Revoke one session; false if it was already revoked."""
        ...

    async def revoke_all_for_user(
        self, user_id: UUID, now: datetime, reason: str, *, keep: UUID | None = None
    ) -> int:
        """Revoke every active session of a user but `keep`; returns how many."""
        ...


class OneTimeTokenRepository(Protocol):
    """Verification and password-reset tokens, stored by digest."""

    async def add(self, token: OneTimeToken) -> None: ...

    async def get_by_hash(
        self, token_hash: str, purpose: TokenPurpose
    ) -> OneTimeToken | None: ...

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        """Mark used if still unused; false if someone used it first."""
        ...

    async def void_unused(
        self, user_id: UUID, purpose: TokenPurpose, now: datetime
    ) -> int:
        """Use up every unused token of this purpose; returns how many."""
        ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class TokenSigner(Protocol):
    """Turns claims into a signed bearer token and back, checking every claim."""

    def sign(self, claims: TokenClaims) -> str: ...

    def read(self, token: str) -> TokenClaims:
        """Raises InvalidToken for a forged, malformed or expired token."""
        ...


class MailThrottle(Protocol):
    """Counts mails that anyone may ask for, per recipient and per client address.

    Signup and password-reset requests need no account, so without a limit
    anyone could make the platform flood one mailbox.
    """

    async def acquire(self, *, recipient: str, address: str | None) -> int | None:
        """Count one request; if a limit is reached, the seconds to wait instead."""
        ...


class LoginThrottle(Protocol):
    """Counts password attempts per account and per client address.

    Counting happens before the password is checked, so a burst of concurrent
    guesses cannot slip past the limit.
    """

    async def acquire(self, *, account: str, address: str | None) -> int | None:
        """Count one attempt; if a limit is reached, the seconds to wait instead."""
        ...

    async def clear(self, *, account: str) -> None:
        """Forget the account's attempts after it proved its password."""
        ...
