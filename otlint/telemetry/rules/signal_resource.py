"""Signal-resource (SR): one service has one identity in its traces, metrics and logs, on every instance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Option, Options, rule, strings_option
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import Signal


@rule(
    "SR001",
    "identity-drift-across-signals",
    Join.SIGNAL_RESOURCE,
    Level.ERROR,
    keys=Option.strings(
        [
            "service.version",
            "service.namespace",
            "deployment.environment.name",
            "deployment.environment",
        ]
    ),
)
def identity_drift_across_signals(ctx: Context, opts: Options) -> Iterator[Hit]:
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
        for key in strings_option(opts, "keys"):
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
    keys=Option.strings(["service.namespace", "deployment.environment.name"]),
)
def identity_drift_across_instances(ctx: Context, opts: Options) -> Iterator[Hit]:
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
        for key in strings_option(opts, "keys"):
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


RULES = (
    identity_drift_across_signals,
    identity_drift_across_instances,
)
