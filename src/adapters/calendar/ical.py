"""The CalendarRenderer port over icalendar: RFC 5545 files with their VTIMEZONE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from platform_core.events.model import Event, EventSession, EventStatus

PRODUCT_ID = "-//Platform//Events//EN"
_YEAR = timedelta(days=366)


def _place(event: Event) -> str:
    if not event.format.has_place:
        return "Online"
    return ", ".join(part for part in (event.venue, event.address) if part.strip())


class IcalendarRenderer:
    """One VEVENT per session, or one for the whole event when it has none."""

    def render(
        self,
        event: Event,
        sessions: Sequence[EventSession],
        *,
        organizer_name: str,
        url: str | None,
        stamp: datetime,
    ) -> bytes:
        zone = ZoneInfo(event.timezone)
        entries = [
            (str(s.id), f"{event.title}: {s.title}", s.starts_at, s.ends_at)
            for s in sessions
        ] or [(str(event.id), event.title, event.starts_at, event.ends_at)]
        status = "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED"

        calendar = icalendar.Calendar.new(
            prodid=PRODUCT_ID,
            method="PUBLISH",
            calscale="GREGORIAN",
            name=event.title,
            uid=event.id,
            organization=organizer_name or None,
        )
        for uid, summary, starts_at, ends_at in entries:
            entry = icalendar.Event.new(
                uid=f"{uid}@platform",
                stamp=stamp,
                summary=summary,
                description=event.description or None,
                location=_place(event),
                start=starts_at.astimezone(zone),
                end=ends_at.astimezone(zone),
                last_modified=event.updated_at or event.created_at,
                url=url,
            )
            entry.add("status", status)
            calendar.add_component(entry)

        calendar.add_missing_timezones(
            first_date=(event.starts_at - _YEAR).date(),
            last_date=(event.ends_at + _YEAR).date(),
        )
        content: bytes = calendar.to_ical()
        return content
