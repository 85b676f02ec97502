"""--jobs N and --state/merge give the same findings as one process over everything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from otlint import parallel, state
from otlint.checks import REGISTRY
from otlint.config import load_settings
from otlint.engine import evaluate, scan

from sdkworld import World, build_world, write_world


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world: World = build_world(healthy=False, requests=40, latency_scale=0, batch_every=2)
    folder = tmp_path_factory.mktemp("dumps")
    write_world(world, folder, formats=("jsonl", "proto", "jsonl.zst"))
    (folder / "notes.txt").write_text("not telemetry\n")
    return folder


def _findings(corpus: object) -> list[dict[str, object]]:
    return [f.to_json() for f in evaluate(corpus, load_settings(REGISTRY, isolated=True))]  # type: ignore[arg-type]


def test_pieces_of_large_files_give_the_same_corpus(dumps: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 20)
    units = parallel.plan([str(dumps)], jobs=2)
    assert sum(1 for u in units if u.fmt == "jsonl") > 3
    assert sum(1 for u in units if u.fmt == "proto-framed") > 3
    one, stats1 = scan([str(dumps)], jobs=1)
    two, stats2 = scan([str(dumps)], jobs=2)
    assert sorted(stats2.inputs) == sorted(stats1.inputs)
    assert stats2.skipped == stats1.skipped == [str(dumps / "notes.txt")]
    assert two.canonical() == one.canonical()
    assert _findings(two) == _findings(one)


def test_state_round_trip(dumps: Path) -> None:
    corpus, _ = scan([str(dumps)])
    again = state.from_bytes(state.to_bytes(corpus))
    assert again.canonical() == corpus.canonical()


def test_check_state_then_merge_equals_one_run(dumps: Path, tmp_path: Path) -> None:
    files = sorted(str(p) for p in dumps.iterdir() if p.suffix in (".jsonl", ".binpb"))
    shards = []
    for i, half in enumerate((files[::2], files[1::2])):
        shard = tmp_path / f"shard{i}.otlint"
        run = subprocess.run(
            [sys.executable, "-m", "otlint", "check", *half, "--state", str(shard), "--isolated"],
            capture_output=True, text=True, check=False,
        )
        assert run.returncode == 0, run.stderr
        shards.append(str(shard))
    merged = subprocess.run(
        [sys.executable, "-m", "otlint", "merge", *shards, "-f", "json", "--isolated"],
        capture_output=True, text=True, check=False,
    )
    whole = subprocess.run(
        [sys.executable, "-m", "otlint", "check", *files, "-f", "json", "--isolated", "--jobs", "1"],
        capture_output=True, text=True, check=False,
    )
    assert merged.returncode == whole.returncode == 1, merged.stderr + whole.stderr
    assert json.loads(merged.stdout)["findings"] == json.loads(whole.stdout)["findings"]


def test_bad_state_file_is_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.otlint"
    bogus.write_bytes(b"hello")
    run = subprocess.run([sys.executable, "-m", "otlint", "merge", str(bogus)], capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"otlint: error: {bogus}: not an otlint state file (write one with --state)"]
