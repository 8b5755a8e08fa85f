"""Page requests and pages of results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from platform_core.shared.errors import FieldErrors

T = TypeVar("T")

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        errors = FieldErrors()
        if not 1 <= self.page <= MAX_PAGE:
            errors.add("page", "invalid", f"Pages are numbered from 1 to {MAX_PAGE}.")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            errors.add(
                "page_size",
                "invalid",
                f"The page size is between 1 and {MAX_PAGE_SIZE}.",
            )
        errors.raise_if_any()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    request: PageRequest
