"""Derived facts over a merged Corpus, computed once and shared by every rule.

The corpus holds raw columns; rules want answers: which services exist, which span
is whose parent, which client span called which service. ``Context`` computes each
answer lazily, the first time a rule asks, and keeps it for the others.

How the work is written, and why: a corpus has hundreds of thousands of span rows, and a
Python statement per row costs about as much as decoding the row did. So each step here
works on whole columns with operations that loop in C, and only the rows that need a
decision (an orphan, a call that did not join, a repeated key) are visited one by one:

- ``rows`` cuts a fixed-width column into ``bytes`` keys; ``gather`` builds a new column
  from byte ranges of others (a span's parent key is its trace id + its parent span id).
- ``bytes.translate`` over the kind column gives a 0/1 mask per row (``_IS_SERVER``);
  ``itertools.compress`` selects the rows of a mask, and ``Counter`` counts them per
  resource.
- ``map(dict.get, keys, repeat(default))`` looks every key up in one call.
- ``zero_rows`` tells which rows of a column are all zero (roots have no parent id).

Each of these is pinned against a plain per-row version in ``tests/test_analysis.py``.
An idiom stays only where it pays on the bench corpus (``bench/``): a shortcut that saved
under ~3% of ``check`` was replaced by the plain comprehension.

The invariant every step keeps: a span is known by its key, trace id + span id; where a
key repeats (TR003) the first row with it stands for all of them, as
``Context.span_index`` says.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from heapq import nsmallest
from itertools import compress, repeat
from itertools import count as _count
from operator import add, is_, itemgetter, ne
from typing import Any, NamedTuple

from otlint.core.finding import Location
from otlint.core.wire import CLIENT, CONSUMER, PRODUCER, SERVER, value_type_name
from otlint.telemetry.corpus.columns import fields
from otlint.telemetry.corpus.corpus import (
    LOGS,
    POINTS,
    SPANS,
    AttrLevel,
    Corpus,
    Loc,
    ResourceFacts,
    SpanIndex,
    Table,
    gather,
    rows,
    zero_rows,
)

#: Span flags bits 8-9: the parent's remoteness is known (0x100) and it is remote (0x200).
FLAG_REMOTE_KNOWN = 0x100
FLAG_REMOTE = 0x200


@dataclass
class Service:
    """A service as seen across signals: every resource whose service.name is ``name``."""

    name: str | None
    resources: list[int] = field(default_factory=list)
    spans: int = 0
    logs: int = 0
    points: int = 0

    @property
    def records(self) -> int:
        """Spans, log records and data points together."""
        return self.spans + self.logs + self.points


@dataclass
class Edge:
    """Client (or producer) spans of ``caller`` that call ``callee``."""

    caller: str | None
    callee: str | None
    calls: int = 0
    joined: int = 0  # calls with a SERVER/CONSUMER child span
    first_broken: Loc | None = None

    @property
    def broken(self) -> int:
        """Calls whose callee span is missing."""
        return self.calls - self.joined


@dataclass
class Examples:
    """A count and the earliest few locations of something that happened many times.

    "Earliest" is by (path, record), not by the order rows were seen, so the examples
    do not depend on how shards were merged.
    """

    key: Callable[[Loc], tuple[str, int]]
    count: int = 0
    locs: list[Loc] = field(default_factory=list)

    def merge(self, other: Examples) -> None:
        """Add the count and examples of the same thing counted elsewhere (another partition)."""
        self.count += other.count
        for loc in other.locs:
            self.keep(loc)

    def add(self, loc: Loc, n: int = 1) -> None:
        """Count ``n`` more, and keep ``loc`` if it is among the three earliest."""
        self.count += n
        self.keep(loc)

    def keep(self, loc: Loc) -> None:
        """Keep ``loc`` as an example without counting it."""
        if loc in self.locs:
            return
        if len(self.locs) < 3:
            self.locs.append(loc)
            return
        worst = max(self.locs, key=self.key)
        if self.key(loc) < self.key(worst):
            self.locs[self.locs.index(worst)] = loc


class Across:
    """Facts of the whole input that a partition of its traces needs (``run.spill``).

    A partition holds every row of its traces, so the span graph, the references and
    the cycles of those traces are all in it; two things look across traces and come
    from here instead: the addresses SERVER/CONSUMER spans serve (whose owner names the
    callee of a call that did not join), and span links whose consumer span is in
    another partition than the producer it links to. (Plain classes here and below: a
    dataclass costs every run its making at import.)
    """

    __slots__ = ("handoff", "served")

    def __init__(self) -> None:
        #: (interned address, resource) of every SERVER/CONSUMER span of the input.
        self.served: set[tuple[int, int]] = set()
        #: (producer's trace id + span id, the service of the SERVER/CONSUMER span that
        #: links to it) for links whose consumer span is in another partition.
        self.handoff: list[tuple[bytes, str | None]] = []


def _loc_key(corpus: Corpus, loc: Loc) -> tuple[str, int]:
    return (corpus.paths[loc[0]], loc[1])


class Context:
    """What rules evaluate over: the corpus, and derived facts computed on demand.

    ``facts``: the trace facts (``TraceFacts``) of rows that are not in ``corpus``, merged
    over the partitions they were evaluated in; rules then read those instead of rows.
    ``across``: for a partition of the input's traces, what it needs of the others.
    """

    def __init__(
        self,
        corpus: Corpus,
        freed: Freed | None = None,
        *,
        facts: TraceFacts | None = None,
        across: Across | None = None,
    ) -> None:
        self.corpus = corpus
        # The order of locations, by (path, record): Examples keep it, so it must not hold
        # this Context (a bound method would make every Context a reference cycle, which
        # only the cycle collector frees: a sidecar judging a window each second grew by
        # whole windows' indexes until it ran).
        self._loc_key: Callable[[Loc], tuple[str, int]] = partial(_loc_key, corpus)
        # Spans a live window already judged and freed: logs and exemplars still resolve to them.
        self.freed = freed
        self.facts = facts
        self.across = across
        # A forked child resolving logs and exemplars: (pid, pipe to read, tables by name).
        self._background: tuple[int, int, dict[str, Table]] | None = None

    # -- services ------------------------------------------------------------------
    @cached_property
    def services(self) -> dict[str | None, Service]:
        """Services by ``service.name`` (None when the name is missing)."""
        out: dict[str | None, Service] = {}
        for idx, res in enumerate(self.corpus.resources):
            svc = out.setdefault(res.service, Service(res.service))
            svc.resources.append(idx)
            svc.spans += res.counts[SPANS]
            svc.logs += res.counts[LOGS]
            svc.points += res.counts[POINTS]
        return out

    def service_of(self, res: int) -> str | None:
        """service.name of resource ``res``."""
        return self.corpus.resources[res].service

    def resources_of(self, service: str | None) -> Iterable[ResourceFacts]:
        """The resources of ``service``."""
        for idx in self.services[service].resources:
            yield self.corpus.resources[idx]

    def first_location(self, res: ResourceFacts) -> Loc | None:
        """Earliest record of a resource in any signal."""
        locs = [loc for loc in res.first if loc is not None]
        return min(locs, key=self._loc_key) if locs else None

    def locations(self, locs: Iterable[Loc | None], limit: int = 3) -> list[Location]:
        """Report locations, sorted and deduplicated, at most ``limit``."""
        unique = sorted({loc for loc in locs if loc is not None}, key=self._loc_key)
        return [self.corpus.location(loc) for loc in unique[:limit]]

    def examples(self) -> defaultdict[Any, Examples]:
        """A fresh table of Examples ordered by this corpus' locations."""
        return defaultdict(lambda: Examples(self._loc_key))

    @cached_property
    def traced_services(self) -> set[str | None]:
        """Services with at least one span in the corpus."""
        return {name for name, svc in self.services.items() if svc.spans}

    # -- attributes ----------------------------------------------------------------
    @cached_property
    def attributes(self) -> dict[tuple[str | None, int, str], dict[str, tuple[int, Loc | None]]]:
        """(service, level, key) -> {value type: (count, first location)}, resource level included."""
        out: dict[tuple[str | None, int, str], dict[str, tuple[int, Loc | None]]] = defaultdict(
            dict
        )
        corpus = self.corpus

        def add(svc: str | None, lvl: int, key: str, vtype: str, c: int, loc: Loc | None) -> None:
            types = out[(svc, lvl, key)]
            old = types.get(vtype)
            if old is None:
                types[vtype] = (c, loc)
            else:
                keep = (
                    old[1]
                    if old[1] is not None
                    and (loc is None or self._loc_key(old[1]) <= self._loc_key(loc))
                    else loc
                )
                types[vtype] = (old[0] + c, keep)

        for (ri, lvl), counts in corpus.attr_counts.items():
            svc = self.service_of(ri)
            firsts = corpus.attr_first.get((ri, lvl), {})
            for (kb, t), c in counts.items():
                add(
                    svc,
                    lvl,
                    kb.decode("utf-8", "replace"),
                    value_type_name(t),
                    c,
                    firsts.get((kb, t)),
                )
        for res in corpus.resources:
            n = sum(res.counts[:3])
            for key, (vtype, _v) in res.attrs.items():
                add(res.service, int(AttrLevel.RESOURCE), key, vtype, n, self.first_location(res))
        return dict(out)

    # -- the span graph --------------------------------------------------------------
    @cached_property
    def _spans_indexed(self) -> SpanIndex:
        hint = self.corpus.span_index_hint
        if hint is not None and hint.exact and len(hint.keys) == len(self.corpus.spans):
            return hint  # built while the shards were merged
        built = SpanIndex()
        built.extend(self.corpus.spans.ids)
        return built

    @property
    def span_keys(self) -> list[bytes]:
        """trace id + span id of every span row, in row order."""
        return self._spans_indexed.keys

    @property
    def span_index(self) -> dict[bytes, int]:
        """trace id + span id -> row of the first span with those ids."""
        return self._spans_indexed.index

    @cached_property
    def trace_ids(self) -> set[bytes]:
        """Every trace id that has a span."""
        spans = self.corpus.spans
        return set(fields(spans.ids, 24, 0, 16))

    @cached_property
    def graph(self) -> Graph:
        """Parents, children, orphans and service edges of the span graph."""
        if self.facts is not None:
            return self.facts.graph
        return Graph.build(self)

    @cached_property
    def served(self) -> set[tuple[int, int]]:
        """(interned address, resource) of the SERVER/CONSUMER spans (of the whole input)."""
        if self.across is not None:
            return self.across.served
        spans = self.corpus.spans
        mask = spans.kind.translate(_IS_SERVER)
        return set(zip(compress(spans.addr, mask), compress(spans.res, mask), strict=True))

    @cached_property
    def unknown_peers(self) -> dict[tuple[str | None, str], Examples]:
        """(service, peer.service) -> CLIENT/PRODUCER spans naming a peer.service that is no
        service in the input (PE001)."""
        if self.facts is not None:
            return self.facts.peers
        spans = self.corpus.spans
        strings = self.corpus.strings
        known = set(self.services)
        per: defaultdict[Any, Examples] = self.examples()
        if spans.peer.count(-1) == len(spans.peer):  # (in C) no span names a peer.service
            return {}
        # Only the rows with a peer.service are looked at (found in C).
        for i in compress(_count(), map(_PEER_SET, spans.peer)):
            p = spans.peer[i]
            if spans.kind[i] in (CLIENT, PRODUCER) and strings[p] not in known:
                per[(self.service_of(spans.res[i]), strings[p])].add((spans.file[i], spans.rec[i]))
        return dict(per)

    @cached_property
    def cycle_facts(self) -> list[Cycle]:
        """The parent cycles (``cycles``) as what TR008 reports of each."""
        if self.facts is not None:
            return self.facts.cycles
        spans = self.corpus.spans
        out = []
        for ring in self.cycles:
            services = sorted(
                {self.service_of(spans.res[i]) for i in ring},
                key=lambda s: (s is not None, s or ""),
            )
            trace = bytes(spans.ids[24 * ring[0] : 24 * ring[0] + 16]).hex()
            out.append(
                Cycle(trace, services, len(ring), [(spans.file[i], spans.rec[i]) for i in ring])
            )
        return out

    def trace_facts(self) -> TraceFacts:
        """Everything windowed rules read of the rows, in a form that merges (``TraceFacts``)."""
        graph = self.graph
        facts = TraceFacts(
            Graph(
                graph.duplicates,
                graph.orphans_remote,
                graph.orphans_local,
                graph.edges,
                graph.server_roots,
            ),
            self.resolution(self.corpus.logs),
            self.resolution(self.corpus.exemplars),
            self.unknown_peers,
            self.cycle_facts,
        )
        facts.detach(self.corpus.paths)
        return facts

    @cached_property
    def cycles(self) -> list[list[int]]:
        """The span rows of each parent cycle (spans that are their own ancestor), in chain order.

        Computed only when asked (TR008), over the graph's parent rows.
        """
        parents = self.graph.parents
        n = len(parents)
        found = parent_cycles(parents, n)
        if found and len(self.span_index) < n:
            # A span id used twice (TR003) makes the parent ambiguous: a proxy that reuses
            # its caller's span id names "itself" as parent only if its copy comes first.
            # That is TR003's root cause, not a cycle.
            keys = self.span_keys
            found = [ring for ring in found if all(keys.count(keys[i]) == 1 for i in ring)]
        return found

    def resolution(self, table: Table) -> Resolution:
        """Which log or exemplar references resolve to a span (cached per table)."""
        if self.facts is not None:
            if table is self.corpus.logs:
                return self.facts.logs
            if table is self.corpus.exemplars:
                return self.facts.exemplars
        cache = self.__dict__.setdefault("_resolution", {})
        if self._background is not None:
            self._collect(cache)
        found: Resolution | None = cache.get(id(table))
        if found is None:
            found = cache[id(table)] = Resolution.build(self, table)
        return found

    def resolve_in_background(self) -> bool:
        """Resolve the log and exemplar references in a forked child process.

        For ``--jobs`` > 1: the child inherits the corpus and the span index without
        copying them, and answers with a few counts and example locations while this
        process builds the span graph. Linux only (forking a process that may hold
        other runtimes' threads is not safe everywhere). Returns whether a child was
        started; if it fails, ``resolution`` computes the answer here.
        """
        if sys.platform != "linux" or self._background is not None:
            return False
        tables = {"logs": self.corpus.logs, "exemplars": self.corpus.exemplars}
        self.span_index  # noqa: B018 - computed before the fork, so both processes have it
        try:
            read, write = os.pipe()
        except OSError:
            return False
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: resolve here
            os.close(read)
            os.close(write)
            return False
        if pid == 0:  # pragma: no cover - the child; its work is checked through the parent
            code = 1
            try:
                os.close(read)
                answer = {
                    name: Resolution.build(self, table).flat() for name, table in tables.items()
                }
                with os.fdopen(write, "w", encoding="utf-8") as out:
                    json.dump(answer, out)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._background = (pid, read, tables)
        return True

    def _collect(self, cache: dict[int, Resolution]) -> None:
        assert self._background is not None
        pid, read, tables = self._background
        self._background = None
        try:
            with os.fdopen(read, encoding="utf-8") as answer_in:
                answer = json.load(answer_in)
            _, status = os.waitpid(pid, 0)
        except (OSError, ValueError):
            return  # computed here instead
        if status != 0:
            return
        for name, (missing, resolved) in answer.items():
            examples = self.examples()
            for svc, count, locs in missing:
                examples[svc].count = count
                examples[svc].locs = [(f, r) for f, r in locs]
            cache[id(tables[name])] = Resolution(dict(examples), {svc: n for svc, n in resolved})


