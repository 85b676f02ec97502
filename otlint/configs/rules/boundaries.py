"""Config rules CF05x, boundaries: where a signal crosses into another system, and which
joins the crossing costs.

They read the data-plane map (``otlint.configs.dataplane``): the run's collectors with
their split configurations merged, the units that send to them, and the routes from each
receiver through processors, connectors and agent -> gateway hops to each destination.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.configs.rules.wording import plural
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.core.semconv import deprecations

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.dataplane import DataPlane, Flow, Instance, Sender
    from otlint.configs.facts import ConfigFacts, Processor

#: Processors that add or set resource identity on the records they pass.
_IDENTITY_ADDERS = frozenset({"k8sattributes", "resourcedetection"})
#: What each adder writes, for messages (the detectors decide resourcedetection's).
_ADDS = {
    "k8sattributes": "k8s.pod.name, k8s.pod.uid, k8s.namespace.name, k8s.node.name, ...",
    "resourcedetection": "host.name, cloud.*, ... (per detector)",
}
_SAMPLERS = frozenset({"probabilistic_sampler", "tail_sampling"})
_IDENTITY_KEYS = (
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "deployment.environment.name",
)


def _pipelines(names: list[str]) -> str:
    """``pipeline logs`` / ``pipelines logs, logs/app``."""
    return f"{'pipeline' if len(names) == 1 else 'pipelines'} {plural(names)}"


def _exports(instance: Instance, flow: Flow) -> bool:
    """Whether anything leaves ``flow`` for a backend or a connector (debug output does not)."""
    from otlint.configs.facts import NON_EXPORTING

    for eid, _at in flow.exporters:
        exporter = instance.exporters.get(eid)
        if eid in instance.connectors or (
            exporter is not None and exporter.type not in NON_EXPORTING
        ):
            return True
    return False


def _plane(facts: ConfigFacts) -> DataPlane:
    from otlint.configs.dataplane import build

    return build(facts)


def _receivers(flow: Flow) -> frozenset[str]:
    return frozenset(rid for rid, _ in flow.receivers)


def _types(instance: Instance, flow: Flow) -> dict[str, tuple[Processor, Location]]:
    out: dict[str, tuple[Processor, Location]] = {}
    for pid, at in flow.processors:
        processor = instance.processors.get(pid)
        if processor is not None:
            out.setdefault(processor.type, (processor, at))
    return out


def _share(processor: Processor) -> tuple[float | None, str]:
    """The share of traces a sampler keeps (None: decided by its policies), as words."""
    config = processor.config if isinstance(processor.config, dict) else {}
    if processor.type == "probabilistic_sampler":
        pct = config.get("sampling_percentage")
        if isinstance(pct, int | float) and not isinstance(pct, bool):
            return float(pct) / 100, f"keeps {pct:g}% of traces"
        return None, "keeps a share of traces"
    return None, "keeps only the traces its policies choose"


def _siblings(instance: Instance, flow: Flow, signal: str) -> list[Flow]:
    """The pipelines of ``signal`` fed by a receiver ``flow`` also takes."""
    mine = _receivers(flow)
    return [f for f in instance.flows.values() if f.signal == signal and _receivers(f) & mine]


@rule("CF050", "sampler-orphans-logs", Join.LOG_TRACE, Level.WARNING, target="config")
def sampler_orphans_logs(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector samples traces while the logs of the same senders are all kept.

    What it checks:
        A unit whose SDK samples by ratio (``OTEL_TRACES_SAMPLER=traceidratio`` or
        ``parentbased_traceidratio`` with ``OTEL_TRACES_SAMPLER_ARG`` below 1) and exports
        logs over OTLP (at info when the logs exporter is only the default), and each
        traces pipeline with a ``probabilistic_sampler`` or ``tail_sampling``
        processor, against the logs pipelines fed by the same receivers: a logs pipeline
        without a matching ``probabilistic_sampler`` (same percentage; it samples logs by
        trace id) keeps logs whose spans were dropped. The finding also names the
        metrics pipelines of those receivers and the ``spanmetrics`` connectors fed before
        the sampler: their exemplars point at the dropped spans too.

    Why it breaks the join:
        A log line carries the trace and span id of the request that wrote it, sampled
        or not. With 10% of traces kept, 90% of the logs point at traces no backend
        stored: the log -> trace join fails for that share (and exemplar -> span too).

    Example:
        ``probabilistic_sampler: {sampling_percentage: 10}`` in ``traces``, nothing in
        ``logs``.

    Fix:
        Sample logs the same way (``probabilistic_sampler`` with the same percentage in
        the logs pipeline: it hashes the trace id as the traces sampler does), or sample
        in the SDK (parent-based, so unsampled requests write unsampled logs that can be
        dropped), or accept the share and say so.
    """
    plane = _plane(facts)
    yield from _sdk_samplers(facts, plane)
    for instance in plane.instances:
        for flow in instance.flows.values():
            if flow.signal != "traces":
                continue
            for pid, at in flow.processors:
                processor = instance.processors.get(pid)
                if processor is None or processor.type not in _SAMPLERS:
                    continue
                kept, how = _share(processor)
                logs = [
                    f
                    for f in _siblings(instance, flow, "logs")
                    if not _samples_alike(instance, f, processor)
                ]
                metrics = [f.id for f in _siblings(instance, flow, "metrics")]
                if not logs:
                    continue
                share = f"{(1 - kept) * 100:g}% of" if kept is not None else "the"
                also = f"; exemplars of {_pipelines(metrics)} point at them too" if metrics else ""
                yield Hit(
                    message=(
                        f"processor {pid} {how} in pipeline {flow.id}, but "
                        f"{_pipelines([f.id for f in logs])} keep every log of the same receivers: "
                        f"{share} logs point at spans no backend stores{also}"
                    ),
                    count=len(logs),
                    locations=[at, *(f.at for f in logs)],
                    context={
                        "collector": instance.label,
                        "processor": pid,
                        "pipeline": flow.id,
                        "kept": kept,
                        "logs_pipelines": [f.id for f in logs],
                        "metrics_pipelines": metrics,
                    },
                )


