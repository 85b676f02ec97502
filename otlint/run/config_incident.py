"""Each service's incident path as the configuration decides it (``check-config``).

The same four links as ``otlint.run.incident`` (metrics -> traces -> deploy ->
downstream), judged where configuration decides them, from the units, the data-plane
map and the findings: a link the files cannot decide (a name, version or exporter set
in code, an endpoint known at deploy time) is ``not-checked``, never guessed broken.

- metrics: the unit exports metrics (``OTEL_METRICS_EXPORTER`` is not ``none``), under a
  service name configuration gives, to a collector pipeline that takes them;
- traces: nothing on the way drops the exemplars (``OTEL_METRICS_EXEMPLAR_FILTER=always_off``,
  a Prometheus exporter in the text format) and nothing rewrites the identity that joins
  metrics to traces on one signal only;
- deploy: ``service.version`` is configured, and no processor deletes or overwrites it;
- downstream: the propagators let its calls join the services it calls (no CF02x error).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from otlint.configs.dataplane import DataPlane, Sender, build, drops_exemplars
from otlint.configs.facts import ConfigFacts, Unit
from otlint.core.finding import Finding, Level
from otlint.core.joins import Join
from otlint.report.incident import BROKEN, NOT_CHECKED, OK, IncidentPath, Link

__all__ = ["config_incident_paths"]


def config_incident_paths(facts: ConfigFacts, findings: Sequence[Finding]) -> list[IncidentPath]:
    """One path per service a deployable unit names (in name order); none without units."""
    plane = build(facts)
    units: dict[str, Unit] = {}
    for unit in facts.units:
        if unit.deployable and not unit.disabled and unit.instrumented and unit.service:
            units.setdefault(unit.service, unit)
    serious: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.service is not None and f.level.severity >= Level.WARNING.severity:
            serious[f.service].append(f)
    sent: dict[int, dict[str, Sender]] = defaultdict(dict)
    for sender in plane.senders:
        sent[id(sender.unit)][sender.signal] = sender
    out = []
    for name in sorted(units):
        unit = units[name]
        mine = serious[name]
        senders = sent[id(unit)]
        links = {
            "metrics": _metrics(unit, senders.get("metrics")),
            "traces": _traces(unit, senders.get("metrics"), plane),
            "deploy": _deploy(unit, mine, list(senders.values()), plane),
            "downstream": _downstream(mine),
        }
        out.append(IncidentPath(name, links))
    return out


def _exporter(unit: Unit, signal: str) -> str | None:
    setting = unit.env.get(f"OTEL_{signal.upper()}_EXPORTER")
    return setting.text.strip().lower() if setting is not None and setting.text else None


def _metrics(unit: Unit, sender: Sender | None) -> Link:
    exporter = _exporter(unit, "metrics")
    if exporter == "none":
        return Link(BROKEN, "OTEL_METRICS_EXPORTER=none: it exports no metrics")
    if unit.exports is not None and "metrics" not in unit.exports:
        return Link(BROKEN, "its SDK configuration has no meter_provider: it exports no metrics")
    if unit.exports is not None and unit.exports["metrics"] is None:
        return Link(OK, "metrics exported by its SDK configuration's reader (not OTLP)")
    if unit.service and unit.service.startswith("unknown_service"):
        return Link(BROKEN, "service.name is the SDK default: its metrics mix with others")
    if exporter is not None and "otlp" not in exporter:
        return Link(OK, f"metrics exported by {exporter}")
    if sender is None or sender.endpoint is None:
        return Link(NOT_CHECKED, "where its metrics go is not configured here (the SDK default)")
    if sender.unreached:
        return Link(BROKEN, f"its metrics are dropped: {sender.unreached}")
    if sender.candidates:
        return Link(
            NOT_CHECKED,
            f"its metrics go to {sender.candidates[0].hosts[0]}, which {len(sender.candidates)} "
            "collectors of the run are called (alternative compose files)",
        )
    if sender.instance is not None:
        return Link(OK, f"metrics to {sender.instance.label}")
    if sender.destination is not None:
        return Link(OK, f"metrics to {sender.destination.label}")
    return Link(NOT_CHECKED, "its metrics endpoint is known only at deploy time")


def _traces(unit: Unit, sender: Sender | None, plane: DataPlane) -> Link:
    exemplar = unit.env.get("OTEL_METRICS_EXEMPLAR_FILTER")
    if exemplar is not None and (exemplar.text or "").strip().lower() == "always_off":
        return Link(
            BROKEN, "OTEL_METRICS_EXEMPLAR_FILTER=always_off: its metrics carry no exemplars"
        )
    if sender is None or sender.instance is None or sender.instance.opaque:
        return Link(NOT_CHECKED, "the path of its metrics is not in the files checked")
    port = sender.endpoint.port if sender.endpoint is not None else None
    routes = [r for r in plane.routes(sender.instance, "metrics", port) if r.destination]
    if not routes:
        return Link(NOT_CHECKED, "its metrics reach no backend in the files checked")
    for route in routes:
        if route.exporter is None:
            continue
        last, eid, _at = route.exporter
        exporter = last.exporters.get(eid)
        if exporter is None:
            continue
        if drops_exemplars(exporter):
            return Link(
                BROKEN,
                f"exporter {eid} of {last.label} writes its metrics without "
                "exemplars (Prometheus text format)",
            )
    return Link(OK, "exemplars kept on the way to its metrics backend", via="exemplars")


def _deploy(unit: Unit, mine: list[Finding], senders: list[Sender], plane: DataPlane) -> Link:
    dropped = [f for f in mine if f.join is Join.DEPLOY]
    if dropped:
        return Link(BROKEN, dropped[0].message)
    for sender in senders:
        if sender.instance is None or sender.instance.opaque:
            continue
        port = sender.endpoint.port if sender.endpoint is not None else None
        for route in plane.routes(sender.instance, sender.signal, port):
            for instance, _flow, processor, _at in route.processors():
                for change in processor.changes:
                    if change.scope == "resource" and change.hits("service.version"):
                        return Link(
                            BROKEN,
                            f"processor {processor.id} of {instance.label} {change.op}s "
                            f"service.version on its {sender.signal}",
                        )
    if "service.version" in unit.attributes:
        return Link(OK, f"service.version set by {unit.attributes['service.version'].source}")
    if unit.attributes_unknown:
        return Link(NOT_CHECKED, "service.version may come from " + unit.attributes_unknown[0])
    return Link(NOT_CHECKED, "service.version is not in its configuration (it may be set in code)")


def _downstream(mine: list[Finding]) -> Link:
    broken = [f for f in mine if f.join is Join.TRACE]
    if broken:
        return Link(BROKEN, f"{broken[0].code}: {broken[0].message}")
    return Link(OK, "its propagators join the services it calls")
