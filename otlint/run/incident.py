"""Each service's incident path, decided from the join matrix and the corpus facts.

No pass over records: a link is read from what the analysis already holds, the
resources of the service (their signals, counters and identity attributes), the
join matrix's cells (exemplars that resolve, caller -> callee edges) and the
findings (a ``peer.service`` that names no service). See ``otlint.report.incident``
for what the path is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from otlint.core.finding import Finding
from otlint.core.joins import Join
from otlint.core.redact import shown_name
from otlint.report.incident import BROKEN, NO_DATA, NOT_CHECKED, OK, IncidentPath, Link
from otlint.report.report import JoinStatus
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import EXEMPLARS, LOGS, POINTS, SPANS, ResourceFacts, Signal

#: The identity a dashboard carries from a metric to its traces (service.name aside: it
#: is the same by construction).
IDENTITY_KEYS = ("service.namespace", "service.instance.id")
#: Callees named in a followable downstream link before "and N more".
MAX_CALLEES = 3


def incident_paths(
    ctx: Context, findings: Sequence[Finding], cells: Sequence[JoinStatus]
) -> list[IncidentPath]:
    """One incident path per service, in the matrix's order (the missing name first)."""
    matrix = {(c.join, c.service): c for c in cells if c.peer is None}
    calls: dict[str | None, list[JoinStatus]] = defaultdict(list)
    for c in cells:
        if c.peer is not None and c.join is Join.TRACE and c.peer != c.service:
            calls[c.service].append(c)
    unknown_peers: dict[str | None, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.join is Join.PEER and f.peer is not None:
            unknown_peers[f.service].append(f)
    out = []
    for name in sorted(ctx.services, key=lambda s: (s is not None, s or "")):
        resources = list(ctx.resources_of(name))
        shown = shown_name(name)
        links = {
            "metrics": metrics_link(name, resources),
            "traces": traces_link(resources, matrix.get((Join.METRIC_TRACE, shown))),
            "deploy": deploy_link(resources),
            "downstream": downstream_link(calls[shown], unknown_peers[shown]),
        }
        out.append(IncidentPath(name, links))
    return out


def _with(resources: list[ResourceFacts], signal: Signal) -> list[ResourceFacts]:
    """The resources with records of ``signal`` (a message with no data point is none)."""
    counter = {Signal.TRACES: SPANS, Signal.METRICS: POINTS, Signal.LOGS: LOGS}[signal]
    return [r for r in resources if r.counts[counter]]


def _set(value: object) -> bool:
    return value not in (None, "")


def metrics_link(name: str | None, resources: list[ResourceFacts]) -> Link:
    """Can the spike be found: metrics exist, under a name that is the service's own."""
    metric = _with(resources, Signal.METRICS)
    if not metric:
        return Link(NO_DATA, "no metrics from this service in the input")
    if name is None:
        return Link(BROKEN, "no service.name: its metrics cannot be found by service")
    if name.startswith("unknown_service"):
        return Link(
            BROKEN,
            "service.name is the SDK default: its metrics mix with every other unnamed service's",
        )
    points = sum(r.counts[POINTS] for r in metric)
    return Link(OK, f"{points} data points under its service.name")


def traces_link(resources: list[ResourceFacts], exemplars: JoinStatus | None) -> Link:
    """From the metrics to the traces behind them: exemplars that resolve, or the same identity."""
    metric, traced = _with(resources, Signal.METRICS), _with(resources, Signal.TRACES)
    if not metric:
        return Link(NO_DATA, "no metrics to start from")
    if not traced:
        return Link(NO_DATA, "no spans from this service in the input")
    total = sum(r.counts[EXEMPLARS] for r in metric)
    status = exemplars.status if exemplars is not None else NOT_CHECKED
    unresolved = min(exemplars.broken, total) if exemplars is not None and status == BROKEN else 0
    if total and status == "intact":
        return Link(OK, f"{total} exemplars resolve to its spans", via="exemplars")
    if not total:
        why = "no exemplars on its metrics"
    elif status == BROKEN:
        why = f"{unresolved} of {total} exemplars point at no span"
    else:
        why = "its exemplars were not checked"
    differ = _identity_differs(metric, traced)
    if not differ:
        keys = " and ".join(IDENTITY_KEYS)
        return Link(OK, f"metrics and traces carry the same {keys} ({why})", via="identity")
    if status == BROKEN and unresolved < total:
        return Link(
            OK, f"{total - unresolved} of {total} exemplars resolve to its spans", via="exemplars"
        )
    return Link(BROKEN, f"{why}, and its metrics and traces carry different {differ}")


def _identity_differs(metric: list[ResourceFacts], traced: list[ResourceFacts]) -> str:
    """The identity keys on which some metric resource has no trace resource alike ("" if none)."""

    def identity(r: ResourceFacts) -> tuple[str | None, ...]:
        return tuple(str(r.value(k)) if _set(r.value(k)) else None for k in IDENTITY_KEYS)

    ours, theirs = {identity(r) for r in metric}, {identity(r) for r in traced}
    if ours <= theirs:
        return ""
    keys = [
        key for i, key in enumerate(IDENTITY_KEYS) if {m[i] for m in ours} - {t[i] for t in theirs}
    ]
    return " and ".join(keys) if keys else "combinations of " + " and ".join(IDENTITY_KEYS)


def deploy_link(resources: list[ResourceFacts]) -> Link:
    """To the release: ``service.version`` on every signal, the same on each."""
    by_signal = {s: _with(resources, s) for s in Signal}
    present = [s for s in Signal if by_signal[s]]
    lacking = [
        s.label for s in present if any(not _set(r.value("service.version")) for r in by_signal[s])
    ]
    if lacking:
        where = "any signal" if len(lacking) == len(present) else ", ".join(lacking)
        return Link(BROKEN, f"no service.version on {where}")
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for s in present:
        values = frozenset(str(r.value("service.version")) for r in by_signal[s])
        groups[values].append(s.label)
    if len(groups) > 1:
        ranked = sorted(groups.values(), key=len, reverse=True)
        if len(ranked[0]) == len(ranked[1]):
            signals = ", ".join(s for group in ranked for s in group)
            return Link(BROKEN, f"service.version differs between {signals}")
        odd = ", ".join(s for group in ranked[1:] for s in group)
        return Link(BROKEN, f"service.version on {odd} differs from {', '.join(ranked[0])}")
    return Link(OK, f"service.version on {', '.join(s.label for s in present)}")


def downstream_link(calls: list[JoinStatus], unknown_peers: list[Finding]) -> Link:
    """To the callees: every call names a service of the input and reaches its server span."""
    if unknown_peers:
        peer = unknown_peers[0]
        more = f" (and {len(unknown_peers) - 1} more)" if len(unknown_peers) > 1 else ""
        return Link(
            BROKEN,
            f"peer.service {peer.peer!r} on {peer.count} calls names no service in the input{more}",
        )
    checked = [c for c in calls if c.status != NOT_CHECKED]
    broken = [c for c in checked if c.status in (BROKEN, "baselined")]
    if broken:
        first = max(broken, key=lambda c: c.broken)
        more = f" (and {len(broken) - 1} more callees)" if len(broken) > 1 else ""
        return Link(
            BROKEN,
            f"{first.broken} of {first.records} calls to {first.peer} reach no server span"
            f" of it{more}",
        )
    if not calls:
        return Link(NO_DATA, "calls no other service in the input")
    if not checked:
        return Link(NOT_CHECKED, "its calls were not checked (trace rules deselected)")
    names = sorted(str(c.peer) for c in checked)
    shown = ", ".join(names[:MAX_CALLEES])
    if len(names) > MAX_CALLEES:
        shown += f" and {len(names) - MAX_CALLEES} more"
    return Link(OK, f"{sum(c.records for c in checked)} calls to {shown} reach their server spans")
