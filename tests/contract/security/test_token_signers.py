from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from adapters.memory import ManualClock, MemoryTokenSigner
from adapters.security import JwtTokenSigner
from platform_core.identity.errors import InvalidToken
from platform_core.identity.model import TokenClaims, TokenType
from platform_core.identity.ports import TokenSigner

SECRET = "s" * 48
NOW = datetime.now(UTC).replace(microsecond=0)


def claims(expires_in: timedelta = timedelta(minutes=15)) -> TokenClaims:
    return TokenClaims(
        token_type=TokenType.ACCESS,
        subject=uuid.uuid4(),
        session_id=uuid.uuid4(),
        token_id="jti-1",
        issued_at=NOW,
        expires_at=NOW + expires_in,
    )


@pytest.fixture(params=["jwt", "memory"])
def signer(request: pytest.FixtureRequest) -> TokenSigner:
    if request.param == "jwt":
        return JwtTokenSigner(SECRET, issuer="platform", audience="platform-api")
    return MemoryTokenSigner(ManualClock(NOW))


class TestTokenSignerContract:
    def test_signed_claims_read_back_unchanged(self, signer: TokenSigner) -> None:
        original = claims()
        assert signer.read(signer.sign(original)) == original

    def test_expired_token_is_refused(self, signer: TokenSigner) -> None:
        with pytest.raises(InvalidToken):
            signer.read(signer.sign(claims(expires_in=timedelta(seconds=-1))))

    def test_garbage_is_refused(self, signer: TokenSigner) -> None:
        with pytest.raises(InvalidToken):
            signer.read("definitely.not.a-token")


def _forge(header: dict[str, str], payload: dict[str, object]) -> str:
    def part(data: dict[str, object] | dict[str, str]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


class TestJwt:
    signer = JwtTokenSigner(SECRET, issuer="platform", audience="platform-api")

    def _payload(self) -> dict[str, object]:
        return jwt.decode(
            self.signer.sign(claims()),
            SECRET,
            algorithms=["HS256"],
            audience="platform-api",
        )

    def test_alg_none_token_is_refused(self) -> None:
        with pytest.raises(InvalidToken):
            self.signer.read(_forge({"alg": "none", "typ": "JWT"}, self._payload()))

    def test_token_signed_with_another_key_is_refused(self) -> None:
        forged = jwt.encode(self._payload(), "x" * 48, algorithm="HS256")
        with pytest.raises(InvalidToken):
            self.signer.read(forged)

    @pytest.mark.parametrize(
        ("claim", "value"), [("aud", "someone-else"), ("iss", "elsewhere")]
    )
    def test_wrong_audience_or_issuer_is_refused(self, claim: str, value: str) -> None:
        payload = {**self._payload(), claim: value}
        with pytest.raises(InvalidToken):
            self.signer.read(jwt.encode(payload, SECRET, algorithm="HS256"))

    @pytest.mark.parametrize("claim", ["sid", "token_type", "exp", "sub"])
    def test_token_missing_a_required_claim_is_refused(self, claim: str) -> None:
        payload = self._payload()
        del payload[claim]
        with pytest.raises(InvalidToken):
            self.signer.read(jwt.encode(payload, SECRET, algorithm="HS256"))

    def test_unknown_token_type_is_refused(self) -> None:
        payload = {**self._payload(), "token_type": "sudo"}
        with pytest.raises(InvalidToken):
            self.signer.read(jwt.encode(payload, SECRET, algorithm="HS256"))