_RATIO_SAMPLERS = frozenset({"traceidratio", "parentbased_traceidratio"})


def _sdk_samplers(facts: ConfigFacts, plane: DataPlane) -> Iterator[Hit]:
    """Units whose SDK keeps a ratio of traces and exports every log."""
    logs = {id(s.unit): s for s in plane.senders if s.signal == "logs"}
    for unit in facts.units:
        sampler = unit.env.get("OTEL_TRACES_SAMPLER")
        if not unit.deployable or unit.disabled or sampler is None or sampler.text is None:
            continue
        if sampler.text.strip().lower() not in _RATIO_SAMPLERS:
            continue
        arg = unit.env.get("OTEL_TRACES_SAMPLER_ARG")
        try:
            kept = float(arg.text) if arg is not None and arg.text is not None else None
        except ValueError:
            continue  # the SDK warns and keeps everything
        if kept is None and arg is not None:
            continue  # set at deploy time: the share is not known here
        kept = 1.0 if kept is None else kept
        sender = logs.get(id(unit))
        if kept >= 1 or sender is None:
            continue
        yield Hit(
            message=(
                f"the SDK keeps {kept * 100:g}% of traces ({sampler.name}={sampler.text}) and "
                f"exports every log: {(1 - kept) * 100:g}% of its logs point at spans that were "
                "never exported"
                + (
                    ""
                    if sender.explicit
                    else " (if the app emits logs: OTEL_LOGS_EXPORTER is the default)"
                )
            ),
            service=unit.service,
            locations=[(arg or sampler).value_at],
            context={"unit": unit.label, "kept": kept, "sampler": sampler.text},
            level=None if sender.explicit else Level.INFO,
        )


def _samples_alike(instance: Instance, flow: Flow, sampler: Processor) -> bool:
    """Whether logs pipeline ``flow`` samples as ``sampler`` samples traces."""
    if sampler.type != "probabilistic_sampler":
        return False
    theirs = _share(sampler)[0]
    for pid, _at in flow.processors:
        other = instance.processors.get(pid)
        if other is not None and other.type == "probabilistic_sampler":
            return _share(other)[0] == theirs
    return False