class Freed:
    """Ids of spans judged and freed, kept for a while so late logs and exemplars still resolve.

    Two generations of at most ``limit`` keys each: when the newer fills up, the older
    is dropped. Memory stays bounded; a reference later than two generations of
    traffic is judged unresolved.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._new: set[bytes] = set()
        self._old: set[bytes] = set()

    def add(self, keys: Iterable[bytes]) -> None:
        """Remember the span keys (trace id + span id) of freed spans."""
        for key in keys:
            self._new.add(key)
            self._new.add(key[:16] + bytes(8))  # the trace itself, for trace-only references
            if len(self._new) >= self.limit:
                self._old, self._new = self._new, set()

    def has(self, key: bytes) -> bool:
        """Whether a freed span (or, with a zero span id, a freed trace) had this key."""
        return key in self._new or key in self._old


_ZERO8 = bytes(8)
#: Whether a span's interned peer.service is set (-1: none).
_PEER_SET = (-1).__lt__


def table_keys(table: Table) -> list[bytes]:
    """trace id + span id of every row of a table, as 24-byte keys."""
    return rows(table.ids, 24)


@dataclass
class Resolution:
    """Per service: references (logs, exemplars) that resolve to no span, and how many do.

    Only services with spans in the input are judged: a log of a service whose traces
    were not captured cannot be expected to resolve. A reference with a trace id and
    no span id resolves to its trace.
    """

    missing: dict[str | None, Examples]
    resolved: dict[str | None, int]

    def flat(self) -> tuple[list[tuple[str | None, int, list[Loc]]], list[tuple[str | None, int]]]:
        """Plain JSON-able data (services may be None) to send from a child process."""
        return [(svc, ex.count, list(ex.locs)) for svc, ex in self.missing.items()], list(
            self.resolved.items()
        )

    @staticmethod
    def build(ctx: Context, table: Table) -> Resolution:
        """Resolve every row of ``table`` against the span index."""
        index = ctx.span_index
        keys = table_keys(table)
        ok = list(map(index.__contains__, keys))
        bad: list[int] = []
        if not all(ok):
            # A zero span id is a reference to the trace alone: it resolves to any of its spans.
            freed = ctx.freed
            for i in [i for i, found in enumerate(ok) if not found]:
                k = keys[i]
                # (The set of trace ids is built only when such a reference needs it.)
                if not (
                    (k[16:] == _ZERO8 and k[:16] in ctx.trace_ids)
                    or (freed is not None and freed.has(k))
                ):
                    bad.append(i)
        judged = {i for i, r in enumerate(ctx.corpus.resources) if r.service in ctx.traced_services}
        resolved: dict[str | None, int] = defaultdict(int)
        missing = ctx.examples()
        res = table.res
        unresolved = Counter(map(res.__getitem__, bad))
        # Rows per resource in C (ints hash as themselves), less the unresolved ones.
        for r, n in Counter(res).items():
            if r in judged:
                resolved[ctx.service_of(r)] += n - unresolved[r]
        for r, n in unresolved.items():
            if r in judged:
                missing[ctx.service_of(r)].count += n
        for i in bad:
            if res[i] in judged:
                missing[ctx.service_of(res[i])].keep((table.file[i], table.rec[i]))
        return Resolution(dict(missing), dict(resolved))


@dataclass
class Graph:
    """The span graph's facts that trace rules need.

    Built by ``Graph.build`` in named steps, each over whole columns (see the module
    docstring for the idioms). The invariant every step keeps: a span row's *key* is
    its trace id + span id, and where a key repeats (TR003) the first row with it
    stands for all of them, exactly as ``Context.span_index`` says.
    """

    duplicates: dict[str | None, Examples]
    orphans_remote: dict[str | None, Examples]
    orphans_local: dict[str | None, Examples]
    edges: dict[tuple[str | None, str | None], Edge]
    #: service -> (SERVER/CONSUMER spans that are roots, SERVER/CONSUMER spans)
    server_roots: dict[str | None, tuple[int, int]]
    #: per span row: its parent's row, ``len(rows)`` for none in the input
    parents: list[int] = field(default_factory=list)

    @staticmethod
    def build(ctx: Context) -> Graph:
        """Walk the span columns once, step by step."""
        spans = ctx.corpus.spans
        svc_of = [r.service for r in ctx.corpus.resources]
        is_server = spans.kind.translate(_IS_SERVER)
        is_client = spans.kind.translate(_IS_CLIENT)
        roots = zero_rows(spans.parent, 8)
        parents = _parent_rows(ctx)
        orphans_remote, orphans_local = _orphans(ctx, parents, roots, is_server, svc_of)
        callee_of = _joined_calls(ctx, parents, is_server, is_client, svc_of)
        edges = _edges(ctx, callee_of, is_client, svc_of)
        return Graph(
            duplicates=_duplicates(ctx, svc_of),
            orphans_remote=orphans_remote,
            orphans_local=orphans_local,
            edges=dict(sorted(edges.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))),
            server_roots=_server_roots(spans.res, is_server, roots, svc_of),
            parents=parents,
        )

    def merge(self, other: Graph, key: Callable[[Loc], tuple[str, int]]) -> None:
        """Add the graph facts of other traces (another partition; ``key`` orders locations);
        ``parents`` is not merged."""
        _merge_examples(self.duplicates, other.duplicates)
        _merge_examples(self.orphans_remote, other.orphans_remote)
        _merge_examples(self.orphans_local, other.orphans_local)
        for pair, edge in other.edges.items():
            mine = self.edges.get(pair)
            if mine is None:
                self.edges[pair] = edge
                continue
            mine.calls += edge.calls
            mine.joined += edge.joined
            if edge.first_broken is not None:
                mine.first_broken = (
                    edge.first_broken
                    if mine.first_broken is None
                    else min(mine.first_broken, edge.first_broken, key=key)
                )
        self.edges = dict(sorted(self.edges.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))))
        for svc, (roots, servers) in other.server_roots.items():
            a, b = self.server_roots.get(svc, (0, 0))
            self.server_roots[svc] = (a + roots, b + servers)


class Cycle(NamedTuple):
    """A parent cycle as TR008 reports it: its trace, services, spans and their locations."""

    trace: str
    services: list[str | None]
    spans: int
    locs: list[Loc]


class TraceFacts:
    """What the windowed rules read of the row tables, in a form that merges.

    A partition of the input's traces (every row of each trace in it: ``run.spill``)
    gives its facts from ``Context.trace_facts``; the facts of all partitions, merged,
    are those of one pass over every row, and a ``Context(corpus, facts=...)`` hands
    them to the rules in place of the rows.
    """

    def __init__(
        self,
        graph: Graph,
        logs: Resolution,
        exemplars: Resolution,
        peers: dict[tuple[str | None, str], Examples],
        cycles: list[Cycle],
    ) -> None:
        self.graph = graph
        self.logs = logs
        self.exemplars = exemplars
        self.peers = peers
        self.cycles = cycles
        #: How locations are ordered (by path, then record), once ``detach`` set it.
        self.key: Callable[[Loc], tuple[str, int]] | None = None

    def detach(self, paths: Sequence[str]) -> None:
        """Order every example by ``paths`` rather than by the context that made it, so the
        facts outlive that context (and the rows it holds)."""
        key = _by_location(paths)
        graph = self.graph
        for table in (
            graph.duplicates,
            graph.orphans_remote,
            graph.orphans_local,
            self.logs.missing,
            self.peers,
        ):
            for ex in table.values():
                ex.key = key
        for ex in self.exemplars.missing.values():
            ex.key = key
        self.key = key

    def merge(self, other: TraceFacts) -> TraceFacts:
        """Fold in the facts of other traces (in place) and return them."""
        assert self.key is not None, "detach() first"
        self.graph.merge(other.graph, self.key)
        for mine, theirs in ((self.logs, other.logs), (self.exemplars, other.exemplars)):
            _merge_examples(mine.missing, theirs.missing)
            for svc, n in theirs.resolved.items():
                mine.resolved[svc] = mine.resolved.get(svc, 0) + n
        _merge_examples(self.peers, other.peers)
        self.cycles += other.cycles
        return self


def _by_location(paths: Sequence[str]) -> Callable[[Loc], tuple[str, int]]:
    """A location's sort key: (path, record)."""
    return lambda loc: (paths[loc[0]], loc[1])


