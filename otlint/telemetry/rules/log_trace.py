"""Log-trace (LT): a log record must reach its span."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Option, Options, number_option, rule
from otlint.core.wire import LOG_ID_KEYS
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import LOGS, LOGS_IDATTR, LOGS_IDATTR_NO_IDS, AttrLevel, Loc
from otlint.telemetry.rules.invalid_ids import invalid_id_hits
from otlint.telemetry.rules.references import dangling_hits, unresolved


@rule("LT001", "log-trace-unresolved", Join.LOG_TRACE, Level.WARNING, windowed=True)
def log_trace_unresolved(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Log records whose trace and span ids match no span in the input.

    What it checks:
        For services whose spans are in the input, every log record that carries a
        trace id (and span id) names a span that exists.

    Why it breaks the join:
        "Show the trace for this log line" lands on nothing. Usual causes: the
        logging bridge reads a context other than the active span's (a thread pool,
        a different tracer provider), the spans were sampled out while logs were
        not, or ids were rewritten on the way.

    Example:
        ``payments`` logs with ``traceId`` values that no ``payments`` (or any) span
        has.

    Fix:
        Log through the OpenTelemetry logging bridge in the same process and context
        as the tracer, and sample logs with their traces (or keep all spans for the
        traces you keep logs of).
    """
    yield from dangling_hits(ctx, ctx.corpus.logs, "log records with trace context point")


@rule("LT002", "log-invalid-ids", Join.LOG_TRACE, Level.ERROR)
def log_invalid_ids(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Log records whose trace or span id is malformed.

    What it checks:
        A log record's ``trace_id``, when set, is 16 bytes and not all zero, and its
        ``span_id``, when set, is 8 bytes and not all zero.

    Why it breaks the join:
        A malformed id cannot match any span, so the record looks traced but joins
        nothing — and some backends reject the whole record.

    Example:
        ``"traceId": "0000...0000"`` written by a logger that formats an inactive
        span context.

    Fix:
        Set the ids only when the span context is valid (the OpenTelemetry logging
        bridges do this); fix custom formatters.
    """
    yield from invalid_id_hits(ctx, ("log.trace_id", "log.span_id"))


@rule("LT003", "log-ids-in-attributes", Join.LOG_TRACE, Level.WARNING)
def log_ids_in_attributes(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Trace or span ids carried as log attributes instead of the record's own fields.

    What it checks:
        Log attributes named like ids — ``trace_id``, ``traceId``, ``span_id``,
        ``dd.trace_id``, ``traceparent`` and the like.

    Why it breaks the join:
        Backends join a log to its trace through the log record's ``trace_id`` and
        ``span_id`` fields. Ids in an attribute are text the backend does not look
        at: the log shows up with no trace, even though the id is right there.

    Example:
        A JSON log formatter that adds ``trace_id`` to every line, shipped through a
        filelog receiver without a parser that moves it into the record.

    Fix:
        Use the OpenTelemetry logging bridge (it fills the fields), or in the
        collector parse the attribute into the record
        (``trace_parser`` in the filelog receiver, or ``set(trace_id.string, ...)``
        in the transform processor).
    """
    id_keys: dict[str | None, set[str]] = defaultdict(set)
    locs: dict[str | None, list[Loc | None]] = defaultdict(list)
    for (svc, lvl, key), types in ctx.attributes.items():
        if lvl != AttrLevel.LOG or key.encode() not in LOG_ID_KEYS:
            continue
        id_keys[svc].add(key)
        locs[svc] += [loc for _count, loc in types.values()]
    for svc, found in sorted(id_keys.items(), key=lambda kv: kv[0] or ""):
        resources = [ctx.corpus.resources[r] for r in ctx.services[svc].resources]
        no_ids = sum(r.counts[LOGS_IDATTR_NO_IDS] for r in resources)
        keys = sorted(found)
        tail = f"; {no_ids} of them have no trace id of their own" if no_ids else ""
        yield Hit(
            message=f"log records carry ids as attributes ({', '.join(keys)}) instead of in the record's "
            f"trace_id/span_id fields{tail}",
            service=svc,
            count=sum(r.counts[LOGS_IDATTR] for r in resources),
            locations=ctx.locations(locs[svc]),
            context={"keys": keys, "records_without_ids": no_ids},
        )


@rule(
    "LT004",
    "log-trace-coverage",
    Join.LOG_TRACE,
    Level.WARNING,
    min_share=Option.number(0.5),
)
def log_trace_coverage(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Too few of a traced service's logs join to a span.

    What it checks:
        For each service with spans and logs in the input, the share of its log
        records that resolve to a span is at least ``min_share`` (default 0.5).

    Why it breaks the join:
        A service that traces its requests but logs outside them (or through a
        logger that is not bridged) leaves most of its logs unjoinable: on-call
        engineers cannot get from an error log to the request that caused it.

    Example:
        ``checkout`` has 2,000 spans and 10,000 logs, of which 300 carry a trace id.

    Fix:
        Log through the OpenTelemetry logging bridge inside request handling; move
        background-job logging inside spans of its own.
    """
    _missing, resolved = unresolved(ctx, ctx.corpus.logs)
    # Logs of traces the sidecar already judged and freed joined too.
    for name, n in ctx.corpus.settled_resolved_logs.items():
        resolved[name] = resolved.get(name, 0) + n
    min_share = number_option(opts, "min_share")
    for name, svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        if not svc.spans or not svc.logs:
            continue
        logs = sum(ctx.corpus.resources[r].counts[LOGS] for r in svc.resources)
        share = resolved.get(name, 0) / logs
        if share < min_share:
            yield Hit(
                message=f"only {share:.0%} of {logs} log records join to a span (minimum {min_share:.0%})",
                service=name,
                count=logs - resolved.get(name, 0),
                locations=ctx.locations(
                    ctx.first_location(r) for r in ctx.resources_of(name) if r.counts[LOGS]
                ),
                context={"share": round(share, 4), "logs": logs, "joined": resolved.get(name, 0)},
            )


RULES = (
    log_trace_unresolved,
    log_invalid_ids,
    log_ids_in_attributes,
    log_trace_coverage,
)
