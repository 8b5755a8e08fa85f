"""The platform's core: domain model and use cases, free of I/O.

Build one with `Platform(Ports(...), IdentityPolicy(...))`, passing adapters
that satisfy the ports; `adapters.memory.build_memory_platform` does it with
in-memory adapters.
"""

from platform_core.identity.service import IdentityPolicy
from platform_core.platform import Platform, Ports

__all__ = ["IdentityPolicy", "Platform", "Ports"]
