"""Drive signup, email verification and login through the core, with no server.

Run it with `python examples/embedded_signup.py`; it prints what happens.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

from adapters.memory import build_memory_platform
from platform_core.identity.model import ClientInfo


async def main() -> None:
    platform, adapters = build_memory_platform(frontend_url="https://app.example")
    client = ClientInfo(address="127.0.0.1", user_agent="example")

    receipt = await platform.identity.sign_up(
        email="  Ada@Example.org ",
        password="correct horse battery staple",
        full_name="Ada Lovelace",
        client=client,
    )
    print(f"signed up {receipt.email}")

    summary = await platform.outbox.drain()
    mail = adapters.mailer.sent[-1].message
    print(f"mail delivered: {summary.sent}, subject: {mail.subject!r}")

    link = next(line for line in mail.text.splitlines() if "verify-email" in line)
    token = parse_qs(urlparse(link).query)["token"][0]
    await platform.identity.verify_email(token=token, client=client)
    print("email verified")

    tokens = await platform.identity.log_in(
        email="ada@example.org", password="correct horse battery staple", client=client
    )
    principal = await platform.identity.authenticate(tokens.access)
    profile = await platform.identity.get_profile(principal)
    print(f"logged in as {profile.full_name} <{profile.email}>")


if __name__ == "__main__":
    asyncio.run(main())
