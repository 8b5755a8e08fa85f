"""In-memory implementations of every port, and a core built on them."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.memory.payments import LocalPaymentGateway
from adapters.memory.services import (
    ManualClock,
    MemoryGuessThrottle,
    MemoryLoginThrottle,
    MemoryMailer,
    MemoryMailThrottle,
    MemoryPasswordHasher,
    MemoryTokenSigner,
    RecordingDispatcher,
)
from adapters.memory.storage import MemoryFileStorage
from adapters.memory.store import MemoryStore, MemoryUnitOfWork
from platform_core import IdentityPolicy, Platform, Ports
from platform_core.billing.ports import ActiveWork
from platform_core.files.ports import ImageChecker
from platform_core.registrations.service import RegistrationCountsInUow


@dataclass(slots=True)
class MemoryAdapters:
    """The in-memory adapters behind one core, for inspection in tests."""

    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryStore = field(default_factory=MemoryStore)
    mailer: MemoryMailer = field(default_factory=MemoryMailer)
    dispatcher: RecordingDispatcher = field(default_factory=RecordingDispatcher)
    hasher: MemoryPasswordHasher = field(default_factory=MemoryPasswordHasher)
    active_work: list[ActiveWork] = field(default_factory=list)
    storage: MemoryFileStorage = field(default_factory=MemoryFileStorage)
    image_checker: ImageChecker | None = None
    payments: LocalPaymentGateway = field(init=False)
    guesses: MemoryGuessThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.payments = LocalPaymentGateway(self.clock)
        self.guesses = MemoryGuessThrottle(self.clock)

    def ports(self) -> Ports:
        return Ports(
            uow_factory=lambda: MemoryUnitOfWork(self.store),
            clock=self.clock,
            password_hasher=self.hasher,
            token_signer=MemoryTokenSigner(self.clock),
            login_throttle=MemoryLoginThrottle(self.clock),
            mail_throttle=MemoryMailThrottle(self.clock),
            guess_throttle=self.guesses,
            mailer=self.mailer,
            dispatcher=self.dispatcher,
            payment_gateway=self.payments,
            active_work=tuple(self.active_work),
            file_storage=self.storage,
            image_checker=self.image_checker,
            registrations=RegistrationCountsInUow(),
        )


def build_memory_platform(
    frontend_url: str = "http://localhost:3000",
    adapters: MemoryAdapters | None = None,
) -> tuple[Platform, MemoryAdapters]:
    """A complete core that keeps everything in memory."""
    adapters = adapters or MemoryAdapters()
    return Platform(adapters.ports(), IdentityPolicy(frontend_url)), adapters


__all__ = [
    "LocalPaymentGateway",
    "ManualClock",
    "MemoryAdapters",
    "MemoryFileStorage",
    "MemoryGuessThrottle",
    "MemoryLoginThrottle",
    "MemoryMailThrottle",
    "MemoryMailer",
    "MemoryPasswordHasher",
    "MemoryStore",
    "MemoryTokenSigner",
    "MemoryUnitOfWork",
    "RecordingDispatcher",
    "build_memory_platform",
]
