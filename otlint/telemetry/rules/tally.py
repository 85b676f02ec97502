"""``Tally``: what a rule adds up per group (a service, a key) before it yields one hit each."""

from __future__ import annotations

from otlint.telemetry.corpus.corpus import Loc


class Tally:
    """Records counted, the names seen (keys, levels, ...), and where (first locations)."""

    __slots__ = ("count", "locs", "names")

    def __init__(self) -> None:
        self.count = 0
        self.names: set[str] = set()
        self.locs: list[Loc | None] = []
