"""Checked images and the keys files are stored under."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

IMAGE_MAX_BYTES = 5 * 1024 * 1024
"""The largest image accepted, in bytes (5 MiB)."""

IMAGE_MAX_SIDE = 6000
"""The widest and tallest image accepted, in pixels."""

KEY_MAX = 300
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9]+)*$")


class ImageFormat(enum.StrEnum):
    """The image formats accepted, named by content, never by file name."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"

    @property
    def content_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
"""Content types by file extension, for storages that keep no type of their own."""

FALLBACK_CONTENT_TYPE = "application/octet-stream"


def content_type_of(key: str) -> str:
    """The content type a key's extension names."""
    name = key.rsplit("/", 1)[-1]
    if "." not in name:
        return FALLBACK_CONTENT_TYPE
    return CONTENT_TYPES.get(name.rsplit(".", 1)[1].lower(), FALLBACK_CONTENT_TYPE)


def is_valid_key(key: str) -> bool:
    """True for `a/b/c.ext` made of plain segments: nothing that climbs or hides."""
    if not key or len(key) > KEY_MAX:
        return False
    return all(_KEY.match(segment) for segment in key.split("/"))


@dataclass(frozen=True, slots=True)
class CheckedImage:
    """An image decoded in full and encoded again without its metadata."""

    content: bytes
    format: ImageFormat
    width: int
    height: int
