"""Hits for the problems the readers counted per file (RD001, SC004, SC005).

``Corpus.problems`` holds one entry per (code, file, detail) with its count and its
first location; a rule names the codes it owns and gets one hit per entry, files in
path order.
"""

from __future__ import annotations

from collections.abc import Iterator

from otlint.core.finding import Hit
from otlint.telemetry.analysis import Context


def problem_hits(ctx: Context, code_kinds: tuple[str, ...]) -> Iterator[Hit]:
    """One hit per counted read problem whose code is in ``code_kinds``."""
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
