"""References from a log record or an exemplar to a span: those that resolve, and hits for those that do not.

Used by LT001 and LT004 (log records) and MT001 (exemplars), and by the sidecar's window,
which counts the log records that joined before it frees a trace.
"""

from __future__ import annotations

from collections.abc import Iterator

from otlint.core.finding import Hit
from otlint.telemetry.analysis import Context, Examples
from otlint.telemetry.corpus.corpus import Table


def unresolved(
    ctx: Context, table: Table
) -> tuple[dict[str | None, Examples], dict[str | None, int]]:
    """Per service: references that resolve to no span, and how many resolve (see ``Resolution``)."""
    found = ctx.resolution(table)
    return found.missing, found.resolved


def dangling_hits(ctx: Context, table: Table, what: str) -> Iterator[Hit]:
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
