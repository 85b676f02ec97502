"""The join vocabulary: what each finding breaks, and how breaks are ranked.

A *join* is a way to get from one piece of telemetry to another (a log line to its
span, a client span to the server span it called, a service's traces to its metrics).
Every rule names the one join it breaks; the report is ordered by the join's *layer*
(without identity no other join can be made, without trace context no log can reach
its trace, ...), then by how many records the break affects.
"""

from __future__ import annotations

from enum import StrEnum


class Join(StrEnum):
    """A join between pieces of telemetry that a finding can break."""

    INPUT = "input"
    IDENTITY = "identity"
    TRUST = "trust"
    TRACE = "trace"
    LOG_TRACE = "log-trace"
    METRIC_TRACE = "metric-trace"
    SIGNAL_RESOURCE = "signal-resource"
    DEPLOY = "deploy"
    INFRA = "infra"
    PEER = "peer"
    SCHEMA = "schema"

    @property
    def layer(self) -> int:
        """Rank of the join: lower layers take more joins down with them when broken."""
        return _LAYER[self]

    @property
    def description(self) -> str:
        """What the join connects, for reports and docs."""
        return _DESCRIPTION[self]


_LAYER: dict[Join, int] = {
    Join.INPUT: 0,
    Join.IDENTITY: 1,
    Join.TRUST: 1,
    Join.TRACE: 2,
    Join.LOG_TRACE: 3,
    Join.METRIC_TRACE: 3,
    Join.SIGNAL_RESOURCE: 4,
    Join.DEPLOY: 5,
    Join.INFRA: 5,
    Join.PEER: 5,
    Join.SCHEMA: 6,
}

_DESCRIPTION: dict[Join, str] = {
    Join.INPUT: "records otlint could read at all (an unreadable record joins nothing)",
    Join.IDENTITY: "a record to the service, instance and environment that emitted it",
    Join.TRUST: (
        "a record to the people allowed to read it (one that carries a credential has to be"
        " purged or locked away, and then joins nothing)"
    ),
    Join.TRACE: "a span to its parent, across services",
    Join.LOG_TRACE: "a log record to its span",
    Join.METRIC_TRACE: "a metric exemplar to its span",
    Join.SIGNAL_RESOURCE: "a service's traces to its metrics to its logs",
    Join.DEPLOY: "telemetry to the deploy or change that produced it",
    Join.INFRA: "app telemetry to its host, pod, container and cloud resource",
    Join.PEER: "a client span to the service it called",
    Join.SCHEMA: "the same fact to the same key everywhere",
}

#: Joins in report order.
ORDER: tuple[Join, ...] = tuple(sorted(Join, key=lambda j: (j.layer, list(Join).index(j))))