def _merge_examples(mine: dict[Any, Examples], theirs: Mapping[Any, Examples]) -> None:
    for key, ex in theirs.items():
        found = mine.get(key)
        if found is None:
            mine[key] = ex
        else:
            found.merge(ex)


Services = list[str | None]  # service.name per resource index
Mask = bytes | bytearray  # one byte per span row: 1 or 0


def _duplicates(ctx: Context, svc_of: Services) -> dict[str | None, Examples]:
    """Spans whose key an earlier row has (TR003): each copy, and the first one beside it.

    Per resource, the copies are counted in C, and the three earliest of the copies' and
    their first rows' locations are found as the smallest of integers that order like
    (path, record): the path's rank among the paths, then the record. A capture exported
    twice repeats every span, so no row may cost a Python statement here.
    """
    spans = ctx.corpus.spans
    n = len(spans)
    if len(ctx.span_index) == n:
        return {}  # every key once: no row to look at
    firsts = list(map(ctx.span_index.__getitem__, ctx.span_keys))
    copies = list(compress(range(n), map(ne, firsts, range(n))))
    paths = ctx.corpus.paths
    # (path index -> its rank among the paths, shifted past any record number)
    rank = [0] * len(paths)
    for r, f in enumerate(sorted(range(len(paths)), key=paths.__getitem__)):
        rank[f] = r << 40
    by_rank = {rank[f]: f for f in range(len(paths))}
    file, rec, res = spans.file, spans.rec, spans.res

    def codes(of: Iterable[int]) -> set[int]:
        at = list(of)
        return set(
            map(add, map(rank.__getitem__, map(file.__getitem__, at)), map(rec.__getitem__, at))
        )

    per_res: dict[int, list[int]] = defaultdict(list)
    for r, i in zip(map(res.__getitem__, copies), copies, strict=True):
        per_res[r].append(i)
    found: dict[str | None, tuple[int, set[int]]] = {}
    for r, rows_r in per_res.items():
        svc = svc_of[r]
        count, seen = found.get(svc, (0, set()))
        seen |= codes(rows_r) | codes(map(firsts.__getitem__, rows_r))
        found[svc] = (count + len(rows_r), set(nsmallest(3, seen)))
    out: dict[str | None, Examples] = {}
    for svc, (count, seen) in found.items():
        ex = out[svc] = Examples(ctx._loc_key, count)
        ex.locs = [(by_rank[c >> 40 << 40], c & _RECORD) for c in sorted(seen)]
    return out


