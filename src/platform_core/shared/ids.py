"""Public identifiers and one-time secrets."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from uuid import UUID


def new_id() -> UUID:
    return uuid.uuid4()


def reads_as_uuid(text: str) -> bool:
    """Whether `text` would be taken for a uuid where a uuid or a slug may be."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def new_secret() -> str:
    """A URL-safe secret carrying 256 random bits."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
