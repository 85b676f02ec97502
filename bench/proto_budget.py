#!/usr/bin/env python3
"""Where the protobuf path spends the floor's budget: each step of ``check`` beside the decode.

In one process, on the frames of the bench corpus held in memory (no file reads), each
step timed on its own as CPU time, the best of ``--rounds`` (others sharing the cores
move wall time far more than CPU time):

- the floor's work: the full ``opentelemetry-proto`` ``FromString`` of every frame;
- ``Observer.observe`` of every frame, per signal;
- for traces, the steps inside it: the shape and columnar parses, materializing each
  scope's encoded KeyValues, counting them (``Counter``) and ``Observer._tally``;
- ``evaluate``'s derived facts: the span index, the span graph, the log and exemplar
  resolutions, then the rules themselves.

Start-up is not here (a process of its own: ``bench/run.py``, or ``-X importtime``).

Usage: ``python bench/proto_budget.py [--quick] [--rounds N]``
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SIGNALS = ("traces", "logs", "metrics")


def frames(path: Path) -> list[bytes]:
    """The payloads of a length-prefixed file."""
    out = []
    with open(path, "rb") as f:
        while len(head := f.read(4)) == 4:
            out.append(f.read(int.from_bytes(head, "big")))
    return out


def each(fn: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
    """Call ``fn`` on every item, keeping no result (as the floor drops each message)."""

    def run() -> None:
        for item in items:
            fn(item)

    return run


def best(fn: Callable[[], object], rounds: int) -> float:
    """The least CPU seconds of ``rounds`` calls of ``fn``."""
    least = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        least = min(least, time.process_time() - t0)
    return least


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 10%% corpus")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from otlint.cli.main import BATCH_GC
    from otlint.core.wire import ADDRESS_KEYS
    from otlint.registry import REGISTRY
    from otlint.run.check import scan
    from otlint.settings import load_settings
    from otlint.telemetry.analysis import Context
    from otlint.telemetry.corpus.corpus import AttrLevel, Corpus, Signal
    from otlint.telemetry.observe import CTracesData, Observer, STracesData

    sys_path = BENCH / "out" / ("corpus-quick" if args.quick else "corpus")
    paths = {s: sys_path / f"{s}.binpb" for s in SIGNALS}
    data = {s: frames(p) for s, p in paths.items()}
    gc.freeze()
    gc.set_threshold(*BATCH_GC)
    rows: list[tuple[str, float]] = []

    import floor

    decoders = floor.proto_decoders()
    for s in SIGNALS:
        decode = decoders[s][0]
        rows.append((f"floor: FromString, {s}", best(each(decode, data[s]), args.rounds)))

    def observe(signal: Signal, payloads: list[bytes]) -> None:
        observer = Observer(Corpus())
        for i, p in enumerate(payloads):
            observer.observe(signal, p, 0, i)

    for s, signal in zip(SIGNALS, (Signal.TRACES, Signal.LOGS, Signal.METRICS), strict=True):
        rows.append((f"observe, {s}", best(partial(observe, signal, data[s]), args.rounds)))

    traces = data["traces"]
    rows.append(("  traces: shape parse", best(each(STracesData.FromString, traces), args.rounds)))
    rows.append(
        ("  traces: columnar parse", best(each(CTracesData.FromString, traces), args.rounds))
    )
    scopes = [
        ss.spans
        for p in traces
        for rs in CTracesData.FromString(p).resource_spans
        for ss in rs.scope_spans
    ]
    rows.append(
        (
            "  traces: KeyValues materialized",
            best(each(lambda c: c.attributes[:], scopes), args.rounds),
        )
    )
    attrs = [c.attributes[:] for c in scopes]
    rows.append(("  traces: KeyValues counted (Counter)", best(each(Counter, attrs), args.rounds)))
    counted = [Counter(a) for a in attrs]

    def tally() -> None:
        corpus = Corpus()
        observer = Observer(corpus)
        ri = corpus.resource_index(b"r", {})
        for kvs in counted:
            observer._tally(kvs, ri, AttrLevel.SPAN, (0, 0), ADDRESS_KEYS)

    rows.append(("  traces: _tally of the distinct ones", best(tally, args.rounds)))
    kvs = sum(map(len, attrs))
    distinct = sum(map(len, counted))

    corpus, _ = scan([str(p) for p in paths.values()], jobs=1)
    settings = load_settings(REGISTRY, cwd=BENCH.parent, isolated=True)

    def part(name: str) -> Callable[[], Any]:
        def run() -> Any:
            ctx = Context(corpus)
            if name == "index":
                return ctx.span_index
            ctx.span_index  # noqa: B018 - its own row
            if name == "graph":
                return ctx.graph
            if name == "logs":
                return ctx.resolution(corpus.logs)
            return ctx.resolution(corpus.exemplars)

        return run

    def base() -> None:
        Context(corpus).span_index  # noqa: B018

    index = best(part("index"), args.rounds)
    rows.append(("evaluate: span index", index))
    for name in ("graph", "logs", "exemplars"):
        rows.append(
            (f"evaluate: {name}", max(0.0, best(part(name), args.rounds) - best(base, args.rounds)))
        )

    from otlint.run.check import evaluate

    def rules() -> None:
        ctx = Context(corpus)
        ctx.graph  # noqa: B018
        ctx.resolution(corpus.logs)
        ctx.resolution(corpus.exemplars)
        evaluate(corpus, settings, context=ctx)

    def facts() -> None:
        ctx = Context(corpus)
        ctx.graph  # noqa: B018
        ctx.resolution(corpus.logs)
        ctx.resolution(corpus.exemplars)

    rows.append(
        (
            "evaluate: the rules after those",
            max(0.0, best(rules, args.rounds) - best(facts, args.rounds)),
        )
    )

    floor_total = sum(v for k, v in rows if k.startswith("floor"))
    print(f"corpus {sys_path}: {kvs:,} span KeyValues, {distinct:,} distinct within their scopes")
    print(f"{'step':40s} {'ms':>8s} {'x floor':>8s}")
    for name, secs in rows:
        print(f"{name:40s} {secs * 1000:8.1f} {secs / floor_total:8.2f}")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(BENCH))
    main()
