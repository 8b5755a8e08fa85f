"""Authentication, profile and session endpoints."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.identity.model import (
    ClientInfo,
    Principal,
    SessionView,
    TokenPair,
    User,
)
from platform_core.identity.service import ProfileChanges

PASSWORD_MAX = 1024


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies refuse fields they do not know."""


class SignupRequest(Body):
    email: str
    password: str
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class SignupResponse(msgspec.Struct):
    email: str
    detail: str


class VerifyEmailRequest(Body):
    token: str


class TokenRequest(Body):
    email: str
    password: str


class TokenPairResponse(msgspec.Struct):
    access: str
    refresh: str

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairResponse:
        return cls(access=pair.access, refresh=pair.refresh)


class RefreshRequest(Body):
    refresh: str


class PasswordResetRequest(Body):
    email: str


class PasswordResetConfirmRequest(Body):
    token: str
    new_password: str


class PasswordChangeRequest(Body):
    current_password: str
    new_password: str


class DetailResponse(msgspec.Struct):
    detail: str


class UserResponse(msgspec.Struct):
    uuid: UUID
    email: str
    first_name: str
    last_name: str
    full_name: str
    is_verified: bool
    is_organizer: bool
    is_lms_owner: bool
    is_staff: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            uuid=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            full_name=user.full_name,
            is_verified=user.is_verified,
            is_organizer=user.is_organizer,
            is_lms_owner=user.is_lms_owner,
            is_staff=user.is_staff,
            created_at=user.created_at,
        )


class ProfileUpdateRequest(Body):
    first_name: str | msgspec.UnsetType = msgspec.UNSET
    last_name: str | msgspec.UnsetType = msgspec.UNSET
    full_name: str | msgspec.UnsetType = msgspec.UNSET


class SessionResponse(msgspec.Struct):
    uuid: UUID
    user_agent: str
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    is_current: bool

    @classmethod
    def of(cls, view: SessionView) -> SessionResponse:
        s = view.session
        return cls(
            uuid=s.id,
            user_agent=s.user_agent,
            ip_address=s.client_address,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            expires_at=s.expires_at,
            is_current=view.is_current,
        )


class LogoutAllResponse(msgspec.Struct):
    revoked: int


def _given(value: str | msgspec.UnsetType) -> str | None:
    return None if value is msgspec.UNSET else value


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/signup/",
        summary="Create an account and mail its verification link",
        description="Too many signups for one address, or from one client, are "
        "refused with 429 and `Retry-After`.",
        responses=problems(400, 413, 429),
    )
    async def signup(
        self,
        data: JSONBody[SignupRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> SignupResponse:
        receipt = await platform.identity.sign_up(
            email=data.email,
            password=data.password,
            full_name=data.full_name,
            first_name=data.first_name,
            last_name=data.last_name,
            client=client,
        )
        return SignupResponse(
            email=receipt.email,
            detail="Check your inbox for a link to confirm your email address.",
        )

    @post(
        "/verify-email/",
        status_code=HTTP_200_OK,
        summary="Redeem a verification link",
        responses=problems(400),
    )
    async def verify_email(
        self,
        data: JSONBody[VerifyEmailRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> TokenPairResponse:
        pair = await platform.identity.verify_email(token=data.token, client=client)
        return TokenPairResponse.of(pair)

    @post(
        "/token/",
        status_code=HTTP_200_OK,
        summary="Sign in with email and password",
        responses=problems(400, 401, 403, 429),
    )
    async def token(
        self,
        data: JSONBody[TokenRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> TokenPairResponse:
        pair = await platform.identity.log_in(
            email=data.email, password=data.password, client=client
        )
        return TokenPairResponse.of(pair)

    @post(
        "/token/refresh/",
        status_code=HTTP_200_OK,
        summary="Rotate a refresh token",
        responses=problems(400, 401),
    )
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> TokenPairResponse:
        pair = await platform.identity.refresh(
            refresh_token=data.refresh, client=client
        )
        return TokenPairResponse.of(pair)

    @post(
        "/password-reset/",
        status_code=HTTP_202_ACCEPTED,
        summary="Mail a password reset link if the account exists",
        description="Too many requests for one address, or from one client, are "
        "refused with 429 and `Retry-After`, whether or not the account exists.",
        responses=problems(400, 429),
    )
    async def password_reset(
        self,
        data: JSONBody[PasswordResetRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> DetailResponse:
        await platform.identity.request_password_reset(email=data.email, client=client)
        return DetailResponse(
            detail="If an account uses this address, a reset link is on its way."
        )

    @post(
        "/password-reset/confirm/",
        status_code=HTTP_200_OK,
        summary="Set a new password from a reset link",
        responses=problems(400),
    )
    async def password_reset_confirm(
        self,
        data: JSONBody[PasswordResetConfirmRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> DetailResponse:
        await platform.identity.confirm_password_reset(
            token=data.token, new_password=data.new_password, client=client
        )
        return DetailResponse(detail="Your password was changed; sign in again.")

    @post(
        "/password-change/",
        status_code=HTTP_200_OK,
        summary="Change the password; other sessions end",
        dependencies={"principal": Provide(provide_principal)},
        security=SECURITY,
        responses=problems(400, 401, 429),
    )
    async def password_change(
        self,
        data: JSONBody[PasswordChangeRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> DetailResponse:
        await platform.identity.change_password(
            principal,
            current_password=data.current_password,
            new_password=data.new_password,
            client=client,
        )
        return DetailResponse(detail="Your password was changed.")


class MeController(Controller):
    path = "/api/v1/users/me"
    tags = ["users"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get("/", summary="My profile", responses=problems(401))
    async def me(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> UserResponse:
        return UserResponse.of(await platform.identity.get_profile(principal))

    @patch("/", summary="Change my names", responses=problems(400, 401))
    async def update_me(
        self,
        data: JSONBody[ProfileUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> UserResponse:
        user = await platform.identity.update_profile(
            principal,
            ProfileChanges(
                first_name=_given(data.first_name),
                last_name=_given(data.last_name),
                full_name=_given(data.full_name),
            ),
        )
        return UserResponse.of(user)

    @get(
        "/sessions/",
        summary="My active sessions, the current one marked",
        responses=problems(401),
    )
    async def sessions(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> list[SessionResponse]:
        views = await platform.identity.list_sessions(principal)
        return [SessionResponse.of(view) for view in views]

    @delete(
        "/sessions/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="End one of my sessions",
        responses=problems(401, 404),
    )
    async def revoke_session(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.identity.revoke_session(principal, uuid, client=client)

    @post(
        "/sessions/logout-all/",
        status_code=HTTP_200_OK,
        summary="End all my sessions, this one included",
        responses=problems(401),
    )
    async def logout_all(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> LogoutAllResponse:
        revoked = await platform.identity.log_out_everywhere(principal, client=client)
        return LogoutAllResponse(revoked=revoked)
