"""``check --max-memory``: a run that spills its rows to disk finds what an unbounded run finds.

The input is real SDK output: the broken ``sdkworld`` shop (every planted break) and a
second set of services, also on the real SDK, with what looks across traces or files —
batch consumers whose span links point at producers in other traces (so a link crosses
partitions), client spans naming an unknown ``peer.service``, a span that is its own
parent (a custom id generator, as a proxy that copies the caller's span id makes one),
and the same traces file twice (duplicates across files). A budget of 1M makes the
run spill many times and judge the traces in many partitions (in-process, with a
smaller budget still, the same holds for many more spills); findings, join matrix and
summary must equal those of the unbounded run, with ``--jobs 1`` and ``--jobs 2``, and
nothing may be left in the temporary folder.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    set_span_in_context,
)

from otlint.core.errors import OtlintError
from otlint.registry import REGISTRY
from otlint.run import parallel
from otlint.run.check import build_report, evaluate, merge_shards, scan
from otlint.run.scan import find_inputs
from otlint.run.spill import Spill, parse_size
from otlint.settings import load_settings
from otlint.telemetry.analysis import Context

from sdkworld import build_world, write_world


class _Chosen(IdGenerator):
    """The SDK's random ids, but the next span id can be chosen (a span that is its own parent)."""

    def __init__(self) -> None:
        self.random = RandomIdGenerator()
        self.next_span: int | None = None

    def generate_span_id(self) -> int:
        chosen, self.next_span = self.next_span, None
        return chosen if chosen is not None else self.random.generate_span_id()

    def generate_trace_id(self) -> int:
        return self.random.generate_trace_id()


