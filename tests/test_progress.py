"""The progress line of a long ``check``: records, input bytes of the total, share done, ETA.

Real files on disk (the SDK-written shop of ``sdkworld``), read by the real command line:
in a subprocess where only the final line shows (plain lines come every few seconds),
and in this process with the interval at zero, where every record writes one.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from otlint.cli import main as cli_main
from otlint.cli.main import _Progress, cli, eta, progress_wanted
from otlint.run import parallel, scan
from otlint.run.check import scan as check_scan

from sdkworld import build_world, write_world

ROOT = Path(__file__).resolve().parent.parent
#: ``12,345 records (...), 1.2 / 4.5 MB (26%), ...`` and ``ETA 1m23s``.
SHARE = re.compile(r"([\d,]+) records .*?([\d,.]+) / ([\d,.]+) MB \((\d+)%\)")
ETA = re.compile(r"ETA (\d+h\d\dm|\d+m\d\ds|\d+s)")


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few MB of OTLP in JSON Lines and proto framing, one file per signal and format."""
    folder = tmp_path_factory.mktemp("capture")
    world = build_world(healthy=False, requests=100, latency_scale=0, batch_every=2)
    write_world(world, folder, formats=("jsonl", "proto"))
    return folder


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f}"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def _check(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-P", "-m", "otlint", "check", "--isolated", "-f", "json", *args],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("otlint: progress: ")]


