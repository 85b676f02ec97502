"""A Corpus is a mergeable shard: merge(observe(A), observe(B)) == observe(A + B)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otlint.registry import REGISTRY
from otlint.run.check import evaluate, scan
from otlint.settings import load_settings
from otlint.telemetry.corpus.corpus import Corpus

from sdkworld import World, build_world, write_world


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(healthy=False, requests=10, latency_scale=0, batch_every=3)


def _files(world: World, folder: Path) -> list[str]:
    write_world(world, folder, formats=("proto", "jsonl"))
    return sorted(str(p) for p in folder.iterdir())


def _findings(corpus: Corpus) -> list[dict[str, object]]:
    return [f.to_json() for f in evaluate(corpus, load_settings(REGISTRY, isolated=True))]


def test_merge_of_halves_equals_one_pass(world: World, tmp_path: Path) -> None:
    files = _files(world, tmp_path)
    whole, _ = scan(files)
    half = len(files) // 2
    a, _ = scan(files[:half])
    b, _ = scan(files[half:])
    merged = a.merge(b)
    assert merged.canonical() == whole.canonical()
    assert _findings(merged) == _findings(whole)


def test_merge_is_commutative_and_associative(world: World, tmp_path: Path) -> None:
    files = _files(world, tmp_path)
    parts = [scan([f])[0] for f in files]
    left = Corpus()
    for p in parts:
        left.merge(p)
    right = Corpus()
    for p in reversed([scan([f])[0] for f in files]):
        right.merge(p)
    nested = scan(files[:1])[0].merge(scan(files[1:3])[0].merge(scan(files[3:])[0]))
    assert left.canonical() == right.canonical() == nested.canonical()
    assert _findings(left) == _findings(right)


def test_merge_keeps_counts_of_problems_and_bad_ids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"resourceSpans": []}\nnot json\n{"resourceSpans": [{"scopeSpans": [{"spans": '
        '[{"traceId": "", "spanId": "0102030405060708"}]}]}]}\n'
    )
    a, _ = scan([str(bad)])
    b, _ = scan([str(bad)])
    problems = sum(p.count for p in a.problems.values())
    assert problems == 1 and sum(v[0] for v in a.bad_ids.values()) == 1
    merged = a.merge(b)
    assert sum(p.count for p in merged.problems.values()) == 2 * problems
    assert sum(v[0] for v in merged.bad_ids.values()) == 2
