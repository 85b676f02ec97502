"""A fact declared once is carried by everything derived from the declarations.

A throwaway subclass of the Corpus declares one more row table, one more span column
and two more keyed facts, and nothing else: merge, record shifting, canonical
comparison, the shard format and window splitting must all carry them. Then the real
declarations against what a real Corpus holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest

from otlint.core.errors import OtlintError
from otlint.run.check import scan
from otlint.telemetry.corpus import shard
from otlint.telemetry.corpus.columns import Ints
from otlint.telemetry.corpus.corpus import Corpus, Signal, Spans, split, within
from otlint.telemetry.corpus.schema import (
    BYTES,
    EARLIEST,
    FILE,
    RES,
    STR,
    SUM,
    VALUE,
    Each,
    Keyed,
    Loc,
    Resolver,
    Rows,
    Union,
    column,
    declared,
)
from otlint.telemetry.observe import Observer

from otlp_builder import traces
from sdkworld import build_world, write_world


@dataclass(slots=True, eq=False, init=False)
class Marks(Rows):
    """A throwaway row table: a trace id, a file, a record and an interned label."""

    ids: Annotated[bytearray, column(16, trace=0)]
    file: Annotated[Ints, column("i", ref=FILE)]
    rec: Annotated[Ints, column("i", record=True)]
    label: Annotated[Ints, column("i", ref=STR)]


@dataclass(slots=True, eq=False, init=False)
class WideSpans(Spans):
    """The span table with one more column."""

    weight: Annotated[Ints, column("i")]


class Extended(Corpus):
    """The Corpus with one more row table, a wider span table and two more keyed facts."""

    spans: WideSpans
    marks: Marks
    #: (resource, key bytes) -> count
    votes: Annotated[dict[tuple[int, bytes], int], Keyed((RES, BYTES), SUM)]
    #: label -> [count, first location]
    first_vote: Annotated[dict[str, list[int | Loc | None]], Keyed(VALUE, Each(SUM, EARLIEST))]
    #: (path, resource) pairs
    seen: Annotated[set[tuple[int, int]], Union((FILE, RES))]


def _tid(n: int) -> bytes:
    return n.to_bytes(16, "big")


def _shard(path: str, service: str, traces: list[int], record: int) -> Extended:
    """A shard whose only rows and facts are the extra ones (and one span per trace)."""
    c = Extended()
    c.path_index("zzz-unused")  # so that indexes differ from shard to shard
    f = c.path_index(path)
    key = f"svc-{service}".encode()
    r = c.resource_index(key, {"service.name": ("string", service)})
    for i, t in enumerate(traces):
        c.marks.ids += _tid(t)
        c.marks.file.append(f)
        c.marks.rec.append(record + i)
        c.marks.label.append(c.string_index(f"label-{t % 2}"))
        span = c.spans
        span.ids += _tid(t) + (t + 1).to_bytes(8, "big")
        span.res.append(r)
        span.file.append(f)
        span.rec.append(record + i)
        span.parent += bytes(8)
        span.kind.append(1)
        span.flags.append(0)
        span.addr.append(-1)
        span.peer.append(c.string_index(service))
        span.weight.append(t * 10)
    c.votes[(r, b"\xffkey")] = len(traces)
    c.first_vote[service] = [len(traces), (f, record)]
    c.first_vote["both"] = [1, (f, record + 1)]
    c.seen.add((f, r))
    return c


def _resolved_marks(c: Extended) -> list[tuple[bytes, str, int, str]]:
    m = c.marks
    return sorted(
        (bytes(m.ids[16 * i : 16 * i + 16]), c.paths[m.file[i]], m.rec[i], c.strings[m.label[i]])
        for i in range(len(m))
    )


def test_a_declared_fact_is_merged_shifted_compared_stored_and_split() -> None:
    assert [name for name, _ in declared(Extended).tables] == [
        "spans",
        "logs",
        "exemplars",
        "links",
        "marks",
    ]
    assert "weight" in [c.name for c in declared(WideSpans).columns]
    a = _shard("b.jsonl", "a", [1, 2], record=10)
    b = _shard("a.jsonl", "b", [3], record=20)
    b.string_index("padding")  # b's labels sit at other indexes than a's
    assert len(a.marks) == 2 and len(a.spans) == 2

    # merge: rows concatenated with their references renumbered, facts by their laws
    merged = Extended().merge(_shard("b.jsonl", "a", [1, 2], 10)).merge(b)
    assert _resolved_marks(merged) == [
        (_tid(1), "b.jsonl", 10, "label-1"),
        (_tid(2), "b.jsonl", 11, "label-0"),
        (_tid(3), "a.jsonl", 20, "label-1"),
    ]
    assert list(merged.spans.weight) == [10, 20, 30]
    assert [merged.strings[p] for p in merged.spans.peer] == ["a", "a", "b"]
    assert {(merged.resource_keys[r], k): n for (r, k), n in merged.votes.items()} == {
        (b"svc-a", b"\xffkey"): 2,
        (b"svc-b", b"\xffkey"): 1,
    }
    both = merged.first_vote["both"]
    assert both[0] == 2 and both[1] is not None
    assert both[1] == (merged.paths.index("a.jsonl"), 21)  # the earliest: a.jsonl before b.jsonl
    assert {(merged.paths[f], merged.resource_keys[r]) for f, r in merged.seen} == {
        ("b.jsonl", b"svc-a"),
        ("a.jsonl", b"svc-b"),
    }
    # ... in any order
    other = (
        Extended().merge(_shard("a.jsonl", "b", [3], 20)).merge(_shard("b.jsonl", "a", [1, 2], 10))
    )
    assert other.canonical() == merged.canonical()
    assert {"marks", "votes", "first_vote", "seen"} <= set(merged.canonical())

    # the canonical comparison sees every declared fact
    changed = Extended().merge(merged)
    changed.votes[next(iter(changed.votes))] += 1
    assert changed.canonical() != merged.canonical()
    changed = Extended().merge(merged)
    changed.spans.weight[0] += 1
    assert changed.canonical() != merged.canonical()

    # record shifting
    shifted = Extended().merge(merged)
    shifted.shift_records(100)
    assert [r for _, _, r, _ in _resolved_marks(shifted)] == [110, 111, 120]
    assert shifted.first_vote["both"][1] == (merged.paths.index("a.jsonl"), 121)
    assert list(shifted.spans.rec) == [110, 111, 120]

    # the shard format
    again = shard.from_bytes(shard.to_bytes(merged), "<test>", Extended)
    assert isinstance(again, Extended) and isinstance(again.spans, WideSpans)
    assert again.canonical() == merged.canonical()

    # window splitting
    inside, outside = split(merged, {_tid(2), _tid(3)})
    assert [t for t, *_ in _resolved_marks(inside)] == [_tid(2), _tid(3)]
    assert [t for t, *_ in _resolved_marks(outside)] == [_tid(1)]
    assert list(inside.spans.weight) == [20, 30] and list(outside.spans.weight) == [10]
    assert inside.votes is merged.votes  # the keyed facts are shared, not split
    assert within(merged, {_tid(2), _tid(3)}).canonical() == inside.canonical()


def _sdk_corpus(tmp_path: Path) -> Corpus:
    """Real SDK output, and batch consumers' span links (which the SDK world does not send)."""
    world = build_world(healthy=False, requests=6, latency_scale=0, batch_every=2)
    write_world(world, tmp_path, formats=("proto",))
    corpus, _ = scan([str(tmp_path)])
    batch = [
        {"trace": 900 + t, "id": 1, "kind": "consumer", "links": [{"trace": t, "id": 2}]}
        for t in range(1, 5)
    ]
    payload = traces([{"resource": {"service.name": "batch"}, "spans": batch}])
    Observer(corpus).observe(
        Signal.TRACES, payload.SerializeToString(), corpus.path_index("batch"), 1
    )
    assert len(corpus.spans) and len(corpus.logs) and len(corpus.exemplars) and len(corpus.links)
    return corpus


