#!/usr/bin/env python3
"""How fast ``check-config`` reads real trees, starts, and runs as the pre-commit hook.

Issue 15's target: at least 5 MB/s of YAML, a start-up of at most 0.15 s, so that the hook
on a 500-file repository takes at most 2 s. Each case is the real CLI in its own process
(``otlint check-config ... --format json --isolated --exit-zero -q -o /dev/null``, the
interpreter's start included), the best and the median of ``--repeat`` runs:

- ``start-up``: one tiny collector config;
- ``tree PATH``: a folder as the hook's ``otlint check-config .`` reads it (every file the
  walk finds, ``*.yaml``, ``*.yml``, ``.env*``, ``*.env`` outside ``SKIP_DIRS``); MB/s
  is the size of those files over the whole wall time, and again net of the start-up;
- ``hook N``: the first N of those files (over all trees, in walk order) named one by one,
  as pre-commit passes them; with ``--hook-glob PATTERN``, the files the (recursive) glob
  matches instead (e.g. the helm charts' rendered examples, issue 15's 539 files).

``--otlint CMD`` measures another build (a script that runs ``python -m otlint "$@"``
with its own ``PYTHONPATH``); give it twice (``--otlint A --otlint B``) to measure two
builds in one run, alternating within each round. ``--profile`` runs ``check-config``
on the trees in this process under cProfile instead (the build this Python imports) and
prints the 30 functions with the most time of their own; ``--imports`` prints the
start-up's most expensive imports (``-X importtime``).

Usage::

    python bench/config_speed.py /tmp/rw/opentelemetry-helm-charts /tmp/rw/opentelemetry-operator
    python bench/config_speed.py TREE... --otlint ./before.sh --otlint ./after.sh --repeat 5
    python bench/config_speed.py TREE --profile
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

#: The tiny config of the start-up case.
TINY = "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\n"
#: The children write their bytecode caches, as an installed otlint has them (this sandbox
#: sets ``PYTHONDONTWRITEBYTECODE``, and compiling otlint's modules costs ~0.06 s a run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FLAGS = ("--format", "json", "--isolated", "--exit-zero", "-q", "-o", os.devnull)


def walk(tree: str) -> list[str]:
    """The files ``check-config TREE`` reads, in its order (the walk of ``read_configs``)."""
    from otlint.core.fs import SKIP_DIRS
    from otlint.run.check_config import is_config_name

    out: list[str] = []
    for folder, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        out += (os.path.join(folder, f) for f in sorted(files) if is_config_name(f))
    return out


def size(files: Sequence[str]) -> int:
    """Bytes in ``files`` (regular files only, as the walk reads them)."""
    return sum(os.path.getsize(f) for f in files if os.path.isfile(f))


def timed(command: Sequence[str], cwd: str | None = None) -> float:
    """Wall seconds of one run of ``command`` (its output dropped; a failure stops the bench)."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return took


def profile(trees: Sequence[str]) -> None:
    """``check-config`` over ``trees`` in this process under cProfile; the top 30 by own time."""
    import cProfile
    import pstats

    from otlint.cli.main import main

    prof = cProfile.Profile()
    prof.enable()
    with contextlib.suppress(SystemExit):
        main(["check-config", *trees, *FLAGS])
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)


def imports(otlint: Sequence[str], tiny: str) -> None:
    """The start-up's 25 most expensive imports (cumulative microseconds)."""
    env = dict(ENV, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run(
        [*otlint, "check-config", tiny, *FLAGS], env=env, capture_output=True, text=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        if cumulative.strip().isdigit():
            rows.append((int(cumulative), int(own), name.rstrip()))
    for cumulative, own, name in sorted(rows, reverse=True)[:25]:
        print(f"{cumulative / 1e3:8.1f} ms {own / 1e3:7.1f} ms  {name}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and print a markdown table of the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("trees", nargs="+", metavar="TREE", help="folders to check")
    parser.add_argument(
        "--otlint",
        action="append",
        help="a command that runs otlint (repeat to compare builds; default: this Python's)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--hook", type=int, default=500, help="files named in the hook case")
    parser.add_argument("--hook-glob", help="the files of the hook case: a recursive glob")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process run")
    parser.add_argument("--imports", action="store_true", help="the start-up's costly imports")
    args = parser.parse_args(argv)

    if args.profile:
        profile(args.trees)
        return
    builds = [[cmd] for cmd in args.otlint] if args.otlint else [[sys.executable, "-m", "otlint"]]
    with tempfile.TemporaryDirectory() as tmp:
        tiny = str(Path(tmp, "otel-collector.yaml"))
        Path(tiny).write_text(TINY, encoding="utf-8")
        if args.imports:
            for build in builds:
                print(f"## {' '.join(build)}")
                imports(build, tiny)
            return
        found = {tree: walk(tree) for tree in args.trees}
        hook = [f for tree in args.trees for f in found[tree]][: args.hook]
        if args.hook_glob:
            hook = sorted(f for f in glob.glob(args.hook_glob, recursive=True) if os.path.isfile(f))
        cases: list[tuple[str, list[str], str | None, int]] = [("start-up", [tiny], None, 0)]
        cases += [(f"tree {tree}", ["."], tree, size(found[tree])) for tree in args.trees]
        cases.append(
            (f"hook {len(hook)} files", [os.path.abspath(f) for f in hook], None, size(hook))
        )
        times: dict[tuple[int, str], list[float]] = {}
        for build in builds:  # untimed: writes the bytecode caches, warms the page cache
            timed([*build, "check-config", tiny, *FLAGS])
        for round_ in range(args.repeat):
            order = builds if round_ % 2 == 0 else builds[::-1]
            for build in order:
                for name, files, cwd, _ in cases:
                    command = [*build, "check-config", *files, *FLAGS]
                    took = timed(command, cwd)
                    times.setdefault((builds.index(build), name), []).append(took)
    print(
        f"{args.repeat} runs each; best (median); MB/s of the best run, and net of the best start-up\n"
    )
    print("| build | case | files | MB | wall best | median | MB/s | MB/s net of start-up |")
    print("|---|---|---|---|---|---|---|---|")
    for index, build in enumerate(builds):
        start = min(times[(index, "start-up")])
        for name, files, cwd, nbytes in cases:
            runs = times[(index, name)]
            best = min(runs)
            count = len(found[cwd]) if cwd else len(files)
            rate = f"{nbytes / 1e6 / best:.1f}" if nbytes else ""
            net = f"{nbytes / 1e6 / (best - start):.1f}" if nbytes and best > start else ""
            print(
                f"| {' '.join(build)} | {name} | {count} | {nbytes / 1e6:.2f} | {best:.3f} s "
                f"| {statistics.median(runs):.3f} s | {rate} | {net} |"
            )


if __name__ == "__main__":
    main()
