"""Derived facts over a merged Corpus, computed once and shared by every rule.

The corpus holds raw columns; rules want answers: which services exist, which span
is whose parent, which client span called which service. ``Context`` computes each
answer lazily, the first time a rule asks, and keeps it for the others.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import Any

from otlint.core.finding import Location
from otlint.core.wire import CLIENT, CONSUMER, PRODUCER, SERVER, value_type_name
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
    both,
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


class Context:
    """What rules evaluate over: the corpus, and derived facts computed on demand."""

    def __init__(self, corpus: Corpus, freed: Freed | None = None) -> None:
        self.corpus = corpus
        # Spans a live window already judged and freed: logs and exemplars still resolve to them.
        self.freed = freed
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

    def _loc_key(self, loc: Loc) -> tuple[str, int]:
        return (self.corpus.paths[loc[0]], loc[1])

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
        return set(rows(gather(len(spans), (spans.ids, 24, 0, 16)), 16))

    @cached_property
    def graph(self) -> Graph:
        """Parents, children, orphans and service edges of the span graph."""
        return Graph.build(self)

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
            for i in positions(ok, False):
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
    """The span graph's facts that trace rules need."""

    duplicates: dict[str | None, Examples]
    orphans_remote: dict[str | None, Examples]
    orphans_local: dict[str | None, Examples]
    has_server_child: bytearray  # per span row: 1 when a SERVER/CONSUMER child exists
    edges: dict[tuple[str | None, str | None], Edge]
    server_roots: dict[
        str | None, tuple[int, int]
    ]  # service -> (server spans that are roots, server spans)
    address_owner: dict[str, str | None]
    parents: list[int] = field(
        default_factory=list
    )  # per span row: its parent's row, len(rows) for none

    @staticmethod
    def build(ctx: Context) -> Graph:
        """Walk the span columns once (the per-row work in comprehensions, not statements)."""
        corpus = ctx.corpus
        spans = corpus.spans
        n = len(spans)
        keys = ctx.span_keys
        index = ctx.span_index
        kinds, flags, res, files, recs = spans.kind, spans.flags, spans.res, spans.file, spans.rec
        svc_of = [r.service for r in corpus.resources]
        duplicates = ctx.examples()
        orphans_remote = ctx.examples()
        orphans_local = ctx.examples()
        if len(index) < n:
            seen: dict[bytes, Loc] = {}
            for i, key in enumerate(keys):
                loc = (files[i], recs[i])
                first_seen = seen.setdefault(key, loc)
                if first_seen is not loc:
                    duplicates[svc_of[res[i]]].add(loc)
                    duplicates[svc_of[res[i]]].keep(first_seen)
        # Row of each span's parent; n (no row) for a root and for a parent not in the
        # input (span ids are never zero, so a root's key is never in the index).
        parent_keys = rows(gather(n, (spans.ids, 24, 0, 16), (spans.parent, 8, 0, 8)), 24)
        parents = list(map(index.get, parent_keys, repeat(n)))
        roots = zero_rows(spans.parent, 8)
        is_server = kinds.translate(_IS_SERVER)
        is_client = kinds.translate(_IS_CLIENT)
        # Orphans: a parent id that is not in the input.
        for i in positions(parents, n):
            if roots[i]:
                continue
            f = flags[i]
            remote = bool(f & FLAG_REMOTE) if f & FLAG_REMOTE_KNOWN else is_server[i]
            (orphans_remote if remote else orphans_local)[svc_of[res[i]]].add((files[i], recs[i]))
        # Calls that joined: a SERVER/CONSUMER span whose parent is a CLIENT/PRODUCER (the
        # last such child names the callee).
        servers = list(compress(range(n), is_server))
        server_parents = list(map(parents.__getitem__, servers))
        joined = bytes(map((is_client + b"\x00").__getitem__, server_parents))
        child_service: dict[int, str | None] = dict(
            zip(
                compress(server_parents, joined),
                map(svc_of.__getitem__, map(res.__getitem__, compress(servers, joined))),
                strict=True,
            )
        )
        # A consumer that links to its producer (batch receive) continues that producer's call.
        links = bytes(corpus.links.ids)
        for i in range(0, len(links), 48):
            c = index.get(links[i : i + 24])
            p = index.get(links[i + 24 : i + 48])
            if c is not None and p is not None and kinds[p] in (CLIENT, PRODUCER) and is_server[c]:
                child_service[p] = svc_of[res[c]]
        has_child = bytearray(n)
        for p in child_service:
            has_child[p] = 1
        server_roots: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
        for r, count in Counter(compress(res, is_server)).items():
            server_roots[svc_of[r]][1] += count
        for r, count in Counter(compress(res, both(is_server, roots))).items():
            server_roots[svc_of[r]][0] += count

        address_owner = _address_owners(ctx)
        strings = corpus.strings
        edges: dict[tuple[str | None, str | None], Edge] = {}
        # Calls, counted in C: a client span whose (first copy's) row has a SERVER/CONSUMER
        # child joined; only the rest are looked at one by one.
        clients = list(compress(range(n), is_client))
        # (Without repeated keys every row is its key's first.)
        firsts = (
            clients
            if len(index) == n
            else list(map(index.__getitem__, map(keys.__getitem__, clients)))
        )
        callees = list(map(child_service.get, firsts, repeat(_UNJOINED)))
        for (r, callee), count in Counter(
            zip(map(res.__getitem__, clients), callees, strict=True)
        ).items():
            if callee is not _UNJOINED:
                edge = edges.get((svc_of[r], callee))
                if edge is None:
                    edge = edges[(svc_of[r], callee)] = Edge(svc_of[r], callee)
                edge.calls += count
                edge.joined += count
        # Calls that did not join: the callee is found once per (resource, peer, address);
        # a call to a service that is not in the input is not judged.
        unjoined = list(compress(clients, map(is_, callees, repeat(_UNJOINED))))
        targets = list(
            zip(
                map(res.__getitem__, unjoined),
                map(spans.peer.__getitem__, unjoined),
                map(spans.addr.__getitem__, unjoined),
                strict=True,
            )
        )
        edge_of: dict[tuple[int, int, int], tuple[str | None, str | None]] = {}
        for target in set(targets):
            callee_opt = _callee(target[1], target[2], strings, address_owner, ctx.services)
            if callee_opt is not _UNKNOWN:
                edge_of[target] = (svc_of[target[0]], callee_opt)
        judged = bytes(map(edge_of.__contains__, targets))
        for i, target in zip(compress(unjoined, judged), compress(targets, judged), strict=True):
            edge = edges.get(edge_of[target])
            if edge is None:
                edge = edges[edge_of[target]] = Edge(*edge_of[target])
            edge.calls += 1
            loc = (files[i], recs[i])
            if edge.first_broken is None or ctx._loc_key(loc) < ctx._loc_key(edge.first_broken):
                edge.first_broken = loc
        edges = dict(sorted(edges.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))))
        return Graph(
            duplicates=dict(duplicates),
            orphans_remote=dict(orphans_remote),
            orphans_local=dict(orphans_local),
            has_server_child=has_child,
            edges=edges,
            server_roots={k: (v[0], v[1]) for k, v in server_roots.items()},
            address_owner=address_owner,
            parents=parents,
        )


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


