"""Log-trace and metric-trace: a log record or an exemplar must reach its span."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import rule
from otlint.core.wire import LOG_ID_KEYS
from otlint.telemetry.analysis import Context, Examples
from otlint.telemetry.corpus.corpus import LOGS, LOGS_IDATTR, LOGS_IDATTR_NO_IDS, AttrLevel, Table
from otlint.telemetry.rules.trace import _bad_ids

_ZERO8 = bytes(8)


def unresolved(
    ctx: Context, table: Table
) -> tuple[dict[str | None, Examples], dict[str | None, int]]:
    """Per service: references that resolve to no span, and how many resolve (see ``Resolution``)."""
    found = ctx.resolution(table)
    return found.missing, found.resolved


def _dangling(ctx: Context, table: Table, what: str) -> Iterator[Hit]:
    """One hit per service whose references in ``table`` point to no span."""
    missing, resolved = unresolved(ctx, table)
    for svc, ex in sorted(missing.items(), key=lambda kv: kv[0] or ""):
        total = ex.count + resolved.get(svc, 0)
        yield Hit(
            message=f"{ex.count} of {total} {what} to no span in the input",
            service=svc,
            count=ex.count,
            locations=ctx.locations(ex.locs),
            context={"unresolved": ex.count, "with_ids": total},
        )


@rule("LT001", "log-trace-unresolved", Join.LOG_TRACE, Level.WARNING, windowed=True)
def log_trace_unresolved(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    yield from _dangling(ctx, ctx.corpus.logs, "log records with trace context point")


@rule("LT002", "log-invalid-ids", Join.LOG_TRACE, Level.ERROR)
def log_invalid_ids(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    yield from _bad_ids(ctx, ("log.trace_id", "log.span_id"))


@rule("LT003", "log-ids-in-attributes", Join.LOG_TRACE, Level.WARNING)
def log_ids_in_attributes(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    per: dict[str | None, dict[str, Any]] = defaultdict(lambda: {"keys": set(), "locs": []})
    for (svc, lvl, key), types in ctx.attributes.items():
        if lvl != AttrLevel.LOG or key.encode() not in LOG_ID_KEYS:
            continue
        entry = per[svc]
        entry["keys"].add(key)
        entry["locs"] += [loc for _count, loc in types.values()]
    for svc, entry in sorted(per.items(), key=lambda kv: kv[0] or ""):
        resources = [ctx.corpus.resources[r] for r in ctx.services[svc].resources]
        no_ids = sum(r.counts[LOGS_IDATTR_NO_IDS] for r in resources)
        entry["count"] = sum(r.counts[LOGS_IDATTR] for r in resources)
        keys = sorted(entry["keys"])
        tail = f"; {no_ids} of them have no trace id of their own" if no_ids else ""
        yield Hit(
            message=f"log records carry ids as attributes ({', '.join(keys)}) instead of in the record's "
            f"trace_id/span_id fields{tail}",
            service=svc,
            count=entry["count"],
            locations=ctx.locations(entry["locs"]),
            context={"keys": keys, "records_without_ids": no_ids},
        )


@rule("LT004", "log-trace-coverage", Join.LOG_TRACE, Level.WARNING, min_share=0.5)
def log_trace_coverage(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    min_share = float(opts["min_share"])
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


@rule("MT001", "exemplar-unresolved", Join.METRIC_TRACE, Level.WARNING, windowed=True)
def exemplar_unresolved(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Metric exemplars whose trace and span ids match no span in the input.

    What it checks:
        For services whose spans are in the input, every exemplar with ids names a
        span that exists.

    Why it breaks the join:
        An exemplar is the link from a latency spike on a dashboard to a trace that
        shows it. One that points nowhere is a dead link: the span was sampled out
        after the exemplar was taken (tail sampling), or the meter and the tracer
        see different contexts.

    Example:
        ``http.server.request.duration`` exemplars of ``checkout`` whose span ids are
        in no ``checkout`` trace.

    Fix:
        Use the ``trace_based`` exemplar filter so only sampled spans are recorded,
        and keep tail-sampled traces that have exemplars.
    """
    yield from _dangling(ctx, ctx.corpus.exemplars, "exemplars point")


@rule("MT002", "exemplar-invalid-ids", Join.METRIC_TRACE, Level.ERROR)
def exemplar_invalid_ids(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Exemplars whose trace or span id is malformed.

    What it checks:
        An exemplar's ``trace_id`` is 16 bytes and its ``span_id`` 8 bytes, neither all
        zero, whenever either is set.

    Why it breaks the join:
        A malformed id links the metric point to no span at all.

    Example:
        An exemplar with a 16-byte span id from a converter that confused the two.

    Fix:
        Record exemplars through the SDK (it takes the ids from the active span).
    """
    yield from _bad_ids(ctx, ("exemplar.trace_id", "exemplar.span_id"))


RULES = (
    log_trace_unresolved,
    log_invalid_ids,
    log_ids_in_attributes,
    log_trace_coverage,
    exemplar_unresolved,
    exemplar_invalid_ids,
)
