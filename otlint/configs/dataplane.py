"""The data-plane map: where each unit's telemetry goes, through which collectors, to which
destinations, and what each crossing does to the keys and ids the joins need.

Built once per run from the facts every reader left (``build``), and read by the CF05x
rules and the ``mermaid`` / ``dot`` / ``markdown`` pictures of ``check-config``:

- **instances**: a running collector. A compose service or Kubernetes workload that runs
  a collector image (a ``Runner``) with the configuration documents it is given (bind
  mounts in ``--config`` order, or the ConfigMaps it mounts), merged as the collector
  merges them (a later document's component replaces an earlier one's; a pipeline's
  ``receivers`` / ``processors`` / ``exporters`` are each replaced when written). A
  document no runner of the run claims is an instance of its own, reached by the name it
  is embedded under (a ConfigMap's name: the Helm chart names its Service the same; an
  ``OpenTelemetryCollector`` ``X`` is the Service ``X-collector``), or by no name (a file).
- **senders**: a unit's OTLP exporter per signal (``OTEL_EXPORTER_OTLP_[SIGNAL_]ENDPOINT``,
  ``OTEL_[SIGNAL]_EXPORTER``), resolved to the instance whose host name and receiver port
  it names, or to a destination outside the run.
- **routes**: for each (source, signal, destination), the pipelines walked in order from
  the receiver to the exporter (through connectors and agent -> gateway hops), with every
  processor on the way.

Nothing here guesses: an endpoint known only at deploy time is kept as unknown and joins
no edge.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from otlint.configs.compose import host_path
from otlint.configs.endpoints import LOOPBACK, parse
from otlint.configs.facts import (
    NON_EXPORTING,
    Collector,
    Component,
    ConfigFacts,
    Endpoint,
    Processor,
    Runner,
    Setting,
    Unit,
)
from otlint.core.finding import Location
from otlint.core.jsontypes import JSONObject

__all__ = [
    "SIGNALS",
    "DataPlane",
    "Destination",
    "Flow",
    "Instance",
    "Route",
    "Sender",
    "build",
    "drops_exemplars",
    "graph",
    "orphaned_logs",
]

#: The signals SDKs export and collector pipelines carry that the joins are made of.
SIGNALS = ("traces", "metrics", "logs")
_EMBEDDED = re.compile(r"^(?P<kind>ConfigMap|OpenTelemetryCollector) (?P<name>\S+)")


@dataclass
class Flow:
    """One pipeline of an instance, as merged: receivers, processors in order, exporters."""

    id: str
    at: Location
    receivers: list[tuple[str, Location]]
    processors: list[tuple[str, Location]]
    exporters: list[tuple[str, Location]]

    @property
    def signal(self) -> str:
        """The pipeline's signal (``traces/app`` -> ``traces``)."""
        return self.id.split("/", 1)[0]


@dataclass
class Instance:
    """A running collector: its names, documents and merged configuration."""

    label: str  # "compose service otel-collector", "collector config otel.yaml"
    at: Location
    hosts: list[str]
    documents: list[Collector]
    runner: Runner | None = None
    receivers: dict[str, Component] = field(default_factory=dict)
    exporters: dict[str, Component] = field(default_factory=dict)
    connectors: dict[str, Component] = field(default_factory=dict)
    processors: dict[str, Processor] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    opaque: bool = False  # its configuration is not among the files of the run

    def receiving(self, signal: str, port: int | None) -> list[tuple[Flow, str]]:
        """The pipelines of ``signal`` with an OTLP receiver listening on ``port``."""
        out = []
        for flow in self.flows.values():
            if flow.signal != signal:
                continue
            for rid, _at in flow.receivers:
                receiver = self.receivers.get(rid)
                if receiver is None or receiver.type != "otlp":
                    continue
                if port is None or any(e.port in (port, None) for e in receiver.endpoints):
                    out.append((flow, rid))
                    break
        return out


