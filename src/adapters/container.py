"""The composition root: the only place that knows every adapter."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.calendar import IcalendarRenderer
from adapters.clock import SystemClock
from adapters.mail import OutboxFolderMailer, SmtpMailer, SmtpSettings
from adapters.memory.events import NoProviderEvents
from adapters.memory.payments import LocalPaymentGateway
from adapters.persistence import create_engine, sql_uow_factory
from adapters.security import (
    Argon2PasswordHasher,
    JwtTokenSigner,
    LimitsGuessThrottle,
    LimitsLoginThrottle,
    LimitsMailThrottle,
)
from adapters.security.throttle import throttle_storage
from adapters.settings import Settings
from adapters.storage.images import PillowImageChecker
from adapters.storage.local import LocalFileStorage
from adapters.stripe import StripeGateway, StripePrices, build_stripe_client
from adapters.stripe.events import StripeEventVerifier
from adapters.worker import (
    TaskiqDispatcher,
    build_broker,
    register_billing_tasks,
    register_tasks,
)
from platform_core import IdentityPolicy, Platform, Ports
from platform_core.registrations.service import (
    RegistrationCountsInUow,
    RegistrationPolicy,
)


def _registration_policy(settings: Settings) -> RegistrationPolicy:
    return RegistrationPolicy(
        frontend_url=settings.frontend_url,
        payment_hold=timedelta(minutes=settings.registration_hold_minutes),
    )


def _identity_policy(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        frontend_url=settings.frontend_url,
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
    )


def _smtp_settings(settings: Settings) -> SmtpSettings:
    starttls = settings.smtp_starttls
    if starttls is None:
        starttls = not settings.smtp_tls
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=starttls,
        use_tls=settings.smtp_tls,
        timeout=float(settings.smtp_timeout_seconds),
        sender=settings.mail_from,
    )


class Container(containers.DeclarativeContainer):
    """Builds every service lazily from one Settings object."""

    __self__ = providers.Self()
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(create_engine, settings.provided.resolved_database_url)
    uow_factory = providers.Singleton(sql_uow_factory, engine)
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_signer = providers.Singleton(
        JwtTokenSigner,
        secret=settings.provided.resolved_secret_key.call(),
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
    )
    throttles = providers.Singleton(throttle_storage, settings.provided.redis_url)
    login_throttle = providers.Singleton(
        LimitsLoginThrottle,
        throttles,
        per_account=settings.provided.login_failures_per_account,
        per_address=settings.provided.login_failures_per_address,
        window_minutes=settings.provided.login_failure_window_minutes,
    )
    mail_throttle = providers.Singleton(
        LimitsMailThrottle,
        throttles,
        per_recipient=settings.provided.mail_requests_per_recipient,
        per_address=settings.provided.mail_requests_per_address,
        window_minutes=settings.provided.mail_request_window_minutes,
    )
    guess_throttle = providers.Singleton(
        LimitsGuessThrottle,
        throttles,
        per_address=settings.provided.promo_code_misses_per_address,
        window_minutes=settings.provided.promo_code_miss_window_minutes,
    )
    mailer = providers.Selector(
        settings.provided.mail_backend.value,
        outbox=providers.Singleton(
            OutboxFolderMailer,
            folder=settings.provided.resolved_mail_outbox,
            sender=settings.provided.mail_from,
        ),
        smtp=providers.Singleton(
            SmtpMailer, providers.Callable(_smtp_settings, settings)
        ),
    )
    broker = providers.Singleton(
        build_broker,
        settings.provided.broker_url,
        idle_timeout_seconds=settings.provided.worker_idle_timeout_seconds,
    )
    tasks = providers.Singleton(
        register_tasks, broker, providers.Callable(lambda c: c.platform, __self__)
    )
    billing_tasks = providers.Singleton(
        register_billing_tasks,
        broker,
        providers.Callable(lambda c: c.platform, __self__),
    )
    dispatcher = providers.Singleton(TaskiqDispatcher, tasks)
    payment_gateway = providers.Selector(
        settings.provided.payments.value,
        local=providers.Singleton(LocalPaymentGateway, clock),
        stripe=providers.Singleton(
            StripeGateway,
            providers.Singleton(
                build_stripe_client,
                settings.provided.stripe_secret_key,
                api_base=settings.provided.stripe_api_base,
            ),
            providers.Singleton(StripePrices, settings.provided.stripe_prices),
            clock=clock,
        ),
    )
    provider_events = providers.Selector(
        settings.provided.payments.value,
        local=providers.Singleton(NoProviderEvents),
        stripe=providers.Singleton(
            StripeEventVerifier,
            settings.provided.stripe_webhook_secret,
            tolerance_seconds=settings.provided.stripe_webhook_tolerance_seconds,
        ),
    )
    calendar = providers.Singleton(IcalendarRenderer)
    file_storage = providers.Singleton(
        LocalFileStorage,
        settings.provided.resolved_media_dir,
        settings.provided.media_url,
    )
    image_checker = providers.Singleton(PillowImageChecker)
    ports = providers.Singleton(
        Ports,
        uow_factory=uow_factory,
        clock=clock,
        password_hasher=password_hasher,
        token_signer=token_signer,
        login_throttle=login_throttle,
        mail_throttle=mail_throttle,
        guess_throttle=guess_throttle,
        mailer=mailer,
        dispatcher=dispatcher,
        payment_gateway=payment_gateway,
        calendar=calendar,
        file_storage=file_storage,
        image_checker=image_checker,
        registrations=providers.Singleton(RegistrationCountsInUow),
    )
    platform = providers.Singleton(
        Platform,
        ports,
        providers.Callable(_identity_policy, settings),
        registration_policy=providers.Callable(_registration_policy, settings),
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
