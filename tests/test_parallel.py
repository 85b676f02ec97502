"""--jobs N and --state/merge give the same findings as one process over everything."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otlint.core.errors import OtlintError
from otlint.registry import REGISTRY
from otlint.run import parallel
from otlint.run.check import evaluate, scan
from otlint.run.scan import find_inputs
from otlint.run.spill import DEFAULT_BUDGET, Spill
from otlint.settings import load_settings
from otlint.telemetry.corpus import shard as state
from otlint.telemetry.readers import split_points

from sdkworld import World, build_world, write_world


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world: World = build_world(healthy=False, requests=40, latency_scale=0, batch_every=2)
    folder = tmp_path_factory.mktemp("dumps")
    write_world(world, folder, formats=("jsonl", "proto", "jsonl.zst"))
    (folder / "notes.txt").write_text("not telemetry\n")
    (folder / "app.jsonl").write_text('{"level":"info","msg":"hello"}\n')
    (folder / "package.json").write_text('{\n  "name": "shop"\n}\n')
    return folder


def _findings(corpus: object) -> list[dict[str, object]]:
    return [f.to_json() for f in evaluate(corpus, load_settings(REGISTRY, isolated=True))]  # type: ignore[arg-type]


def test_pieces_of_large_files_give_the_same_corpus(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 20)
    units = parallel.plan([str(dumps)], jobs=2)
    assert sum(1 for u in units if u.fmt == "jsonl") > 3
    assert sum(1 for u in units if u.fmt == "proto-framed") > 3
    one, stats1 = scan([str(dumps)], jobs=1)
    two, stats2 = scan([str(dumps)], jobs=2)
    assert sorted(stats2.inputs) == sorted(stats1.inputs)
    assert (
        stats2.skipped
        == stats1.skipped
        == [
            (str(dumps / "app.jsonl"), "not OTLP (JSON that is no OTLP/JSON document)"),
            (str(dumps / "notes.txt"), "not OTLP (text, no line of it an OTLP/JSON document)"),
            (str(dumps / "package.json"), "not OTLP (JSON, an object with top-level keys 'name')"),
        ]
    )
    assert two.canonical() == one.canonical()
    assert _findings(two) == _findings(one)


def test_a_roomy_budget_cuts_the_inputs_as_no_budget_does(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--max-memory`` (on by default) only ever makes pieces smaller. Its piece size was
    once passed where the plan's piece size goes: every file under 312 MB stayed whole,
    and one process read the largest file while the other waited."""
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 20)
    inputs = find_inputs([str(dumps)], sized=True)
    plain = parallel.plan_inputs(inputs, 2)
    assert sum(1 for u in plain if u.fmt is not None) > 6
    assert parallel.plan_for(inputs, 2, Spill.for_budget(DEFAULT_BUDGET, 2)) == plain
    assert parallel.plan_for(inputs, 2, None) == plain
    tight = parallel.plan_for(inputs, 2, Spill(1, 1, piece=6_000))
    assert len(tight) > len(plain)