@rule("CF051", "pipeline-identity-drift", Join.SIGNAL_RESOURCE, Level.WARNING, target="config")
def pipeline_identity_drift(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector adds resource identity to some signals of a sender and not others.

    What it checks:
        The pipelines of one collector fed by the same receiver (``otlp``): a
        ``k8sattributes`` or ``resourcedetection`` processor in the traces and metrics
        pipelines but missing from the logs pipeline (or any such split). Deleting keys
        is CF030-CF032's; this rule is about what one pipeline adds and another does not.

    Why it breaks the join:
        The SDK sent one resource; after the collector, the service's spans carry
        ``k8s.pod.name`` and its logs do not. A query that goes from a pod's metrics to its
        logs, or groups all signals by pod or host, finds the logs of no pod.

    Example:
        ``traces: processors: [k8sattributes, batch]`` and ``logs: processors: [batch]``.

    Fix:
        List the processor in every pipeline of that receiver, at the same place.
    """
    for instance in _plane(facts).instances:
        flows = [
            f
            for f in instance.flows.values()
            if f.signal in ("traces", "metrics", "logs") and _exports(instance, f)
        ]
        # One finding per processor type: the pipelines that lack it, beside those that run it.
        lacking: dict[str, dict[str, Flow]] = defaultdict(dict)
        running: dict[str, dict[str, Flow]] = defaultdict(dict)
        for flow in flows:
            for other in flows:
                if other is flow or not (_receivers(flow) & _receivers(other)):
                    continue
                have, lack = _types(instance, flow), _types(instance, other)
                for ptype in _IDENTITY_ADDERS & (set(have) - set(lack)):
                    lacking[ptype][other.id] = other
                    running[ptype][flow.id] = flow
        for ptype in sorted(lacking):
            without = [lacking[ptype][k] for k in sorted(lacking[ptype])]
            with_it = sorted(running[ptype])
            processor, _at = _types(instance, running[ptype][with_it[0]])[ptype]
            signals = sorted({f.signal for f in without})
            yield Hit(
                message=(
                    f"{_pipelines([f.id for f in without])} {'has' if len(without) == 1 else 'have'} "
                    f"no {ptype} processor, which {_pipelines(with_it)} of the same receivers "
                    f"{'runs' if len(with_it) == 1 else 'run'} ({processor.id}: {_ADDS[ptype]}): "
                    f"{' and '.join(signals)} lack keys the other signals of the same service carry"
                ),
                count=len(without),
                locations=[f.at for f in without],
                context={
                    "collector": instance.label,
                    "pipelines": [f.id for f in without],
                    "processor": processor.id,
                    "type": ptype,
                    "with": with_it,
                },
            )


@rule("CF052", "signals-split-destinations", Join.SIGNAL_RESOURCE, Level.INFO, target="config")
def signals_split(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """The signals of the same senders leave for different backends.

    What it checks:
        Per collector receiver (and so per sender), where each signal ends: traces to one
        host, logs to another. Reported once per collector, at the receiver, naming each
        signal's destinations and whether the keys the joins use are treated the same on
        every path (a processor deleting, hashing or overwriting an identity key on one
        path only).

    Why it breaks the join:
        Joining a trace to its logs now crosses two providers: both must keep the same
        identity keys, and the UI link between them has to be configured on both sides.
        It is often intended; it is worth knowing where.

    Example:
        ``traces -> otlp tempo:4317``, ``logs -> loki loki:3100``.

    Fix:
        Nothing when intended; make sure the identity keys arrive the same on both.
    """
    plane = _plane(facts)
    for instance in plane.instances:
        ends: dict[str, dict[tuple[str, str | None], str]] = defaultdict(dict)
        altered: dict[str, set[str]] = defaultdict(set)
        rids: dict[str, frozenset[str]] = {}
        for signal in ("traces", "metrics", "logs"):
            for route in plane.routes(instance, signal, None):
                if route.destination is None or route.signal != signal:
                    continue
                if route.exporter is None or route.exporter[0] is not instance:
                    continue  # forwarded to another collector of the run: reported there
                ends[signal][route.destination.key] = route.destination.label
                rids[signal] = rids.get(signal, frozenset()) | _receivers(route.steps[0].flow)
                for _i, _f, processor, _at in route.processors():
                    for change in processor.changes:
                        if change.scope == "resource":
                            altered[signal] |= {k for k in _IDENTITY_KEYS if change.hits(k)}
        hosts = {sig: {k[1] for k in d} for sig, d in ends.items()}
        if len(ends) < 2 or len({frozenset(h) for h in hosts.values()}) < 2:
            continue
        common = frozenset.intersection(*(rids[sig] for sig in ends))
        where = [instance.receivers[r].at for r in sorted(common) if r in instance.receivers]
        where = where or [instance.at]
        same = len({frozenset(altered.get(sig, set())) for sig in ends}) == 1
        parts = [f"{sig} to {', '.join(sorted(d.values()))}" for sig, d in ends.items()]
        yield Hit(
            message=(
                f"{instance.label} sends {'; '.join(parts)}: joining them crosses backends; "
                + (
                    "the identity keys are treated the same on every path"
                    if same
                    else "the identity keys differ between the paths ("
                    + "; ".join(
                        f"{sig}: {', '.join(sorted(altered[sig])) or 'none'} changed"
                        for sig in ends
                    )
                    + "; CF030 names the processor)"
                )
            ),
            locations=where[:1],
            context={
                "collector": instance.label,
                "destinations": {sig: sorted(d.values()) for sig, d in ends.items()},
                "same_identity": same,
            },
        )


@rule("CF053", "metrics-exporter-translation", Join.METRIC_TRACE, Level.WARNING, target="config")
def metrics_translation(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A Prometheus exporter that throws exemplars or resource identity away.

    What it checks:
        Exporters in metrics pipelines: ``prometheus`` without ``enable_open_metrics:
        true`` (exemplars are written only in the OpenMetrics format) and without
        ``resource_to_telemetry_conversion.enabled`` (resource attributes reach
        Prometheus only as ``target_info``, joined through ``job`` =
        ``service.namespace/service.name`` and ``instance`` = ``service.instance.id``; at
        info); ``prometheusremotewrite`` with ``target_info.enabled: false`` (no resource
        attribute arrives at all).

    Why it breaks the join:
        Without exemplars a latency spike on a histogram leads to no trace; without
        ``target_info`` (or the attributes as labels) the metrics of a service cannot be
        told apart by environment, version or pod, and a service that sends no
        ``service.instance.id`` gets an empty ``instance`` label.

    Example:
        ``exporters: prometheus: {endpoint: 0.0.0.0:8889}``.

    Fix:
        ``enable_open_metrics: true`` (and scrape with OpenMetrics); enable
        ``resource_to_telemetry_conversion`` or join on ``target_info``; keep
        ``target_info`` enabled; or export OTLP to a Prometheus that accepts it.
    """
    from otlint.configs.dataplane import drops_exemplars

    for instance in _plane(facts).instances:
        used = {
            eid for f in instance.flows.values() if f.signal == "metrics" for eid, _ in f.exporters
        }
        # Only pipelines that take OTLP (from SDKs, which record exemplars) or a connector
        # have exemplars to lose; a scrape or hostmetrics pipeline has none.
        exemplary = {
            eid
            for f in instance.flows.values()
            if f.signal == "metrics"
            and any(_carries_exemplars(instance, r) for r, _ in f.receivers)
            for eid, _ in f.exporters
        }
        for eid in sorted(used):
            exporter = instance.exporters.get(eid)
            if exporter is None:
                continue
            config = exporter.config if isinstance(exporter.config, dict) else {}
            if exporter.type == "prometheus":
                if drops_exemplars(exporter) and eid in exemplary:
                    yield Hit(
                        message=(
                            f"exporter {eid} writes the Prometheus text format, which has no "
                            "exemplars: no metric of this pipeline leads to a trace"
                        ),
                        locations=[
                            exporter.where("enable_open_metrics")
                            if "enable_open_metrics" in config
                            else exporter.at
                        ],
                        context={"collector": instance.label, "exporter": eid, "lost": "exemplars"},
                    )
                conversion = config.get("resource_to_telemetry_conversion")
                enabled = isinstance(conversion, dict) and conversion.get("enabled") is True
                if not enabled:
                    yield Hit(
                        message=(
                            f"exporter {eid} keeps resource attributes only in target_info: "
                            "metrics join their service through job (service.namespace/"
                            "service.name) and instance (service.instance.id, empty when a "
                            "service sends none)"
                        ),
                        locations=[exporter.at],
                        context={"collector": instance.label, "exporter": eid, "lost": "resource"},
                        level=Level.INFO,
                    )
            elif exporter.type == "prometheusremotewrite":
                target_info = config.get("target_info")
                if isinstance(target_info, dict) and target_info.get("enabled") is False:
                    yield Hit(
                        message=(
                            f"exporter {eid} has target_info disabled: no resource attribute "
                            "(environment, version, pod, host) reaches the metrics"
                        ),
                        locations=[exporter.where("target_info", "enabled")],
                        context={"collector": instance.label, "exporter": eid, "lost": "resource"},
                    )


def _carries_exemplars(instance: Instance, rid: str) -> bool:
    receiver = instance.receivers.get(rid)
    return rid in instance.connectors or (receiver is not None and receiver.type == "otlp")


@rule("CF054", "connector-deprecated-dimension", Join.SCHEMA, Level.WARNING, target="config")
def connector_deprecated_dimension(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A ``spanmetrics`` or ``servicegraph`` connector keyed on a deprecated attribute.

    What it checks:
        The ``dimensions`` of ``spanmetrics`` and the ``dimensions`` of ``servicegraph``
        against the semantic conventions' deprecations (``deployment.environment``,
        ``http.method``, ...); at info, a ``service.*`` / ``deployment.*`` dimension that
        none of the units sending to the collector sets (when each one's attributes are
        known).

    Why it breaks the join:
        Senders on current conventions send the new key: the dimension is empty for them
        and the metrics the connector makes cannot be split or joined by it (every
        environment summed into one series).

    Example:
        ``dimensions: [{name: deployment.environment}]``.

    Fix:
        Use the replacement (``deployment.environment.name``), or both while senders move.
    """
    deprecated = deprecations()
    plane = _plane(facts)
    for instance in plane.instances:
        senders = [s for s in plane.senders if s.instance is instance]
        for cid, connector in sorted(instance.connectors.items()):
            if connector.type not in ("spanmetrics", "servicegraph"):
                continue
            config = connector.config if isinstance(connector.config, dict) else {}
            dims = config.get("dimensions")
            for index, dim in enumerate(dims if isinstance(dims, list) else []):
                name = dim.get("name") if isinstance(dim, dict) else dim
                found = deprecated.get(str(name)) if name is not None else None
                at = (
                    connector.where("dimensions", index, "name")
                    if isinstance(dim, dict)
                    else connector.where("dimensions", index)
                )
                if found is None:
                    unset = _set_by_none(str(name), senders)
                    if unset:
                        yield Hit(
                            message=(
                                f"connector {cid} makes metrics by {name}, which "
                                + (
                                    f"the unit sending to {instance.label} does not set"
                                    if unset == 1
                                    else f"none of the {unset} units sending to {instance.label} sets"
                                )
                                + ": the dimension is empty on every series"
                            ),
                            locations=[at],
                            context={
                                "collector": instance.label,
                                "connector": cid,
                                "key": str(name),
                            },
                            level=Level.INFO,
                        )
                    continue
                yield Hit(
                    message=(
                        f"connector {cid} makes metrics by {name}, which is deprecated: "
                        f"{found.advice()}; senders on current conventions leave it empty"
                    ),
                    locations=[at],
                    context={"collector": instance.label, "connector": cid, "key": str(name)},
                )


def _set_by_none(key: str, senders: list[Sender]) -> int:
    """How many units send to a collector, when every one is known and none sets resource
    attribute ``key`` (``service.*`` / ``deployment.*``: what no processor adds); else 0."""
    if not key.startswith(("service.", "deployment.")) or key == "service.name":
        return 0
    units = {id(s.unit): s.unit for s in senders}.values()
    if not units or any(u.attributes_unknown or u.agent for u in units):
        return 0
    if any(key in u.attributes for u in units):
        return 0
    return len(units)


@rule("CF055", "telemetry-goes-nowhere", Join.SIGNAL_RESOURCE, Level.WARNING, target="config")
def telemetry_goes_nowhere(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A sender or collector exporter points at a collector of the run that does not
    receive that signal there.

    What it checks:
        Each unit's OTLP endpoint (``OTEL_EXPORTER_OTLP_[SIGNAL_]ENDPOINT``) and each
        collector ``otlp`` / ``otlphttp`` exporter whose host is a collector of the run (a
        compose service or Kubernetes Service running one): that collector must have a
        pipeline of the signal with an OTLP receiver on the port (at info when only an SDK
        default sends the signal). At info too: a bare host name (a compose service or
        Kubernetes Service) that no collector of the run goes by, and a collector of a
        project whose units send to another collector, that nothing in the run sends to.
        An endpoint known only at deploy time is not judged.

    Why it breaks the join:
        The exporter retries and drops: the signal never arrives, so none of its joins
        exist (a service whose logs go nowhere has no log -> trace join at all).

    Example:
        ``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://otel-collector:4318`` and a collector
        with no ``logs`` pipeline.

    Fix:
        Add the pipeline (or the receiver's protocol), or point the exporter at the port
        the collector listens on.
    """
    plane = _plane(facts)
    grouped: dict[tuple[str, Location], list[str]] = defaultdict(list)
    units: dict[tuple[str, Location], str | None] = {}
    explicit: dict[tuple[str, Location], bool] = {}
    for sender in plane.senders:
        if sender.unreached and sender.setting is not None:
            key = (sender.unreached.split(" pipeline", 1)[1], sender.setting.value_at)
            if sender.signal not in grouped[key]:
                grouped[key].append(sender.signal)
            units.setdefault(key, sender.unit.service)
            explicit[key] = explicit.get(key, False) or sender.explicit
    for (rest, at), signals in grouped.items():
        sure = explicit[(rest, at)]
        yield Hit(
            message=(
                f"no {'/'.join(signals)} pipeline{rest}: "
                + (
                    "that telemetry is dropped"
                    if sure
                    else "what the SDK sends of it (its default, if the app emits any) is dropped"
                )
            ),
            service=units[(rest, at)],
            locations=[at],
            count=len(signals),
            context={"signals": signals},
            level=None if sure else Level.INFO,
        )
    yield from _unknown_hosts(plane)
    yield from _unreached(plane)
    for instance in plane.instances:
        for flow in instance.flows.values():
            for eid, _at in flow.exporters:
                exporter = instance.exporters.get(eid)
                if exporter is None or exporter.type not in ("otlp", "otlphttp"):
                    continue
                endpoint = exporter.endpoints[0] if exporter.endpoints else None
                target = (
                    plane.instance_for(endpoint.host, exporter.at.path)
                    if endpoint is not None
                    else None
                )
                if target is None or target is instance or endpoint is None or target.opaque:
                    continue
                if not target.receiving(flow.signal, endpoint.port):
                    yield Hit(
                        message=(
                            f"exporter {eid} of pipeline {flow.id} sends to {target.label}, "
                            f"which has no {flow.signal} pipeline with an OTLP receiver on "
                            f"port {endpoint.port}: that telemetry is dropped"
                        ),
                        locations=[endpoint.at],
                        context={"collector": instance.label, "exporter": eid, "to": target.label},
                    )


def _unreached(plane: DataPlane) -> Iterator[Hit]:
    """A collector of the run (run by a compose service or workload, reached by name) whose
    OTLP receivers nothing in the run sends to, in a run whose units do reach a collector:
    at info (senders outside the run may use it)."""
    reached: set[int] = {id(s.instance) for s in plane.senders if s.instance is not None}
    if not reached:
        return
    for instance in plane.instances:
        for flow in instance.flows.values():
            for eid, _at in flow.exporters:
                exporter = instance.exporters.get(eid)
                end = exporter.endpoints[0] if exporter and exporter.endpoints else None
                target = (
                    plane.instance_for(end.host, exporter.at.path) if exporter and end else None
                )
                if target is not None:
                    reached.add(id(target))
    # Judged per folder (one system): a folder whose units reach a collector of the run.
    sending = {os.path.dirname(s.unit.at.path) for s in plane.senders if s.instance is not None}
    for instance in plane.instances:
        if id(instance) in reached or instance.runner is None or instance.opaque:
            continue
        if os.path.dirname(instance.at.path) not in sending:
            continue
        otlp = [r for r in instance.receivers.values() if r.type == "otlp"]
        used = {rid for f in instance.flows.values() for rid, _ in f.receivers}
        otlp = [r for r in otlp if r.id in used]
        if not otlp or not instance.hosts:
            continue
        yield Hit(
            message=(
                f"nothing in this run sends to {instance.label} (its {otlp[0].id} receiver): "
                "its pipelines of that receiver carry only what senders outside these files send"
            ),
            locations=[otlp[0].at],
            context={"collector": instance.label, "receiver": otlp[0].id},
            level=Level.INFO,
        )


_IP = re.compile(r"^[0-9.]+$|:")


def _unknown_hosts(plane: DataPlane) -> Iterator[Hit]:
    """Senders naming a bare host (a compose service or Kubernetes Service name) that no
    collector of the run goes by, in a run that has collectors: at info (the collector
    may be deployed from elsewhere; or the name is a typo)."""
    known = sorted({h for i in plane.instances for h in i.hosts})
    if not known:
        return
    seen: set[Location] = set()
    for sender in plane.senders:
        end = sender.destination
        if end is None or end.host is None or "." in end.host or _IP.search(end.host):
            continue
        if sender.setting is None or sender.setting.value_at in seen:
            continue
        seen.add(sender.setting.value_at)
        yield Hit(
            message=(
                f"{sender.unit.label} sends to {end.host}, which no collector of this run goes "
                f"by ({', '.join(known[:4])}{' ...' if len(known) > 4 else ''}): a collector "
                "deployed from files not checked here, or a misspelt name"
            ),
            service=sender.unit.service,
            locations=[sender.setting.value_at],
            context={"host": end.host, "collectors": known},
            level=Level.INFO,
        )


@rule("CF056", "connector-no-exemplars", Join.METRIC_TRACE, Level.INFO, target="config")
def connector_no_exemplars(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A ``spanmetrics`` connector that makes metrics without exemplars.

    What it checks:
        ``spanmetrics`` connectors used by a pipeline, without ``exemplars: {enabled:
        true}`` (off by default).

    Why it breaks the join:
        The request-rate and latency metrics the connector makes from spans are the ones
        an incident starts from; without exemplars a spike on them leads to no trace.

    Example:
        ``connectors: spanmetrics: {}``.

    Fix:
        ``exemplars: {enabled: true}``.
    """
    for instance in _plane(facts).instances:
        used = {eid for f in instance.flows.values() for eid, _ in f.exporters}
        for cid, connector in sorted(instance.connectors.items()):
            if connector.type != "spanmetrics" or cid not in used:
                continue
            config = connector.config if isinstance(connector.config, dict) else {}
            exemplars = config.get("exemplars")
            if isinstance(exemplars, dict) and exemplars.get("enabled") is True:
                continue
            yield Hit(
                message=f"connector {cid} makes span metrics without exemplars (exemplars.enabled is false by default)",
                locations=[connector.where("exemplars") if "exemplars" in config else connector.at],
                context={"collector": instance.label, "connector": cid},
            )


RULES = (
    sampler_orphans_logs,
    pipeline_identity_drift,
    signals_split,
    metrics_translation,
    connector_deprecated_dimension,
    telemetry_goes_nowhere,
    connector_no_exemplars,
)