#: The record number's bits of a location code (``_duplicates``).
_RECORD = (1 << 40) - 1


def _parent_rows(ctx: Context) -> list[int]:
    """Row of each span's parent: n (no row) for a root and for a parent not in the input.

    The parent's key is the span's own trace id + its parent span id, cut for all rows at
    once by ``gather``; span ids are never zero, so a root's key is never in the index.
    """
    spans = ctx.corpus.spans
    n = len(spans)
    keys = rows(gather(n, (spans.ids, 24, 0, 16), (spans.parent, 8, 0, 8)), 24)
    return list(map(ctx.span_index.get, keys, repeat(n)))


def _orphans(
    ctx: Context, parents: list[int], roots: Mask, is_server: Mask, svc_of: Services
) -> tuple[dict[str | None, Examples], dict[str | None, Examples]]:
    """Spans with a parent id that is not in the input, split by whether the parent was
    remote (flags bits 8-9 when the SDK set them, else: a SERVER/CONSUMER span's is)."""
    spans = ctx.corpus.spans
    remote_side, local_side = ctx.examples(), ctx.examples()
    none = len(spans)
    for i in [i for i, parent in enumerate(parents) if parent == none]:
        if roots[i]:
            continue
        f = spans.flags[i]
        remote = bool(f & FLAG_REMOTE) if f & FLAG_REMOTE_KNOWN else is_server[i]
        side = remote_side if remote else local_side
        side[svc_of[spans.res[i]]].add((spans.file[i], spans.rec[i]))
    return dict(remote_side), dict(local_side)


