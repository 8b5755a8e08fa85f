"""Every FileStorage keeps bytes under safe keys and names their URL."""

from __future__ import annotations

import pytest

from platform_core.files.ports import FileStorage

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

UNSAFE_KEYS = [
    "",
    "../outside.png",
    "events/../../outside.png",
    "/etc/passwd",
    "events//double.png",
    "events/./dot.png",
    ".hidden",
    "events/.hidden.png",
    "events\\windows.png",
    "events/with space.png",
    "events/%2e%2e/encoded.png",
    "events/nul\x00.png",
    "a" * 301,
]


class TestStoring:
    async def test_stored_bytes_read_back_with_their_content_type(
        self, storage: FileStorage
    ) -> None:
        key = await storage.store("events/abc/picture.png", PNG_BYTES, "image/png")

        stored = await storage.read(key)

        assert key == "events/abc/picture.png"
        assert stored is not None
        assert stored.content == PNG_BYTES
        assert stored.content_type == "image/png"

    async def test_storing_again_under_a_key_replaces_the_bytes(
        self, storage: FileStorage
    ) -> None:
        await storage.store("logo.png", b"first", "image/png")
        await storage.store("logo.png", b"second", "image/png")

        stored = await storage.read("logo.png")

        assert stored is not None
        assert stored.content == b"second"

    async def test_an_unknown_key_reads_as_nothing(self, storage: FileStorage) -> None:
        assert await storage.read("events/none/missing.jpg") is None

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    async def test_a_key_that_could_leave_the_folder_is_refused(
        self, storage: FileStorage, key: str
    ) -> None:
        with pytest.raises(ValueError, match="key"):
            await storage.store(key, PNG_BYTES, "image/png")
        with pytest.raises(ValueError, match="key"):
            await storage.read(key)
        with pytest.raises(ValueError, match="key"):
            await storage.delete(key)


class TestDeleting:
    async def test_a_deleted_file_is_gone(self, storage: FileStorage) -> None:
        await storage.store("events/abc/old.jpg", b"jpeg", "image/jpeg")

        await storage.delete("events/abc/old.jpg")

        assert await storage.read("events/abc/old.jpg") is None

    async def test_deleting_a_missing_file_is_not_an_error(
        self, storage: FileStorage
    ) -> None:
        await storage.delete("events/abc/never-stored.jpg")

    async def test_deleting_one_file_keeps_the_others(
        self, storage: FileStorage
    ) -> None:
        await storage.store("events/abc/a.png", b"a", "image/png")
        await storage.store("events/abc/b.png", b"b", "image/png")

        await storage.delete("events/abc/a.png")

        kept = await storage.read("events/abc/b.png")
        assert kept is not None
        assert kept.content == b"b"


class TestUrls:
    async def test_the_url_is_the_media_path_followed_by_the_key(
        self, storage: FileStorage
    ) -> None:
        key = await storage.store("events/abc/picture.webp", b"webp", "image/webp")

        assert storage.url_for(key) == "/media/events/abc/picture.webp"

    def test_no_url_is_made_for_an_unsafe_key(self, storage: FileStorage) -> None:
        with pytest.raises(ValueError, match="key"):
            storage.url_for("../secret.key")
