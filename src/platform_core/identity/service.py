"""Use cases of the identity context."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import structlog
from email_validator import EmailNotValidError, validate_email

from platform_core.audit.service import write_audit
from platform_core.identity import mails
from platform_core.identity.errors import (
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    OneTimeTokenExpired,
    OneTimeTokenUnknown,
    OneTimeTokenUsed,
    RefreshTokenReused,
)
from platform_core.identity.model import (
    ClientInfo,
    LoginSession,
    OneTimeToken,
    Principal,
    SessionView,
    SignupCredentials,
    TokenClaims,
    TokenPair,
    TokenPurpose,
    TokenType,
    User,
    has_control_characters,
    normalize_email,
    split_full_name,
)
from platform_core.identity.passwords import check_password
from platform_core.identity.ports import (
    DuplicateEmail,
    LoginThrottle,
    MailThrottle,
    PasswordHasher,
    TokenSigner,
)
from platform_core.outbox.ports import MessageDispatcher
from platform_core.outbox.service import enqueue_mail
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    FieldErrors,
    NotFound,
    ValidationFailed,
)
from platform_core.shared.ids import digest, new_secret
from platform_core.shared.throttling import refuse_if_held
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

NAME_MAX_LENGTH = 150
USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """Lifetimes and links the identity use cases work with."""

    frontend_url: str
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=14)
    verification_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(hours=1)

    def link(self, path: str, token: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/{path}?{urlencode({'token': token})}"


@dataclass(frozen=True, slots=True)
class SignupReceipt:
    """What a signup tells the caller: the same whether the email was new or not."""

    email: str


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Fields a user may change on their own profile; None leaves a field alone."""

    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None


@dataclass(slots=True)
class _Mails:
    ids: list[UUID] = field(default_factory=list)


