"""otlint on telemetry from the real OpenTelemetry SDK, in every format it reads.

The worlds come from ``scripts/sdkworld.py``: five services on the real SDK with real
propagators and exporters. The broken world plants a propagator mismatch, a missing
service name, ids logged as attributes, version drift between signals and deprecated
keys; the healthy twin plants nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otlint.registry import REGISTRY
from otlint.run.check import evaluate, scan
from otlint.settings import load_settings

from conftest import SARIF_SCHEMA, sarif_problems
from sdkworld import FORMATS, World, build_world, write_world

ALL_FORMATS = tuple(FORMATS)


@pytest.fixture(scope="module")
def broken() -> World:
    return build_world(healthy=False, requests=12, latency_scale=0)


@pytest.fixture(scope="module")
def healthy() -> World:
    return build_world(healthy=True, requests=12, latency_scale=0)


def _findings(folder: Path) -> list[dict[str, Any]]:
    corpus, _ = scan([str(folder)])
    settings = load_settings(REGISTRY, isolated=True)
    return [f.to_json() for f in evaluate(corpus, settings)]


def _key(f: dict[str, Any]) -> tuple[Any, ...]:
    return (f["code"], f["service"], f["peer"], f["count"])


def test_broken_world_finds_each_planted_break(broken: World, tmp_path: Path) -> None:
    write_world(broken, tmp_path, formats=("jsonl",))
    found = {(f["code"], f["service"], f["peer"]) for f in _findings(tmp_path)}
    # 1. propagator mismatch, named as the edge caller -> callee
    assert ("TR007", "checkout", "inventory") in found
    # 2. no service name: the SDK's fallback, unknown_service:<executable>
    assert any(
        code == "ID002" and (svc or "").startswith("unknown_service:") for code, svc, _ in found
    )
    # 3. ids in log attributes, and those logs join no span
    assert ("LT003", "payments", None) in found
    assert ("LT004", "payments", None) in found
    # 4. version drift between signals
    assert ("SR001", "checkout", None) in found
    # 5. deprecated keys, on the resource and on spans
    assert ("SC001", "frontend", None) in found
    # ... and the deprecated deployment.environment is one finding (SC001), not also ID003
    assert ("ID003", "frontend", None) not in found


def test_broken_world_finds_nothing_else(broken: World, tmp_path: Path) -> None:
    write_world(broken, tmp_path, formats=("jsonl",))
    codes = {f["code"] for f in _findings(tmp_path) if f["level"] != "info"}
    assert codes == {"TR007", "ID002", "LT003", "LT004", "SR001", "SC001"}


def test_healthy_twin_is_clean(healthy: World, tmp_path: Path) -> None:
    write_world(healthy, tmp_path, formats=("jsonl",))
    loud = [f for f in _findings(tmp_path) if f["level"] in ("error", "warning")]
    assert loud == []


@pytest.mark.parametrize("fmt", [f for f in ALL_FORMATS if f != "jsonl"])
def test_every_format_gives_the_same_findings(broken: World, tmp_path: Path, fmt: str) -> None:
    write_world(broken, tmp_path / "jsonl", formats=("jsonl",))
    write_world(broken, tmp_path / fmt, formats=(fmt,))
    reference = sorted(_key(f) for f in _findings(tmp_path / "jsonl"))
    other = sorted(_key(f) for f in _findings(tmp_path / fmt))
    assert other == reference


def test_cli_json_report_and_exit_codes(broken: World, healthy: World, tmp_path: Path) -> None:
    write_world(broken, tmp_path / "broken", formats=("proto",))
    write_world(healthy, tmp_path / "healthy", formats=("proto-zstd",))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "otlint",
            "check",
            str(tmp_path / "broken"),
            "--format",
            "json",
            "--isolated",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["schema"] == 1
    assert report["summary"]["spans"] == len(broken.spans)
    assert report["summary"]["services"] == 5
    layers = [f["join"] for f in report["findings"]]
    assert layers[0] == "identity" and layers.index("trace") < layers.index("schema")
    assert any(
        j["join"] == "trace" and j["peer"] == "inventory" and j["status"] == "broken"
        for j in report["joins"]
    )
    clean = subprocess.run(
        [sys.executable, "-m", "otlint", "check", str(tmp_path / "healthy"), "--isolated"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "All joins intact." in clean.stdout


def _check_sarif(broken: World, tmp_path: Path) -> dict[str, Any]:
    write_world(broken, tmp_path, formats=("jsonl",))
    run = subprocess.run(
        [sys.executable, "-m", "otlint", "check", str(tmp_path), "--format", "sarif", "--isolated"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def test_cli_sarif_has_what_2_1_0_requires(broken: World, tmp_path: Path) -> None:
    log = _check_sarif(broken, tmp_path)
    assert sarif_problems(log) == []
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "otlint"
    results = run["results"]
    assert {"TR007", "LT003", "ID002"} <= {r["ruleId"] for r in results}
    located = [r for r in results if "locations" in r]
    assert located, "a check run's results point at the dumps"
    for r in located:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("file:///") and uri.endswith(".jsonl"), uri


@pytest.mark.needs_shared
def test_cli_sarif_validates_against_the_2_1_0_schema(broken: World, tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft4Validator(schema).iter_errors(_check_sarif(broken, tmp_path)), key=str
    )
    assert not errors, [e.message for e in errors[:5]]
