"""Golden files for the reporters: compared by default, rewritten with ``--update-goldens``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"

Golden = Callable[[str, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """``golden(name, text)``: assert ``text`` equals the golden file, or rewrite it."""
    update = bool(request.config.getoption("--update-goldens"))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            return
        assert path.exists(), f"no golden {path.name}: run pytest tests/reporters --update-goldens"
        expected = path.read_bytes().decode("utf-8")
        assert text == expected, f"{name} differs from its golden (--update-goldens rewrites it)"

    return check