def _clean_email(raw: str) -> str:
    """A deliverable-looking address in ASCII (international domains as punycode)."""
    try:
        checked = validate_email(
            raw.strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        raise _field_error("email", "invalid_email", str(error)) from error
    return normalize_email(checked.ascii_email or checked.normalized)


def _lookup_key(raw: str) -> str | None:
    """The form of an email to look an account up by, or None if none could match."""
    address = normalize_email(raw)
    if has_control_characters(address):
        return None
    if address.isascii():
        return address
    try:
        return _clean_email(address)
    except ValidationFailed:
        return None


def _field_error(name: str, code: str, message: str) -> ValidationFailed:
    errors = FieldErrors()
    errors.add(name, code, message)
    return ValidationFailed(message, errors=errors.items)


def _names(
    *, full_name: str | None, first_name: str | None, last_name: str | None
) -> tuple[str, str]:
    if full_name is not None and (first_name is not None or last_name is not None):
        raise _field_error(
            "full_name",
            "ambiguous_name",
            "Give either full_name or first_name and last_name, not both.",
        )
    if full_name is not None:
        first, last = split_full_name(full_name)
    else:
        first, last = (first_name or "").strip(), (last_name or "").strip()
    errors = FieldErrors()
    for name, value in (("first_name", first), ("last_name", last)):
        field = "full_name" if full_name is not None else name
        if has_control_characters(value):
            errors.add(field, "invalid", "Names cannot hold control characters.")
        if len(value) > NAME_MAX_LENGTH:
            errors.add(field, "too_long", f"At most {NAME_MAX_LENGTH} characters.")
    if not any(char.isalnum() for char in first):
        errors.add(
            "full_name" if full_name is not None else "first_name",
            "required",
            "A name with at least one letter or digit is required.",
        )
    errors.raise_if_any()
    return first, last


class IdentityService:
    """Signup, verification, login, tokens, passwords, profile and sessions."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHasher,
        signer: TokenSigner,
        throttle: LoginThrottle,
        mail_throttle: MailThrottle,
        dispatcher: MessageDispatcher,
        policy: IdentityPolicy,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._signer = signer
        self._throttle = throttle
        self._mail_throttle = mail_throttle
        self._dispatcher = dispatcher
        self._policy = policy
        self._dummy_hash: str | None = None

    async def sign_up(
        self,
        *,
        email: str,
        password: str,
        client: ClientInfo,
        full_name: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> SignupReceipt:
        """Create an unverified account and mail its verification link."""
        address = _clean_email(email)
        first, last = _names(
            full_name=full_name, first_name=first_name, last_name=last_name
        )
        check_password(password, email=address)
        await self._count_mail_request(address, client)
        password_hash = await self._hasher.hash(password)

        try:
            mails_sent = await self._sign_up_once(
                address, password_hash, first, last, client
            )
        except DuplicateEmail:
            mails_sent = await self._sign_up_once(
                address, password_hash, first, last, client
            )
        await self._dispatcher.dispatch(mails_sent.ids)
        return SignupReceipt(email=address)

    async def _sign_up_once(
        self,
        address: str,
        password_hash: str,
        first: str,
        last: str,
        client: ClientInfo,
    ) -> _Mails:
        now = self._clock.now()
        sent = _Mails()
        credentials = SignupCredentials(password_hash, first, last)
        async with self._uow() as uow:
            existing = await uow.users.get_by_email(address)
            if existing is None:
                user = User(
                    email=address,
                    password_hash=password_hash,
                    first_name=first,
                    last_name=last,
                    created_at=now,
                )
                await uow.users.add(user)
                await self._send_verification(uow, user, credentials, now, sent)
                await self._audit_user(
                    uow,
                    "identity.signup",
                    user.id,
                    at=now,
                    client=client,
                    actor_id=user.id,
                )
            elif not existing.is_verified:
                await self._send_verification(uow, existing, credentials, now, sent)
                await self._audit_user(
                    uow,
                    "identity.signup.repeated_unverified",
                    existing.id,
                    at=now,
                    client=client,
                )
            else:
                reset_link = f"{self._policy.frontend_url.rstrip('/')}/reset-password"
                sent.ids.append(
                    await enqueue_mail(
                        uow.outbox,
                        mails.already_registered_mail(existing, reset_link),
                        self._clock,
                    )
                )
                await self._audit_user(
                    uow,
                    "identity.signup.existing_account",
                    existing.id,
                    at=now,
                    client=client,
                )
            await uow.commit()
        log.info("identity.signup.accepted", client_address=client.address)
        return sent

    async def _audit_user(
        self,
        uow: UnitOfWork,
        action: str,
        user_id: UUID | None,
        *,
        at: datetime,
        client: ClientInfo | None,
        actor_id: UUID | None = None,
        **details: Any,
    ) -> None:
        """Record an action on a user's account in the caller's transaction."""
        await write_audit(
            uow.audit,
            action,
            at=at,
            actor_id=actor_id,
            target_type="user",
            target_id=user_id,
            client=client,
            **details,
        )

    async def _send_verification(
        self,
        uow: UnitOfWork,
        user: User,
        credentials: SignupCredentials,
        now: datetime,
        sent: _Mails,
    ) -> None:
        """Mail a link that verifies the address with this signup's password.

        Earlier links stay valid: each sets the password of its own signup,
        and the owner of the mailbox picks the one that greets them.
        """
        secret = await self._issue_token(
            uow,
            user,
            TokenPurpose.VERIFY_EMAIL,
            self._policy.verification_ttl,
            now,
            credentials=credentials,
        )
        link = self._policy.link("verify-email", secret)
        greeted = replace(
            user, first_name=credentials.first_name, last_name=credentials.last_name
        )
        sent.ids.append(
            await enqueue_mail(
                uow.outbox, mails.verification_mail(greeted, link), self._clock
            )
        )

    async def _issue_token(
        self,
        uow: UnitOfWork,
        user: User,
        purpose: TokenPurpose,
        ttl: timedelta,
        now: datetime,
        *,
        credentials: SignupCredentials | None = None,
    ) -> str:
        """A new link; a reset link voids the older ones of its user."""
        if purpose is TokenPurpose.RESET_PASSWORD:
            await uow.one_time_tokens.void_unused(user.id, purpose, now)
        secret = new_secret()
        await uow.one_time_tokens.add(
            OneTimeToken(
                user_id=user.id,
                purpose=purpose,
                token_hash=digest(secret),
                created_at=now,
                expires_at=now + ttl,
                credentials=credentials,
            )
        )
        return secret

    async def _redeemable_token(
        self, uow: UnitOfWork, secret: str, purpose: TokenPurpose, now: datetime
    ) -> OneTimeToken:
        token = await uow.one_time_tokens.get_by_hash(digest(secret), purpose)
        if token is None:
            raise OneTimeTokenUnknown("This link is not valid.")
        if token.used_at is not None:
            raise OneTimeTokenUsed(
                "This link was already used or replaced by a newer one."
            )
        if now >= token.expires_at:
            raise OneTimeTokenExpired("This link has expired; ask for a new one.")
        return token

    async def _redeem(
        self, uow: UnitOfWork, token: OneTimeToken, now: datetime
    ) -> User:
        if not await uow.one_time_tokens.consume(token.id, now):
            raise OneTimeTokenUsed("This link was already used.")
        user = await uow.users.get(token.user_id)
        if user is None or not user.is_active:
            raise OneTimeTokenUnknown("This link is not valid.")
        return user

    async def verify_email(self, *, token: str, client: ClientInfo) -> TokenPair:
        """Redeem a verification link; the user is signed in at once."""
        now = self._clock.now()
        async with self._uow() as uow:
            one_time = await self._redeemable_token(
                uow, token, TokenPurpose.VERIFY_EMAIL, now
            )
            user = await self._redeem(uow, one_time, now)
            await uow.one_time_tokens.void_unused(
                user.id, TokenPurpose.VERIFY_EMAIL, now
            )
            if one_time.credentials is not None:
                user.password_hash = one_time.credentials.password_hash
                user.first_name = one_time.credentials.first_name
                user.last_name = one_time.credentials.last_name
            user.is_verified = True
            user.verified_at = now
            user.updated_at = now
            await uow.users.update(user)
            pair = await self._start_session(uow, user, client, now)
            await self._audit_user(
                uow,
                "identity.email.verified",
                user.id,
                at=now,
                client=client,
                actor_id=user.id,
            )
            await uow.commit()
        return pair

    async def log_in(
        self, *, email: str, password: str, client: ClientInfo
    ) -> TokenPair:
        """Check the credentials and start a new session."""
        account = _lookup_key(email)
        await self._count_attempt(account or normalize_email(email), client)

        user = None
        if account is not None:
            async with self._uow() as uow:
                user = await uow.users.get_by_email(account)
        if user is not None and user.is_active:
            valid = await self._hasher.verify(user.password_hash, password)
        else:
            await self._hasher.verify(await self._timing_hash(), password)
            valid = False

        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.users.get(user.id) if valid and user else None
            if (
                current is not None
                and user is not None
                and current.password_hash == user.password_hash
            ):
                pair = await self._complete_login(uow, current, password, client, now)
                await self._throttle.clear(account=current.email)
                return pair
            await self._audit_user(
                uow,
                "identity.login.failed",
                user.id if user else None,
                at=now,
                client=client,
            )
            await uow.commit()
        log.info("identity.login.failed", client_address=client.address)
        raise InvalidCredentials("No active account has this email and password.")

    async def _count_attempt(self, account: str, client: ClientInfo) -> None:
        refuse_if_held(
            await self._throttle.acquire(account=account, address=client.address),
            event="identity.login.throttled",
            message="Too many sign-in attempts; try again later.",
            client_address=client.address,
        )

    async def _count_mail_request(self, recipient: str, client: ClientInfo) -> None:
        """Refuse a request once its recipient or its client asked too often.

        The count does not depend on whether an account exists, so a refusal
        reveals nothing about the address.
        """
        refuse_if_held(
            await self._mail_throttle.acquire(
                recipient=recipient, address=client.address
            ),
            event="identity.mail_request.throttled",
            message="Too many requests for mail, to this email address or from this "
            "client; try again later.",
            client_address=client.address,
        )

    async def _complete_login(
        self,
        uow: UnitOfWork,
        user: User,
        password: str,
        client: ClientInfo,
        now: datetime,
    ) -> TokenPair:
        if not user.is_verified:
            raise EmailNotVerified(
                "Confirm your email address first; we sent you a link."
            )
        if self._hasher.needs_rehash(user.password_hash):
            user.password_hash = await self._hasher.hash(password)
            user.updated_at = now
            await uow.users.update(user)
            log.info("identity.password.rehashed", user_id=str(user.id))
        pair = await self._start_session(uow, user, client, now)
        await self._audit_user(
            uow,
            "identity.login.succeeded",
            user.id,
            at=now,
            client=client,
            actor_id=user.id,
        )
        await uow.commit()
        return pair

    async def _timing_hash(self) -> str:
        """A hash to check unknown accounts against, so timing tells nothing."""
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(new_secret())
        return self._dummy_hash

    async def _start_session(
        self, uow: UnitOfWork, user: User, client: ClientInfo, now: datetime
    ) -> TokenPair:
        session = LoginSession(
            user_id=user.id,
            refresh_token_id=new_secret(),
            user_agent=client.user_agent[:USER_AGENT_MAX_LENGTH],
            client_address=client.address,
            created_at=now,
            last_used_at=now,
            expires_at=now + self._policy.refresh_ttl,
        )
        await uow.login_sessions.add(session)
        return self._sign_pair(session, session.refresh_token_id, now)

    def _sign_pair(
        self, session: LoginSession, refresh_id: str, now: datetime
    ) -> TokenPair:
        access = TokenClaims(
            token_type=TokenType.ACCESS,
            subject=session.user_id,
            session_id=session.id,
            token_id=new_secret(),
            issued_at=now,
            expires_at=min(now + self._policy.access_ttl, session.expires_at),
        )
        refresh = TokenClaims(
            token_type=TokenType.REFRESH,
            subject=session.user_id,
            session_id=session.id,
            token_id=refresh_id,
            issued_at=now,
            expires_at=session.expires_at,
        )
        return TokenPair(
            access=self._signer.sign(access), refresh=self._signer.sign(refresh)
        )

    async def refresh(self, *, refresh_token: str, client: ClientInfo) -> TokenPair:
        """Rotate a refresh token; a rotated one presented again ends its session."""
        claims = self._signer.read(refresh_token)
        if claims.token_type is not TokenType.REFRESH:
            raise InvalidToken("This is not a refresh token.")

        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.login_sessions.get(claims.session_id)
            if (
                session is None
                or session.user_id != claims.subject
                or not session.is_active(now)
            ):
                raise InvalidToken("This session has ended; sign in again.")
            new_refresh_id = new_secret()
            rotated = await uow.login_sessions.rotate(
                session.id, claims.token_id, new_refresh_id, now
            )
            if not rotated:
                await uow.login_sessions.revoke(session.id, now, "refresh_token_reused")
                await write_audit(
                    uow.audit,
                    "identity.session.reuse_detected",
                    at=now,
                    actor_id=session.user_id,
                    target_type="session",
                    target_id=session.id,
                    client=client,
                )
                await uow.commit()
                log.warning(
                    "identity.session.reuse_detected",
                    session_id=str(session.id),
                    client_address=client.address,
                )
                raise RefreshTokenReused(
                    "This refresh token was already used; the session has been ended."
                )
            user = await uow.users.get(session.user_id)
            if user is None or not user.is_active:
                raise InvalidToken("This account is not active.")
            pair = self._sign_pair(session, new_refresh_id, now)
            await uow.commit()
        return pair

    async def authenticate(self, access_token: str) -> Principal:
        """Who presents this access token; refused once its session is revoked."""
        claims = self._signer.read(access_token)
        if claims.token_type is not TokenType.ACCESS:
            raise InvalidToken("This is not an access token.")
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.login_sessions.get(claims.session_id)
            if (
                session is None
                or session.user_id != claims.subject
                or not session.is_active(now)
            ):
                raise InvalidToken("This session has ended; sign in again.")
            user = await uow.users.get(claims.subject)
        if user is None or not user.is_active:
            raise InvalidToken("This account is not active.")
        return Principal(user_id=user.id, session_id=session.id, is_staff=user.is_staff)

    async def request_password_reset(self, *, email: str, client: ClientInfo) -> None:
        """Mail a reset link if the account exists; say nothing either way."""
        now = self._clock.now()
        sent = _Mails()
        account = _lookup_key(email)
        if account:
            await self._count_mail_request(account, client)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(account) if account else None
            if user is not None and user.is_active:
                secret = await self._issue_token(
                    uow, user, TokenPurpose.RESET_PASSWORD, self._policy.reset_ttl, now
                )
                link = self._policy.link("reset-password", secret)
                sent.ids.append(
                    await enqueue_mail(
                        uow.outbox, mails.password_reset_mail(user, link), self._clock
                    )
                )
                await self._audit_user(
                    uow,
                    "identity.password_reset.requested",
                    user.id,
                    at=now,
                    client=client,
                )
                await uow.commit()
        await self._dispatcher.dispatch(sent.ids)

    async def confirm_password_reset(
        self, *, token: str, new_password: str, client: ClientInfo
    ) -> None:
        """Set a new password from a reset link and end every session."""
        now = self._clock.now()
        sent = _Mails()
        async with self._uow() as uow:
            one_time = await self._redeemable_token(
                uow, token, TokenPurpose.RESET_PASSWORD, now
            )
            owner = await uow.users.get(one_time.user_id)
            if owner is None:
                raise OneTimeTokenUnknown("This link is not valid.")
            check_password(new_password, email=owner.email, field="new_password")
            new_hash = await self._hasher.hash(new_password)
            user = await self._redeem(uow, one_time, now)
            user.password_hash = new_hash
            if not user.is_verified:
                user.is_verified = True
                user.verified_at = now
            user.updated_at = now
            await uow.users.update(user)
            await uow.one_time_tokens.void_unused(
                user.id, TokenPurpose.VERIFY_EMAIL, now
            )
            revoked = await uow.login_sessions.revoke_all_for_user(
                user.id, now, "password_reset"
            )
            sent.ids.append(
                await enqueue_mail(
                    uow.outbox, mails.password_changed_mail(user), self._clock
                )
            )
            await self._audit_user(
                uow,
                "identity.password_reset.completed",
                user.id,
                at=now,
                client=client,
                actor_id=user.id,
                sessions_revoked=revoked,
            )
            await uow.commit()
        await self._dispatcher.dispatch(sent.ids)

    async def change_password(
        self,
        actor: Principal,
        *,
        current_password: str,
        new_password: str,
        client: ClientInfo,
    ) -> None:
        """Change the password and end every other session."""
        now = self._clock.now()
        sent = _Mails()
        async with self._uow() as uow:
            user = await self._require_user(uow, actor)
        await self._count_attempt(user.email, client)
        if not await self._hasher.verify(user.password_hash, current_password):
            async with self._uow() as uow:
                await self._audit_user(
                    uow,
                    "identity.password.change_refused",
                    user.id,
                    at=now,
                    client=client,
                    actor_id=user.id,
                )
                await uow.commit()
            raise _field_error(
                "current_password",
                "wrong_password",
                "The current password is not correct.",
            )
        await self._throttle.clear(account=user.email)
        if new_password == current_password:
            raise _field_error(
                "new_password",
                "password_unchanged",
                "The new password must differ from the current one.",
            )
        check_password(new_password, email=user.email, field="new_password")
        new_hash = await self._hasher.hash(new_password)

        async with self._uow() as uow:
            checked_hash = user.password_hash
            user = await self._require_user(uow, actor)
            if user.password_hash != checked_hash:
                raise _field_error(
                    "current_password",
                    "password_changed_meanwhile",
                    "The password was changed meanwhile; try again.",
                )
            user.password_hash = new_hash
            user.updated_at = now
            await uow.users.update(user)
            revoked = await uow.login_sessions.revoke_all_for_user(
                user.id, now, "password_changed", keep=actor.session_id
            )
            sent.ids.append(
                await enqueue_mail(
                    uow.outbox, mails.password_changed_mail(user), self._clock
                )
            )
            await self._audit_user(
                uow,
                "identity.password.changed",
                user.id,
                at=now,
                client=client,
                actor_id=user.id,
                sessions_revoked=revoked,
            )
            await uow.commit()
        await self._dispatcher.dispatch(sent.ids)

    async def _require_user(self, uow: UnitOfWork, actor: Principal) -> User:
        user = await uow.users.get(actor.user_id)
        if user is None or not user.is_active:
            raise InvalidToken("This account is not active.")
        return user

    async def get_profile(self, actor: Principal) -> User:
        """The caller's own account."""
        async with self._uow() as uow:
            return await self._require_user(uow, actor)

    async def update_profile(self, actor: Principal, changes: ProfileChanges) -> User:
        """Change the caller's names; `full_name` is split into first and last."""
        now = self._clock.now()
        async with self._uow() as uow:
            user = await self._require_user(uow, actor)
            if changes.full_name is not None:
                first, last = _names(
                    full_name=changes.full_name,
                    first_name=changes.first_name,
                    last_name=changes.last_name,
                )
            else:
                first, last = _names(
                    full_name=None,
                    first_name=(
                        user.first_name
                        if changes.first_name is None
                        else changes.first_name
                    ),
                    last_name=(
                        user.last_name
                        if changes.last_name is None
                        else changes.last_name
                    ),
                )
            user.first_name, user.last_name = first, last
            user.updated_at = now
            await uow.users.update(user)
            await uow.commit()
        return user

    async def list_sessions(self, actor: Principal) -> list[SessionView]:
        """The caller's active sessions, newest first, the current one marked."""
        now = self._clock.now()
        async with self._uow() as uow:
            sessions = await uow.login_sessions.list_for_user(
                actor.user_id, active_at=now
            )
        return [
            SessionView(session=session, is_current=session.id == actor.session_id)
            for session in sessions
        ]

    async def revoke_session(
        self, actor: Principal, session_id: UUID, *, client: ClientInfo
    ) -> None:
        """End one of the caller's sessions; its tokens stop working at once."""
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.login_sessions.get(session_id)
            if session is None or session.user_id != actor.user_id:
                raise NotFound("No such session.", resource="session")
            if await uow.login_sessions.revoke(session_id, now, "revoked_by_user"):
                await write_audit(
                    uow.audit,
                    "identity.session.revoked",
                    at=now,
                    actor_id=actor.user_id,
                    target_type="session",
                    target_id=session_id,
                    client=client,
                )
                await uow.commit()

    async def log_out_everywhere(self, actor: Principal, *, client: ClientInfo) -> int:
        """End every session of the caller, this one included; returns how many."""
        now = self._clock.now()
        async with self._uow() as uow:
            revoked = await uow.login_sessions.revoke_all_for_user(
                actor.user_id, now, "logout_all"
            )
            await self._audit_user(
                uow,
                "identity.session.logout_all",
                actor.user_id,
                at=now,
                client=client,
                actor_id=actor.user_id,
                sessions_revoked=revoked,
            )
            await uow.commit()
        return revoked

    async def create_admin(
        self,
        *,
        email: str,
        password: str,
        first_name: str = "Admin",
        last_name: str = "",
    ) -> tuple[User, bool]:
        """Create a verified staff account; an existing email is left unchanged."""
        address = _clean_email(email)
        async with self._uow() as uow:
            existing = await uow.users.get_by_email(address)
        if existing is not None:
            return existing, False

        check_password(password, email=address)
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(
            email=address,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            created_at=now,
            is_verified=True,
            verified_at=now,
            is_staff=True,
        )
        try:
            async with self._uow() as uow:
                await uow.users.add(user)
                await self._audit_user(
                    uow, "identity.admin.created", user.id, at=now, client=None
                )
                await uow.commit()
        except DuplicateEmail:
            async with self._uow() as uow:
                existing = await uow.users.get_by_email(address)
            if existing is None:
                raise
            return existing, False
        return user, True
