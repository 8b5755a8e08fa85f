"""PLATFORM_MEDIA_DIR and PLATFORM_MEDIA_URL: where uploads live and are served."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import SettingsError, load_settings


def test_media_lives_under_the_data_folder_and_is_served_at_media() -> None:
    settings = load_settings({"PLATFORM_DATA_DIR": "/srv/platform"})

    assert settings.resolved_media_dir == Path("/srv/platform/media")
    assert settings.media_url == "/media/"
    assert settings.media_path == "/media/"


def test_a_media_folder_of_its_own_is_used() -> None:
    settings = load_settings({"PLATFORM_MEDIA_DIR": "/mnt/uploads"})

    assert settings.resolved_media_dir == Path("/mnt/uploads")


@pytest.mark.parametrize(
    ("value", "url", "path"),
    [
        ("/files", "/files/", "/files/"),
        ("/static/media/", "/static/media/", "/static/media/"),
        (
            "https://cdn.example.org/media",
            "https://cdn.example.org/media/",
            "/media/",
        ),
    ],
)
def test_the_media_url_is_a_path_or_an_absolute_url_ending_in_a_slash(
    value: str, url: str, path: str
) -> None:
    settings = load_settings({"PLATFORM_MEDIA_URL": value})

    assert (settings.media_url, settings.media_path) == (url, path)


@pytest.mark.parametrize(
    "value",
    [
        "media",
        "/",
        "//evil.example/media/",
        "ftp://files.example.org/media/",
        "/api/v1/media/",
        "/schema",
        "/media/?v=1",
        "https://cdn.example.org/",
    ],
)
def test_a_media_url_that_cannot_serve_files_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="PLATFORM_MEDIA_URL"):
        load_settings({"PLATFORM_MEDIA_URL": value})
