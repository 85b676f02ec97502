"""Hits for records whose trace or span ids are malformed (TR001, TR002, LT002, MT002).

The readers count each malformed id in ``Corpus.bad_ids`` by (resource, record field,
problem); a rule names the fields it owns (``span.trace_id``, ``log.span_id``, ...) and
gets one hit per service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import Loc


class _Service:
    """One service's malformed ids of the fields asked for."""

    __slots__ = ("count", "locs", "problems")

    def __init__(self) -> None:
        self.count = 0
        self.locs: list[Loc] = []
        self.problems: defaultdict[str, int] = defaultdict(int)


def invalid_id_hits(ctx: Context, fields: tuple[str, ...]) -> Iterator[Hit]:
    """One hit per service with malformed ids in any of ``fields``, counting each problem."""
    per_service: dict[str | None, _Service] = defaultdict(_Service)
    for (ri, what, problem), (count, loc) in ctx.corpus.bad_ids.items():
        if what not in fields:
            continue
        entry = per_service[ctx.service_of(ri)]
        entry.count += count
        entry.locs.append(loc)
        entry.problems[f"{what}: {problem}"] += count
    for svc, entry in sorted(per_service.items(), key=lambda kv: kv[0] or ""):
        problems = dict(sorted(entry.problems.items()))
        yield Hit(
            message="invalid ids ("
            + ", ".join(f"{p} x{n}" for p, n in problems.items())
            + "): these records join nothing",
            service=svc,
            count=entry.count,
            locations=ctx.locations(entry.locs),
            context={"problems": problems},
        )
