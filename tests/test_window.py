"""Trace windows: judging traces in pieces and freeing them adds up to judging them at once."""

from __future__ import annotations

from pathlib import Path

from otlint.checks import REGISTRY
from otlint.config import load_settings
from otlint.engine import evaluate, scan
from otlint.window import Window

from sdkworld import build_world, write_world


def test_evicting_traces_keeps_the_windowed_findings(tmp_path: Path) -> None:
    world = build_world(healthy=False, requests=30, latency_scale=0, batch_every=5)
    write_world(world, tmp_path, formats=("proto",))
    settings = load_settings(REGISTRY, isolated=True)
    whole, _ = scan([str(tmp_path)])
    expected = {(f.code, f.service, f.peer): f.count for f in evaluate(whole, settings)}

    live, _ = scan([str(tmp_path)])
    window = Window(live, idle=0.0, max_spans=1000)
    window.max_spans = len(live.spans) // 4  # force several evictions of idle traces
    window.touch(now=0.0)
    evicted = 0
    while len(live.spans) > window.max_spans:
        evicted += window.evict(settings, now=100.0)
    assert evicted > 0 and live.settled_traces == evicted
    got = {(f.code, f.service, f.peer): f.count for f in evaluate(live, settings)}
    assert got == expected
    assert window.evicted_early == 0
