"""iCalendar files of events, written with the icalendar library."""

from __future__ import annotations

from adapters.calendar.ical import IcalendarRenderer

__all__ = ["IcalendarRenderer"]
