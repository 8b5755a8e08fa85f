"""Untrusted images decoded with Pillow and encoded again without metadata.

The format comes from the content, never from a file name: only JPEG, PNG
and WebP decoders are ever tried. Animated images keep their first frame, and
so does an MPO (a JPEG carrying more images, as phone cameras write them),
which is stored as a plain JPEG.
"""

from __future__ import annotations

import asyncio
import io

import structlog
from PIL import Image, ImageOps, UnidentifiedImageError

from platform_core.files.model import (
    IMAGE_MAX_BYTES,
    IMAGE_MAX_SIDE,
    CheckedImage,
    ImageFormat,
)
from platform_core.shared.errors import FieldError, ValidationFailed

log = structlog.get_logger(__name__)

_DECODERS = ("JPEG", "PNG", "WEBP")
"""The only Pillow openers ever tried on uploaded content."""
_FORMATS = {
    "JPEG": ImageFormat.JPEG,
    "MPO": ImageFormat.JPEG,
    "PNG": ImageFormat.PNG,
    "WEBP": ImageFormat.WEBP,
}
"""What those openers may report, and the format each is stored in.

The JPEG opener reports a JPEG that carries more images as MPO; its first
image is an ordinary JPEG.
"""
_KEPT_MODES = {
    ImageFormat.JPEG: frozenset({"L", "RGB"}),
    ImageFormat.PNG: frozenset({"1", "L", "LA", "I", "I;16", "RGB", "RGBA"}),
    ImageFormat.WEBP: frozenset({"RGB", "RGBA"}),
}
_SAVE_OPTIONS: dict[ImageFormat, dict[str, int]] = {
    ImageFormat.JPEG: {"quality": 90},
    ImageFormat.PNG: {},
    ImageFormat.WEBP: {"quality": 90},
}


def _refusal(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field, code, message)])


def _unsupported(field: str) -> ValidationFailed:
    return _refusal(
        field,
        "unsupported_image_type",
        "The file is not a JPEG, PNG or WebP image.",
    )


def _undecodable(field: str, error: Exception) -> ValidationFailed:
    log.info("storage.image.undecodable", error=type(error).__name__)
    return _refusal(
        field,
        "invalid_image",
        "The image is damaged or incomplete and cannot be read.",
    )


def _encodable(image: Image.Image, target: ImageFormat) -> Image.Image:
    """The image in a mode its format can store, keeping transparency if any."""
    if image.mode in _KEPT_MODES[target]:
        return image
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if target is ImageFormat.JPEG or not has_alpha:
        return image.convert("RGB")
    return image.convert("RGBA")


class PillowImageChecker:
    """The ImageChecker over Pillow; decoding runs in a worker thread."""

    def __init__(
        self, *, max_bytes: int = IMAGE_MAX_BYTES, max_side: int = IMAGE_MAX_SIDE
    ) -> None:
        self._max_bytes = max_bytes
        self._max_side = max_side

    async def check(self, content: bytes, *, field: str) -> CheckedImage:
        if len(content) > self._max_bytes:
            raise _refusal(
                field,
                "image_too_large",
                f"The image is larger than {self._max_bytes // (1024 * 1024)} MB.",
            )
        if not content:
            raise _refusal(field, "invalid_image", "The file is empty.")
        return await asyncio.to_thread(self._check, content, field)

    def _check(self, content: bytes, field: str) -> CheckedImage:
        try:
            opened = Image.open(io.BytesIO(content), formats=list(_DECODERS))
        except Image.DecompressionBombError as error:
            raise self._too_wide(field) from error
        except UnidentifiedImageError as error:
            raise _unsupported(field) from error
        # A recognised but damaged header fails as a decoder error, not as
        # an unknown format.
        except Exception as error:
            raise _undecodable(field, error) from error
        with opened:
            width, height = opened.size
            if width > self._max_side or height > self._max_side:
                raise self._too_wide(field)
            image_format = _FORMATS.get(str(opened.format))
            if image_format is None:
                log.info("storage.image.unknown_format", format=str(opened.format))
                raise _unsupported(field)
            try:
                return _reencoded(opened, image_format)
            # Pillow's decoders answer malformed input with many kinds of
            # error (OSError, SyntaxError, ValueError, struct.error, ...).
            except Exception as error:
                raise _undecodable(field, error) from error

    def _too_wide(self, field: str) -> ValidationFailed:
        return _refusal(
            field,
            "image_dimensions_too_large",
            f"The image is larger than {self._max_side} pixels on a side.",
        )


def _reencoded(image: Image.Image, image_format: ImageFormat) -> CheckedImage:
    """The first frame, decoded in full, turned upright and saved without metadata."""
    image.load()
    upright = ImageOps.exif_transpose(image)
    clean = _encodable(upright, image_format)
    clean.info = {}
    buffer = io.BytesIO()
    clean.save(buffer, format=image_format.name, **_SAVE_OPTIONS[image_format])
    return CheckedImage(
        content=buffer.getvalue(),
        format=image_format,
        width=clean.width,
        height=clean.height,
    )
