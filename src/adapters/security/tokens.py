"""Access and refresh tokens as signed JWTs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt

from platform_core.identity.errors import InvalidToken
from platform_core.identity.model import TokenClaims, TokenType

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "sid", "jti", "token_type"]


class JwtTokenSigner:
    """HS256 JWTs whose issuer, audience, expiry, type and session are all checked."""

    def __init__(
        self, secret: str, *, issuer: str, audience: str, leeway_seconds: int = 0
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def sign(self, claims: TokenClaims) -> str:
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(claims.subject),
            "sid": str(claims.session_id),
            "jti": claims.token_id,
            "token_type": claims.token_type.value,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
            return TokenClaims(
                token_type=TokenType(payload["token_type"]),
                subject=UUID(payload["sub"]),
                session_id=UUID(payload["sid"]),
                token_id=str(payload["jti"]),
                issued_at=datetime.fromtimestamp(payload["iat"], UTC),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("The token has expired.") from error
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError) as error:
            raise InvalidToken("The token is not valid.") from error
