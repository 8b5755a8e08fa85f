"""Time as a port, so the core never reads the wall clock itself."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant, always timezone-aware in UTC."""

    def now(self) -> datetime: ...
