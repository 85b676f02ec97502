#!/usr/bin/env python3
"""``check --max-memory``: peak RSS of the whole process tree and wall time, 1 copy vs 10.

The capture is the bench corpus (``bench/out/corpus``: 500k records as ``*.binpb``) and
ten copies of it: ten folders of symlinks to the same three files, so ``check`` reads
5M records from ten distinct paths (each span repeats in the ten copies, as a capture
exported twice would: TR003 reports it). Each case runs as its own process:

=====================  ==========================================================
case                   command
=====================  ==========================================================
``x1-jobs-default``    ``otlint check COPY0 --format json -o /dev/null --exit-zero --isolated``
``x1-jobs-1``          the same with ``--jobs 1``
``x10-jobs-default``   ``otlint check COPY0 ... COPY9 ...`` (default ``--max-memory``)
``x10-jobs-1``         the same with ``--jobs 1``
``x10-unbounded``      ``x10-jobs-default`` with ``--max-memory 0`` (``--all`` only)
``zst-jobs-default``   (``--compressed`` only) the corpus' traces 15 times over in one
                       ``.binpb.zst`` (3M spans) with its logs and metrics, ``--max-memory
                       300M``: a file no process can cut, read on the budget
=====================  ==========================================================

Wall time from the parent's clock; CPU time (user + system) of the whole tree from
``wait4`` (otlint waits for every process it starts, so theirs is in it); peak RSS
summed over the process and its children from ``/proc`` every 20 ms (``run.TreeRss``).
Printed: wall, CPU, peak tree RSS, and for a 10-copy case its wall and CPU over ten
times those of the 1-copy case with the same jobs (the target: <= 1.2, and <= 500 MB
of peak tree RSS). CPU time is the steadier figure while other work shares the cores. Each report's findings are compared with the
unbounded run's when ``--all`` runs it (they must be equal).

Usage::

    python bench/memory.py               # the four cases, once each
    python bench/memory.py --all         # ... and the unbounded 10-copy run, findings compared
    python bench/memory.py --max-memory 300M --rounds 3
    python bench/memory.py --compressed  # ... and the one .zst file on a 300M budget
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from run import CORPUS, TreeRss, base_env, machine  # noqa: E402 - bench/run.py beside this file

SIGNALS = ("traces", "logs", "metrics")


def copies(corpus: Path, n: int, root: Path) -> list[str]:
    """``n`` folders of symlinks to the corpus' ``*.binpb`` files."""
    out = []
    for i in range(n):
        folder = root / f"copy{i}"
        folder.mkdir(parents=True, exist_ok=True)
        for signal in SIGNALS:
            link = folder / f"{signal}.binpb"
            if not link.exists():
                link.symlink_to(corpus / f"{signal}.binpb")
        out.append(str(folder))
    return out


#: Copies of the corpus' traces in the one zstd file of ``--compressed`` (3M spans).
ZST_COPIES = 15


def compressed(corpus: Path, root: Path) -> str:
    """A folder with the corpus' traces ``ZST_COPIES`` times over in one ``.binpb.zst``
    (a file no process can cut), and links to its logs and metrics."""
    import zstandard

    folder = root / "zst"
    folder.mkdir(parents=True, exist_ok=True)
    data = (corpus / "traces.binpb").read_bytes()
    with open(folder / "traces.binpb.zst", "wb") as f:
        writer = zstandard.ZstdCompressor(level=1).stream_writer(f)
        for _ in range(ZST_COPIES):
            writer.write(data)
        writer.flush(zstandard.FLUSH_FRAME)
    for signal in SIGNALS[1:]:
        (folder / f"{signal}.binpb").symlink_to(corpus / f"{signal}.binpb")
    return str(folder)


def run(argv: list[str], report: Path) -> tuple[float, float, float]:
    """Run one case: (wall seconds, peak tree RSS in MB, CPU seconds of the tree)."""
    env = {**base_env(), "PYTHONPATH": str(ROOT)}  # (as bench/run.py: cached bytecode)
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*argv, "-o", str(report)], stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=ROOT
        )
        with TreeRss(proc.pid) as tree:
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().decode(errors='replace')}")
    # (The children's CPU counts too: otlint waits for each process it starts.)
    return wall, tree.peak_kb / 1024, usage.ru_utime + usage.ru_stime


