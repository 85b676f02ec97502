"""Signal-resource, deploy, infra and peer: one service, one identity, everywhere."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from itertools import compress, count
from typing import Any

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import rule
from otlint.core.wire import CLIENT, PRODUCER
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import Signal

#: Whether a span's interned peer.service is set (-1: none).
_SET = (-1).__lt__

_IDENTITY_KEYS = [
    "service.version",
    "service.namespace",
    "deployment.environment.name",
    "deployment.environment",
]


@rule(
    "SR001", "identity-drift-across-signals", Join.SIGNAL_RESOURCE, Level.ERROR, keys=_IDENTITY_KEYS
)
def identity_drift_across_signals(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """One service's identity attributes differ between its traces, metrics and logs.

    What it checks:
        For each service and each key in ``keys`` (default ``service.version``,
        ``service.namespace``, ``deployment.environment.name``), the set of values
        its trace resources carry equals the set its metric and log resources carry.

    Why it breaks the join:
        Dashboards jump from a service's metrics to its traces and logs by filtering
        on these attributes. When the meter provider is built from a different
        resource than the tracer provider (a separate config, a stale env var), the
        filter that finds the metrics finds no traces.

    Example:
        ``checkout`` spans say ``service.version=1.4.2``, its metrics ``1.4.1``.

    Fix:
        Build one ``Resource`` and pass it to the tracer, meter and logger providers
        (or configure all three from the same ``OTEL_RESOURCE_ATTRIBUTES``).
    """
    for name, _svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        resources = list(ctx.resources_of(name))
        for key in opts["keys"]:
            per_signal: dict[str, set[str]] = {}
            locs = []
            for sig in Signal:
                values = {
                    str(r.value(key))
                    for r in resources
                    if r.signals[sig] and r.value(key) not in (None, "")
                }
                missing = any(r.signals[sig] and r.value(key) in (None, "") for r in resources)
                if values or missing:
                    per_signal[sig.label] = values | ({"<unset>"} if missing else set())
            if len({frozenset(v) for v in per_signal.values()}) < 2:
                continue
            for r in resources:
                locs.append(ctx.first_location(r))
            signals = sorted(per_signal)
            yield Hit(
                message=f"{key} differs between {', '.join(signals)}: the signals of this service do not join on it",
                service=name,
                count=sum(sum(r.counts[:3]) for r in resources),
                locations=ctx.locations(locs),
                context={
                    "key": key,
                    "signals": signals,
                    "distinct": {s: len(v) for s, v in sorted(per_signal.items())},
                },
                values={key: {s: sorted(v) for s, v in sorted(per_signal.items())}},
            )


@rule(
    "SR002",
    "identity-drift-across-instances",
    Join.SIGNAL_RESOURCE,
    Level.WARNING,
    keys=["service.namespace", "deployment.environment.name"],
)
def identity_drift_across_instances(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Instances of one service disagree on attributes that should be the same.

    What it checks:
        For each service, every instance (``service.instance.id``) carries the same
        value of each key in ``keys`` (default ``service.namespace``,
        ``deployment.environment.name``). ``service.version`` is left out on purpose:
        instances differ in version during every rolling deploy.

    Why it breaks the join:
        A query for the service in one namespace or environment finds only some of
        its replicas, so their traces, metrics and logs fall out of every view built
        on that filter.

    Example:
        Two replicas of ``checkout``: one with ``deployment.environment.name=staging``,
        one with ``stage``.

    Fix:
        Template the attributes from one place (a Helm value, a Kustomize patch, the
        Operator's ``Instrumentation`` resource) instead of per deployment.
    """
    for name, _svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        resources = list(ctx.resources_of(name))
        for key in opts["keys"]:
            per_instance: dict[str, set[str]] = defaultdict(set)
            for r in resources:
                inst = r.value("service.instance.id")
                value = r.value(key)
                if inst not in (None, "") and value not in (None, ""):
                    per_instance[str(inst)].add(str(value))
            distinct = {v for values in per_instance.values() for v in values}
            if len(per_instance) < 2 or len(distinct) < 2:
                continue
            yield Hit(
                message=f"{len(per_instance)} instances of this service report {len(distinct)} different {key} values",
                service=name,
                count=sum(sum(r.counts[:3]) for r in resources),
                locations=ctx.locations(ctx.first_location(r) for r in resources),
                context={"key": key, "instances": len(per_instance), "distinct": len(distinct)},
                values={key: sorted(distinct)},
            )


