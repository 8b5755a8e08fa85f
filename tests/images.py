"""Real images made with Pillow for the upload tests, metadata included on purpose."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image, PngImagePlugin

RED = (200, 10, 10)
BLUE = (10, 10, 200)
SECRET = "SpyCam-4711"
"""A camera make written into EXIF, to look for in the sanitized bytes."""


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = SECRET
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


def image_bytes(
    image_format: str = "PNG",
    size: tuple[int, int] = (40, 20),
    *,
    mode: str = "RGB",
    color: object = RED,
    **options: object,
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, image_format, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (40, 20)) -> bytes:
    return image_bytes("JPEG", size, exif=gps_exif(orientation))


def mpo_with_gps(orientation: int = 1, size: tuple[int, int] = (40, 20)) -> bytes:
    """A JPEG carrying a second image (MPO), as phone cameras write them."""
    buffer = io.BytesIO()
    Image.new("RGB", size, RED).save(
        buffer,
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", size, BLUE)],
        exif=gps_exif(orientation),
    )
    return buffer.getvalue()


def png_with_text_and_icc() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{SECRET}</x:xmpmeta>")
    return image_bytes("PNG", pnginfo=info, icc_profile=b"fake-icc-" + SECRET.encode())


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, image_format, save_all=True, append_images=frames[1:], duration=100
    )
    return buffer.getvalue()


def animated_mixed(image_format: str) -> bytes:
    """An animation whose frames differ in mode and transparency."""
    frames = [
        Image.new("RGBA", (16, 16), (*RED, 128)),
        Image.new("RGB", (16, 16), BLUE),
        Image.new("L", (16, 16), 90),
    ]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, image_format, save_all=True, append_images=frames[1:], duration=100
    )
    return buffer.getvalue()


def noise_jpeg(side: int = 600) -> bytes:
    """A JPEG of random grey noise: it compresses badly, so it is large."""
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 120).save(buffer, "JPEG", quality=100)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(side: int = 100_000) -> bytes:
    """A valid PNG header claiming `side` x `side` pixels, in a few bytes."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image