def _joined_calls(
    ctx: Context, parents: list[int], is_server: Mask, is_client: Mask, svc_of: Services
) -> dict[int, str | None]:
    """CLIENT/PRODUCER row -> the service of its SERVER/CONSUMER child (the last one wins).

    A consumer that links to its producer (batch receive) continues that producer's call.
    """
    spans = ctx.corpus.spans
    servers = list(compress(range(len(spans)), is_server))
    server_parents = list(map(parents.__getitem__, servers))
    # The parent row n (none) reads the appended zero: not a client.
    called = bytes(map((is_client + b"\x00").__getitem__, server_parents))
    callee_of: dict[int, str | None] = dict(
        zip(
            compress(server_parents, called),
            map(svc_of.__getitem__, map(spans.res.__getitem__, compress(servers, called))),
            strict=True,
        )
    )
    index, links, kinds = ctx.span_index, bytes(ctx.corpus.links.ids), spans.kind
    for i in range(0, len(links), 48):
        consumer = index.get(links[i : i + 24])
        producer = index.get(links[i + 24 : i + 48])
        if (
            consumer is not None
            and producer is not None
            and kinds[producer] in (CLIENT, PRODUCER)
            and is_server[consumer]
        ):
            callee_of[producer] = svc_of[spans.res[consumer]]
    if ctx.across is not None:  # links from consumers in other partitions
        for key, callee in ctx.across.handoff:
            producer = index.get(key)
            if producer is not None and kinds[producer] in (CLIENT, PRODUCER):
                callee_of[producer] = callee
    return callee_of


