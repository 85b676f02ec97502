"""``Tally``: what a rule adds up per group (a service, a key) before it yields one hit each."""

from __future__ import annotations

from dataclasses import dataclass, field

from otlint.telemetry.corpus.corpus import Loc


@dataclass
class Tally:
    """Records counted, the names seen (keys, levels, ...), and where (first locations)."""

    count: int = 0
    names: set[str] = field(default_factory=set)
    locs: list[Loc | None] = field(default_factory=list)
