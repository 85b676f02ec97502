"""Trace (TR): a span must reach its parent, across services."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context, Edge, Examples
from otlint.telemetry.rules.invalid_ids import invalid_id_hits


def _examples(ctx: Context, table: dict[str | None, Examples], message: str) -> Iterator[Hit]:
    for svc, ex in sorted(table.items(), key=lambda kv: kv[0] or ""):
        yield Hit(message=message, service=svc, count=ex.count, locations=ctx.locations(ex.locs))


@rule("TR001", "invalid-trace-id", Join.TRACE, Level.ERROR)
def invalid_trace_id(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Spans whose trace id is empty, all zeros, or not 16 bytes.

    What it checks:
        Every span's ``trace_id`` is 16 bytes and not all zero (the W3C Trace
        Context rules for a valid trace id).

    Why it breaks the join:
        The trace id is the join key of the whole trace. A span without a valid one
        belongs to no trace: backends drop it or file it alone, and no log or
        exemplar can reach it.

    Example:
        ``"traceId": ""`` or ``"traceId": "00000000000000000000000000000000"`` in a
        collector dump; a 24-byte id from an OTLP/JSON writer that base64-encoded it.

    Fix:
        Let the SDK generate ids; when converting from another format (Zipkin,
        Jaeger, X-Ray) check the converter pads 64-bit trace ids to 128 bits.
    """
    yield from invalid_id_hits(ctx, ("span.trace_id",))