def test_split_parts_the_rows_of_every_table(tmp_path: Path) -> None:
    corpus = _sdk_corpus(tmp_path)
    spans = corpus.spans
    ids = sorted({bytes(spans.ids[i : i + 16]) for i in range(0, len(spans.ids), 24)})
    chosen = set(ids[::2]) | {(903).to_bytes(16, "big")}
    inside, outside = split(corpus, chosen)
    for name, rows in corpus.row_tables().items():
        spec = rows.trace_column()
        assert spec is not None and spec.trace == 0
        n = len(rows)
        width = spec.width
        ids = getattr(rows, spec.name)
        picked = [i for i in range(n) if bytes(ids[i * width : i * width + 16]) in chosen]
        a, b = inside.row_tables()[name], outside.row_tables()[name]
        assert len(a) == len(picked) and len(a) + len(b) == n, name
        res = Resolver({RES: corpus.resource_keys, FILE: corpus.paths, STR: corpus.strings})
        assert a.canonical(res) + b.canonical(res) == rows.canonical(res), name
        assert 0 < len(a) < n, name


def test_a_shard_of_another_version_is_refused(tmp_path: Path) -> None:
    import json

    import zstandard

    corpus = _sdk_corpus(tmp_path)
    again = shard.from_bytes(shard.to_bytes(corpus))
    assert again.canonical() == corpus.canonical()
    raw = zstandard.ZstdDecompressor().decompress(shard.to_bytes(corpus))
    head_at = len(shard.MAGIC) + 8
    n = int.from_bytes(raw[len(shard.MAGIC) : head_at], "big")
    header = json.loads(raw[head_at : head_at + n])
    for version, message in (
        (1, "state file version 1 needs another otlint"),
        (shard.VERSION, "damaged"),
    ):
        header["version"] = version
        if version == shard.VERSION:
            header["facts"]["bad_ids"] = [["not", "a", "key"]]  # an entry of 3 items, not 4
        head = json.dumps(header).encode()
        data = zstandard.ZstdCompressor().compress(
            shard.MAGIC + len(head).to_bytes(8, "big") + head + raw[head_at + n :]
        )
        with pytest.raises(OtlintError, match=message):
            shard.from_bytes(data, "old.otlint")


