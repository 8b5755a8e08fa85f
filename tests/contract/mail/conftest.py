from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import SmtpServer, free_port, start_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = start_smtp_server(free_port())
    yield server
    server.controller.stop()


@pytest.fixture
def smtp_server_with_login() -> Iterator[SmtpServer]:
    server = start_smtp_server(free_port(), require_login=True)
    yield server
    server.controller.stop()
