"""Trace windows for a live stream: judge traces once idle, then free their rows.

``otlint check`` sees a whole dump at once. The sidecar sees a stream that never
ends, so it judges the *windowed* rules (the ones that walk the span graph) on traces
that have been idle for a while — late spans of a trace still join — and, when memory
is tight, frees those traces' rows after folding what the rules found into
``Corpus.settled``. Everything else (resources, attribute statistics, bad ids) is small
and stays.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from otlint.registry import REGISTRY, Rule
from otlint.telemetry.analysis import Context, Freed, table_keys
from otlint.telemetry.corpus.corpus import Corpus, Settled, Table, gather, rows
from otlint.telemetry.rules.references import unresolved

if TYPE_CHECKING:
    from otlint.settings import Settings


def _filtered(table: Table, keep: Iterable[bool]) -> Table:
    out = Table(table.with_graph)
    for i, k in enumerate(keep):
        if not k:
            continue
        out.ids += table.ids[24 * i : 24 * i + 24]
        out.res.append(table.res[i])
        out.file.append(table.file[i])
        out.rec.append(table.rec[i])
        if table.with_graph:
            out.parent += table.parent[8 * i : 8 * i + 8]
            out.kind.append(table.kind[i])
            out.flags.append(table.flags[i])
            out.addr.append(table.addr[i])
            out.peer.append(table.peer[i])
    return out


def _in(table: Table, trace_ids: set[bytes]) -> list[bool]:
    return list(map(trace_ids.__contains__, rows(gather(len(table), (table.ids, 24, 0, 16)), 16)))


def view(corpus: Corpus, trace_ids: set[bytes], inside: bool = True) -> Corpus:
    """A corpus sharing every fact of ``corpus`` but with only the rows of ``trace_ids``
    (or, ``inside=False``, only the other rows)."""
    out = copy.copy(corpus)
    for name in ("spans", "logs", "exemplars"):
        table: Table = getattr(corpus, name)
        member = _in(table, trace_ids)
        setattr(out, name, _filtered(table, (m == inside for m in member)))
    links = corpus.links
    out.links = bytearray(
        b"".join(
            links[i : i + 48]
            for i in range(0, len(links), 48)
            if (bytes(links[i : i + 16]) in trace_ids) == inside
        )
    )
    return out


def settle(
    corpus: Corpus,
    part: Corpus,
    settings: Settings,
    registry: Mapping[str, Rule] = REGISTRY,
    freed: Freed | None = None,
) -> None:
    """Run the windowed rules on ``part`` and fold their hits and edges into ``corpus``."""
    ctx = Context(part, freed)
    settled: dict[tuple[str, str | None, str | None], Settled] = {}
    for code in settings.rules:
        rule = registry[code]
        if not rule.windowed:
            continue
        for hit in rule.check(ctx, settings.options_for(code)):
            key = (code, hit.service, hit.peer)
            new = Settled(
                hit.count,
                hit.message,
                [(loc.path, loc.record, loc.line) for loc in hit.locations],
                dict(hit.context),
            )
            if key in settled:
                settled[key].absorb(new)
            else:
                settled[key] = new
    edges = {k: [e.calls, e.joined] for k, e in ctx.graph.edges.items()}
    traces = len(ctx.trace_ids)
    _missing, resolved = unresolved(ctx, part.logs)
    corpus.absorb_settled(settled, edges, traces, resolved)


class Window:
    """Last-seen times per trace, and eviction of idle traces beyond ``max_spans``."""

    def __init__(self, corpus: Corpus, idle: float, max_spans: int) -> None:
        self.corpus = corpus
        self.idle = idle
        self.max_spans = max_spans
        self.last_seen: dict[bytes, float] = {}
        self._seen_rows = [0, 0, 0]
        self.evicted_early = 0  # traces freed before they were idle, because memory was full
        self.freed = Freed(max_spans)

    def touch(self, now: float | None = None) -> None:
        """Note the traces of rows observed since the last call as active now."""
        now = time.monotonic() if now is None else now
        for k, table in enumerate((self.corpus.spans, self.corpus.logs, self.corpus.exemplars)):
            ids = table.ids
            for i in range(self._seen_rows[k], len(table)):
                self.last_seen[bytes(ids[24 * i : 24 * i + 16])] = now
            self._seen_rows[k] = len(table)

    def idle_traces(self, now: float | None = None) -> set[bytes]:
        """Traces with no new span, log or exemplar for ``idle`` seconds."""
        now = time.monotonic() if now is None else now
        return {t for t, seen in self.last_seen.items() if now - seen >= self.idle}

    def ready(self, now: float | None = None) -> Corpus:
        """The corpus as a report should judge it now: only idle traces' rows."""
        return view(self.corpus, self.idle_traces(now))

    def evict(self, settings: Settings, now: float | None = None) -> int:
        """Judge and free traces while more than ``max_spans`` spans are held; returns how many."""
        if len(self.corpus.spans) <= self.max_spans:
            return 0
        now = time.monotonic() if now is None else now
        target = int(self.max_spans * 0.8)
        per_trace: dict[bytes, int] = {}
        ids = self.corpus.spans.ids
        for i in range(len(self.corpus.spans)):
            tid = bytes(ids[24 * i : 24 * i + 16])
            per_trace[tid] = per_trace.get(tid, 0) + 1
        # Oldest first; idle traces always go before active ones.
        order = sorted(self.last_seen, key=lambda t: self.last_seen[t])
        chosen: set[bytes] = set()
        held = len(self.corpus.spans)
        for tid in order:
            if held <= target:
                break
            chosen.add(tid)
            held -= per_trace.get(tid, 0)
            if now - self.last_seen[tid] < self.idle:
                self.evicted_early += 1
        if not chosen:
            return 0
        part = view(self.corpus, chosen)
        settle(self.corpus, part, settings, freed=self.freed)
        self.freed.add(table_keys(part.spans))
        rest = view(self.corpus, chosen, inside=False)
        self.corpus.spans, self.corpus.logs, self.corpus.exemplars = (
            rest.spans,
            rest.logs,
            rest.exemplars,
        )
        self.corpus.links = rest.links
        for tid in chosen:
            del self.last_seen[tid]
        self._seen_rows = [
            len(self.corpus.spans),
            len(self.corpus.logs),
            len(self.corpus.exemplars),
        ]
        return len(chosen)