def test_a_piece_counts_its_lines_as_it_reads_them(dumps: Path, tmp_path: Path) -> None:
    """The lines of a JSON Lines piece (blank ones too) number the pieces after it: the
    reader counts them on its way, as a second pass over the piece would."""
    lines = (dumps / "traces.jsonl").read_bytes().splitlines(keepends=True)
    odd = tmp_path / "odd.jsonl"  # blank lines, CRLF, and a last line with no newline
    odd.write_bytes(b"\n".join(lines[:5]) + b"\r\n\n" + b"".join(lines[5:]).rstrip(b"\n"))
    for path in (dumps / "traces.jsonl", odd):
        size = path.stat().st_size
        pieces = split_points(str(path), "jsonl", size, size // 5)
        assert len(pieces) >= 3
        for start, end, _ in pieces:
            unit = parallel.Unit(str(path), "jsonl", start, end)
            _, _, counted = parallel._read(unit, False)
            if end < size:  # (the last piece's count numbers nothing)
                assert counted == parallel._records_in(unit, 0) > 0


def test_framed_pieces_are_numbered_where_they_are_read(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 20)
    framed = [u for u in parallel.plan([str(dumps)], jobs=2) if u.fmt == "proto-framed"]
    lines = [u for u in parallel.plan([str(dumps)], jobs=2) if u.fmt == "jsonl"]
    assert len(framed) > 3 and all(u.first is None for u in lines)
    for path in {u.path for u in framed}:
        pieces = sorted((u for u in framed if u.path == path), key=lambda u: u.start)
        # The frames before each piece, counted by the cut, are the frames the pieces before it hold.
        held = [parallel._read(u, False)[2] - (u.first or 0) for u in pieces]
        assert [u.first for u in pieces] == [sum(held[:k]) for k in range(len(pieces))]
        corpus = parallel._read(pieces[-1], False)[0]
        assert min(corpus.spans.rec or corpus.logs.rec or corpus.exemplars.rec) > (
            pieces[-1].first or 0
        )


@pytest.mark.parametrize(("size", "top"), [(3, 6), (40, 255), (254, 255), (40, 1000), (300, 600)])
def test_renumbered_equals_a_map_over_the_rows(size: int, top: int) -> None:
    """Small maps take the strided byte translation, large ones the map: both must agree."""
    import random
    from array import array

    from otlint.telemetry.corpus.corpus import renumbered, shifted

    rng = random.Random(size)
    mapping = rng.sample(range(top), size)
    column = array("i", [rng.randrange(-1, size) for _ in range(5000)])
    assert renumbered(column, mapping) == array("i", [mapping[v] if v >= 0 else -1 for v in column])
    assert renumbered(column, list(range(size))) == column
    assert shifted(column, 7) == array("i", [v + 7 for v in column])


_FORK = multiprocessing.get_start_method() == "fork"


def _workers_do(monkeypatch: pytest.MonkeyPatch, action: Callable[[parallel.Unit], None]) -> None:
    """Cut the inputs small, and have worker processes (not this one) run ``action`` before each unit."""
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    parent = os.getpid()
    real = parallel._read

    def read(unit: parallel.Unit, strict: bool, *rest: Any) -> object:
        if os.getpid() != parent:
            action(unit)
        return real(unit, strict, *rest)

    monkeypatch.setattr(parallel, "_read", read)


@pytest.mark.skipif(not _FORK, reason="the worker must inherit the patched reader")
def test_a_worker_that_dies_loses_nothing(dumps: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, _ = scan([str(dumps)], jobs=1)
    _workers_do(monkeypatch, lambda unit: os._exit(9))  # killed mid-unit: no result, no message
    two, _ = scan([str(dumps)], jobs=3)
    assert two.canonical() == one.canonical()


@pytest.mark.skipif(not _FORK, reason="the worker must inherit the patched writer")
def test_shards_that_cannot_be_written_are_read_by_the_parent(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    one, _ = scan([str(dumps)], jobs=1)
    _workers_do(monkeypatch, lambda unit: None)
    parent = os.getpid()
    real = pickle.dump

    def full_disk(*args: Any, **kwargs: Any) -> None:
        if os.getpid() != parent:
            raise OSError(28, "No space left on device")
        real(*args, **kwargs)

    monkeypatch.setattr(pickle, "dump", full_disk)
    two, _ = scan([str(dumps)], jobs=2)
    assert two.canonical() == one.canonical()


def test_workers_that_cannot_start_lose_nothing(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    one, _ = scan([str(dumps)], jobs=1)
    _workers_do(monkeypatch, lambda unit: None)

    def no_folder(*args: Any, **kwargs: Any) -> str:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", no_folder)
    two, _ = scan([str(dumps)], jobs=2)
    assert two.canonical() == one.canonical()


@pytest.mark.skipif(not _FORK, reason="the worker must inherit the patched reader")
def test_a_worker_error_is_raised_in_the_parent(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(unit: parallel.Unit) -> None:
        raise OtlintError(f"{unit.path}:1: unreadable in a worker")

    _workers_do(monkeypatch, failing)
    with pytest.raises(OtlintError, match="unreadable in a worker"):
        scan([str(dumps)], jobs=2)


def test_progress_counts_the_units_of_every_process(
    dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    calls: list[tuple[int, int]] = []
    totals: list[int | None] = []

    class Recorder:
        def begin(self, total: int | None) -> None:
            totals.append(total)

        def __call__(self, path: str, records: int, size: int) -> None:
            calls.append((records, size))

    _, stats = scan([str(dumps)], jobs=2, progress=Recorder())
    # One call a unit, whoever read it, and more while this process reads its own.
    assert len(calls) >= len(parallel.plan([str(dumps)], 2))
    assert calls[-1] == (stats.records, stats.bytes) and stats.records > 0
    assert calls == sorted(calls)
    # Bytes are the files' as stored, the unit of the total given first.
    assert totals == [sum(p.stat().st_size for p in dumps.rglob("*") if p.is_file())]
    assert stats.bytes == totals[0]


def test_progress_line_shows_after_a_second_and_is_wiped() -> None:
    import io

    from otlint.cli.main import _Progress

    out = io.StringIO()
    progress = _Progress(out)
    progress("traces.binpb", 10, 1_000)
    assert out.getvalue() == ""  # a short run stays silent
    progress.start -= 2
    progress("traces.binpb", 50_000, 8_000_000)
    assert (
        "50,000 records" in out.getvalue()
        and "8.0 MB" in out.getvalue()
        and "traces.binpb" in out.getvalue()
    )
    progress.done()
    assert out.getvalue().endswith("\r\x1b[K")


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
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        shards.append(str(shard))
    merged = subprocess.run(
        [sys.executable, "-m", "otlint", "merge", *shards, "-f", "json", "--isolated"],
        capture_output=True,
        text=True,
        check=False,
    )
    whole = subprocess.run(
        [
            sys.executable,
            "-m",
            "otlint",
            "check",
            *files,
            "-f",
            "json",
            "--isolated",
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert merged.returncode == whole.returncode == 1, merged.stderr + whole.stderr
    assert json.loads(merged.stdout)["findings"] == json.loads(whole.stdout)["findings"]


def test_bad_state_file_is_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.otlint"
    bogus.write_bytes(b"hello")
    run = subprocess.run(
        [sys.executable, "-m", "otlint", "merge", str(bogus)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"otlint: error: {bogus}: not an otlint state file (write one with --state)"
    ]


def test_strict_error_in_a_piece_names_the_line_in_the_file(
    dumps: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 20_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 20)
    lines = (dumps / "traces.jsonl").read_text().splitlines()
    lines.insert(len(lines) * 9 // 10, '{"resourceSpans": 5}')
    broken = tmp_path / "traces.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    pieces = [u for u in parallel.plan([str(broken)], jobs=2) if u.fmt == "jsonl"]
    assert len(pieces) > 3
    with pytest.raises(OtlintError) as one:
        scan([str(broken)], jobs=1, strict=True)
    with pytest.raises(OtlintError) as two:
        scan([str(broken)], jobs=2, strict=True)
    assert str(two.value) == str(one.value)
    assert str(one.value).startswith(f"{broken}:{len(lines) * 9 // 10 + 1}: ")
