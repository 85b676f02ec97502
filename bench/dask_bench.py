#!/usr/bin/env python3
"""``otlint check --dask`` on a LocalCluster of 1 and 2 workers against a local ``--jobs 1/2``.

Each configuration checks the bench corpus' framed protobuf files
(``bench/out/corpus/*.binpb`` unless FILES are given) as a whole ``otlint`` process
(``-f json -o FILE --isolated --exit-zero``), ``--rounds`` times, the configurations
interleaved round by round; the table has the median and the fastest wall and the ratio
of the median to local ``--jobs 1``. Each cluster is started once, before its rounds
(its start-up is printed, not counted: a real cluster is up before the run), with one
thread per worker process, as ``dask worker --nthreads 1`` would be. Every report must
equal local ``--jobs 1``'s (the script exits 1 otherwise). ``--shards`` adds a 2-worker
row whose shards go through a folder (``--dask-shards``) instead of through Dask.
The decode-only floor (``bench/floor.py``) of the same files is measured in the same run.

Usage: ``python bench/dask_bench.py [--rounds 3] [--shards] [FILES...]`` (prints markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from run import machine  # noqa: E402 - bench/run.py, after the path is set


def _otlint(files: list[str], out: str, *extra: str) -> float:
    """Wall seconds of one ``otlint check`` process."""
    cmd = [sys.executable, "-P", "-m", "otlint", "check", *files, "-f", "json", "-o", out]
    cmd += ["--isolated", "--exit-zero", "-q", "--no-progress", *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_env())
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"dask_bench: {' '.join(cmd)} exited {done.returncode}: {done.stderr}")
    return took


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _report(path: str) -> object:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data.pop("inputs", None)  # (equal anyway; paths only)
    return data


def _floor(files: list[str]) -> float:
    """Wall seconds of the decode-only floor process over the same files."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-P", str(ROOT / "bench" / "floor.py"), *files],
        capture_output=True,
        check=True,
        env=_env(),
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    """Run the configurations, print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shards", action="store_true", help="add a --dask-shards row")
    args = parser.parse_args(argv)
    files = args.files or sorted(str(p) for p in (ROOT / "bench/out/corpus").glob("*.binpb"))
    if not files:
        raise SystemExit("dask_bench: no input: run bench/generate.py first, or give FILES")
    os.environ.update(_env())  # (the cluster's worker processes import this otlint)
    import logging

    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)

    size = sum(os.path.getsize(f) for f in files)
    load = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="otlint-dask-bench-")
    clusters: dict[int, LocalCluster] = {}
    starts: dict[int, float] = {}
    for n in (1, 2):
        t0 = time.perf_counter()
        clusters[n] = LocalCluster(
            n_workers=n, processes=True, threads_per_worker=1, host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )  # fmt: skip
        starts[n] = time.perf_counter() - t0
    shards = os.path.join(tmp, "shards")
    os.mkdir(shards)
    configs: dict[str, list[str]] = {
        "local --jobs 1": ["--jobs", "1"],
        "local --jobs 2": ["--jobs", "2"],
        "--dask, 1 worker": ["--dask", clusters[1].scheduler_address],
        "--dask, 2 workers": ["--dask", clusters[2].scheduler_address],
    }
    if args.shards:
        configs["--dask, 2 workers, --dask-shards"] = [
            "--dask", clusters[2].scheduler_address, "--dask-shards", shards,
        ]  # fmt: skip
    walls: dict[str, list[float]] = {name: [] for name in configs}
    reference: object = None
    differ: list[str] = []
    try:
        for r in range(args.rounds):
            names = list(configs) if r % 2 == 0 else list(reversed(configs))
            for name in names:
                out = os.path.join(tmp, "report.json")
                walls[name].append(_otlint(files, out, *configs[name]))
                report = _report(out)
                if name == "local --jobs 1" and reference is None:
                    reference = report
                elif reference is not None and report != reference and name not in differ:
                    differ.append(name)
        floor = _floor(files)
    finally:
        for cluster in clusters.values():
            cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(walls["local --jobs 1"])
    info = machine()
    print(
        f"Corpus: {len(files)} files, {size / 1e6:,.1f} MB ({', '.join(Path(f).name for f in files)})."
    )
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['python']}; otlint {info['otlint']}."
    )
    print(f"Load average at the start {load[0]:.2f}, at the end {os.getloadavg()[0]:.2f}.")
    print(f"Decode-only floor of the same files (bench/floor.py, one process): {floor:.2f} s.")
    print(
        f"LocalCluster start (not counted): 1 worker {starts[1]:.1f} s, 2 workers {starts[2]:.1f} s."
    )
    print()
    print(
        f"| configuration ({args.rounds} rounds) | median wall | fastest | MB/s | / local --jobs 1 | / floor |"
    )
    print("|---|---|---|---|---|---|")
    for name, ws in walls.items():
        med = statistics.median(ws)
        print(
            f"| {name} | {med:.2f} s | {min(ws):.2f} s | {size / 1e6 / med:,.1f} "
            f"| {med / base:.2f} | {med / floor:.2f}x |"
        )  # fmt: skip
    print()
    if differ:
        print(f"REPORTS DIFFER from local --jobs 1: {', '.join(differ)}")
        raise SystemExit(1)
    print("Every report equals local --jobs 1's.")


if __name__ == "__main__":
    main()
