"""Config rules CF03x, collector processors: what a collector pipeline deletes, hashes or overwrites on the way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from otlint.configs.rules.pipelines import exported_processors
from otlint.configs.rules.wording import plural
from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Option, Options, rule, strings_option

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts, KeyChange, Pipeline, Processor


_OPS = {"delete": "deletes", "hash": "hashes", "overwrite": "overwrites"}


def _key_changes(
    facts: ConfigFacts,
    keys: list[str],
    scopes: tuple[str, ...],
    skip: Callable[[Processor, KeyChange], bool] | None = None,
) -> Iterator[tuple[Processor, KeyChange, list[str], list[Pipeline]]]:
    for processor, pipelines in exported_processors(facts):
        for change in processor.changes:
            if change.scope not in scopes or (skip is not None and skip(processor, change)):
                continue
            hit = (
                [k for k in keys if change.hits(k)]
                if change.scope != "field"
                else [change.key or ""]
            )
            if hit:
                yield processor, change, hit, pipelines


def _collector_hits(facts: ConfigFacts, keys: list[str], consequence: str) -> Iterator[Hit]:
    for processor, change, hit, pipelines in _key_changes(facts, keys, ("resource",)):
        names = sorted({p.id for p in pipelines})
        yield Hit(
            message=f"processor {processor.id} {_OPS[change.op]} {plural(hit)} ({change.how}) in "
            f"{'pipeline' if len(names) == 1 else 'pipelines'} {', '.join(names)}: {consequence}",
            count=len(names),
            locations=[change.at],
            context={"processor": processor.id, "keys": hit, "op": change.op, "pipelines": names},
        )


@rule(
    "CF030",
    "collector-drops-identity",
    Join.IDENTITY,
    Level.ERROR,
    keys=Option.strings(
        [
            "service.name",
            "service.namespace",
            "service.instance.id",
            "deployment.environment.name",
        ]
    ),
    target="config",
)
def collector_drops_identity(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector processor that deletes, hashes or overwrites the service's identity.

    What it checks:
        No ``resource``, ``transform`` (resource context) processor used in a
        pipeline that exports deletes, hashes or sets to a constant any key of the
        ``keys`` option (default ``service.name``, ``service.namespace``,
        ``service.instance.id``, ``deployment.environment.name``); ``keep_keys``
        lists that leave them out count as deleting them.

    Why it breaks the join:
        Every service's telemetry passes through the collector: a deleted or hashed
        name leaves the backend with no way to tell services apart, and a constant
        merges all of them into one. Nothing downstream can undo it.

    Example:
        ``resource: {attributes: [{key: service.instance.id, action: delete}]}`` to
        cut metric cardinality, used in the ``traces`` and ``metrics`` pipelines.

    Fix:
        Remove the step; to fill a missing value use ``action: insert`` (it never
        overwrites); to cut cardinality drop the key only in a metrics pipeline of
        its own, or aggregate in the backend.
    """
    yield from _collector_hits(
        facts, strings_option(opts, "keys"), "telemetry loses the identity it joins on"
    )