def _server_roots(
    res: Sequence[int], is_server: Mask, roots: Mask, svc_of: Services
) -> dict[str | None, tuple[int, int]]:
    """Per service: (SERVER/CONSUMER spans that are trace roots, SERVER/CONSUMER spans)."""
    servers = Counter(compress(res, is_server))
    rooted = Counter(compress(compress(res, is_server), compress(roots, is_server)))
    out: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for r, count in servers.items():
        out[svc_of[r]][1] += count
    for r, count in rooted.items():
        out[svc_of[r]][0] += count
    return {svc: (a, b) for svc, (a, b) in out.items()}


def _edges(
    ctx: Context, callee_of: dict[int, str | None], is_client: Mask, svc_of: Services
) -> dict[tuple[str | None, str | None], Edge]:
    """caller -> callee edges: every CLIENT/PRODUCER span is a call; it joined when its
    key's first row has a SERVER/CONSUMER child. The callee of a call that did not join is
    found from its ``peer.service`` or address, once per (resource, peer, address); a call
    to a service that is not in the input is not judged."""
    spans = ctx.corpus.spans
    edges: dict[tuple[str | None, str | None], Edge] = {}

    def edge(key: tuple[str | None, str | None]) -> Edge:
        found = edges.get(key)
        if found is None:
            found = edges[key] = Edge(*key)
        return found

    clients = list(compress(range(len(spans)), is_client))
    firsts = (
        clients
        if len(ctx.span_index) == len(spans)  # every row is its key's first
        else list(map(ctx.span_index.__getitem__, map(ctx.span_keys.__getitem__, clients)))
    )
    callees = list(map(callee_of.get, firsts, repeat(_UNJOINED)))
    for (r, callee), count in Counter(
        zip(map(spans.res.__getitem__, clients), callees, strict=True)
    ).items():
        if callee is not _UNJOINED:
            joined = edge((svc_of[r], callee))
            joined.calls += count
            joined.joined += count

    unjoined = list(compress(clients, map(is_, callees, repeat(_UNJOINED))))
    targets = list(
        zip(
            map(spans.res.__getitem__, unjoined),
            map(spans.peer.__getitem__, unjoined),
            map(spans.addr.__getitem__, unjoined),
            strict=True,
        )
    )
    owners = _address_owners(ctx)
    edge_of: dict[tuple[int, int, int], tuple[str | None, str | None]] = {}
    for res, peer, addr in set(targets):
        callee = _callee(peer, addr, ctx.corpus.strings, owners, ctx.services)
        if callee is not _UNKNOWN:
            edge_of[(res, peer, addr)] = (svc_of[res], callee)
    judged = bytes(map(edge_of.__contains__, targets))
    for i, target in zip(compress(unjoined, judged), compress(targets, judged), strict=True):
        broken = edge(edge_of[target])
        broken.calls += 1
        loc = (spans.file[i], spans.rec[i])
        if broken.first_broken is None or ctx._loc_key(loc) < ctx._loc_key(broken.first_broken):
            broken.first_broken = loc
    return edges


