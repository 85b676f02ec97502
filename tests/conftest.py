"""Shared test set-up: the repo's scripts/ and tests/ are importable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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


def fixture_cases(folder: Path) -> list[Any]:
    """Every case of every ``CODE.yaml`` fixture file in ``folder``, as pytest params (code, case)."""
    import yaml

    out = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append(pytest.param(doc["rule"], case, id=f"{path.stem}:{case['name']}"))
    return out


def fixture_docs(folder: Path, codes: list[str]) -> dict[str, Any]:
    """The fixture file of each rule code, checked: it exists, names its rule, and has at
    least one failing and one passing case."""
    import yaml

    docs = {}
    for code in codes:
        path = folder / f"{code}.yaml"
        assert path.exists(), f"{code} has no fixture file {path.name}"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["rule"] == code
        kinds = {bool(c.get("expect")) for c in doc["cases"]}
        assert kinds == {True, False}, f"{code} needs at least one failing and one passing case"
        docs[code] = doc
    return docs
