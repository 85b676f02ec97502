"""Every OTLP/JSON sample reads: findings, never a crash.

The project's own documents (tests/fixtures/otlp) pin each behaviour; the tests marked
``needs_shared`` also run the public samples in ../shared/conformance when they are
beside the repository (a fresh clone has none, and they skip).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from otlint.registry import REGISTRY
from otlint.run.check import evaluate, scan
from otlint.settings import load_settings

from conftest import CONFORMANCE, OWN_OTLP

FILES = sorted(p for p in CONFORMANCE.glob("*/*.json") if p.parent.name != "sarif")
NOT_OTLP = {"testbed__tests__testdata__resource-processor-inputs.json"}
OWN_FILES = sorted(OWN_OTLP.glob("*.json"))
OWN_NOT_OTLP = {"not-otlp-named-cases.json"}


def reads(path: Path, not_otlp: set[str]) -> None:
    """``path`` is scanned and judged: RD001 (unreadable) only for a document that is not OTLP."""
    corpus, stats = scan([str(path)])
    findings = evaluate(corpus, load_settings(REGISTRY, isolated=True))
    unreadable = [f for f in findings if f.code == "RD001"]
    if path.name in not_otlp:
        # Valid JSON whose top level is no OTLP document: skipped (with a note), not a finding.
        assert unreadable == [] and stats.inputs == []
        assert stats.skipped and all(why.startswith("not OTLP") for _, why in stats.skipped)
    else:
        assert unreadable == [], [f.message for f in unreadable]
        assert stats.inputs == [str(path)]


def whole_folder_through_the_cli(folder: Path) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "otlint", "check", str(folder), "--isolated", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    return run


# -- the project's own documents ----------------------------------------------------------
@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.name)
def test_own_sample_reads(path: Path) -> None:
    reads(path, OWN_NOT_OTLP)


def test_own_known_sample_contents() -> None:
    corpus, _ = scan([str(OWN_OTLP / "traces-uppercase-hex.json")])
    assert len(corpus.spans) == 1
    assert bytes(corpus.spans.ids[:16]).hex() == "4d1e00c0db4f2a3b9c7e6f5a8b2d1c0e"
    legacy, _ = scan([str(OWN_OTLP / "metrics-legacy-library-keys.json")])
    assert legacy.totals()["data_points"] == 2
    codes = {f.code for f in evaluate(legacy, load_settings(REGISTRY, isolated=True))}
    assert "SC004" in codes  # legacy instrumentationLibraryMetrics is read, and reported


def test_own_whole_folder_through_the_cli() -> None:
    run = whole_folder_through_the_cli(OWN_OTLP)
    report = json.loads(run.stdout)
    codes = {f["code"] for f in report["findings"]}
    assert "SC004" in codes and "RD001" not in codes  # the legacy and uppercase ones
    assert "not-otlp-named-cases.json: skipped: not OTLP" in run.stderr  # skipped with a note


# -- the shared conformance corpus --------------------------------------------------------
@pytest.mark.needs_shared
def test_conformance_folder_is_there() -> None:
    assert len(FILES) >= 18, f"expected the shared conformance files under {CONFORMANCE}"


@pytest.mark.needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_reads(path: Path) -> None:
    reads(path, NOT_OTLP)


@pytest.mark.needs_shared
def test_known_sample_contents() -> None:
    corpus, _ = scan([str(CONFORMANCE / "otlp-json-examples" / "trace.json")])
    assert len(corpus.spans) == 1
    assert bytes(corpus.spans.ids[:16]).hex() == "5b8efff798038103d269b633813fc60c"
    legacy, _ = scan(
        [str(CONFORMANCE / "collector-contrib" / "testbed__tests__testdata__k8s-metrics.json")]
    )
    assert legacy.totals()["data_points"] > 0
    codes = {f.code for f in evaluate(legacy, load_settings(REGISTRY, isolated=True))}
    assert "SC004" in codes  # legacy instrumentationLibraryMetrics is read, and reported


@pytest.mark.needs_shared
def test_whole_folder_through_the_cli() -> None:
    whole_folder_through_the_cli(CONFORMANCE)