@rule(
    "CF031",
    "collector-drops-version",
    Join.DEPLOY,
    Level.WARNING,
    keys=Option.strings(["service.version"]),
    target="config",
)
def collector_drops_version(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector processor that deletes, hashes or overwrites ``service.version``.

    What it checks:
        No processor used in a pipeline that exports deletes, hashes or sets to a
        constant a key of the ``keys`` option (default ``service.version``).

    Why it breaks the join:
        ``service.version`` is how a latency spike or an error rate is tied to the
        deploy that caused it. Without it (or with one constant for every service)
        no telemetry can be compared before and after a release.

    Example:
        ``transform`` with ``delete_key(resource.attributes, "service.version")``.

    Fix:
        Keep ``service.version``; if its cardinality is the worry, it is one value
        per deploy and safe to keep.
    """
    yield from _collector_hits(
        facts, strings_option(opts, "keys"), "telemetry can no longer be tied to a deploy"
    )


@rule(
    "CF032",
    "collector-drops-infra-id",
    Join.INFRA,
    Level.WARNING,
    keys=Option.strings(["k8s.pod.uid", "host.id", "container.id", "k8s.node.uid"]),
    target="config",
)
def collector_drops_infra_id(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector processor that deletes, hashes or overwrites pod, host or container ids.

    What it checks:
        No processor used in a pipeline that exports deletes, hashes or sets to a
        constant a key of the ``keys`` option (default ``k8s.pod.uid``, ``host.id``,
        ``container.id``, ``k8s.node.uid``), by key, by pattern (``^k8s\\.``) or by
        a ``keep_keys`` list that leaves it out.

    Why it breaks the join:
        These ids are how application telemetry is joined to the pod, node, host or
        container it ran on (and to their metrics and events). Names are reused;
        the ids are not.

    Example:
        ``attributes: [{pattern: ^k8s\\.pod\\..*, action: delete}]`` in a
        ``resource`` processor.

    Fix:
        Keep the ids; delete only the keys you mean by naming them.
    """
    yield from _collector_hits(
        facts,
        strings_option(opts, "keys"),
        "telemetry can no longer be joined to its pod, host or container",
    )


@rule(
    "CF033",
    "collector-drops-trace-ids",
    Join.TRACE,
    Level.ERROR,
    keys=Option.strings(
        ["trace_id", "span_id", "parent_span_id", "traceId", "spanId", "trace.id", "span.id"]
    ),
    target="config",
)
def collector_drops_trace_ids(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A collector processor that deletes, hashes or overwrites trace or span ids.

    What it checks:
        No processor used in a pipeline that exports sets a record's ``trace_id``,
        ``span_id`` or ``parent_span_id`` to a constant, ``nil`` or a hash, and none
        deletes or hashes an attribute named in the ``keys`` option (ids carried as
        attributes) — unless the same ``transform`` first copies it into the
        record's id field.

    Why it breaks the join:
        Trace and span ids are the join: a hashed or constant id resolves to no span,
        so logs no longer reach their traces and spans no longer reach their
        parents.

    Example:
        ``attributes: {actions: [{key: trace_id, action: hash}]}`` in the logs
        pipeline, added to "anonymise" records.

    Fix:
        Remove the step; ids are random and carry no personal data. To move ids from
        an attribute into the record, ``set(log.trace_id.string, log.attributes["trace_id"])``
        before deleting the attribute.
    """
    keys = strings_option(opts, "keys")

    def copied(processor: Processor, change: KeyChange) -> bool:
        return change.op == "delete" and change.scope == "record" and processor.copies_ids

    for processor, change, hit, pipelines in _key_changes(facts, keys, ("record", "field"), copied):
        names = sorted({p.id for p in pipelines})
        what = (
            f"the record's {hit[0]}" if change.scope == "field" else f"the {plural(hit)} attribute"
        )
        yield Hit(
            message=f"processor {processor.id} {_OPS[change.op]} {what} ({change.how}) in "
            f"{'pipeline' if len(names) == 1 else 'pipelines'} {', '.join(names)}: the ids resolve to no span",
            count=len(names),
            locations=[change.at],
            context={"processor": processor.id, "keys": hit, "op": change.op, "pipelines": names},
        )


@rule("CF034", "k8sattributes-no-pod-uid", Join.INFRA, Level.WARNING, target="config")
def k8sattributes_no_pod_uid(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A ``k8sattributes`` processor told to extract pod metadata without ``k8s.pod.uid``.

    What it checks:
        A ``k8sattributes`` processor used in a pipeline that exports and that lists
        ``extract.metadata`` includes ``k8s.pod.uid`` in the list (the default list
        does).

    Why it breaks the join:
        Pod names are reused by every restart of a StatefulSet and by every pod of a
        re-created Deployment; only the uid identifies the pod whose metrics, events
        and logs the telemetry must join.

    Example:
        ``extract: {metadata: [k8s.namespace.name, k8s.pod.name, k8s.deployment.name]}``.

    Fix:
        Add ``k8s.pod.uid`` to ``extract.metadata``.
    """
    for processor, pipelines in exported_processors(facts):
        if (
            processor.type != "k8sattributes"
            or processor.metadata is None
            or "k8s.pod.uid" in processor.metadata
        ):
            continue
        names = sorted({p.id for p in pipelines})
        yield Hit(
            message=f"processor {processor.id} extracts pod metadata without k8s.pod.uid: telemetry joins "
            "pods only by name, which restarts reuse",
            count=len(names),
            locations=[processor.metadata_at or processor.at],
            context={"processor": processor.id, "pipelines": names},
        )


@rule("CF035", "resourcedetection-overrides", Join.INFRA, Level.INFO, target="config")
def resourcedetection_overrides(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A ``resourcedetection`` processor that overwrites the host attributes senders set.

    What it checks:
        A ``resourcedetection`` processor used in a pipeline that exports, with
        detectors other than ``env``, sets ``override: false`` (it defaults to
        true).

    Why it breaks the join:
        With ``override`` the collector replaces the ``host.*`` and ``cloud.*``
        attributes the SDKs detected with its own. On an agent next to the app that
        is the same host; on a gateway every service appears to run on the gateway's
        host, and the app-to-host join points at the wrong machine.

    Example:
        ``resourcedetection: {detectors: [system, ec2]}`` on a gateway collector.

    Fix:
        ``override: false`` (detected values then only fill gaps), or run the
        detection on an agent collector on each host.
    """
    for processor, pipelines in exported_processors(facts):
        if (
            processor.type not in ("resourcedetection", "resource_detection")
            or not processor.override
        ):
            continue
        detectors = [d for d in processor.detectors if d != "env"]
        if not detectors:
            continue
        names = sorted({p.id for p in pipelines})
        yield Hit(
            message=f"processor {processor.id} overwrites the host and cloud attributes senders set "
            f"(detectors {', '.join(detectors)}; override defaults to true): right only on an agent on "
            "the senders' own host",
            count=len(names),
            locations=[processor.override_at or processor.at],
            context={"processor": processor.id, "detectors": detectors, "pipelines": names},
        )


RULES = (
    collector_drops_identity,
    collector_drops_version,
    collector_drops_infra_id,
    collector_drops_trace_ids,
    k8sattributes_no_pod_uid,
    resourcedetection_overrides,
)
