#!/usr/bin/env python3
"""Where otlint's time goes: its phases timed, then profiled, in one process.

(Not ``profile.py``: run as a script, that name would shadow the standard library's
``profile`` module, which ``cProfile`` imports.)

Runs what ``otlint check --jobs 1`` runs, in-process, on the bench corpus (proto by
default): ``run.check.scan`` (read + the observe hot loop), ``run.check.evaluate`` (rules over
the Corpus) and ``run.check.build_report``.

1. Phase timings with no profiler attached (the real proportions).
2. The same under a profiler -- pyinstrument when it is installed (a sampling profiler:
   little distortion), else ``cProfile`` (deterministic: it charges every Python call, so
   many small calls such as ``key_and_type`` look dearer than they are) -- printing the
   top functions by self time and by cumulative time.

For a whole-process view that includes the time inside C (upb, the allocator), use a
sampling profiler from outside, e.g.
``py-spy record --native -o otlint.svg -- .venv/bin/otlint check bench/out/corpus/*.binpb --jobs 1 -o /dev/null``.

Usage: ``python bench/profile_check.py [--json] [--quick] [--top N] [--profiler cprofile|pyinstrument|none]``
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SIGNALS = ("traces", "logs", "metrics")


def _settings() -> Any:
    from otlint.registry import REGISTRY
    from otlint.settings import load_settings

    return load_settings(REGISTRY, cwd=ROOT, isolated=True)


def run_check(paths: list[str], settings: Any) -> dict[str, float]:
    """scan -> evaluate -> build_report, as ``otlint check --jobs 1`` does; returns phase seconds."""
    from otlint.run.check import build_report, evaluate, scan
    from otlint.telemetry.analysis import Context

    t0 = time.perf_counter()
    corpus, stats = scan(paths, jobs=1)
    t1 = time.perf_counter()
    ctx = Context(corpus)
    findings = evaluate(corpus, settings, context=ctx)
    t2 = time.perf_counter()
    build_report(corpus, findings, stats.inputs, context=ctx)
    t3 = time.perf_counter()
    return {"scan": t1 - t0, "evaluate": t2 - t1, "report": t3 - t2, "total": t3 - t0}


def scan_by_signal(paths: list[str]) -> dict[str, float]:
    """Seconds of ``scan`` per input file, one file at a time."""
    from otlint.run.check import scan

    out = {}
    for path in paths:
        t0 = time.perf_counter()
        scan([path], jobs=1)
        out[Path(path).name] = time.perf_counter() - t0
    return out


def with_cprofile(fn: Callable[[], object], top: int) -> str:
    """Run ``fn`` under cProfile; the top functions by self and by cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs()
    out.write(f"== top {top} by self time (tottime) ==\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"== top {top} by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def with_pyinstrument(fn: Callable[[], object]) -> str:
    """Run ``fn`` under pyinstrument; its call tree as text."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    fn()
    profiler.stop()
    text: str = profiler.output_text(unicode=True, color=False, show_all=False)
    return text


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--json", action="store_true", help="profile the JSON Lines corpus instead of proto"
    )
    parser.add_argument(
        "--quick", action="store_true", help="use the 10%% corpus (bench/out/corpus-quick)"
    )
    parser.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    parser.add_argument(
        "--profiler", choices=("auto", "cprofile", "pyinstrument", "none"), default="auto"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(BENCH))
    import generate

    corpus = BENCH / "out" / ("corpus-quick" if args.quick else "corpus")
    manifest = generate.ensure(corpus, 0.1 if args.quick else 1.0)
    ext = "jsonl" if args.json else "binpb"
    paths = [str((corpus / f"{s}.{ext}").relative_to(ROOT)) for s in SIGNALS]
    settings = _settings()
    # As the otlint command does for a batch run (otlint.cli.main._batch_gc).
    from otlint.cli.main import BATCH_GC

    gc.freeze()
    gc.set_threshold(*BATCH_GC)

    run_check(paths[:1], settings)  # imports, caches (semconv), page cache
    phases = run_check(paths, settings)
    per_file = scan_by_signal(paths)
    n = manifest["spans"] + manifest["logs"] + manifest["points"]
    print(
        f"corpus: {', '.join(paths)} ({manifest['spans']:,} spans, {manifest['logs']:,} logs, {manifest['points']:,} points)"
    )
    print("phases (no profiler):")
    for name, secs in phases.items():
        print(f"  {name:9s} {secs:7.2f} s  {100 * secs / phases['total']:5.1f}%")
    print(
        f"  = {n / phases['total']:,.0f} records/s, {manifest['spans'] / phases['total']:,.0f} spans/s over the whole check"
    )
    print("scan per file (no profiler):")
    counts = {"traces": manifest["spans"], "logs": manifest["logs"], "metrics": manifest["points"]}
    for name, secs in per_file.items():
        records = counts[name.split(".")[0]]
        print(f"  {name:14s} {secs:7.2f} s  {records / secs:12,.0f} records/s")

    which = args.profiler
    if which == "auto":
        try:
            import pyinstrument  # noqa: F401

            which = "pyinstrument"
        except ImportError:
            which = "cprofile"
    if which == "none":
        return
    print(f"\nprofile ({which}):")

    def work() -> None:
        run_check(paths, settings)

    print(with_pyinstrument(work) if which == "pyinstrument" else with_cprofile(work, args.top))


if __name__ == "__main__":
    main()
