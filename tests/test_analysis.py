"""Derived facts: the same answers however they are computed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from otlint.analysis import Context
from otlint.engine import scan

from sdkworld import build_world, write_world


@pytest.mark.skipif(sys.platform != "linux", reason="resolve_in_background forks on Linux only")
def test_resolutions_from_a_forked_child_equal_those_made_here(tmp_path: Path) -> None:
    world = build_world(healthy=False, requests=8, latency_scale=0, batch_every=3)
    write_world(world, tmp_path, formats=("proto",))
    corpus, _ = scan(sorted(str(p) for p in tmp_path.iterdir()))
    here = Context(corpus)
    there = Context(corpus)
    assert there.resolve_in_background()
    for table in (corpus.logs, corpus.exemplars):
        mine, theirs = here.resolution(table), there.resolution(table)
        assert theirs.resolved == mine.resolved and sum(mine.resolved.values()) > 0
        assert {s: (e.count, e.locs) for s, e in theirs.missing.items()} == {
            s: (e.count, e.locs) for s, e in mine.missing.items()
        }
    assert there._background is None  # collected, the child reaped