@rule("TR002", "invalid-span-id", Join.TRACE, Level.ERROR)
def invalid_span_id(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Spans whose span id or parent span id is empty, all zeros, or not 8 bytes.

    What it checks:
        Every span's ``span_id`` is 8 bytes and not all zero, and a
        ``parent_span_id``, when present, is too.

    Why it breaks the join:
        A span with no valid id cannot be anyone's parent, so its children become
        orphans; a malformed parent id cuts the span off from its parent.

    Example:
        ``"spanId": "0000000000000000"``; ``"parentSpanId": "abc"``.

    Fix:
        Let the SDK generate ids; fix the exporter or converter that writes them.
    """
    yield from invalid_id_hits(ctx, ("span.span_id", "span.parent_span_id"))


@rule("TR003", "duplicate-span-id", Join.TRACE, Level.WARNING, windowed=True)
def duplicate_span_id(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Two spans in one trace share a span id.

    What it checks:
        Each (trace id, span id) pair occurs once in the input.

    Why it breaks the join:
        A child names its parent by span id; with two candidates the parent is
        ambiguous and backends keep one at random. Duplicates also come from
        exporters that retry without deduplication, inflating counts.

    Example:
        A proxy that forwards ``traceparent`` unchanged and starts its own span with
        the caller's span id.

    Fix:
        Let each process generate its own span ids; check for double export (two
        pipelines, or an SDK and an agent, both exporting the same spans). When the
        copies are in different files, the message says so: a folder of separate
        captures of one trace (or edited copies of one fixture) is checked file by file.
    """
    message = "spans repeat a (trace id, span id) pair already seen"
    for svc, ex in sorted(ctx.graph.duplicates.items(), key=lambda kv: kv[0] or ""):
        files = {loc[0] for loc in ex.locs}
        hint = (
            f" (the copies are in {len(files)} different files: if they are separate captures, "
            "or edited copies of one fixture, check each file on its own)"
            if len(files) > 1
            else ""
        )
        yield Hit(
            message=message + hint, service=svc, count=ex.count, locations=ctx.locations(ex.locs)
        )


@rule("TR004", "orphan-remote-parent", Join.TRACE, Level.WARNING, windowed=True)
def orphan_remote_parent(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Spans whose parent is in another process and is not in the input.

    What it checks:
        For every span with a parent span id whose parent is absent, and which the
        span's flags mark as remote (bits 8-9), or — when the SDK did not set those
        bits — which is a SERVER or CONSUMER span.

    Why it breaks the join:
        The caller sent a ``traceparent`` but its span never reached the same place:
        the calling service is not instrumented, exports elsewhere, or samples
        differently (a head sampler that does not respect the parent's decision).
        The trace is cut in two at a service boundary.

    Example:
        ``payments`` SERVER spans whose parent ids point to ``checkout`` CLIENT spans
        that no dump contains.

    Fix:
        Make sure the caller is instrumented and exports to the same pipeline, and
        that every service uses a parent-based sampler (``parentbased_*``).
    """
    yield from _examples(
        ctx,
        ctx.graph.orphans_remote,
        "spans have a remote parent that is not in the input: the trace is cut at a service boundary",
    )


@rule("TR005", "orphan-local-parent", Join.TRACE, Level.WARNING, windowed=True)
def orphan_local_parent(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Spans whose parent was in the same process and is not in the input.

    What it checks:
        For every span with a parent span id whose parent is absent, and which the
        span's flags mark as local — or, without flags, which is an INTERNAL, CLIENT
        or PRODUCER span.

    Why it breaks the join:
        The parent was created in the same service, so it was lost inside that
        service: never ended, dropped by a full export queue, filtered by a
        processor, or cut off by a capture window.

    Example:
        A CLIENT span whose INTERNAL parent span was never ``end()``-ed.

    Fix:
        End every span (use context managers), raise the batch processor's queue
        size, and check filter processors in the collector pipeline.
    """
    yield from _examples(
        ctx,
        ctx.graph.orphans_local,
        "spans have a local parent that is not in the input: a span was lost in this service",
    )


def propagation_breaks(ctx: Context) -> dict[str | None, list[Edge]]:
    """Callee -> the broken edges into it, for callees whose SERVER spans are all roots."""
    graph = ctx.graph
    into: dict[str | None, list[Edge]] = defaultdict(list)
    for edge in graph.edges.values():
        if edge.callee != edge.caller:
            into[edge.callee].append(edge)
    out: dict[str | None, list[Edge]] = {}
    for callee, edges in into.items():
        roots, servers = graph.server_roots.get(callee, (0, 0))
        if (
            servers
            and roots == servers
            and all(e.joined == 0 for e in edges)
            and any(e.calls for e in edges)
        ):
            out[callee] = edges
    return out


@rule("TR006", "client-without-server-child", Join.TRACE, Level.WARNING, windowed=True)
def client_without_server_child(ctx: Context, opts: Options) -> Iterator[Hit]:
    """CLIENT or PRODUCER spans with no SERVER or CONSUMER child in a service that is in the input.

    What it checks:
        For each client span, the called service is found from its ``peer.service``
        or from the ``server.address``/``server.port`` the callee's SERVER spans carry
        (or a queue's ``messaging.destination.name``). When that service is in the
        input, some span of it must be the client span's child — or, for a batch
        consumer, link to it (span links). Reported once per ``caller → callee``
        edge. (When every call into a service breaks and its server spans are all
        roots, TR007 reports the edge instead.)

    Why it breaks the join:
        The callee received the request but did not continue the caller's trace: the
        request went through a proxy that strips headers, an async hop that drops
        context, or a client library that is not instrumented for injection.

    Example:
        ``checkout → payments``: 40 CLIENT spans, 12 of them without a payments SERVER
        child.

    Fix:
        Instrument the HTTP/gRPC client so it injects ``traceparent``; configure the
        proxy or mesh to forward trace headers; carry context across queues in
        message headers.
    """
    diagnosed = propagation_breaks(ctx)
    for (caller, callee), edge in sorted(
        ctx.graph.edges.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")
    ):
        if edge.broken == 0 or callee in diagnosed or caller == callee:
            continue
        yield Hit(
            message=f"{edge.broken} of {edge.calls} calls from {caller or '<no service.name>'} to "
            f"{callee or '<no service.name>'} have no server span child",
            service=caller,
            peer=callee,
            count=edge.broken,
            locations=ctx.locations([edge.first_broken]),
            context={"calls": edge.calls, "joined": edge.joined},
        )


@rule("TR007", "propagator-mismatch", Join.TRACE, Level.ERROR, windowed=True)
def propagator_mismatch(ctx: Context, opts: Options) -> Iterator[Hit]:
    """A service starts a new trace for every request its callers send it.

    What it checks:
        A service whose SERVER/CONSUMER spans are all roots, while the CLIENT spans
        of its callers that address it are all childless.

    Why it breaks the join:
        This is the signature of a propagator mismatch: the caller injects one
        header format (W3C ``traceparent``) and the callee extracts another (B3,
        Jaeger ``uber-trace-id``), or the callee has no propagator at all. Every
        trace through this service is split in two, and the callee's logs join to
        traces that contain only the callee.

    Example:
        ``checkout`` on ``OTEL_PROPAGATORS=tracecontext,baggage``; ``inventory`` on
        ``OTEL_PROPAGATORS=b3``.

    Fix:
        Change the callee (the finding names it, and the join matrix marks it): its
        extractor must read the format its callers inject. Use the same propagators
        everywhere — ``tracecontext,baggage`` — or, during a migration, give the callee
        both formats (``tracecontext,baggage,b3multi``) so it accepts old and new
        callers alike.
    """
    for callee, edges in sorted(propagation_breaks(ctx).items(), key=lambda kv: kv[0] or ""):
        name = callee or "<no service.name>"
        for edge in sorted(edges, key=lambda e: e.caller or ""):
            caller = edge.caller or "<no service.name>"
            yield Hit(
                message=f"every call from {caller} into {name} starts a new trace: none of its {edge.calls} calls "
                f"has a server child and all of {name}'s server spans are roots. Fix {name} (the callee): its "
                f"propagators extract none of the headers {caller} sends (or it extracts no context at all); "
                f"give it the propagators {caller} injects (OTEL_PROPAGATORS=tracecontext,baggage, plus "
                "b3multi or jaeger while callers still send those)",
                service=edge.caller,
                peer=callee,
                count=edge.calls,
                locations=ctx.locations([edge.first_broken]),
                context={"calls": edge.calls, "fix": "callee"},
                blame=callee,
            )


@rule("TR008", "parent-cycle", Join.TRACE, Level.ERROR, windowed=True)
def parent_cycle(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Spans that are their own ancestor: following parent ids goes round in a circle.

    What it checks:
        Following each span's parent span id, within its trace, reaches a root or a
        parent that is not in the input. Reported once per cycle, naming the trace,
        the services on it and how many spans it holds. A cycle through a span id
        that two spans share is left to TR003 (the parent is ambiguous, not circular).

    Why it breaks the join:
        A trace is a tree: backends find its root and hang every span under its
        parent. A cycle has no root, so the spans on it (and every span below them)
        are shown as a broken or empty trace, or dropped, and no log or exemplar that
        points into them leads anywhere readable.

    Example:
        Span A names span B as its parent and B names A; or a span names itself
        (``parentSpanId`` equal to its own ``spanId``), as a proxy that copies the
        incoming ``traceparent`` into its own span can produce.

    Fix:
        Let each process generate its own span ids and take the parent id from the
        extracted context, never from its own span; check converters and proxies
        that rewrite span or parent ids.
    """
    for cycle in ctx.cycle_facts:
        names = [s or "<no service.name>" for s in cycle.services]
        if cycle.spans == 1:
            shape = "a span is its own parent"
        else:
            shape = f"{cycle.spans} spans are each other's ancestors"
        yield Hit(
            message=f"trace {cycle.trace}: {shape} (services: {', '.join(names)}): the trace has no root and cannot be "
            "assembled",
            service=cycle.services[0],
            peer=cycle.services[1] if len(cycle.services) == 2 else None,
            count=cycle.spans,
            locations=ctx.locations(cycle.locs),
            context={"trace_id": cycle.trace, "services": names, "spans": cycle.spans},
        )


RULES = (
    invalid_trace_id,
    invalid_span_id,
    duplicate_span_id,
    orphan_remote_parent,
    orphan_local_parent,
    client_without_server_child,
    propagator_mismatch,
    parent_cycle,
)
