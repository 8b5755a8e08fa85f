"""The core assembled from its ports: the entry point for embedding applications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from platform_core.audit.service import AuditService
from platform_core.billing.ports import ActiveWork, PaymentGateway
from platform_core.billing.service import BillingPolicy, BillingService
from platform_core.events.custom_fields import CustomFieldService
from platform_core.events.images import EventImageService
from platform_core.events.ports import (
    CalendarRenderer,
    NoRegistrations,
    RegistrationCounts,
)
from platform_core.events.service import ActiveEvents, EventService
from platform_core.files.ports import FileStorage, ImageChecker
from platform_core.files.service import MediaFiles
from platform_core.identity.ports import (
    LoginThrottle,
    MailThrottle,
    PasswordHasher,
    TokenSigner,
)
from platform_core.identity.service import IdentityPolicy, IdentityService
from platform_core.notifications.ports import Mailer
from platform_core.notifications.service import NotificationService
from platform_core.outbox.ports import MessageDispatcher
from platform_core.outbox.service import OutboxService
from platform_core.profiles.service import ProfileService
from platform_core.promotions.ports import GuessThrottle
from platform_core.promotions.service import PromotionService
from platform_core.registrations.management import RegistrationAdminService
from platform_core.registrations.service import (
    RegistrationPolicy,
    RegistrationService,
)
from platform_core.shared.clock import Clock
from platform_core.uow import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything the core needs from the outside world."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    password_hasher: PasswordHasher
    token_signer: TokenSigner
    login_throttle: LoginThrottle
    mail_throttle: MailThrottle
    guess_throttle: GuessThrottle
    mailer: Mailer
    dispatcher: MessageDispatcher
    payment_gateway: PaymentGateway
    active_work: Sequence[ActiveWork] = field(default=())
    registrations: RegistrationCounts = field(default_factory=NoRegistrations)
    calendar: CalendarRenderer | None = None
    file_storage: FileStorage | None = None
    image_checker: ImageChecker | None = None


class Platform:
    """One service per bounded context, sharing the same ports."""

    def __init__(
        self,
        ports: Ports,
        identity_policy: IdentityPolicy,
        billing_policy: BillingPolicy | None = None,
        registration_policy: RegistrationPolicy | None = None,
    ) -> None:
        self.ports = ports
        self.identity = IdentityService(
            ports.uow_factory,
            ports.clock,
            ports.password_hasher,
            ports.token_signer,
            ports.login_throttle,
            ports.mail_throttle,
            ports.dispatcher,
            identity_policy,
        )
        self.outbox = OutboxService(ports.uow_factory, ports.clock, ports.mailer)
        self.audit = AuditService(ports.uow_factory)
        self.notifications = NotificationService(ports.uow_factory, ports.clock)
        self.billing = BillingService(
            ports.uow_factory,
            ports.clock,
            ports.payment_gateway,
            ports.dispatcher,
            billing_policy or BillingPolicy.for_frontend(identity_policy.frontend_url),
            [*ports.active_work, ActiveEvents(ports.uow_factory, ports.clock)],
        )
        self.entitlements = self.billing.entitlements
        self.media = MediaFiles(ports.file_storage, ports.image_checker)
        self.profiles = ProfileService(
            ports.uow_factory,
            ports.clock,
            self.entitlements,
            ports.dispatcher,
            self.media,
        )
        self.event_images = EventImageService(
            ports.uow_factory, ports.clock, self.media, self.entitlements
        )
        self.promotions = PromotionService(
            ports.uow_factory,
            ports.clock,
            self.entitlements,
            ports.dispatcher,
            ports.guess_throttle,
        )
        self.custom_fields = CustomFieldService(
            ports.uow_factory,
            ports.clock,
            ports.registrations,
            self.entitlements,
            ports.dispatcher,
        )
        self.registrations = RegistrationService(
            ports.uow_factory,
            ports.clock,
            ports.dispatcher,
            ports.payment_gateway,
            self.promotions,
            registration_policy
            or RegistrationPolicy(frontend_url=identity_policy.frontend_url),
            calendar=ports.calendar,
            entitlements=self.entitlements,
        )
        self.billing.payment_listener = self.registrations
        self.events = EventService(
            ports.uow_factory,
            ports.clock,
            self.entitlements,
            ports.registrations,
            ports.dispatcher,
            calendar=ports.calendar,
            media=self.media,
            frontend_url=identity_policy.frontend_url,
            registrants=self.registrations,
        )
        self.registration_admin = RegistrationAdminService(
            ports.uow_factory,
            ports.clock,
            handover=self.registrations.handover,
            entitlements=self.entitlements,
            calendar=ports.calendar,
        )
