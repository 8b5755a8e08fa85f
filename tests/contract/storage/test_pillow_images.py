"""The Pillow image checker: content decides, metadata goes, bad files are named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from adapters.storage import images
from adapters.storage.images import PillowImageChecker
from platform_core.files.model import IMAGE_MAX_BYTES, CheckedImage, ImageFormat
from platform_core.shared.errors import ValidationFailed
from tests.images import (
    BLUE,
    RED,
    SECRET,
    animated,
    animated_mixed,
    gps_exif,
    image_bytes,
    jpeg_with_gps,
    mpo_with_gps,
    opened,
    png_bomb,
    png_with_text_and_icc,
    truncated,
)


@pytest.fixture
def checker() -> PillowImageChecker:
    return PillowImageChecker()


async def refusal(checker: PillowImageChecker, content: bytes) -> str:
    with pytest.raises(ValidationFailed) as raised:
        await checker.check(content, field="image")
    [error] = raised.value.errors
    assert error.field == "image"
    return error.code


class TestAccepted:
    @pytest.mark.parametrize(
        ("pillow_format", "expected"),
        [
            ("JPEG", ImageFormat.JPEG),
            ("PNG", ImageFormat.PNG),
            ("WEBP", ImageFormat.WEBP),
        ],
    )
    async def test_jpeg_png_and_webp_come_back_in_their_format(
        self, checker: PillowImageChecker, pillow_format: str, expected: ImageFormat
    ) -> None:
        checked = await checker.check(image_bytes(pillow_format), field="image")

        assert checked.format is expected
        assert (checked.width, checked.height) == (40, 20)
        assert opened(checked.content).format == pillow_format

    async def test_an_image_of_exactly_6000_pixels_a_side_is_accepted(
        self, checker: PillowImageChecker
    ) -> None:
        checked = await checker.check(
            image_bytes("PNG", (6000, 1), mode="L", color=0), field="image"
        )

        assert checked.width == 6000

    async def test_an_mpo_becomes_a_plain_jpeg_of_its_first_image(
        self, checker: PillowImageChecker
    ) -> None:
        source = mpo_with_gps(orientation=6)
        assert opened(source).format == "MPO"
        assert SECRET.encode() in source

        checked = await checker.check(source, field="image")

        assert checked.format is ImageFormat.JPEG
        assert (checked.width, checked.height) == (20, 40)
        image = opened(checked.content)
        assert image.format == "JPEG"
        assert getattr(image, "n_frames", 1) == 1
        assert SECRET.encode() not in checked.content
        assert dict(image.getexif()) == {}
        assert "mp" not in image.info
        red, _, blue = image.getpixel((10, 20))  # type: ignore[misc]
        assert abs(red - RED[0]) < 10
        assert abs(blue - RED[2]) < 10


class TestMetadata:
    async def test_exif_with_gps_is_stripped_from_a_jpeg(
        self, checker: PillowImageChecker
    ) -> None:
        source = jpeg_with_gps()
        assert SECRET.encode() in source

        checked = await checker.check(source, field="image")

        image = opened(checked.content)
        assert SECRET.encode() not in checked.content
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        assert "icc_profile" not in image.info

    async def test_the_exif_orientation_is_applied_before_it_is_dropped(
        self, checker: PillowImageChecker
    ) -> None:
        checked = await checker.check(jpeg_with_gps(orientation=6), field="image")

        assert (checked.width, checked.height) == (20, 40)
        assert opened(checked.content).size == (20, 40)

    async def test_png_text_xmp_and_icc_chunks_are_stripped(
        self, checker: PillowImageChecker
    ) -> None:
        source = png_with_text_and_icc()
        assert SECRET.encode() in source

        checked = await checker.check(source, field="image")

        image = opened(checked.content)
        assert SECRET.encode() not in checked.content
        assert set(image.info) <= {"dpi", "gamma", "srgb"}

    async def test_webp_exif_is_stripped(self, checker: PillowImageChecker) -> None:
        source = image_bytes("WEBP", exif=gps_exif())
        assert SECRET.encode() in source

        checked = await checker.check(source, field="image")

        assert SECRET.encode() not in checked.content
        assert dict(opened(checked.content).getexif()) == {}


class TestConversions:
    @pytest.mark.parametrize("pillow_format", ["PNG", "WEBP"])
    async def test_an_animated_image_keeps_only_its_first_frame(
        self, checker: PillowImageChecker, pillow_format: str
    ) -> None:
        checked = await checker.check(animated(pillow_format), field="image")

        image = opened(checked.content)
        assert getattr(image, "n_frames", 1) == 1
        red, green, blue = image.convert("RGB").getpixel((8, 8))  # type: ignore[misc]
        assert abs(red - RED[0]) < 10
        assert abs(blue - RED[2]) < 10
        assert (red, green, blue) != BLUE

    async def test_a_cmyk_jpeg_becomes_rgb(self, checker: PillowImageChecker) -> None:
        source = image_bytes("JPEG", mode="CMYK", color=(0, 255, 255, 0))

        checked = await checker.check(source, field="image")

        assert opened(checked.content).mode == "RGB"

    async def test_a_palette_png_keeps_its_transparency(
        self, checker: PillowImageChecker
    ) -> None:
        source = image_bytes("PNG", mode="P", color=0, transparency=0)

        checked: CheckedImage = await checker.check(source, field="image")

        image = opened(checked.content)
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]

    @pytest.mark.parametrize(
        "source",
        [
            pytest.param(lambda: animated_mixed("WEBP"), id="animated-webp-mixed"),
            pytest.param(lambda: animated_mixed("PNG"), id="apng-mixed"),
            pytest.param(
                lambda: image_bytes("WEBP", mode="RGBA", color=(1, 2, 3, 0)),
                id="transparent-webp",
            ),
            pytest.param(
                lambda: image_bytes("PNG", mode="LA", color=(9, 0)), id="grey-alpha-png"
            ),
            pytest.param(
                lambda: image_bytes("PNG", mode="I;16", color=300), id="16-bit-png"
            ),
        ],
    )
    async def test_other_shapes_of_the_accepted_types_are_stored(
        self, checker: PillowImageChecker, source: Callable[[], bytes]
    ) -> None:
        checked = await checker.check(source(), field="image")

        assert getattr(opened(checked.content), "n_frames", 1) == 1


class TestRefused:
    async def test_text_is_not_an_image(self, checker: PillowImageChecker) -> None:
        assert (
            await refusal(checker, b"just some text, saved as picture.png\n")
            == "unsupported_image_type"
        )

    async def test_a_gif_is_not_an_accepted_type(
        self, checker: PillowImageChecker
    ) -> None:
        assert await refusal(checker, image_bytes("GIF")) == "unsupported_image_type"

    async def test_an_svg_is_not_an_accepted_type(
        self, checker: PillowImageChecker
    ) -> None:
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

        assert await refusal(checker, svg) == "unsupported_image_type"

    async def test_an_empty_file_is_invalid(self, checker: PillowImageChecker) -> None:
        assert await refusal(checker, b"") == "invalid_image"

    async def test_more_than_5_mib_is_too_large(
        self, checker: PillowImageChecker
    ) -> None:
        content = image_bytes("PNG") + b"\x00" * IMAGE_MAX_BYTES

        assert await refusal(checker, content) == "image_too_large"

    @pytest.mark.parametrize("size", [(6001, 1), (1, 6001)])
    async def test_more_than_6000_pixels_a_side_is_too_large(
        self, checker: PillowImageChecker, size: tuple[int, int]
    ) -> None:
        content = image_bytes("PNG", size, mode="L", color=0)

        assert await refusal(checker, content) == "image_dimensions_too_large"

    @pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP"])
    async def test_a_truncated_image_is_invalid(
        self, checker: PillowImageChecker, pillow_format: str
    ) -> None:
        content = truncated(image_bytes(pillow_format, (300, 200), color=None))

        assert await refusal(checker, content) == "invalid_image"

    async def test_a_format_an_opener_reports_but_nothing_stores_is_refused(
        self, checker: PillowImageChecker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(images, "_DECODERS", (*images._DECODERS, "GIF"))

        assert await refusal(checker, image_bytes("GIF")) == "unsupported_image_type"

    async def test_a_decompression_bomb_is_refused_before_decoding(
        self, checker: PillowImageChecker
    ) -> None:
        assert await refusal(checker, png_bomb()) == "image_dimensions_too_large"

    async def test_pillows_bomb_guard_holds_even_without_the_side_limit(self) -> None:
        lenient = PillowImageChecker(max_side=1_000_000)

        assert await refusal(lenient, png_bomb()) == "image_dimensions_too_large"
        assert Image.MAX_IMAGE_PIXELS is not None
