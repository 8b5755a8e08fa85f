"""Audit records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from platform_core.shared.ids import new_id


@dataclass(frozen=True, slots=True)
class AuditRecord:
    action: str
    at: datetime
    actor_id: UUID | None
    target_type: str
    target_id: str | None
    client_address: str | None
    details: dict[str, Any] = field(default_factory=dict)
    id: UUID = field(default_factory=new_id)