def _findings(report: Path) -> object:
    data = json.loads(report.read_text())
    return [
        (f["code"], f["service"], f.get("peer"), f["count"], f["message"]) for f in data["findings"]
    ], data["summary"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--max-memory", default=None, help="passed on (default: otlint's)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="also the unbounded 10-copy run")
    parser.add_argument(
        "--compressed",
        action="store_true",
        help=f"also the traces {ZST_COPIES} times over in one .zst, --max-memory 300M"
        " (or the one given): the file a worker cannot cut",
    )
    args = parser.parse_args(argv)
    if not (args.corpus / "traces.binpb").exists():
        raise SystemExit(f"{args.corpus}: no corpus: run bench/generate.py first")
    work = Path(tempfile.mkdtemp(prefix="otlint-memory-bench-"))
    one = copies(args.corpus, 1, work)
    ten = copies(args.corpus, 10, work)
    base = [sys.executable, "-P", "-m", "otlint", "check", "--format", "json", "--exit-zero"]
    base += ["--isolated", "-q"]
    budget = [] if args.max_memory is None else ["--max-memory", args.max_memory]
    cases = {
        "x1-jobs-default": [*base, *one, *budget],
        "x1-jobs-1": [*base, *one, "--jobs", "1", *budget],
        "x10-jobs-default": [*base, *ten, *budget],
        "x10-jobs-1": [*base, *ten, "--jobs", "1", *budget],
    }
    if args.all:
        cases["x10-unbounded"] = [*base, *ten, "--max-memory", "0"]
    if args.compressed:
        cases["zst-jobs-default"] = [
            *base, compressed(args.corpus, work), "--max-memory", args.max_memory or "300M",
        ]  # fmt: skip
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, case in cases.items():
            results[name].append(run(case, work / f"{name}.json"))
            wall, rss, cpu = results[name][-1]
            print(f"  {name}: {wall:.1f} s, {cpu:.1f} CPU s, {rss:.0f} MB", flush=True)
    info = machine()
    print(
        f"machine: {info.get('cpu', '?')}, {os.cpu_count()} cores; python {sys.version.split()[0]}"
    )
    print(
        f"{'case':<18} {'wall s':>7} {'CPU s':>7} {'peak tree RSS MB':>17}"
        f" {'wall / 10x one':>15} {'CPU / 10x one':>14}"
    )
    walls = {name: statistics.median(r[0] for r in runs) for name, runs in results.items()}
    cpus = {name: statistics.median(r[2] for r in runs) for name, runs in results.items()}
    for name, runs in results.items():
        rss = max(r[1] for r in runs)
        ratio = cpu_ratio = ""
        if name.startswith("x10"):
            one = "x1-jobs-1" if name.endswith("jobs-1") else "x1-jobs-default"
            ratio = f"{walls[name] / (10 * walls[one]):.2f}"
            cpu_ratio = f"{cpus[name] / (10 * cpus[one]):.2f}"
        print(
            f"{name:<18} {walls[name]:>7.1f} {cpus[name]:>7.1f} {rss:>17.0f}"
            f" {ratio:>15} {cpu_ratio:>14}"
        )
    if args.all:
        same = _findings(work / "x10-jobs-default.json") == _findings(work / "x10-unbounded.json")
        same_j1 = _findings(work / "x10-jobs-1.json") == _findings(work / "x10-unbounded.json")
        print(f"findings equal to the unbounded run: default jobs {same}, --jobs 1 {same_j1}")
    for path in work.rglob("*"):
        if path.is_symlink() or path.is_file():
            path.unlink()
    for folder in sorted(work.rglob("*"), reverse=True):
        folder.rmdir()
    work.rmdir()


if __name__ == "__main__":
    main()
