"""Builders shared by the test suites."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from adapters.memory import MemoryAdapters
from platform_core import Platform
from platform_core.identity.model import ClientInfo, Principal, TokenPair

PASSWORD = "plum orchard lantern 42"
CLIENT = ClientInfo(address="203.0.113.7", user_agent="pytest")


def token_from_link(text: str, path: str) -> str:
    """The `token` query parameter of the first link to `path` in a mail body."""
    for word in text.split():
        if f"/{path}?" in word:
            return parse_qs(urlparse(word).query)["token"][0]
    raise AssertionError(f"no /{path} link in: {text!r}")


@dataclass
class Core:
    platform: Platform
    adapters: MemoryAdapters

    async def delivered_mail_texts(self) -> list[str]:
        await self.platform.outbox.drain()
        return [sent.message.text for sent in self.adapters.mailer.sent]

    async def last_link_token(self, path: str) -> str:
        texts = [t for t in await self.delivered_mail_texts() if f"/{path}" in t]
        assert texts, f"no mail with a /{path} link was delivered"
        return token_from_link(texts[-1], path)

    async def sign_up(
        self, email: str = "ada@example.org", password: str = PASSWORD
    ) -> None:
        await self.platform.identity.sign_up(
            email=email, password=password, full_name="Ada Lovelace", client=CLIENT
        )

    async def verified_user(
        self, email: str = "ada@example.org", password: str = PASSWORD
    ) -> TokenPair:
        await self.sign_up(email, password)
        token = await self.last_link_token("verify-email")
        return await self.platform.identity.verify_email(token=token, client=CLIENT)

    async def principal(self, pair: TokenPair) -> Principal:
        return await self.platform.identity.authenticate(pair.access)
