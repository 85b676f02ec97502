"""Derived facts: the same answers however they are computed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from otlint.analysis import Context
from otlint.corpus import gather, rows
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


def test_rows_and_gather_cut_columns_like_slices() -> None:
    n = 40_000  # more than one struct chunk
    ids, parent = os.urandom(24 * n), os.urandom(8 * n)
    assert rows(ids, 24) == [ids[i : i + 24] for i in range(0, len(ids), 24)]
    assert rows(bytearray(parent), 8) == [parent[i : i + 8] for i in range(0, len(parent), 8)]
    assert rows(b"", 24) == []
    keys = gather(n, (ids, 24, 0, 16), (bytearray(parent), 8, 0, 8))
    assert rows(keys, 24) == [ids[24 * i : 24 * i + 16] + parent[8 * i : 8 * i + 8] for i in range(n)]
    assert gather(n, (ids, 24, 16, 8)) == b"".join(ids[24 * i + 16 : 24 * i + 24] for i in range(n))
    with pytest.raises(ValueError):
        rows(ids[:-1], 24)
    with pytest.raises(ValueError):
        gather(n + 1, (ids, 24, 0, 16))
