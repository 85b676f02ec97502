"""The hot loop's sibling for OTLP/JSON: a prepared document (``readers.otlp_fast``) -> facts.

``observe.Observer`` reads protobuf bytes: its parses give each scope's columns (the
encoded KeyValues in record order, the id rows...) and its methods fold them into the
Corpus. A canonical OTLP/JSON line arrives with those columns already cut out of the
decoded Structs (``otlp_fast.prepare_line``: KeyValues encoded once per distinct text,
ids joined and hex-decoded a scope at a time), so this module only folds them, with
the Observer's own methods (``_resource``, ``_tally``, ``_tally_columns``,
``_scope_addresses``, ``_count_kinds``, ``_secrets``, ``_rows``, ``_log_facts``,
``_metric_facts``), in the order ``Observer._traces`` / ``_logs`` / ``_metrics`` call
them. Whatever those read record by record (an id to report, an exemplar without a
time, a rare kind of point) made ``prepare_line`` decline, and that line was encoded to
protobuf bytes and observed as such: the facts are the same either way
(``tests/readers/test_otlp_fast.py`` compares the Corpus of both paths, shard bytes and
all).
"""

from __future__ import annotations

from collections import Counter
from functools import partial

from otlint.core.wire import ADDRESS_KEYS, LOG_ID_KEYS
from otlint.telemetry.corpus.corpus import (
    SPANS,
    AttrLevel,
    Signal,
)
from otlint.telemetry.observe import Observer
from otlint.telemetry.readers.otlp_fast import LogScope, Prepared, SpanScope

_NOTHING: frozenset[bytes] = frozenset()


def fold(observer: Observer, doc: Prepared, file: int, record: int) -> int:
    """Fold one prepared document into the observer's Corpus; returns its records."""
    if doc.signal is Signal.TRACES:
        return _traces(observer, doc, file, record)
    if doc.signal is Signal.LOGS:
        return _logs(observer, doc, file, record)
    return _metrics(observer, doc, file, record)


def _traces(obs: Observer, doc: Prepared, file: int, record: int) -> int:
    corpus = obs.corpus
    table = corpus.spans
    loc = (file, record)
    total = 0
    for res, scopes in doc.resources:
        ri = obs._resource(res, Signal.TRACES, loc)
        n = 0
        s: SpanScope
        for s in scopes:
            attrs = s.attrs
            kvs = Counter(attrs)
            watched = obs._tally(kvs, ri, AttrLevel.SPAN, loc, ADDRESS_KEYS)
            if s.event_attrs:
                obs._tally(Counter(s.event_attrs), ri, AttrLevel.EVENT, loc, _NOTHING)
            n += s.n
            if s.n:
                table.ids += s.ids
                table.parent += s.parents
                table.kind += s.kinds
                table.flags.extend(s.flags)
                addr, peer = obs._scope_addresses(s.records, s.kinds, attrs, kvs, watched)
                table.addr.extend(addr)
                table.peer.extend(peer)
                obs._rows(table, ri, s.n, file, record)
                if s.links:
                    corpus.links.ids += s.links
            if watched and not obs._kind_kvs.isdisjoint(watched):
                obs._count_kinds(watched, s.records, ri)
        corpus.resources[ri].counts[SPANS] += n
        total += n
    return total


def _logs(obs: Observer, doc: Prepared, file: int, record: int) -> int:
    loc = (file, record)
    total = 0
    for res, scopes in doc.resources:
        ri = obs._resource(res, Signal.LOGS, loc)
        watched = obs._tally_columns([s.attrs for s in scopes], ri, AttrLevel.LOG, loc, LOG_ID_KEYS)
        n = idattr_noids = idattr = 0
        rows: list[bytes] = []
        s: LogScope
        for s in scopes:
            n += s.n
            if s.bodies:
                obs._secrets(
                    obs._body_scan, s.bodies, partial(Counter, s.bodies), ri, AttrLevel.BODY, loc
                )
            if watched:
                marked = [not watched.isdisjoint(a) for a in s.attributes()]
                idattr += sum(marked)
                idattr_noids += sum(m and not h for m, h in zip(marked, s.has_ids, strict=True))
            if s.rows:
                rows.append(s.rows)
        obs._log_facts(ri, b"".join(rows), n, idattr, idattr_noids, loc)
        total += n
    return total


def _metrics(obs: Observer, doc: Prepared, file: int, record: int) -> int:
    loc = (file, record)
    total = 0
    for res, (attrs, ids, n, n_ex) in doc.resources:
        ri = obs._resource(res, Signal.METRICS, loc)
        obs._tally(Counter(attrs), ri, AttrLevel.POINT, loc, _NOTHING)
        obs._metric_facts(ri, ids, n, n_ex, loc)
        total += n
    return total
