"""Shared test set-up: the repo's scripts/ and tests/ are importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests", ROOT / "scripts"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

#: The shared conformance data, beside the repository (as CI lays it out too).
CONFORMANCE = ROOT.parent / "shared" / "conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-goldens`` rewrites golden files (tests/reporters/golden) instead of comparing."""
    parser.addoption("--update-goldens", action="store_true", default=False, help="rewrite golden files")