@rule("DP001", "service-version-missing", Join.DEPLOY, Level.WARNING)
def service_version_missing(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A service reports no ``service.version``.

    What it checks:
        Every resource of a named service has a non-empty ``service.version``.

    Why it breaks the join:
        The version is how telemetry joins to the deploy that produced it: "did the
        error rate change with 1.4.2?" needs the version on every span, metric and
        log. Without it a regression cannot be tied to a release.

    Example:
        ``payments`` with ``service.name`` and ``service.instance.id`` but no version.

    Fix:
        Set ``service.version`` from the build (the image tag or git SHA) in
        ``OTEL_RESOURCE_ATTRIBUTES``.
    """
    for name in sorted(ctx.services, key=lambda s: s or ""):
        if name is None:
            continue
        lacking = [r for r in ctx.resources_of(name) if r.value("service.version") in (None, "")]
        if lacking:
            yield Hit(
                message="no service.version: this service's telemetry cannot be tied to a release",
                service=name,
                count=sum(sum(r.counts[:3]) for r in lacking),
                locations=ctx.locations(ctx.first_location(r) for r in lacking),
            )


_INFRA_PAIRS = (
    ("k8s.pod.name", "k8s.pod.uid"),
    ("host.name", "host.id"),
    ("container.name", "container.id"),
)


@rule("IN001", "infra-id-missing", Join.INFRA, Level.INFO)
def infra_id_missing(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A resource names its pod, host or container but does not give its id.

    What it checks:
        A resource with ``k8s.pod.name`` also has ``k8s.pod.uid``; with ``host.name``,
        ``host.id``; with ``container.name``, ``container.id``.

    Why it breaks the join:
        Infrastructure telemetry (kubelet, node exporter, cAdvisor) is keyed by the
        id, not the name: pod names are reused across restarts and host names
        across machines, so app telemetry joined on the name lands on the wrong pod
        or host.

    Example:
        ``k8s.pod.name=checkout-7d9f-abcde`` with no ``k8s.pod.uid``.

    Fix:
        Add the ``k8sattributes`` processor (it sets ``k8s.pod.uid``) or the
        ``resourcedetection`` processor / SDK resource detectors for host and
        container ids.
    """
    for name, _svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        gaps: dict[str, list[Any]] = defaultdict(list)
        for r in ctx.resources_of(name):
            for has, needs in _INFRA_PAIRS:
                if r.value(has) not in (None, "") and r.value(needs) in (None, ""):
                    gaps[needs].append(r)
        if gaps:
            keys = sorted(gaps)
            rs = [r for lst in gaps.values() for r in lst]
            yield Hit(
                message=f"names its infrastructure but lacks {', '.join(keys)}",
                service=name,
                count=sum(sum(r.counts[:3]) for r in {id(r): r for r in rs}.values()),
                locations=ctx.locations(ctx.first_location(r) for r in rs),
                context={"missing": keys},
            )


@rule("PE001", "peer-service-unknown", Join.PEER, Level.INFO, windowed=True)
def peer_service_unknown(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Client spans name a ``peer.service`` that is no service in the input.

    What it checks:
        Every ``peer.service`` on CLIENT/PRODUCER spans is the ``service.name`` of a
        service seen in the input.

    Why it breaks the join:
        ``peer.service`` is how a caller names its callee on the service map, also
        for callees that are not traced. A value that matches no ``service.name``
        (``payment`` vs ``payments``) draws a phantom node and leaves the real
        service's inbound edge empty.

    Example:
        ``checkout`` CLIENT spans with ``peer.service=payment-svc``; the service is
        ``payments``.

    Fix:
        Use the callee's ``service.name`` exactly as ``peer.service``.
    """
    spans = ctx.corpus.spans
    strings = ctx.corpus.strings
    known = set(ctx.services)
    per: dict[tuple[str | None, str], list[Any]] = defaultdict(list)
    if spans.peer.count(-1) == len(spans.peer):  # (in C) no span names a peer.service
        return
    # Only the rows with a peer.service are looked at (found in C).
    for i in compress(count(), map(_SET, spans.peer)):
        p = spans.peer[i]
        if spans.kind[i] in (CLIENT, PRODUCER) and strings[p] not in known:
            per[(ctx.service_of(spans.res[i]), strings[p])].append((spans.file[i], spans.rec[i]))
    for (svc, peer), locs in sorted(per.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        yield Hit(
            message=f"peer.service {peer!r} names no service in the input",
            service=svc,
            peer=peer,
            count=len(locs),
            locations=ctx.locations(locs),
        )


RULES = (
    identity_drift_across_signals,
    identity_drift_across_instances,
    service_version_missing,
    infra_id_missing,
    peer_service_unknown,
)
