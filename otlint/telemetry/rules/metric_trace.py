"""Metric-trace (MT): a metric exemplar must reach its span."""

from __future__ import annotations

from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context
from otlint.telemetry.rules.invalid_ids import invalid_id_hits
from otlint.telemetry.rules.references import dangling_hits


@rule("MT001", "exemplar-unresolved", Join.METRIC_TRACE, Level.WARNING, windowed=True)
def exemplar_unresolved(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    yield from dangling_hits(ctx, ctx.corpus.exemplars, "exemplars point")


@rule("MT002", "exemplar-invalid-ids", Join.METRIC_TRACE, Level.ERROR)
def exemplar_invalid_ids(ctx: Context, opts: Options) -> Iterator[Hit]:
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
    yield from invalid_id_hits(ctx, ("exemplar.trace_id", "exemplar.span_id"))


RULES = (
    exemplar_unresolved,
    exemplar_invalid_ids,
)
