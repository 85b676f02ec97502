"""Schema (SC): the same fact under the same key, type and encoding everywhere."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.core.semconv import deprecations
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import AttrLevel, Loc
from otlint.telemetry.rules.read_problems import problem_hits
from otlint.telemetry.rules.tally import Tally

_KIND_NAMES = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


_KIND_ORDER = ["server", "client", "consumer", "producer", "internal", "unspecified"]


@rule("SC001", "deprecated-attribute", Join.SCHEMA, Level.WARNING)
def deprecated_attribute(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    per: dict[tuple[str | None, str], Tally] = defaultdict(Tally)  # names: the levels
    for (svc, lvl, key), types in ctx.attributes.items():
        if key in deprecated:
            entry = per[(svc, key)]
            entry.names.add(AttrLevel(lvl).label)
            for count, loc in types.values():
                entry.count += count
                entry.locs.append(loc)
    kinds: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for (ri, kb, kind), _n in ctx.corpus.kind_keys.items():
        kinds[(ctx.service_of(ri), kb.decode("utf-8", "replace"))].add(
            _KIND_NAMES.get(kind, "unspecified")
        )
    for (svc, key), entry in sorted(per.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        found = deprecated[key]
        seen = sorted(kinds.get((svc, key), ()), key=_KIND_ORDER.index)
        # A key on resources or logs as well as spans: every kind the note names applies.
        span_only = entry.names <= {"span"}
        advice = found.advice(seen if span_only else ())
        yield Hit(
            message=f"{key} is deprecated: {advice}",
            service=svc,
            count=entry.count,
            locations=ctx.locations(entry.locs),
            context={
                "key": key,
                "replacement": found.replacements[0] if len(found.replacements) == 1 else None,
                "replacements": list(found.replacements),
                "how": found.kind,
                "levels": sorted(entry.names),
                **({"span_kinds": seen} if found.kind == "by-span-kind" and seen else {}),
                **(
                    {"note": found.note} if found.kind in ("note", "one-of", "by-span-kind") else {}
                ),
            },
        )


@rule("SC002", "attribute-type-conflict", Join.SCHEMA, Level.WARNING)
def attribute_type_conflict(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    # (level, key) -> value type -> service -> (records, first location)
    per_key: dict[tuple[int, str], dict[str, dict[str | None, tuple[int, Loc | None]]]] = (
        defaultdict(lambda: defaultdict(dict))
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
def attribute_key_spelling(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    # folded key -> spelling -> service -> (records, first location)
    groups: dict[str, dict[str, dict[str | None, tuple[int, Loc | None]]]] = defaultdict(
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


@rule("SC004", "otlp-json-noncanonical", Join.SCHEMA, Level.INFO)
def otlp_json_noncanonical(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    yield from problem_hits(ctx, ("noncanonical",))


@rule("SC005", "otlp-json-id-encoding", Join.SCHEMA, Level.ERROR)
def otlp_json_id_encoding(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    yield from problem_hits(ctx, ("id-encoding",))


RULES = (
    deprecated_attribute,
    attribute_type_conflict,
    attribute_key_spelling,
    otlp_json_noncanonical,
    otlp_json_id_encoding,
)
