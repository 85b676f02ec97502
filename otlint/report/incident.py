"""The incident path of a service: can a latency spike be followed to its cause?

The joins exist to follow an incident. A spike in a service's metrics leads to the traces
behind it (exemplars on its histograms, or the same identity on both signals), the traces
to the deploy that caused it (``service.version`` on every signal), and the client spans
to the downstream service whose errors rose (calls that resolve to a service). The path
is four links in that order; it can be followed end to end when each one holds.
``otlint.run.incident`` decides each link from the join matrix and the corpus facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from otlint.core.jsontypes import JSONObject
from otlint.core.redact import shown_name

#: The links of the path, in the order an on-call engineer follows them.
LINKS: tuple[str, ...] = ("metrics", "traces", "deploy", "downstream")

#: What each link connects, for reports and docs.
LINK_DESCRIPTION: dict[str, str] = {
    "metrics": "the service's metrics, found by its service.name",
    "traces": "from its metrics to the traces behind them (exemplars, or the same identity)",
    "deploy": "to the release that produced them (service.version on every signal)",
    "downstream": "to the services it calls (client spans that resolve to a callee)",
}

# A link's status. "no-data" on ``downstream`` is a service that calls no other service in
# the input: nothing to follow, nothing missing.
OK, BROKEN, NO_DATA, NOT_CHECKED = "ok", "broken", "no-data", "not-checked"


@dataclass(frozen=True)
class Link:
    """One link of the path: its status and, in words, why (never an attribute value)."""

    status: str  # "ok" | "broken" | "no-data" | "not-checked"
    detail: str
    via: str | None = None  # traces: "exemplars" or "identity", when ok

    def to_json(self) -> JSONObject:
        """The link as the JSON report writes it."""
        out: JSONObject = {"status": self.status, "detail": self.detail}
        if self.via is not None:
            out["via"] = self.via
        return out


@dataclass(frozen=True)
class IncidentPath:
    """Whether a service's incident path can be followed, and the first link that cannot."""

    service: str | None
    links: dict[str, Link]
    #: The path is broken, but only by what ``--baseline`` hides: known and accepted.
    baselined: bool = False

    def __post_init__(self) -> None:
        # Named as the matrix cells and findings name it, so they meet.
        object.__setattr__(self, "service", shown_name(self.service))

    @property
    def failing(self) -> list[str]:
        """Every link that does not hold, in path order."""
        return [
            name
            for name in LINKS
            if not (
                self.links[name].status == OK
                or (name == "downstream" and self.links[name].status == NO_DATA)
            )
        ]

    @property
    def missing(self) -> str | None:
        """The first link that does not hold (None when the path can be followed)."""
        failing = self.failing
        return failing[0] if failing else None

    @property
    def followable(self) -> bool:
        """Every link holds (a service that calls nobody has nothing downstream to lose)."""
        return self.missing is None

    @property
    def status(self) -> str:
        """``followable``, or the first missing link's status: ``broken``, ``no-data``, ``not-checked``."""
        missing = self.missing
        if missing is None:
            return "followable"
        return self.links[missing].status

    @property
    def why(self) -> str:
        """The first missing link's reason; for a followable path, how each link holds."""
        missing = self.missing
        if missing is not None:
            return self.links[missing].detail
        return "; ".join(self.links[name].detail for name in LINKS)

    def summary(self) -> str:
        """One line for reports: how the path holds, or why it stops and what else fails."""
        if self.missing is None:
            via = self.links["traces"].via
            return f"followable (traces via {via})" if via else "followable"
        also = self.failing[1:]
        return self.why + (f" (also: {', '.join(also)})" if also else "")

    def to_json(self) -> JSONObject:
        """``{"service": ..., "incident": {...}}`` as the JSON report's ``incidents`` list has it."""
        incident: JSONObject = {
            "followable": self.followable,
            "status": self.status,
            "missing": self.missing,
            "why": self.why,
            "links": {name: self.links[name].to_json() for name in LINKS},
        }
        if self.baselined:
            incident["baselined"] = True
        return {"service": self.service, "incident": incident}