@pytest.fixture
def every_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain progress line for every record, from the start."""
    monkeypatch.setattr(_Progress, "PLAIN_EVERY", 0.0)


def _run_here(*args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["check", "--isolated", "-f", "json", "--progress", *args])
    assert result.exit_code in (0, 1), result.output + result.stderr
    return _lines(result.stderr)


def _shares(lines: list[str]) -> list[tuple[int, int, int]]:
    """(records, percent, the total in the line's own words) of each progress line."""
    found = [SHARE.search(line) for line in lines]
    assert all(found), lines
    return [(int(m[1].replace(",", "")), int(m[4]), m[3]) for m in found if m]


def test_a_forced_run_off_a_terminal_ends_with_the_whole_total(capture: Path) -> None:
    run = _check(str(capture), "--jobs", "1", "--progress")
    assert run.returncode in (0, 1), run.stderr
    stderr = run.stderr.decode()
    assert "\r" not in stderr and "\x1b" not in stderr  # plain lines for a log
    lines = _lines(stderr)
    assert lines, stderr
    last = SHARE.search(lines[-1])
    assert last is not None and lines[-1].startswith("otlint: progress: done: ")
    assert last[2] == last[3] == _mb(_size(capture)) and last[4] == "100"


def test_without_the_flag_off_a_terminal_nothing_shows(capture: Path) -> None:
    run = _check(str(capture), "--jobs", "1")
    assert run.returncode in (0, 1)
    assert b"progress" not in run.stderr and b"\r" not in run.stderr and b"MB" not in run.stderr


def test_the_share_done_grows_to_100_with_an_eta(capture: Path, every_record: None) -> None:
    lines = _run_here(str(capture), "--jobs", "1")
    shares = _shares(lines)
    assert len(shares) > 10
    assert {total for *_, total in shares} == {_mb(_size(capture))}  # the total, every time
    percents = [pct for _, pct, _ in shares]
    assert percents == sorted(percents) and percents[0] < 50 and percents[-1] == 100
    records = [n for n, *_ in shares]
    assert records == sorted(records) and records[0] < records[-1]
    etas = [ETA.search(line) for line in lines[:-1]]
    assert any(etas)
    assert all(
        ETA.search(line) for line, pct in zip(lines[:-1], percents, strict=False) if pct < 100
    )
    assert "ETA" not in lines[-1]  # the final line says how long it took instead
    assert re.search(r" in [\d.]+s$", lines[-1])


def test_parallel_reads_count_the_same_bytes(
    capture: Path, every_record: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PIECE", 100_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    shares = _shares(_run_here(str(capture), "--jobs", "2"))
    assert {total for *_, total in shares} == {_mb(_size(capture))}
    percents = [pct for _, pct, _ in shares]
    assert percents == sorted(percents) and percents[0] < 100 and percents[-1] == 100


def test_compressed_inputs_count_their_compressed_bytes(
    capture: Path, tmp_path: Path, every_record: None
) -> None:
    gz = tmp_path / "traces.jsonl.gz"
    gz.write_bytes(gzip.compress((capture / "traces.jsonl").read_bytes()))
    shutil.copy(capture / "logs.binpb", tmp_path / "logs.binpb")  # and a plain file with it
    stored = _size(tmp_path)
    assert _mb(stored) != _mb(
        stored - gz.stat().st_size + (capture / "traces.jsonl").stat().st_size
    )
    lines = _run_here(str(tmp_path), "--jobs", "1")
    shares = _shares(lines)
    assert {total for *_, total in shares} == {_mb(stored)}
    # Bytes read never pass the total (decompressed bytes would, by ten times).
    done = [float(m[2].replace(",", "")) for m in map(SHARE.search, lines) if m]
    assert max(done) <= float(_mb(stored))
    percents = [pct for _, pct, _ in shares]
    assert percents == sorted(percents) and percents[0] < 100 and percents[-1] == 100


def test_zstd_and_gzip_count_bytes_as_stored(capture: Path, tmp_path: Path) -> None:
    """Every reader path reports input bytes: they never pass the total and end on it."""
    pytest.importorskip("zstandard")
    world = build_world(healthy=True, requests=20, latency_scale=0, batch_every=2)
    write_world(world, tmp_path, formats=("jsonl.zst",))
    (tmp_path / "logs.jsonl.gz").write_bytes(gzip.compress((capture / "logs.jsonl").read_bytes()))
    total = _size(tmp_path)
    seen: list[int] = []
    totals: list[int | None] = []

    class Recorder:
        def begin(self, size: int | None) -> None:
            totals.append(size)

        def __call__(self, path: str, records: int, done: int) -> None:
            seen.append(done)

    _, stats = check_scan([str(tmp_path)], jobs=1, progress=Recorder())
    assert totals == [total] and stats.bytes == total
    assert seen == sorted(seen) and 0 < seen[0] < total and seen[-1] <= total


def test_stdin_has_no_size_so_no_share_and_no_eta(capture: Path) -> None:
    run = _check("-", "--progress", stdin=(capture / "traces.jsonl").read_bytes())
    assert run.returncode in (0, 1), run.stderr
    lines = _lines(run.stderr.decode())
    assert len(lines) == 1 and "records" in lines[0] and " MB " in lines[0]
    assert "%" not in lines[0] and "ETA" not in lines[0] and " / " not in lines[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_shows_bytes_read_without_eta(
    capture: Path, tmp_path: Path, every_record: None
) -> None:
    fifo = tmp_path / "traces.pipe"
    os.mkfifo(fifo)
    data = (capture / "traces.jsonl").read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    lines = _run_here(str(fifo), "--jobs", "1")
    writer.join(10)
    assert len(lines) > 2
    assert not any("%" in line or "ETA" in line for line in lines)
    read = [
        float(m[1].replace(",", "")) for m in map(re.compile(r"([\d,.]+) MB").search, lines) if m
    ]
    assert len(read) == len(lines) and read == sorted(read)
    assert read[-1] == float(_mb(len(data)))  # what the pipe gave, counted as it came


def test_the_expansion_is_walked_once(capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[object] = []
    real = scan.expand

    def counting(*args: object, **kwargs: object) -> object:
        walks.append(tuple(list(a) if isinstance(a, (list, tuple)) else a for a in args))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "expand", counting)

    class Quiet:
        def begin(self, total: int | None) -> None:
            assert total == _size(capture)

        def __call__(self, path: str, records: int, done: int) -> None:
            pass

    # One process; --jobs 2 on a small input (read in one process); --jobs 2 in pieces.
    for jobs, small in ((1, parallel.SMALL_INPUT), (2, 1 << 40), (2, 0)):
        monkeypatch.setattr(parallel, "SMALL_INPUT", small)
        walks.clear()
        check_scan([str(capture)], jobs=jobs, progress=Quiet())
        # (A whole-file unit is read as its own path: no folder is walked again.)
        assert [args[0] for args in walks].count([str(capture)]) == 1, jobs


def test_when_the_progress_shows() -> None:
    assert progress_wanted(None, tty=True, quiet=False, state=False)
    assert not progress_wanted(None, tty=False, quiet=False, state=False)
    assert not progress_wanted(None, tty=True, quiet=True, state=False)
    assert not progress_wanted(None, tty=True, quiet=False, state=True)
    assert progress_wanted(True, tty=False, quiet=True, state=True)  # asked for: shown
    assert not progress_wanted(False, tty=True, quiet=False, state=False)


def test_the_terminal_line_is_rewritten_in_place() -> None:
    import io

    out = io.StringIO()
    progress = _Progress(out, tty=True)
    progress.begin(10_000_000)
    progress.start -= 10
    progress("traces.jsonl", 1_000, 2_500_000)
    line = out.getvalue()
    assert line.startswith("\r\x1b[K") and "\n" not in line
    # 2.5 MB in 10 s: 7.5 MB left at 0.25 MB/s is 30 s (rounded up, a few ms later).
    assert "2.5 / 10.0 MB (25%)" in line and "traces.jsonl" in line
    assert re.search(r"ETA 3[01]s", line)
    progress.done(1_000, 10_000_000)
    assert out.getvalue().endswith("\r\x1b[K")


def test_eta_format() -> None:
    assert eta(0) == "0s"
    assert eta(7.2) == "8s"
    assert eta(83) == "1m23s"
    assert eta(3600 + 5 * 60 + 1) == "1h05m"


def test_the_cli_module_keeps_the_plain_interval_at_a_few_seconds() -> None:
    assert 2.0 <= cli_main._Progress.PLAIN_EVERY <= 10.0