def positions(values: Sequence[object], value: object) -> list[int]:
    """The indexes at which ``value`` sits in ``values``, found by ``list.index`` in C.

    Far cheaper than a comparison per element through ``map`` when the hits are few.
    """
    found: list[int] = []
    i = -1
    index = values.index
    try:
        while True:
            i = index(value, i + 1)
            found.append(i)
    except ValueError:
        return found


_UNKNOWN: Any = object()
_UNJOINED: Any = object()
#: bytes.translate tables over the kind column: 1 for SERVER/CONSUMER (CLIENT/PRODUCER) rows.
_IS_SERVER = bytes(1 if k in (SERVER, CONSUMER) else 0 for k in range(256))
_IS_CLIENT = bytes(1 if k in (CLIENT, PRODUCER) else 0 for k in range(256))


def _address_owners(ctx: Context) -> dict[str, str | None]:
    """Address ("host:port", "host", "queue:name") -> the one service whose SERVER spans carry it.

    Addresses claimed by two services are dropped: matching on them would guess.
    """
    spans = ctx.corpus.spans
    mask = spans.kind.translate(_IS_SERVER)
    served = set(zip(compress(spans.addr, mask), compress(spans.res, mask), strict=True))
    pairs = {(a, r) for a, r in served if a >= 0}
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