def _crossing_world(folder: Path, traces: int = 120) -> None:
    """Producers, batch consumers linking to them, unknown peers and a self-parent, on the SDK."""
    rng = random.Random(5)
    ids = _Chosen()
    exporter = InMemorySpanExporter()
    tracers = {}
    for name in ("orders", "billing", "mailer", "gateway"):
        provider = TracerProvider(
            resource=Resource.create({"service.name": name}), id_generator=ids
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracers[name] = provider.get_tracer("test")
    produced = []
    for i in range(traces):
        with tracers["orders"].start_as_current_span("checkout", kind=SpanKind.SERVER):
            with tracers["orders"].start_as_current_span(
                "send orders", kind=SpanKind.PRODUCER
            ) as producer:
                produced.append(producer.get_span_context())
            if i % 3 == 0:
                with tracers["orders"].start_as_current_span(
                    "GET", kind=SpanKind.CLIENT, attributes={"peer.service": "warehouse"}
                ):
                    pass
    # gateway calls orders by address; only the first call's SERVER span was captured, so
    # only one trace says who serves that address (the callee of every call that broke).
    address = {"server.address": "10.0.0.7", "server.port": 8080}
    for i in range(traces // 2):
        with tracers["gateway"].start_as_current_span(
            "GET /orders", kind=SpanKind.CLIENT, attributes=address
        ):
            if i == 0:
                with tracers["orders"].start_as_current_span(
                    "GET /orders", kind=SpanKind.SERVER, attributes=address
                ):
                    pass
    # A batch consumer starts a trace of its own and links to the producers it took.
    for start in range(0, len(produced), 4):
        links = [Link(ctx) for ctx in produced[start : start + 4]]
        with (
            tracers["billing"].start_as_current_span(
                "process orders", kind=SpanKind.CONSUMER, links=links
            ),
            tracers["billing"].start_as_current_span("charge", kind=SpanKind.INTERNAL),
        ):
            pass
    # A span that is its own parent.
    loop = SpanContext(
        trace_id=ids.generate_trace_id(),
        span_id=0x1D1D1D1D1D1D1D1D,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    ids.next_span = loop.span_id
    tracers["mailer"].start_span(
        "send", context=set_span_in_context(NonRecordingSpan(loop)), kind=SpanKind.SERVER
    ).end()
    spans = list(exporter.get_finished_spans())
    rng.shuffle(spans)  # (batches mix traces, as a collector's do)
    out = bytearray()
    for at in range(0, len(spans), 40):
        payload = encode_spans(spans[at : at + 40]).SerializeToString()
        out += struct.pack(">I", len(payload)) + payload
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "crossing.binpb").write_bytes(bytes(out))


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("capture")
    world = build_world(healthy=False, requests=60, latency_scale=0, batch_every=3)
    # A capture that lost checkout's SERVER span of every fourth trace: frontend's calls
    # without a child, orphans, and logs and exemplars that point to no span.
    for batch in world.span_batches:
        batch[:] = [
            span
            for span in batch
            if not (
                span.resource.attributes.get("service.name") == "checkout"
                and span.kind is SpanKind.SERVER
                and span.context.trace_id % 4 == 0
            )
        ]
    write_world(world, root / "shop", formats=("proto",))
    _crossing_world(root / "crossing")
    # The same traces twice: duplicate span ids, across files.
    shutil.copy(root / "shop" / "traces.binpb", root / "shop" / "traces-again.binpb")
    return root


#: Bytes of rows held before a spill, and judged in one partition: tiny, so that these
#: small captures spill many times and are judged in many partitions.
TINY = (8_000, 4_000)


def _report(paths: list[str], jobs: int, tiny: bool, tmp: Path) -> tuple[tuple[Any, ...], int, int]:
    """(findings, matrix, summary), spills, partitions, as ``check`` makes them."""
    settings = load_settings(REGISTRY, isolated=True)
    tmp.mkdir(exist_ok=True)
    spill = Spill(*TINY, piece=20_000, folder=str(tmp)) if tiny else None
    try:
        corpus, stats = scan(paths, jobs=jobs, spill=spill)
        spills = spill.spills if spill is not None else 0
        ctx = spill.context(corpus) if spill is not None and spill.spills else Context(corpus)
        partitions = len(spill.partitions()) if spill is not None else 1
    finally:
        if spill is not None:
            spill.close()
    findings = evaluate(corpus, settings, context=ctx)
    report = build_report(corpus, findings, stats.inputs, context=ctx, settings=settings)
    out = report.to_json()
    return (out["findings"], out["joins"], out["summary"]), spills, partitions


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_spilling_run_finds_what_an_unbounded_run_finds(
    capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # Small inputs are read in one process and small files are not cut: for --jobs 2,
    # let the worker process read pieces of these small files, as it would of large ones.
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "MIN_PIECE", 1 << 16)
    paths = [str(capture)]
    unbounded, spills, _ = _report(paths, jobs, False, tmp_path / "none")
    assert spills == 0
    codes = {f["code"] for f in unbounded[0]}
    # What looks across traces and files is in the input, so the comparison means something.
    assert {"TR003", "TR006", "TR007", "TR008", "PE001", "LT001", "LT003", "MT001"} <= codes, codes
    folder = tmp_path / "spill"
    bounded, spills, partitions = _report(paths, jobs, True, folder)
    assert spills >= 5 and partitions >= 16, (spills, partitions)
    assert bounded == unbounded
    assert list(folder.iterdir()) == []  # the spill's own folder is gone


def _with_gz(capture: Path, tmp_path: Path) -> Path:
    """The capture with its shop traces gzipped: a file no process can cut."""
    import gzip

    folder = tmp_path / "mixed"
    shutil.copytree(capture, folder)
    big = folder / "shop" / "traces.binpb"
    (folder / "shop" / "traces.binpb.gz").write_bytes(gzip.compress(big.read_bytes()))
    big.unlink()
    return folder


def _parts_taken(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Shards merged per file in this process (a whole file in parts: more than one)."""
    taken: Counter[str] = Counter()
    add = parallel.Merger.add

    def counted(merger: parallel.Merger, i: int, result: Any) -> None:
        taken[merger.units[i].path] += 1
        add(merger, i, result)

    monkeypatch.setattr(parallel.Merger, "add", counted)
    return taken


class _Seen:
    """A progress line that remembers what it was told: (path, records, bytes so far)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def begin(self, total: int | None) -> None:
        """(The total is not looked at.)"""

    def __call__(self, path: str, records: int, done: int) -> None:
        self.calls.append((path, records, done))


def _gz_claimed_by(
    monkeypatch: pytest.MonkeyPatch, paths: list[str], gz: str, worker: bool
) -> None:
    """Have a worker (else this process) claim the .gz: the other waits until it has
    (units are claimed largest first, from one shared counter)."""
    units = parallel.plan_for(find_inputs(paths, sized=True), 2, Spill(*TINY, piece=20_000))
    order = sorted(range(len(units)), key=lambda i: parallel._size(units[i]), reverse=True)
    (rank,) = [k for k, i in enumerate(order) if units[i].path == gz]
    parent, claim = os.getpid(), parallel._claim

    def waiting(claimed: Any, total: int) -> Any:
        deadline = time.monotonic() + 20
        while (
            (os.getpid() == parent) == worker
            and claimed.value <= rank
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        return claim(claimed, total)

    monkeypatch.setattr(parallel, "_claim", waiting)


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the worker must inherit the patch"
)
@pytest.mark.parametrize("worker", [True, False], ids=["by-a-worker", "here"])
def test_a_compressed_file_is_read_on_the_budget(
    capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    """A compressed file cannot be cut: whoever reads it would hold its whole shard. On a
    budget a worker hands it over in parts as its rows pass its share (merged, and
    spilled, as they come); this process reads it straight into what it merges, which
    spills. The other process reads the rest; the findings do not change."""
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "MIN_PIECE", 1 << 16)
    folder = _with_gz(capture, tmp_path)
    paths, gz = [str(folder)], str(folder / "shop" / "traces.binpb.gz")
    unbounded, _, _ = _report(paths, 1, False, tmp_path / "none")
    _gz_claimed_by(monkeypatch, paths, gz, worker)
    taken = _parts_taken(monkeypatch)
    bounded, spills, partitions = _report(paths, 2, True, tmp_path / "spill")
    # (In parts, then its end; or once, read here.)
    assert taken[gz] >= 3 if worker else taken[gz] == 1, taken
    assert spills >= 5 and partitions >= 16, (spills, partitions)
    assert bounded == unbounded
    if worker:  # The progress line counts a worker's parts as they come, not only at the end.
        seen = _Seen()
        spill = Spill(*TINY, piece=20_000, folder=str(tmp_path / "spill"))
        try:
            scan(paths, jobs=2, spill=spill, progress=seen)
        finally:
            spill.close()
        # Its records and its bytes as stored (so the ETA) grow with each part.
        counts = [(records, done) for path, records, done in seen.calls if path == gz]
        assert len(counts) >= 3 and counts == sorted(counts), seen.calls
        assert len({done for _, done in counts}) >= 3, counts


def test_each_part_of_a_whole_file_tells_the_bytes_read_so_far(
    capture: Path, tmp_path: Path
) -> None:
    """A part carries the bytes of the file read (as stored) when it was handed over,
    so the progress line's bytes, and its ETA, move with the parts of a file no process
    can cut, not only at its end."""
    import gzip

    path = tmp_path / "traces.binpb.gz"
    # (Level 0: stored, as large as the frames, so the bytes read move part by part.)
    path.write_bytes(gzip.compress((capture / "shop" / "traces.binpb").read_bytes(), 0))
    parts: list[tuple[int, int]] = []

    def hand_over(part: Any) -> None:
        parts.append((part[1].records, part[1].bytes))

    _, stats, _ = parallel._read(parallel.Unit(str(path)), False, None, 4_000, hand_over)
    assert len(parts) >= 3, parts
    assert [done for _, done in parts] == sorted(done for _, done in parts), parts
    assert len({done for _, done in parts}) >= 3, parts
    assert parts[0][1] > 0 and parts[-1][1] <= stats.bytes == path.stat().st_size


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the worker must inherit the patch"
)
def test_a_worker_that_dies_after_some_parts_loses_nothing(
    capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts handed over stay; the file is read again from the record after the last."""
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "MIN_PIECE", 1 << 16)
    folder = _with_gz(capture, tmp_path)
    paths = [str(folder)]
    parent = os.getpid()
    spill = parallel._Parts.spill
    handed = [0]

    def then_die(self: Any, corpus: Any) -> Any:
        fresh = spill(self, corpus)
        handed[0] += 1
        if os.getpid() != parent and handed[0] == 3:
            os._exit(1)  # (a worker killed after its third part)
        return fresh

    monkeypatch.setattr(parallel._Parts, "spill", then_die)
    gz = str(folder / "shop" / "traces.binpb.gz")
    _gz_claimed_by(monkeypatch, paths, gz, worker=True)
    read = parallel._read
    again: list[tuple[str, int]] = []

    def reading(unit: parallel.Unit, *args: Any) -> Any:
        if os.getpid() == parent:
            again.append((unit.path, args[4] if len(args) > 4 else 0))
        return read(unit, *args)

    monkeypatch.setattr(parallel, "_read", reading)
    unbounded, _, _ = _report(paths, 1, False, tmp_path / "none")
    bounded, _, _ = _report(paths, 2, True, tmp_path / "spill")
    assert bounded == unbounded
    # Read again here, from the record after the worker's last part.
    assert [after for path, after in again if path == gz and after > 0], again


def test_what_looks_across_traces_is_taken_from_the_whole_input(
    capture: Path, tmp_path: Path
) -> None:
    """Every producer is continued by a batch consumer in another trace (no TR006 for it),
    and a call that broke finds its callee by an address another trace's span serves."""
    paths = [str(capture / "crossing")]
    bounded, spills, partitions = _report(paths, 1, True, tmp_path / "spill")
    assert spills and partitions > 1
    assert not [f for f in bounded[0] if f["code"] == "TR006" and f["peer"] == "billing"]
    # The address's owner is known in partitions whose traces do not show it.
    (calls,) = [f for f in bounded[0] if f["code"] == "TR006" and f["peer"] == "orders"]
    assert calls["count"] == 59 and calls["context"] == {"calls": 60, "joined": 1}
    edges = [j for j in bounded[1] if j.get("peer") == "billing"]
    assert edges and all(j["status"] == "intact" for j in edges), edges


def _otlint(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otlint", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_command_spills_into_a_private_folder_and_removes_it(
    capture: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    unbounded, bounded = _on_budgets(["check", str(capture), "--jobs", "2"], env)
    assert unbounded == bounded
    assert list(tmp_path.iterdir()) == []


def test_the_command_reads_a_compressed_file_on_a_budget(capture: Path, tmp_path: Path) -> None:
    """The command line, end to end: a .gz among the files, two processes, 1M."""
    folder = _with_gz(capture, tmp_path)
    spills = tmp_path / "tmp"
    spills.mkdir()
    env = {**os.environ, "TMPDIR": str(spills)}
    unbounded, bounded = _on_budgets(["check", str(folder), "--jobs", "2"], env)
    assert unbounded == bounded
    assert any(f["code"] == "TR003" for f in bounded[0])  # (the .gz holds traces-again's spans)
    assert list(spills.iterdir()) == []


def _on_budgets(args: list[str], env: dict[str, str]) -> list[tuple[Any, ...]]:
    """(findings, matrix, summary) of the command with no bound and with ``--max-memory 1M``."""
    runs = []
    for budget in ("none", "1M"):
        done = _otlint(
            *args, "--isolated", "-f", "json", "--exit-zero", "--max-memory", budget, env=env
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        runs.append((report["findings"], report["joins"], report["summary"]))
    return runs


def _shards(capture: Path, folder: Path) -> list[str]:
    """A ``check --state`` shard of every file of the capture (the README's recipe, per file)."""
    from otlint.telemetry.corpus import shard

    folder.mkdir()
    out = []
    for i, path in enumerate(sorted(capture.rglob("*.binpb"))):
        corpus, _ = scan([str(path)])
        out.append(str(folder / f"{i}.state"))
        shard.write(corpus, out[-1])
    return out


def _merged(shards: list[str], spill: Spill | None) -> tuple[Any, ...]:
    """(findings, matrix, summary) of ``otlint merge`` over the shards."""
    settings = load_settings(REGISTRY, isolated=True)
    try:
        corpus = merge_shards(shards, spill)
        ctx = spill.context(corpus) if spill is not None and spill.spills else Context(corpus)
    finally:
        if spill is not None:
            spill.close()
    findings = evaluate(corpus, settings, context=ctx)
    out = build_report(corpus, findings, list(corpus.paths), context=ctx, settings=settings)
    data = out.to_json()
    return data["findings"], data["joins"], data["summary"]


def test_merging_shards_on_a_budget_finds_what_an_unbounded_merge_finds(
    capture: Path, tmp_path: Path
) -> None:
    shards = _shards(capture, tmp_path / "shards")
    assert len(shards) >= 3
    unbounded = _merged(shards, None)
    assert unbounded[0] == _report([str(capture)], 1, False, tmp_path / "direct")[0][0]
    folder = tmp_path / "spill"
    folder.mkdir()
    spill = Spill(*TINY, folder=str(folder))
    bounded = _merged(shards, spill)
    assert spill.spills >= len(shards) - 1 and len(spill.partitions()) >= 16
    assert bounded == unbounded
    assert list(folder.iterdir()) == []


def test_the_merge_command_takes_a_budget(capture: Path, tmp_path: Path) -> None:
    shards = _shards(capture, tmp_path / "shards")
    spills = tmp_path / "tmp"
    spills.mkdir()
    env = {**os.environ, "TMPDIR": str(spills)}
    # (1M leaves ~43 KB of rows: these shards hold 228 KB)
    unbounded, bounded = _on_budgets(["merge", *shards], env)
    assert unbounded == bounded
    assert list(spills.iterdir()) == []
    bad = _otlint("merge", *shards, "--max-memory", "lots", env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--max-memory" in bad.stderr


@pytest.mark.parametrize("bad", ["lots", "12Q", "-1G", "0.5K", ""])
def test_a_bad_budget_is_one_line_and_exit_2(capture: Path, bad: str) -> None:
    done = _otlint("check", str(capture), "--max-memory", bad, env=dict(os.environ))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--max-memory" in lines[0] and "Traceback" not in done.stderr


def test_sizes() -> None:
    assert parse_size("300M") == 300 << 20
    assert parse_size("2G") == 2 << 30
    assert parse_size("1.5g") == 3 << 29
    assert parse_size("512MiB") == 512 << 20
    assert parse_size("64mb") == 64 << 20
    assert parse_size("0") is None
    assert parse_size("none") is None
    assert parse_size("2097152") == 2 << 20


def test_a_folder_that_cannot_be_made_is_a_clear_error(capture: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    spill = Spill(*TINY, folder=str(blocked))
    with pytest.raises(OtlintError, match="cannot make a folder to spill rows into"):
        scan([str(capture / "crossing")], spill=spill)
    spill.close()
    # Nothing is made before the first spill: a run that fits its budget writes nothing.
    roomy = Spill(1 << 30, 1 << 30, folder=str(tmp_path))
    scan([str(capture / "crossing")], spill=roomy)
    assert roomy.spills == 0 and roomy.folder is None


def test_the_default_is_what_it_says() -> None:
    from otlint.run.spill import DEFAULT_BUDGET, DEFAULT_MAX_MEMORY

    assert parse_size(DEFAULT_MAX_MEMORY) == DEFAULT_BUDGET
