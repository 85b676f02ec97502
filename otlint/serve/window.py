"""Trace windows for a live stream: judge traces once idle, then free their rows.

``otlint check`` sees a whole dump at once. The sidecar sees a stream that never
ends, so it judges the *windowed* rules (the ones that walk the span graph) on traces
that have been idle for a while — late spans of a trace still join — and, when memory
is tight, frees those traces' rows after folding what the rules found into
``Corpus.settled``. Everything else (resources, attribute statistics, bad ids) is small
and stays.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from math import inf
from typing import TYPE_CHECKING

from otlint.core.redact import mask_secrets
from otlint.registry import REGISTRY, Rule
from otlint.telemetry.analysis import Context, Freed, table_keys
from otlint.telemetry.corpus.columns import fields
from otlint.telemetry.corpus.corpus import Corpus, Settled, split, within
from otlint.telemetry.rules.references import unresolved

if TYPE_CHECKING:
    from otlint.settings import Settings


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
                mask_secrets(hit.message),  # kept in --state shards: nothing unmasked
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


EVICT_TO = 0.5
"""An eviction frees traces until the spans held are this share of ``max_spans``."""

MAX_MARKS = 4096
"""Arrival marks kept at most (every other one is dropped beyond): each only saves work."""

#: The tables ``touch`` notes, in the order of a mark's row counts.
_TOUCHED = ("spans", "logs", "exemplars")


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
        # Arrival marks, oldest first: (t, spans, logs, exemplars) says that the rows
        # before those counts were touched at t or earlier and the rows after them later.
        # Traces last seen by some t have no row after the first mark later than t (two
        # touches may read the same clock), so a split or a report looks only at the rows
        # before it: the newest rows, most of those held, are not looked at.
        self.marks: list[tuple[float, int, int, int]] = []

    def touch(self, now: float | None = None) -> None:
        """Note the traces of rows observed since the last call as active now."""
        now = time.monotonic() if now is None else now
        tables = (self.corpus.spans, self.corpus.logs, self.corpus.exemplars)
        for k, table in enumerate(tables):
            start, end = self._seen_rows[k], len(table)
            if end > start:
                # The new rows' trace ids, cut into keys in C.
                new = fields(table.ids[24 * start : 24 * end], 24, 0, 16)
                self.last_seen.update(dict.fromkeys(new, now))
            self._seen_rows[k] = end
        spans, logs, exemplars = self._seen_rows
        if self.marks and self.marks[-1][1:] == (spans, logs, exemplars):
            return  # nothing new
        self.marks.append((now, spans, logs, exemplars))
        if len(self.marks) > MAX_MARKS:
            # Fewer marks only look at more rows: keep every other one, and the newest.
            self.marks = [*self.marks[-2::-2][::-1], self.marks[-1]]

    def before(self, last: float) -> dict[str, int] | None:
        """Row counts per table that no row of a trace last seen by ``last`` reaches (None:
        no mark says so)."""
        at = bisect_right(self.marks, (last, inf))
        if at == len(self.marks):
            return None
        return dict(zip(_TOUCHED, self.marks[at][1:], strict=True))

    def idle_traces(self, now: float | None = None) -> set[bytes]:
        """Traces with no new span, log or exemplar for ``idle`` seconds."""
        now = time.monotonic() if now is None else now
        return {t for t, seen in self.last_seen.items() if now - seen >= self.idle}

    def ready(self, now: float | None = None) -> Corpus:
        """The corpus as a report should judge it now: only idle traces' rows."""
        idle = self.idle_traces(now)
        if not idle:
            return within(self.corpus, idle, dict.fromkeys(_TOUCHED, 0))
        last = max(self.last_seen[t] for t in idle)
        return within(self.corpus, idle, self.before(last))

    def evict(self, settings: Settings, now: float | None = None) -> int:
        """Judge and free traces while more than ``max_spans`` spans are held; returns how many."""
        if len(self.corpus.spans) <= self.max_spans:
            return 0
        now = time.monotonic() if now is None else now
        # Down to half: besides the rows it frees (the split walks only those up to the
        # newest trace freed), each eviction counts the spans of every trace held and
        # orders every trace, so few large evictions cost less per span than many small
        # ones (to 80% measured the same CPU in all and still paused for ~2 s at 1M spans).
        target = int(self.max_spans * EVICT_TO)
        spans = self.corpus.spans
        # Spans per trace: the trace ids cut and counted in C.
        per_trace = Counter(fields(spans.ids, 24, 0, 16))
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
        last = max(self.last_seen[t] for t in chosen)
        before = self.before(last)
        part, rest = split(self.corpus, chosen, before)
        settle(self.corpus, part, settings, freed=self.freed)
        self.freed.add(table_keys(part.spans))
        self.corpus.use_rows(rest)
        for tid in chosen:
            del self.last_seen[tid]
        self._seen_rows = [
            len(self.corpus.spans),
            len(self.corpus.logs),
            len(self.corpus.exemplars),
        ]
        self._shift_marks(last, part)
        return len(chosen)

    def _shift_marks(self, last: float, part: Corpus) -> None:
        """The marks after an eviction of ``part``: every row it took sat before the first
        mark later than ``last``, so that mark and the later ones move back by its rows,
        and the earlier ones (rows now gone or moved) are dropped."""
        at = bisect_right(self.marks, (last, inf))
        gone = (len(part.spans), len(part.logs), len(part.exemplars))
        self.marks = [
            (t, s - gone[0], lg - gone[1], ex - gone[2]) for t, s, lg, ex in self.marks[at:]
        ]
