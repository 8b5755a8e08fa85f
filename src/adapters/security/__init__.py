"""Password hashing, token signing and login throttling over maintained libraries."""

from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.throttle import LimitsLoginThrottle
from adapters.security.tokens import JwtTokenSigner

__all__ = ["Argon2PasswordHasher", "JwtTokenSigner", "LimitsLoginThrottle"]
