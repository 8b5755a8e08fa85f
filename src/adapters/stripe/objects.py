"""Reading fields of Stripe objects held as plain JSON mappings.

The gateway turns every SDK answer into a dict (`to_dict()`) and webhook
payloads arrive as JSON, so one set of readers serves both. Stripe sends a
related object either as its id or, when expanded, as the object itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID


def id_of(value: object) -> str | None:
    """The id of a reference that is an id string or an expanded object."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def timestamp(value: object) -> datetime | None:
    """An aware UTC instant from Stripe's Unix seconds; None when absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


def uuid_or_none(value: object) -> UUID | None:
    """A UUID written into metadata or client_reference_id, if it is one."""
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def account_id_from_metadata(value: object) -> UUID | None:
    return uuid_or_none(mapping(value).get("account_id"))
