from __future__ import annotations

import pytest

from platform_core.identity.errors import InvalidCredentials
from platform_core.shared.errors import ValidationFailed
from tests.support import CLIENT, PASSWORD, Core


class TestSignUp:
    async def test_new_account_is_unverified_and_gets_a_verification_link(
        self, core: Core
    ) -> None:
        receipt = await core.platform.identity.sign_up(
            email="  Ada@Example.ORG ",
            password=PASSWORD,
            full_name="Ada King Lovelace",
            client=CLIENT,
        )

        assert receipt.email == "ada@example.org"
        users = list(core.adapters.store.tables.users.values())
        assert [(u.email, u.first_name, u.last_name, u.is_verified) for u in users] == [
            ("ada@example.org", "Ada", "King Lovelace", False)
        ]
        [text] = await core.delivered_mail_texts()
        assert "https://app.test/verify-email?token=" in text
        assert core.adapters.dispatcher.dispatched

    async def test_verification_token_is_stored_only_as_a_digest(
        self, core: Core
    ) -> None:
        await core.sign_up()
        secret = await core.last_link_token("verify-email")

        [stored] = core.adapters.store.tables.one_time_tokens.values()
        assert stored.token_hash != secret
        assert secret not in repr(core.adapters.store.tables.one_time_tokens)
        assert secret not in repr(core.adapters.store.tables.outbox)

    async def test_existing_verified_email_gets_the_same_answer_and_a_notice(
        self, core: Core
    ) -> None:
        await core.verified_user("ada@example.org")
        sent_before = len(core.adapters.mailer.sent)

        receipt = await core.platform.identity.sign_up(
            email="ADA@example.org",
            password="another long passphrase",
            first_name="Eve",
            last_name="Mallory",
            client=CLIENT,
        )

        assert receipt.email == "ada@example.org"
        assert len(core.adapters.store.tables.users) == 1
        texts = await core.delivered_mail_texts()
        assert len(texts) == sent_before + 1
        assert "already has an account" in texts[-1]
        assert "verify-email" not in texts[-1]

    async def test_repeated_signup_of_unverified_email_sends_a_fresh_link(
        self, core: Core
    ) -> None:
        await core.sign_up()
        first = await core.last_link_token("verify-email")
        await core.sign_up()
        second = await core.last_link_token("verify-email")

        assert first != second
        assert len(core.adapters.store.tables.users) == 1

    @pytest.mark.parametrize(
        ("password", "code"),
        [
            ("short pass", "password_too_short"),
            ("qwerty123456", "password_too_common"),
            ("ada@example.org", "password_is_email"),
            ("x" * 1025, "password_too_long"),
            (" " * 12, "password_too_simple"),
            ("abababababab", "password_too_simple"),
            ("correct horse\x00battery", "password_invalid_characters"),
            ("correct horse\tbattery", "password_invalid_characters"),
        ],
    )
    async def test_weak_password_is_refused_with_its_reason(
        self, core: Core, password: str, code: str
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await core.sign_up(password=password)

        assert code in [e.code for e in refused.value.errors]
        assert core.adapters.store.tables.users == {}

    async def test_long_unicode_password_is_kept_whole(self, core: Core) -> None:
        password = "Ünïcødé pass phrase — " * 4
        await core.verified_user(password=password)

        pair = await core.platform.identity.log_in(
            email="ada@example.org", password=password, client=CLIENT
        )
        assert pair.access
        with pytest.raises(InvalidCredentials):
            await core.platform.identity.log_in(
                email="ada@example.org", password=password[:-1], client=CLIENT
            )

    async def test_malformed_email_is_refused(self, core: Core) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await core.sign_up(email="not-an-email")
        assert refused.value.errors[0].field == "email"

    async def test_a_name_is_required_and_full_name_excludes_the_parts(
        self, core: Core
    ) -> None:
        with pytest.raises(ValidationFailed):
            await core.platform.identity.sign_up(
                email="a@example.org", password=PASSWORD, client=CLIENT
            )
        with pytest.raises(ValidationFailed):
            await core.platform.identity.sign_up(
                email="a@example.org",
                password=PASSWORD,
                full_name="A B",
                first_name="A",
                client=CLIENT,
            )

    async def test_signup_is_audited(self, core: Core) -> None:
        await core.sign_up()
        [record] = core.adapters.store.tables.audit
        assert record.action == "identity.signup"
        assert record.client_address == CLIENT.address

    async def test_control_characters_in_names_are_refused(self, core: Core) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await core.platform.identity.sign_up(
                email="a@example.org",
                password=PASSWORD,
                full_name="Nul\x00Byte",
                client=CLIENT,
            )
        assert refused.value.errors[0].code == "invalid"
        assert core.adapters.store.tables.users == {}

    async def test_non_ascii_mailbox_is_refused_and_idn_domain_is_punycode(
        self, core: Core
    ) -> None:
        with pytest.raises(ValidationFailed):
            await core.sign_up(email="ünicode@example.org")

        receipt = await core.platform.identity.sign_up(
            email="idn@bücher.example", password=PASSWORD, full_name="I", client=CLIENT
        )
        assert receipt.email == "idn@xn--bcher-kva.example"

    async def test_an_international_domain_signs_in_as_it_was_typed(
        self, core: Core
    ) -> None:
        await core.verified_user(email="idn@bücher.example")

        for typed in ("idn@bücher.example", "IDN@xn--bcher-kva.example"):
            assert await core.platform.identity.log_in(
                email=typed, password=PASSWORD, client=CLIENT
            )

    @pytest.mark.parametrize("full_name", ["\u200b\u200b", "Nul\x00Byte", "A" * 151])
    async def test_bad_full_names_are_reported_on_full_name(
        self, core: Core, full_name: str
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await core.platform.identity.sign_up(
                email="a@example.org",
                password=PASSWORD,
                full_name=full_name,
                client=CLIENT,
            )
        assert {e.field for e in refused.value.errors} == {"full_name"}