@dataclass
class Destination:
    """Where an exporter sends, outside the collectors of the run: its type and host."""

    type: str
    host: str | None
    port: int | None
    exporter: Component | None  # None: a unit sending straight to it

    @property
    def label(self) -> str:
        """``otlphttp prometheus:9090``; the endpoint as written when its host is unknown."""
        if self.host is None:
            written = (
                self.exporter.endpoints[0].text
                if self.exporter and self.exporter.endpoints
                else None
            )
            return f"{self.type} {written}" if written else self.type
        return f"{self.type} {self.host}" + (f":{self.port}" if self.port else "")

    @property
    def key(self) -> tuple[str, str | None]:
        """Two exporters of one type to one host are one destination."""
        return (self.type, self.host)


@dataclass
class Step:
    """A pipeline walked on a route, in an instance."""

    instance: Instance
    flow: Flow


@dataclass
class Route:
    """What one source's ``signal`` crosses to reach one destination (or another instance)."""

    signal: str
    steps: list[Step]
    destination: Destination | None
    exporter: tuple[Instance, str, Location] | None  # the exporter that sends it there

    def processors(self) -> Iterator[tuple[Instance, Flow, Processor, Location]]:
        """Every processor on the way, in order."""
        for step in self.steps:
            for pid, at in step.flow.processors:
                processor = step.instance.processors.get(pid)
                if processor is not None:
                    yield step.instance, step.flow, processor, at


@dataclass
class Sender:
    """A unit's OTLP exporter for one signal, and where it leads."""

    unit: Unit
    signal: str
    endpoint: Endpoint | None  # None: not set (the SDK default, localhost)
    setting: Setting | None
    instance: Instance | None = None
    destination: Destination | None = None
    #: Why it reaches nothing in the run: the receiver the named collector lacks.
    unreached: str | None = None
    #: Several collectors of the run go by the host it names (alternative compose files).
    candidates: list[Instance] = field(default_factory=list)
    #: The signal's own exporter or endpoint variable is set: the app is told to send it
    #: (not only an SDK default that applies if the app emits the signal at all).
    explicit: bool = False


@dataclass
class DataPlane:
    """Everything ``build`` found."""

    instances: list[Instance]
    senders: list[Sender]

    def routes(self, instance: Instance, signal: str, port: int | None) -> list[Route]:
        """The routes of ``signal`` entering ``instance`` on ``port``."""
        out: list[Route] = []
        for flow, _rid in instance.receiving(signal, port):
            _walk(self, [Step(instance, flow)], out, set())
        return out

    def instance_for(self, host: str | None, near: str | None = None) -> Instance | None:
        """The instance reached by ``host``, when one goes by that name; of several (the
        same compose service in alternative compose files), the one defined in the file
        ``near`` names, else in its folder."""
        if host is None:
            return None
        found = [i for i in self.instances if host in i.hosts]
        if len(found) > 1 and near is not None:
            here = [i for i in found if i.at.path == near]
            folder = [i for i in found if os.path.dirname(i.at.path) == os.path.dirname(near)]
            found = here or folder or found
        return found[0] if len(found) == 1 else None


def build(facts: ConfigFacts) -> DataPlane:
    """The run's data-plane map (cached in ``facts.scratch``)."""
    cached = facts.scratch.get("dataplane")
    if isinstance(cached, DataPlane):
        return cached
    plane = DataPlane(_instances(facts), [])
    plane.senders = [s for unit in facts.units for s in _senders(unit, plane)]
    facts.scratch["dataplane"] = plane
    return plane


# -- instances ------------------------------------------------------------------------


def _instances(facts: ConfigFacts) -> list[Instance]:
    by_path: dict[str, list[Collector]] = {}
    for c in facts.collectors:
        by_path.setdefault(os.path.abspath(c.path), []).append(c)
    claimed: set[int] = set()
    out: list[Instance] = []
    for runner in _one_per_identity(facts.runners):
        docs = _claimed_by(runner, by_path, facts.collectors)
        claimed.update(id(d) for d in docs)
        instance = _merged(f"{runner.kind} {runner.name}", runner.at, runner.hosts, docs, runner)
        # No configuration in the run (baked into the image, or from elsewhere): it is
        # reached, but what it receives and where it sends is not known here.
        instance.opaque = not docs
        out.append(instance)
    for c in facts.collectors:
        if id(c) in claimed:
            continue
        hosts, label = [], f"collector config {c.path}"
        for where in c.names:
            m = _EMBEDDED.match(where)
            if m is None:
                continue
            name = m["name"]
            hosts.append(f"{name}-collector" if m["kind"] == "OpenTelemetryCollector" else name)
            label = f"{m['kind']} {name}"
        out.append(_merged(label, c.at, hosts, [c], None))
    return out


