"""Every public sample in ../shared/conformance reads: findings, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from otlint.checks import REGISTRY
from otlint.config import load_settings
from otlint.engine import evaluate, scan

from conftest import CONFORMANCE

FILES = sorted(p for p in CONFORMANCE.glob("*/*.json") if p.parent.name != "sarif")
NOT_OTLP = {"testbed__tests__testdata__resource-processor-inputs.json"}


def test_conformance_folder_is_there() -> None:
    assert len(FILES) >= 18, f"expected the shared conformance files under {CONFORMANCE}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_reads(path: Path) -> None:
    corpus, stats = scan([str(path)])
    findings = evaluate(corpus, load_settings(REGISTRY, isolated=True))
    unreadable = [f for f in findings if f.code == "RD001"]
    if path.name in NOT_OTLP:
        assert unreadable and "OTLP" in unreadable[0].message
    else:
        assert unreadable == [], [f.message for f in unreadable]
        assert stats.inputs == [str(path)]


def test_known_sample_contents() -> None:
    corpus, _ = scan([str(CONFORMANCE / "otlp-json-examples" / "trace.json")])
    assert len(corpus.spans) == 1
    assert bytes(corpus.spans.ids[:16]).hex() == "5b8efff798038103d269b633813fc60c"
    legacy, _ = scan([str(CONFORMANCE / "collector-contrib" / "testbed__tests__testdata__k8s-metrics.json")])
    assert legacy.totals()["data_points"] > 0
    codes = {f.code for f in evaluate(legacy, load_settings(REGISTRY, isolated=True))}
    assert "SC004" in codes  # legacy instrumentationLibraryMetrics is read, and reported


def test_whole_folder_through_the_cli() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "otlint", "check", str(CONFORMANCE), "--isolated", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
