"""The local folder storage: files on disk, written atomically, kept inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.storage.local import LocalFileStorage


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def storage(root: Path) -> LocalFileStorage:
    return LocalFileStorage(root, "https://cdn.example.org/media")


async def test_files_land_under_the_folder_by_key(
    storage: LocalFileStorage, root: Path
) -> None:
    await storage.store("events/abc/picture.png", b"png", "image/png")

    assert (root / "events" / "abc" / "picture.png").read_bytes() == b"png"


async def test_files_are_readable_by_a_web_server_and_leave_no_temporary_file(
    storage: LocalFileStorage, root: Path
) -> None:
    await storage.store("events/abc/picture.png", b"png", "image/png")

    folder = root / "events" / "abc"
    assert names(folder) == ["picture.png"]
    assert (folder / "picture.png").stat().st_mode & 0o777 == 0o644


async def test_a_failed_write_keeps_the_old_file_whole(
    storage: LocalFileStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.store("logo.png", b"old", "image/png")

    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await storage.store("logo.png", b"new", "image/png")

    assert (root / "logo.png").read_bytes() == b"old"
    assert names(root) == ["logo.png"]


async def test_a_symlink_out_of_the_folder_is_not_followed(
    storage: LocalFileStorage, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (root / "events").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ValueError, match="outside"):
        await storage.store("events/escape.png", b"png", "image/png")

    assert not outside.exists()


def test_an_absolute_base_url_is_kept_with_one_slash(
    storage: LocalFileStorage,
) -> None:
    assert (
        storage.url_for("events/abc/p.jpg")
        == "https://cdn.example.org/media/events/abc/p.jpg"
    )
