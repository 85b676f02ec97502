"""Run every reader's coverage-guided fuzzer (tests/fuzz/fuzz_*.py, atheris) for a bounded time.

    python bench/fuzz.py --minutes 10            # every fuzzer, 10 minutes each
    python bench/fuzz.py --minutes 1 --only jsonl,zstd --jobs 2

Each fuzzer starts from the seeds of ``tests/fuzz/harness.py`` plus the corpus it kept from
earlier runs (``OUT/corpus/NAME``), and stops at its first crash, slow input (``--timeout``
seconds) or memory blow-up (``--rss-mb``); what it found is written to ``OUT/crashes/`` and
named in the summary. A crash found is a bug: keep the input as a fixture in tests/readers/
with a test. Exit status: 0 when no fuzzer found anything, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "tests" / "fuzz"


@dataclass
class Result:
    """What one fuzzer did."""

    name: str
    seconds: float
    runs: int
    coverage: int
    peak_mb: int
    found: list[Path]
    status: int


def _seed(corpus: Path) -> None:
    sys.path[:0] = [str(FUZZ)]
    import harness

    for name, data in harness.seeds().items():
        (corpus / f"seed-{name}").write_bytes(data)


def _run(name: str, seconds: int, out: Path, timeout: int, rss_mb: int) -> subprocess.Popen[bytes]:
    corpus = out / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    _seed(corpus)
    crashes = out / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    log = (out / f"{name}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            str(FUZZ / f"fuzz_{name}.py"),
            str(corpus),
            f"-max_total_time={seconds}",
            f"-timeout={timeout}",
            f"-rss_limit_mb={rss_mb}",
            f"-artifact_prefix={crashes}/{name}-",
            "-print_final_stats=1",
            "-max_len=65536",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=FUZZ,
        env={**os.environ, "OTLINT_FUZZ_TMP": str(out)},
    )


def _result(name: str, out: Path, seconds: float, status: int) -> Result:
    text = (out / f"{name}.log").read_text(errors="replace")
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    cov = re.findall(r"\bcov: (\d+)", text)
    peak = re.findall(r"stat::peak_rss_mb:\s*(\d+)", text)
    found = sorted((out / "crashes").glob(f"{name}-*"))
    return Result(
        name,
        seconds,
        int(runs[-1]) if runs else 0,
        int(cov[-1]) if cov else 0,
        int(peak[-1]) if peak else 0,
        found,
        status,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzers, ``--jobs`` at a time, and print what each did."""
    names = sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, required=True, help="per fuzzer")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(names)}")
    parser.add_argument("--jobs", type=int, default=2, help="fuzzers at a time (default 2)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "otlint-fuzz")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory one fuzzer may use")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"no fuzzer {', '.join(unknown)}: choose from {', '.join(names)}")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    seconds = max(1, int(args.minutes * 60))
    waiting = list(chosen)
    running: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    results: list[Result] = []
    while waiting or running:
        while waiting and len(running) < args.jobs:
            name = waiting.pop(0)
            running[name] = (_run(name, seconds, out, args.timeout, args.rss_mb), time.monotonic())
        time.sleep(1)
        for name, (proc, started) in list(running.items()):
            status = proc.poll()
            if status is not None:
                del running[name]
                results.append(_result(name, out, time.monotonic() - started, status))
                r = results[-1]
                print(
                    f"{r.name:8} {r.seconds:7.0f} s  {r.runs:>10} runs  cov {r.coverage:>5}  "
                    f"peak {r.peak_mb:>5} MB  "
                    + (
                        f"FOUND {', '.join(p.name for p in r.found)}"
                        if r.found
                        else "nothing found"
                    ),
                    flush=True,
                )
    bad = [r for r in results if r.found or r.status not in (0,)]
    print(f"{len(results)} fuzzers, {sum(r.runs for r in results)} runs; logs in {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
