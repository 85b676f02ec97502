"""Schema and input: the same fact under the same key everywhere, and records that read at all."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import rule
from otlint.core.semconv import deprecations
from otlint.core.wire import invalid_utf8_keys, is_utf8
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import AttrLevel, ReadProblem

_KIND_NAMES = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_KIND_ORDER = ["server", "client", "consumer", "producer", "internal", "unspecified"]


@rule("SC001", "deprecated-attribute", Join.SCHEMA, Level.WARNING)
def deprecated_attribute(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Attribute keys the semantic conventions have deprecated.

    What it checks:
        Resource, span, span event, log and data point attribute keys against the
        deprecations of the installed ``opentelemetry-semantic-conventions`` package,
        with the replacement its deprecation note gives: a new key; several keys for a
        split one (``http.flavor`` is ``network.protocol.name`` and
        ``network.protocol.version``); the key that fits the span's kind
        (``net.peer.name`` is ``server.address`` on CLIENT spans and
        ``client.address`` on SERVER spans: the kinds seen are named); the LogRecord
        EventName field for ``event.name``; or the note itself where it says more
        than a key. Keys that only moved to another registry (the GenAI conventions)
        are not deprecated.

    Why it breaks the join:
        When some services move to the new key and others keep the old one, the same
        fact lives under two keys: a query or dashboard on
        ``deployment.environment.name`` silently misses every service still sending
        ``deployment.environment``.

    Example:
        ``deployment.environment=prod`` on a resource; ``http.method`` on spans;
        ``net.peer.name`` on the SERVER spans of an old HTTP server instrumentation.

    Fix:
        Rename to the replacement key (the finding names it); upgrade the
        instrumentation library that still emits the old key; during a migration the
        collector's transform processor can copy the old key to the new one.
    """
    deprecated = deprecations()
    per: dict[tuple[str | None, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "levels": set(), "locs": []}
    )
    for (svc, lvl, key), types in ctx.attributes.items():
        if key in deprecated:
            entry = per[(svc, key)]
            entry["levels"].add(AttrLevel(lvl).label)
            for count, loc in types.values():
                entry["count"] += count
                entry["locs"].append(loc)
    kinds: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for (ri, kb, kind), _n in ctx.corpus.kind_keys.items():
        kinds[(ctx.service_of(ri), kb.decode("utf-8", "replace"))].add(
            _KIND_NAMES.get(kind, "unspecified")
        )
    for (svc, key), entry in sorted(per.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        found = deprecated[key]
        seen = sorted(kinds.get((svc, key), ()), key=_KIND_ORDER.index)
        # A key on resources or logs as well as spans: every kind the note names applies.
        span_only = entry["levels"] <= {"span"}
        advice = found.advice(seen if span_only else ())
        context: dict[str, Any] = {
            "key": key,
            "replacement": found.replacements[0] if len(found.replacements) == 1 else None,
            "replacements": list(found.replacements),
            "how": found.kind,
            "levels": sorted(entry["levels"]),
        }
        if found.kind == "by-span-kind" and seen:
            context["span_kinds"] = seen
        if found.kind in ("note", "one-of", "by-span-kind"):
            context["note"] = found.note
        yield Hit(
            message=f"{key} is deprecated: {advice}",
            service=svc,
            count=entry["count"],
            locations=ctx.locations(entry["locs"]),
            context=context,
        )


@rule("SC002", "attribute-type-conflict", Join.SCHEMA, Level.WARNING)
def attribute_type_conflict(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """One attribute key carries values of different types.

    What it checks:
        Across all services and signals, each attribute key (at the same level)
        always has the same value type.

    Why it breaks the join:
        ``http.response.status_code`` as an int in one service and a string in
        another cannot be grouped, compared or joined: backends index them as two
        fields, and a query for ``status_code >= 500`` misses the strings.

    Example:
        ``server.port`` is an int in ``checkout`` spans and the string ``"8080"`` in
        ``payments`` spans.

    Fix:
        Emit the type the semantic conventions define for the key; fix the
        instrumentation or convert in the collector's transform processor.
    """
    per_key: dict[tuple[int, str], dict[str, dict[str | None, tuple[int, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for (svc, lvl, key), types in ctx.attributes.items():
        for t, (count, loc) in types.items():
            if t != "empty":
                per_key[(lvl, key)][t][svc] = (count, loc)
    for (lvl, key), by_type in sorted(per_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(by_type) < 2:
            continue
        # Report against the service(s) using the minority type.
        totals = {t: sum(c for c, _ in svcs.values()) for t, svcs in by_type.items()}
        major = max(sorted(totals), key=lambda t: totals[t])
        for t, svcs in sorted(by_type.items()):
            if t == major:
                continue
            for svc, (count, loc) in sorted(svcs.items(), key=lambda kv: kv[0] or ""):
                yield Hit(
                    message=f"{AttrLevel(lvl).label} attribute {key} is {t} here but {major} in "
                    f"{totals[major]} other records",
                    service=svc,
                    count=count,
                    locations=ctx.locations([loc]),
                    context={
                        "key": key,
                        "type": t,
                        "expected": major,
                        "types": dict(sorted(totals.items())),
                    },
                )


_SEPARATORS = re.compile(r"[._\-\s/]+")


def _fold(key: str) -> str:
    return _SEPARATORS.sub("", key).lower()


@rule("SC003", "attribute-key-spelling", Join.SCHEMA, Level.WARNING)
def attribute_key_spelling(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Attribute keys that differ only by case or separator.

    What it checks:
        Keys that are the same once case and the separators ``.``, ``_``, ``-`` are
        ignored, across all services and signals (``http.route``, ``http_route``,
        ``HTTP.Route``).

    Why it breaks the join:
        Each spelling is a different field to every backend. A dashboard built on
        one spelling silently excludes the services that use another.

    Example:
        ``tenant.id`` in ``checkout``, ``tenant_id`` in ``payments``.

    Fix:
        Pick the semantic-convention spelling (lower case, dot-separated namespaces,
        snake_case words) and rename the others.
    """
    groups: dict[str, dict[str, dict[str | None, tuple[int, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for (svc, _lvl, key), types in ctx.attributes.items():
        count = sum(c for c, _ in types.values())
        loc = min((lc for _, lc in types.values() if lc is not None), default=None)
        old = groups[_fold(key)][key].get(svc)
        groups[_fold(key)][key][svc] = (
            count + (old[0] if old else 0),
            loc if old is None else old[1],
        )
    for _folded, spellings in sorted(groups.items()):
        if len(spellings) < 2:
            continue
        totals = {k: sum(c for c, _ in svcs.values()) for k, svcs in spellings.items()}
        # The dominant spelling is the reference; prefer a dotted lower-case one on ties.
        major = max(sorted(totals), key=lambda k: (totals[k], k == k.lower() and "." in k))
        for key, svcs in sorted(spellings.items()):
            if key == major:
                continue
            for svc, (count, loc) in sorted(svcs.items(), key=lambda kv: kv[0] or ""):
                yield Hit(
                    message=f"{key} is spelled {major} in {totals[major]} other records",
                    service=svc,
                    count=count,
                    locations=ctx.locations([loc]),
                    context={"key": key, "spellings": sorted(spellings)},
                )


def _problems(ctx: Context, code_kinds: tuple[str, ...]) -> Iterator[Hit]:
    corpus = ctx.corpus
    for (kind, _f, detail), prob in sorted(
        corpus.problems.items(), key=lambda kv: (corpus.paths[kv[0][1]], kv[0][2])
    ):
        if kind not in code_kinds:
            continue
        services = corpus.services_in(prob.first[0])
        yield Hit(
            message=prob.message
            if prob.count == 1
            else f"{prob.message} (and {prob.count - 1} more like it)",
            service=None,
            count=prob.count,
            locations=[corpus.location(prob.first)],
            context={"detail": detail},
            services=services,
        )


@rule("SC004", "otlp-json-noncanonical", Join.SCHEMA, Level.INFO)
def otlp_json_noncanonical(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """OTLP/JSON that otlint read leniently: snake_case keys, enum names, upper-case hex, legacy fields.

    What it checks:
        JSON inputs follow the OTLP/JSON encoding: lowerCamelCase keys, enums as
        integers, lower-case hex ids, current field names.

    Why it breaks the join:
        Receivers differ in how lenient they are. A dump that one collector reads may
        be rejected or misread by another backend (enum names, legacy
        ``instrumentationLibrarySpans``), so the records drop out of every join
        downstream.

    Example:
        ``"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE"``;
        ``"instrumentationLibraryMetrics": [...]``.

    Fix:
        Write OTLP/JSON with an OpenTelemetry encoder (the collector's, an SDK's), not
        a generic protobuf-to-JSON printer.
    """
    yield from _problems(ctx, ("noncanonical",))


@rule("SC005", "otlp-json-id-encoding", Join.SCHEMA, Level.ERROR)
def otlp_json_id_encoding(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """OTLP/JSON ids written as base64 (or anything else that is not hex).

    What it checks:
        ``traceId``, ``spanId`` and ``parentSpanId`` in OTLP/JSON are hex strings.

    Why it breaks the join:
        OTLP/JSON departs from proto3 JSON here: ids are hex, not base64. A writer
        that used a generic protobuf JSON printer emits base64, and a reader that
        takes it at face value gets 24-byte trace ids that match nothing — every
        trace, log and exemplar join over those records silently fails. otlint
        decodes the base64 so the other checks still run, and reports it here.

    Example:
        ``"traceId": "W47/fsDLYC57T7Mi1KEToQ=="``.

    Fix:
        Use an OTLP exporter (or the collector's file exporter) instead of
        ``MessageToJson``; convert existing files by rewriting ids as hex.
    """
    yield from _problems(ctx, ("id-encoding",))


@rule("RD002", "invalid-utf8", Join.INPUT, Level.ERROR)
def invalid_utf8(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Attribute keys, or resource attribute values, that are not valid UTF-8.

    What it checks:
        Every attribute key (resource, span, log, data point) and every string value
        of a resource attribute is valid UTF-8, as protobuf ``string`` fields must be.

    Why it breaks the join:
        Receivers that validate UTF-8 — the OpenTelemetry Collector and every Go or
        Java OTLP receiver — reject the *whole* export request for one bad string, so
        all the spans, logs or points sent with it are lost and every join they carry
        goes with them. otlint reads strings as bytes, so it can point at the key
        instead of failing the request.

    Example:
        A key built from a Latin-1 byte string (``b"caf\xe9.id"``); a resource value
        copied from a binary header.

    Fix:
        Decode or escape the bytes before using them as attribute keys or values
        (or put binary data in a ``bytes`` value).
    """
    per: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "keys": set(), "locs": []}
    )
    corpus = ctx.corpus
    for (ri, lvl), counts in corpus.attr_counts.items():
        for (kb, _t), count in counts.items():
            if is_utf8(kb):
                continue
            entry = per[ctx.service_of(ri)]
            entry["count"] += count
            entry["keys"].add(
                f"{AttrLevel(lvl).label} key {kb.decode('utf-8', 'backslashreplace')}"
            )
            entry["locs"].append(corpus.attr_first.get((ri, lvl), {}).get((kb, _t)))
    for key, res in zip(corpus.resource_keys, corpus.resources, strict=True):
        bad = invalid_utf8_keys(key)
        if bad:
            entry = per[res.service]
            entry["count"] += sum(res.counts[:3])
            entry["keys"].update(f"resource attribute {k}" for k in bad)
            entry["locs"].append(ctx.first_location(res))
    for svc, entry in sorted(per.items(), key=lambda kv: kv[0] or ""):
        keys = sorted(entry["keys"])
        yield Hit(
            message=f"not valid UTF-8: {', '.join(keys)}; a validating receiver rejects each request that carries it",
            service=svc,
            count=entry["count"],
            locations=ctx.locations(entry["locs"]),
            context={"where": keys},
        )


@rule("RD001", "unreadable-record", Join.INPUT, Level.ERROR)
def unreadable_record(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Records otlint could not read at all.

    What it checks:
        Every record in the input decodes as OTLP (protobuf or OTLP/JSON). Files
        that are not OTLP at all (an app's log, ``package.json``, YAML) are skipped
        with a note on stderr, not reported; the app's own lines in an OTLP/JSON
        Lines file are RD003.

    Why it breaks the join:
        An unreadable record joins nothing, and everything that pointed into it —
        child spans, logs, exemplars — becomes an orphan in the other checks.
        otlint skips it and checks the rest (``--strict`` stops instead).

    Example:
        A JSON Lines file cut mid-line by a crash; a protobuf dump with a truncated
        last frame; two signals in one OTLP/JSON document.

    Fix:
        Recapture the dump; check the exporter's rotation and compression settings.
    """
    yield from _problems(ctx, ("unreadable",))


@rule("RD003", "non-otlp-lines", Join.INPUT, Level.INFO)
def non_otlp_lines(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Lines of an OTLP/JSON Lines file that are not OTLP: skipped and counted, one finding per file.

    What it checks:
        In a file with OTLP/JSON lines, every other line: lines that are not JSON
        (a banner, a plain log line) and lines that are JSON but no OTLP document (an
        app's JSON log line, ``{}``) are skipped; this finding counts each kind and
        names the first few line numbers. A line that *is* OTLP and broken (an object
        naming ``resourceSpans`` that does not parse, the last line cut short) is an
        unreadable record (RD001), not one of these.

    Why it breaks the join:
        It does not break one by itself: it says that otlint read only part of the
        file. A capture of a process's stdout, where the SDK's OTLP/JSON exporter
        writes among the app's own output, is read as the exporter wrote it; a line
        where the two were written into each other is lost with its records, and the
        spans that pointed into it show up as orphans.

    Example:
        The app prints ``Starting checkout v1.4.2 on :8080`` and logs
        ``{"level":"info","msg":"ready"}`` to the stdout the ``FileSpanExporter``
        writes its spans to.

    Fix:
        Export to a file of its own (the collector's ``file`` exporter, the SDK
        exporter with a path) or send the app's own output to stderr; or accept the
        capture as it is and ignore this rule for it (``paths:`` in the config).
    """
    corpus = ctx.corpus
    per: dict[int, dict[str, ReadProblem]] = {}
    for (kind, f, detail), problem in corpus.problems.items():
        if kind == "foreign":
            per.setdefault(f, {})[detail] = problem
    for f in sorted(per, key=lambda f: corpus.paths[f]):
        kinds = per[f]
        parts = []
        count = 0
        samples: list[int] = []
        for detail, what in (
            ("not JSON", "not JSON"),
            ("JSON, not OTLP", "JSON but no OTLP document"),
        ):
            prob = kinds.get(detail)
            if prob is None:
                continue
            count += prob.count
            samples += prob.samples
            shown = ", ".join(map(str, prob.samples)) + (
                ", ..." if prob.count > len(prob.samples) else ""
            )
            line_word = "line" if len(prob.samples) == 1 and prob.count == 1 else "lines"
            parts.append(f"{prob.count} {what} ({line_word} {shown})")
        first = min((p.first for p in kinds.values()), key=lambda loc: loc[1])
        yield Hit(
            message=(
                f"{count} {'line is not OTLP and was' if count == 1 else 'lines are not OTLP and were'} skipped: "
                f"{'; '.join(parts)}; "
                "the process's own output is interleaved with the exporter's"
            ),
            service=None,
            count=count,
            locations=[corpus.location(first)],
            services=corpus.services_in(f),
            context={
                "not_json": kinds["not JSON"].count if "not JSON" in kinds else 0,
                "other_json": kinds["JSON, not OTLP"].count if "JSON, not OTLP" in kinds else 0,
                "lines": sorted(samples),
            },
        )


RULES = (
    deprecated_attribute,
    attribute_type_conflict,
    attribute_key_spelling,
    otlp_json_noncanonical,
    otlp_json_id_encoding,
    unreadable_record,
    invalid_utf8,
    non_otlp_lines,
)