def parent_cycles(parents: list[int], n: int) -> list[list[int]]:
    """The parent cycles of a span graph: each as its rows, from its lowest row up the chain.

    ``parents[i]`` is the row of span i's parent, ``n`` for none in the input. A span
    whose chain of parents never reaches ``n`` is on a cycle or below one. Pointer
    doubling finds them in C: each step replaces every row's ancestor by that
    ancestor's ancestor, so after k steps every chain shorter than 2**k has reached
    ``n``; when a step leaves as many rows short of ``n`` as the step before, the rest
    never get there (chains are ``depth`` long for every depth up to their longest, so
    one long chain would have moved the count). Only those rows, normally none, are
    walked in Python.
    """
    ancestors: tuple[int, ...] | list[int] = [*parents, n]
    alive = len(ancestors) - ancestors.count(n)
    while alive:
        ancestors = itemgetter(*ancestors)(ancestors) if len(ancestors) > 1 else ancestors
        now = len(ancestors) - ancestors.count(n)
        if now == alive:
            break
        alive = now
    if not alive:
        return []
    stuck = [i for i in range(n) if ancestors[i] != n]
    on_cycle: set[int] = set()
    cycles: list[list[int]] = []
    done: set[int] = set()
    for start in stuck:
        if start in done:
            continue
        path: list[int] = []
        seen: dict[int, int] = {}
        i = start
        while i not in seen and i not in done:
            seen[i] = len(path)
            path.append(i)
            i = parents[i]
        if i in seen and i not in on_cycle:
            ring = path[seen[i] :]
            low = ring.index(min(ring))
            cycles.append(ring[low:] + ring[:low])
            on_cycle.update(ring)
        done.update(path)
    return sorted(cycles)


