"""Password hashing, token signing and throttling over maintained libraries."""

from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.throttle import (
    LimitsGuessThrottle,
    LimitsLoginThrottle,
    LimitsMailThrottle,
)
from adapters.security.tokens import JwtTokenSigner

__all__ = [
    "Argon2PasswordHasher",
    "JwtTokenSigner",
    "LimitsGuessThrottle",
    "LimitsLoginThrottle",
    "LimitsMailThrottle",
]
