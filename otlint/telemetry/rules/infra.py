"""Infra (IN): telemetry must join the pod, host or container it ran on, by id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import ResourceFacts

_INFRA_PAIRS = (
    ("k8s.pod.name", "k8s.pod.uid"),
    ("host.name", "host.id"),
    ("container.name", "container.id"),
)


@rule("IN001", "infra-id-missing", Join.INFRA, Level.INFO)
def infra_id_missing(ctx: Context, opts: Options) -> Iterator[Hit]:
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
        gaps: dict[str, list[ResourceFacts]] = defaultdict(list)
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


RULES = (infra_id_missing,)