_UNKNOWN: Any = object()
_UNJOINED: Any = object()
#: bytes.translate tables over the kind column: 1 for SERVER/CONSUMER (CLIENT/PRODUCER) rows.
_IS_SERVER = bytes(1 if k in (SERVER, CONSUMER) else 0 for k in range(256))
_IS_CLIENT = bytes(1 if k in (CLIENT, PRODUCER) else 0 for k in range(256))


def _address_owners(ctx: Context) -> dict[str, str | None]:
    """Address ("host:port", "host", "queue:name") -> the one service whose SERVER spans carry it.

    Addresses claimed by two services are dropped: matching on them would guess.
    """
    pairs = {(a, r) for a, r in ctx.served if a >= 0}
    owners: dict[str, set[str | None]] = defaultdict(set)
    strings = ctx.corpus.strings
    for a, r in pairs:
        svc = ctx.service_of(r)
        addr = strings[a]
        owners[addr].add(svc)
        host = addr.rpartition(":")[0] if ":" in addr and not addr.startswith("queue:") else None
        if host:
            owners[host].add(svc)
    return {a: next(iter(s)) for a, s in owners.items() if len(s) == 1}


def _callee(
    peer: int,
    addr: int,
    strings: list[str],
    owners: Mapping[str, str | None],
    services: Mapping[str | None, Service],
) -> str | Any | None:
    """The service a childless client span called, or _UNKNOWN when it is not in the dump."""
    if peer >= 0:
        named = services.get(strings[peer])
        # A callee whose traces are not in the input cannot be expected to have a child span.
        return strings[peer] if named is not None and named.spans else _UNKNOWN
    if addr < 0:
        return _UNKNOWN
    a = strings[addr]
    if a in owners:
        return owners[a]
    host = a.rpartition(":")[0] if ":" in a and not a.startswith("queue:") else a
    if host in owners:
        return owners[host]
    # Kubernetes service DNS: "payments", "payments.shop", "payments.shop.svc.cluster.local".
    label = host.split(".", 1)[0]
    if label in services and services[label].spans:
        return label
    return _UNKNOWN
