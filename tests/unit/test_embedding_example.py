from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "embedded_signup.py"


def test_embedding_example_signs_up_verifies_and_logs_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")

    out = capsys.readouterr().out
    assert "signed up ada@example.org" in out
    assert "email verified" in out
    assert "logged in as Ada Lovelace <ada@example.org>" in out
