"""Multipart image uploads: the form, its size limit and the bytes it carries."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body as BodyParam

from platform_core.files.model import IMAGE_MAX_BYTES

MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_MAX_BYTES = IMAGE_MAX_BYTES + MULTIPART_OVERHEAD
"""The body limit of upload routes, above PLATFORM_MAX_REQUEST_BYTES on purpose.

An image at the 5 MiB limit still fits with its multipart headers; a larger
body is refused with 413 before it is read in full.
"""

MULTIPART_PART_LIMIT = 20
"""The most parts a multipart form may have; more is a 413 before any is kept."""

Multipart = BodyParam(media_type=RequestEncodingType.MULTI_PART)


class ImageForm(msgspec.Struct):
    """A form with one file field, `image`; other fields are ignored."""

    image: UploadFile


class LogoForm(msgspec.Struct):
    """A form with one file field, `logo`; other fields are ignored."""

    logo: UploadFile


ImageUpload = Annotated[ImageForm, Multipart]
LogoUpload = Annotated[LogoForm, Multipart]


async def read_upload(upload: UploadFile) -> bytes:
    """The file's bytes; the body limit already bounds how many there are."""
    try:
        return await upload.read()
    finally:
        await upload.close()