def test_fields_cut_a_range_of_every_row_as_rows_of_a_gather_do() -> None:
    import os

    from otlint.telemetry.corpus.columns import _CHUNK, fields, gather, rows

    for n in (0, 1, 5, _CHUNK, 2 * _CHUNK + 3):
        col = bytearray(os.urandom(24 * n))
        for start, length in ((0, 16), (16, 8), (3, 5), (0, 24)):
            want = rows(gather(n, (col, 24, start, length)), length)
            assert fields(col, 24, start, length) == want, (n, start, length)
    with pytest.raises(ValueError):
        fields(bytearray(25), 24, 0, 16)


def test_split_told_where_its_traces_rows_end_takes_the_same_rows(tmp_path: Path) -> None:
    """``before`` (the sidecar's arrival marks) only spares looking at rows: the parts are
    those of a split that looks at every row."""
    from array import array

    corpus = _sdk_corpus(tmp_path)

    def trace_ids(rows: Any) -> list[bytes]:
        ids = rows.ids
        width = len(ids) // len(rows)
        return [bytes(ids[i : i + 16]) for i in range(0, len(ids), width)]

    spans = trace_ids(corpus.spans)
    half = len(spans) // 2
    chosen = set(spans[:half]) - set(spans[half:])  # traces whose spans all sit in the first half
    assert chosen
    before = {}
    for name, rows in corpus.row_tables().items():
        ids = trace_ids(rows)
        before[name] = max((i + 1 for i, t in enumerate(ids) if t in chosen), default=0)
    assert before["spans"] <= half < len(spans)

    def columns(part: Corpus) -> dict[str, list[bytes]]:
        return {
            name: [d.tobytes() if isinstance(d, array) else bytes(d) for _, d in rows.columns()]
            for name, rows in part.row_tables().items()
        }

    told, walked = split(corpus, chosen, before), split(corpus, chosen)
    assert columns(told[0]) == columns(walked[0]) and columns(told[1]) == columns(walked[1])
    assert columns(within(corpus, chosen, before)) == columns(walked[0])
    assert len(told[0].spans) and len(told[1].spans)


def test_select_by_runs_or_by_rows_takes_the_same_rows(tmp_path: Path) -> None:
    """``Rows.select`` copies long runs of picked rows whole and tests short ones row by
    row; both give what a walk over the rows gives, the rows after a short mask kept or not."""
    import random
    from array import array

    from otlint.telemetry.corpus.columns import picked_runs

    table = _sdk_corpus(tmp_path).spans
    n = len(table)
    rng = random.Random(7)
    blocky = bytearray()
    while len(blocky) < n:
        blocky += bytes([rng.random() < 0.6]) * rng.randint(1, 40)
    masks = {
        "none": bytes(n),
        "all": bytes([1]) * n,
        "alternating": bytes([1, 0]) * (n // 2),
        "scattered": bytes(rng.random() < 0.5 for _ in range(n)),
        "blocky": bytes(blocky[:n]),
        "blocky head": bytes(blocky[: n // 3]),
        "empty": b"",
    }
    assert picked_runs(masks["blocky"]) is not None and picked_runs(masks["alternating"]) is None

    def walked(mask: bytes, keep_after: bool) -> list[list[object]]:
        keep = [i for i in range(n) if (mask[i] if i < len(mask) else keep_after)]
        out: list[list[object]] = []
        for spec, data in table.columns():
            if isinstance(data, array):
                out.append([data[i] for i in keep])
            else:
                w = spec.width
                out.append([bytes(data[i * w : (i + 1) * w]) for i in keep])
        return out

    def got(mask: bytes, keep_after: bool) -> list[list[object]]:
        part = table.select(mask, keep_after=keep_after)
        out: list[list[object]] = []
        for spec, data in part.columns():
            if isinstance(data, array):
                assert data.typecode == getattr(table, spec.name).typecode
                out.append(list(data))
            else:
                w = spec.width
                out.append([bytes(data[i : i + w]) for i in range(0, len(data), w)])
        return out

    for name, mask in masks.items():
        for keep_after in (False, True):
            assert got(mask, keep_after) == walked(mask, keep_after), (name, keep_after)
