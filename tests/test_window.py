"""Trace windows: judging traces in pieces and freeing them adds up to judging them at once."""

from __future__ import annotations

from pathlib import Path

from otlint.registry import REGISTRY
from otlint.run.check import evaluate, scan
from otlint.serve.window import Window
from otlint.settings import load_settings

from sdkworld import build_world, write_world


def test_evicting_traces_keeps_the_windowed_findings(tmp_path: Path) -> None:
    world = build_world(healthy=False, requests=30, latency_scale=0, batch_every=5)
    write_world(world, tmp_path, formats=("proto",))
    settings = load_settings(REGISTRY, isolated=True)
    whole, _ = scan([str(tmp_path)])
    expected = {(f.code, f.service, f.peer): f.count for f in evaluate(whole, settings)}
    blamed = {(f.code, f.service, f.peer, f.blame) for f in evaluate(whole, settings) if f.blame}
    assert blamed  # the world's propagator mismatch blames its callee

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
    assert {
        (f.code, f.service, f.peer, f.blame) for f in evaluate(live, settings) if f.blame
    } == blamed
    assert window.evicted_early == 0


def test_late_logs_still_resolve_to_freed_spans() -> None:
    from otlint.telemetry.analysis import Context
    from otlint.telemetry.corpus.corpus import Corpus, Signal
    from otlint.telemetry.observe import Observer

    from otlp_builder import logs, traces

    settings = load_settings(REGISTRY, isolated=True, select=["LT001"])
    corpus = Corpus()
    observer = Observer(corpus)
    file = corpus.path_index("live")
    spans = [
        {"trace": t, "id": t * 10 + i, "kind": "internal"} for t in range(1, 40) for i in range(3)
    ]
    observer.observe(
        Signal.TRACES,
        traces([{"resource": {"service.name": "a"}, "spans": spans}]).SerializeToString(),
        file,
        1,
    )
    window = Window(corpus, idle=0.0, max_spans=1000)
    window.touch(now=0.0)
    window.max_spans = 10
    window.evict(settings, now=5.0)
    assert len(corpus.spans) <= 10
    late = [{"trace": t, "span": t * 10} for t in range(1, 40)] + [{"trace": 999, "span": 1}]
    observer.observe(
        Signal.LOGS,
        logs([{"resource": {"service.name": "a"}, "records": late}]).SerializeToString(),
        file,
        2,
    )
    findings = evaluate(corpus, settings, context=Context(corpus, window.freed))
    [lt001] = [f for f in findings if f.code == "LT001"]
    assert lt001.count == 1  # only the log of a trace that never existed


def test_judging_a_window_leaves_nothing_for_the_cycle_collector(tmp_path: Path) -> None:
    """Evicting and reporting free what they built by reference counting alone: the lint
    process does both every few seconds, forever, and garbage left for the cycle
    collector (a Context in a cycle holds a window's indexes) grew it by hundreds of MB."""
    import gc

    from otlint.serve.lint import Linter, LintOptions

    for name in ("a", "b"):  # (b's logs name traces a never had: Examples are kept)
        world = build_world(healthy=False, requests=12, latency_scale=0, batch_every=3)
        write_world(world, tmp_path / name, formats=("proto",))
    settings = load_settings(REGISTRY, isolated=True)
    live, _ = scan([str(tmp_path / "a"), str(tmp_path / "b" / "logs.binpb")])
    linter = Linter(LintOptions(isolated=True))
    linter.corpus = live
    window = linter.window = Window(live, idle=0.0, max_spans=len(live.spans) // 3)
    window.touch(now=0.0)
    linter.evaluate()  # (first use: classes and caches made once)
    gc.collect()
    gc.disable()
    try:
        evicted = window.evict(settings, now=100.0)
        linter.evaluate()
        linter.evaluate(final=True)
        left = gc.collect()
    finally:
        gc.enable()
    assert evicted > 0 and live.resources
    assert left == 0, f"{left} objects were left in reference cycles"


def _columns(table: object) -> list[bytes]:
    from array import array

    from otlint.telemetry.corpus.schema import Rows

    assert isinstance(table, Rows)
    return [d.tobytes() if isinstance(d, array) else bytes(d) for _, d in table.columns()]


def test_a_window_looks_only_at_rows_old_enough_and_takes_the_same() -> None:
    """Reports and evictions look only at the rows before the first arrival mark later
    than the traces they take (the newest rows, most of those held, are skipped), and take
    exactly the rows a walk over every row takes; two touches may read the same clock (a
    first version took the mark *at* that time, and left rows of freed traces behind)."""
    from otlint.telemetry.corpus.corpus import Corpus, Signal, within
    from otlint.telemetry.observe import Observer

    from otlp_builder import logs, traces

    settings = load_settings(REGISTRY, isolated=True)
    corpus = Corpus()
    observer = Observer(corpus)
    file = corpus.path_index("live")
    window = Window(corpus, idle=3.0, max_spans=10**9)
    resource = {"service.name": "a"}

    def feed(first: int, last: int) -> None:
        for step in range(first, last):
            # Trace t gets a span in each of the steps t, t+1 and t+2, and a log in t+1.
            spans = [
                {"trace": t, "id": t * 100 + step, "kind": "internal"}
                for t in range(max(1, step - 2), step + 1)
            ]
            records = [{"trace": step - 1, "span": (step - 1) * 100 + step - 1}]
            observer.observe(
                Signal.TRACES,
                traces([{"resource": resource, "spans": spans}]).SerializeToString(),
                file,
                2 * step,
            )
            observer.observe(
                Signal.LOGS,
                logs([{"resource": resource, "records": records}]).SerializeToString(),
                file,
                2 * step + 1,
            )
            window.touch(now=float(step // 2))  # each two touches read the same clock

    def held_traces() -> set[bytes]:
        ids = corpus.spans.ids
        return {bytes(ids[24 * i : 24 * i + 16]) for i in range(len(corpus.spans))}

    def same_as_a_full_walk(now: float) -> int:
        got = window.ready(now)
        want = within(corpus, window.idle_traces(now))
        for name in ("spans", "logs", "links"):
            assert _columns(getattr(got, name)) == _columns(getattr(want, name)), (now, name)
        return len(got.spans)

    feed(1, 30)
    before = window.before(5.0)
    assert before is not None and before["spans"] < len(corpus.spans) // 2
    assert all(same_as_a_full_walk(now) > 0 for now in (6.0, 9.0, 12.0))
    for now in (14.0, 20.0):
        window.max_spans = len(corpus.spans) // 3
        assert window.evict(settings, now=now) > 0
        assert held_traces() <= set(window.last_seen)  # no row of a freed trace left
        assert all(same_as_a_full_walk(t) >= 0 for t in (now - 1.0, now + 2.0, now + 5.0))
        feed(int(2 * now), int(2 * now) + 8)  # rows after the shifted marks
    assert held_traces() <= set(window.last_seen)
