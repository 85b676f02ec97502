"""The same traffic as OTLP/JSON Lines and as protobuf gives the same findings.

One SDK world with every planted break, written both ways (and as zstd-compressed JSON
Lines); each is checked on its own, and the findings (rule, level, service, peer, count,
message, record locations) and the join matrix must be equal but for the file names. Any
speed work on one reader (issue 15's JSON path) has to keep this true.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdkworld import build_world, write_world


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    world = build_world(healthy=False, requests=30, latency_scale=0, batch_every=3)
    out = {}
    for fmt in ("jsonl", "proto", "jsonl.zst"):
        folder = tmp_path_factory.mktemp(fmt.replace(".", "-"))
        write_world(world, folder, formats=(fmt,))
        out[fmt] = folder
    return out


def _report(folder: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "otlint",
            "check",
            str(folder),
            "--isolated",
            "-f",
            "json",
            "--exit-zero",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _comparable(report: dict[str, Any]) -> tuple[list[Any], list[Any], dict[str, Any]]:
    findings = [
        (
            f["code"],
            f["level"],
            f["service"],
            f.get("peer"),
            f["count"],
            f["message"],
            # where: the signal's file (traces.jsonl ~ traces.binpb) and the record number
            [(Path(loc["path"]).name.split(".")[0], loc.get("record")) for loc in f["locations"]],
        )
        for f in report["findings"]
    ]
    return findings, report["joins"], report["summary"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_json_lines_and_protobuf_give_the_same_report(worlds: dict[str, Path], jobs: str) -> None:
    proto = _comparable(_report(worlds["proto"], "--jobs", jobs))
    assert proto[0], "the broken world must have findings to compare"
    assert _comparable(_report(worlds["jsonl"], "--jobs", jobs)) == proto
    assert _comparable(_report(worlds["jsonl.zst"], "--jobs", jobs)) == proto