def _one_per_identity(runners: list[Runner]) -> list[Runner]:
    """Runners of one identity (a compose service in a base file and its overlays) as one:
    their host names and mounts together, the ``--config`` list of the one that gives the
    longest (an overlay that adds configuration files lists them all), the environment
    of each in turn."""
    out: list[Runner] = []
    by: dict[str, list[Runner]] = {}
    for runner in runners:
        if runner.identity is None:
            out.append(runner)
        else:
            by.setdefault(runner.identity, []).append(runner)
    for group in by.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        lead = max(group, key=lambda r: len(r.configs))
        merged = copy.copy(lead)
        merged.hosts = list(dict.fromkeys(h for r in group for h in r.hosts))
        merged.mounts = list(dict.fromkeys(m for r in group for m in r.mounts))
        merged.env = {k: v for r in group for k, v in r.env.items()}
        out.append(merged)
    return out


def _claimed_by(
    runner: Runner, by_path: dict[str, list[Collector]], collectors: list[Collector]
) -> list[Collector]:
    """The documents ``runner`` runs: its ``--config`` files through its mounts, in
    order, else every collector document it mounts; a workload's mounted ConfigMaps."""
    docs: list[Collector] = []
    if runner.mounts:
        for inside in runner.configs:
            host = host_path(inside, runner.mounts)
            docs += by_path.get(os.path.abspath(host), []) if host else []
        if not docs:
            for host, _inside in runner.mounts:
                docs += by_path.get(os.path.abspath(host), [])
                prefix = os.path.abspath(host).rstrip("/") + "/"
                docs += [c for p, cs in by_path.items() if p.startswith(prefix) for c in cs]
    for name in runner.configmaps:
        named = [c for c in collectors if any(w.startswith(f"ConfigMap {name} ") for w in c.names)]
        docs += _nearest(runner.at.path, named)
    return list({id(d): d for d in docs}.values())


def _nearest(path: str, collectors: list[Collector]) -> list[Collector]:
    """Of the ConfigMaps of one name, those nearest ``path`` in the tree: the manifests of
    one deployment sit together, and other folders reuse the name for other set-ups."""
    if not collectors:
        return []
    here = os.path.dirname(os.path.abspath(path))

    def shared(c: Collector) -> int:
        there = os.path.dirname(os.path.abspath(c.path))
        return len(os.path.commonpath([here, there]))

    best = max(shared(c) for c in collectors)
    return [c for c in collectors if shared(c) == best]


def _merged(
    label: str, at: Location, hosts: list[str], docs: list[Collector], runner: Runner | None
) -> Instance:
    instance = Instance(label, at, list(dict.fromkeys(hosts)), docs, runner)
    flows: dict[str, Flow] = {}
    for doc in docs:
        instance.receivers.update(doc.receivers)
        instance.exporters.update(doc.exporters)
        instance.connectors.update(doc.connectors)
        instance.processors.update(doc.processors)
        for p in doc.pipelines:
            flow = flows.get(p.id) or Flow(p.id, p.at, [], [], [])
            if "receivers" in p.has:
                flow.receivers = list(p.receivers)
            if "processors" in p.has:
                flow.processors = list(p.processors)
            if "exporters" in p.has:
                flow.exporters = list(zip(p.exporters, p.exporters_at, strict=False))
            if p.id not in flows:
                flows[p.id] = flow
    instance.flows = flows
    if runner is not None and runner.env:
        # ``${env:PORT}`` is the runner's environment: resolve what it knows.
        for components in (instance.receivers, instance.exporters):
            for cid, shared in components.items():
                # (a document several runners mount is theirs in common: copy, then resolve)
                component = components[cid] = copy.copy(shared)
                component.endpoints = [
                    parse(e.text, e.at, "collector", runner.env, protocol=e.protocol)
                    if e.unknown
                    else e
                    for e in component.endpoints
                ]
    return instance


