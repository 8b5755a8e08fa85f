from __future__ import annotations

from tests.unit.profiles.conftest import world

__all__ = ["world"]