# -- senders ----------------------------------------------------------------------------


def _setting(unit: Unit, *names: str) -> Setting | None:
    for name in names:
        if name in unit.env:
            return unit.env[name]
    return None


def _senders(unit: Unit, plane: DataPlane) -> Iterator[Sender]:
    if not unit.deployable or unit.disabled or not unit.instrumented:
        return
    if unit.exports is not None:  # an SDK configuration file decides (read or followed)
        for signal, setting in unit.exports.items():
            if setting is None or setting.value is None:
                continue
            sent = "grpc" if setting.name in ("otlp_grpc", "otlp") else "http"
            if setting.text is None:
                yield Sender(unit, signal, None, setting, explicit=True)
                continue
            sender = Sender(
                unit,
                signal,
                parse(setting.text, setting.value_at, "sdk", protocol=sent),
                setting,
                explicit=True,
            )
            _resolve(sender, plane)
            yield sender
        return
    for signal in SIGNALS:
        exporter = _setting(unit, f"OTEL_{signal.upper()}_EXPORTER")
        if exporter is not None and exporter.text is not None:
            names = {n.strip().lower() for n in exporter.text.split(",")}
            if not names & {"otlp", ""}:
                continue  # none, console, prometheus: nothing pushed over OTLP
        setting = _setting(
            unit, f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        protocol = _setting(
            unit, f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"
        )
        kind = "grpc" if protocol is not None and protocol.text == "grpc" else None
        if setting is None:
            yield Sender(unit, signal, None, None)
            continue
        if setting.value is None:
            yield Sender(unit, signal, None, setting)
            continue
        endpoint = (
            parse(setting.value.raw, setting.value_at, "compose")
            if setting.text is None
            else parse(setting.text, setting.value_at, "compose", protocol=kind)
        )
        sender = Sender(unit, signal, endpoint, setting)
        sender.explicit = (
            exporter is not None and exporter.text is not None
        ) or setting.name == f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
        _resolve(sender, plane)
        yield sender


def _resolve(sender: Sender, plane: DataPlane) -> None:
    endpoint = sender.endpoint
    if endpoint is None or endpoint.host is None or endpoint.host in LOOPBACK:
        return
    instance = plane.instance_for(endpoint.host, sender.unit.at.path)
    if instance is None:
        sender.candidates = [i for i in plane.instances if endpoint.host in i.hosts]
        if sender.candidates:
            return
        sender.destination = Destination("otlp", endpoint.host, endpoint.port, None)
        return
    sender.instance = instance
    if not instance.opaque and not instance.receiving(sender.signal, endpoint.port):
        ports = sorted(
            {
                e.port
                for r in instance.receivers.values()
                if r.type == "otlp"
                for e in r.endpoints
                if e.port
            }
        )
        sender.unreached = (
            f"no {sender.signal} pipeline of {instance.label} has an OTLP receiver on port "
            f"{endpoint.port}" + (f" (it listens on {', '.join(map(str, ports))})" if ports else "")
        )


# -- routes -----------------------------------------------------------------------------


def _walk(
    plane: DataPlane, steps: list[Step], out: list[Route], seen: set[tuple[int, str]]
) -> None:
    step = steps[-1]
    key = (id(step.instance), step.flow.id)
    if key in seen:
        return
    seen = seen | {key}
    instance, flow = step.instance, step.flow
    for eid, at in flow.exporters:
        if eid in instance.connectors:
            for nxt in instance.flows.values():
                if any(rid == eid for rid, _ in nxt.receivers):
                    _walk(plane, [*steps, Step(instance, nxt)], out, seen)
            continue
        exporter = instance.exporters.get(eid)
        if exporter is None or exporter.type in NON_EXPORTING:
            continue
        endpoint = exporter.endpoints[0] if exporter.endpoints else None
        host = endpoint.host if endpoint is not None else None
        target = (
            plane.instance_for(host, exporter.at.path)
            if exporter.type in ("otlp", "otlphttp")
            else None
        )
        if target is not None and target.opaque:
            target = None  # a destination, as far as the run can tell
        if target is not None and target is not instance:
            port = endpoint.port if endpoint is not None else None
            entered = target.receiving(flow.signal, port)
            for nxt, _rid in entered:
                _walk(plane, [*steps, Step(target, nxt)], out, seen)
            if entered:
                continue
        port = endpoint.port if endpoint is not None else None
        out.append(
            Route(
                flow.signal,
                steps,
                Destination(exporter.type, host, port, exporter),
                (instance, eid, at),
            )
        )


# -- the picture --------------------------------------------------------------------------

#: Resource keys whose loss on the way breaks each join (the rest of identity is IDENTITY).
_KEY_JOINS = (
    (("service.version",), "deploy"),
    (("k8s.pod.uid", "k8s.pod.name", "host.name", "host.id", "container.id"), "infra"),
    (
        ("service.name", "service.namespace", "service.instance.id", "deployment.environment.name"),
        "identity",
    ),
)


def _lost(steps: list[Step], orphaned: set[tuple[int, str]]) -> list[JSONObject]:
    """What the joins lose in the pipelines ``steps`` (of one instance): each as
    ``{"join", "why"}``, in pipeline order."""
    out: list[JSONObject] = []
    for step in steps:
        flow = step.flow
        for pid, _at in flow.processors:
            processor = step.instance.processors.get(pid)
            if processor is None:
                continue
            for change in processor.changes:
                if change.scope == "field":
                    join = "trace" if flow.signal == "traces" else "log-trace"
                    out.append({"join": join, "why": f"{pid} {change.op}s {change.key}"})
                elif change.scope == "resource":
                    for keys, join in _KEY_JOINS:
                        hit = [k for k in keys if change.hits(k)]
                        if hit:
                            out.append(
                                {"join": join, "why": f"{pid} {change.op}s {', '.join(hit)}"}
                            )
            if processor.type in _SAMPLERS and flow.signal == "traces":
                out.append({"join": "sampled", "why": f"{pid} drops a share of traces"})
            elif processor.type == "filter":
                out.append({"join": "filtered", "why": f"{pid} drops the records it matches"})
            elif processor.type == "groupbyattrs":
                regroup = (
                    processor.config.get("keys") if isinstance(processor.config, dict) else None
                )
                named = ", ".join(map(str, regroup)) if isinstance(regroup, list) else "its keys"
                out.append(
                    {
                        "join": "regrouped",
                        "why": f"{pid} moves {named} from records to the resource",
                    }
                )
            elif processor.type == "redaction" and flow.signal == "traces":
                out += _redacted(pid, processor)
        if (id(step.instance), flow.id) in orphaned:
            out.append({"join": "log-trace", "why": "their traces are sampled, these logs not"})
    return out


#: The span attributes a client span names its callee by (the peer join).
_PEER_KEYS = ("peer.service", "service.peer.name", "server.address", "net.peer.name")


def _redacted(pid: str, processor: Processor) -> list[JSONObject]:
    """A ``redaction`` processor that keeps only ``allowed_keys`` (``allow_all_keys`` is
    false by default): the peer join is lost when none of the keys naming a callee is kept."""
    config = processor.config if isinstance(processor.config, dict) else {}
    if config.get("allow_all_keys") is True:
        return []
    allowed = config.get("allowed_keys")
    kept = {str(k) for k in allowed} if isinstance(allowed, list) else set()
    if kept & set(_PEER_KEYS):
        return []
    return [
        {
            "join": "peer",
            "why": f"{pid} keeps only its allowed_keys: no {', '.join(_PEER_KEYS[:3])}",
        }
    ]


def drops_exemplars(exporter: Component) -> bool:
    """A ``prometheus`` exporter in the text format: exemplars are written only in
    OpenMetrics (``enable_open_metrics: true``)."""
    config = exporter.config if isinstance(exporter.config, dict) else {}
    return exporter.type == "prometheus" and config.get("enable_open_metrics") is not True


def _exported(route: Route) -> list[JSONObject]:
    """What the exporter at the end of ``route`` loses in translation."""
    exporter = route.exporter[0].exporters.get(route.exporter[1]) if route.exporter else None
    if exporter is None or route.signal != "metrics":
        return []
    config = exporter.config if isinstance(exporter.config, dict) else {}
    if drops_exemplars(exporter):
        return [{"join": "metric-trace", "why": f"{exporter.id} writes no exemplars"}]
    target_info = config.get("target_info")
    if (
        exporter.type == "prometheusremotewrite"
        and isinstance(target_info, dict)
        and target_info.get("enabled") is False
    ):
        return [{"join": "signal-resource", "why": f"{exporter.id} drops target_info"}]
    return []


_SAMPLERS = frozenset({"probabilistic_sampler", "tail_sampling"})


def orphaned_logs(instance: Instance) -> set[tuple[int, str]]:
    """(instance id, logs pipeline) pairs whose senders' traces another pipeline samples."""
    out: set[tuple[int, str]] = set()
    for flow in instance.flows.values():
        if flow.signal != "traces":
            continue
        samplers = [
            p
            for pid, _ in flow.processors
            if (p := instance.processors.get(pid)) is not None and p.type in _SAMPLERS
        ]
        if not samplers:
            continue
        mine = {rid for rid, _ in flow.receivers}
        for logs in instance.flows.values():
            if logs.signal == "logs" and mine & {rid for rid, _ in logs.receivers}:
                kinds = {
                    p.type
                    for pid, _ in logs.processors
                    if (p := instance.processors.get(pid)) is not None
                }
                if "probabilistic_sampler" not in kinds:
                    out.add((id(instance), logs.id))
    return out


def graph(plane: DataPlane) -> JSONObject:
    """The map as JSON: ``nodes`` (units, collectors, destinations) and ``edges``, each edge
    with its signals and what the joins lose on it (``lost``: ``{"join", "why"}``)."""
    nodes: dict[tuple[str, str], JSONObject] = {}
    edges: dict[tuple[str, str], JSONObject] = {}

    def node(kind: str, label: str, at: Location | None) -> str:
        key = (kind, label)
        if key not in nodes:
            nodes[key] = {
                "id": f"{kind[0]}{len(nodes) + 1}",
                "kind": kind,
                "label": label,
                "at": str(at) if at is not None else None,
            }
        return str(nodes[key]["id"])

    def edge(a: str, b: str, signal: str, lost: list[JSONObject]) -> None:
        found = edges.setdefault((a, b), {"from": a, "to": b, "signals": [], "lost": []})
        signals = found["signals"]
        assert isinstance(signals, list)
        if signal not in signals:
            signals.append(signal)
        have = found["lost"]
        assert isinstance(have, list)
        for item in lost:
            tagged = {**item, "signal": signal}
            if tagged not in have:
                have.append(tagged)

    orphaned = {pair for i in plane.instances for pair in orphaned_logs(i)}
    for sender in plane.senders:
        if sender.instance is None and sender.destination is None:
            continue  # an endpoint not known here, or the SDK default (localhost)
        unit = node("unit", sender.unit.service or sender.unit.label, sender.unit.at)
        if sender.instance is not None:
            why: list[JSONObject] = (
                [{"join": "all", "why": sender.unreached}] if sender.unreached else []
            )
            target = node("collector", sender.instance.label, sender.instance.at)
            edge(unit, target, sender.signal, why)
        elif sender.destination is not None:
            edge(unit, node("destination", sender.destination.label, None), sender.signal, [])
    for instance in plane.instances:
        for signal in SIGNALS:
            for route in plane.routes(instance, signal, None):
                # One segment per instance crossed: its pipelines' losses label the edge out.
                segments: list[list[Step]] = []
                for step in route.steps:
                    if segments and segments[-1][-1].instance is step.instance:
                        segments[-1].append(step)
                    else:
                        segments.append([step])
                for k, segment in enumerate(segments):
                    here = segment[0].instance
                    a = node("collector", here.label, here.at)
                    lost = _lost(segment, orphaned)
                    if k + 1 < len(segments):
                        there = segments[k + 1][0].instance
                        b = node("collector", there.label, there.at)
                        edge(a, b, segment[-1].flow.signal, lost)
                    elif route.destination is not None:
                        b = node("destination", route.destination.label, None)
                        edge(a, b, route.signal, lost + _exported(route))
    return {"nodes": list(nodes.values()), "edges": list(edges.values())}
