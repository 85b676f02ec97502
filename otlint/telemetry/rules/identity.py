"""Identity (ID): every record must say which service, instance and environment emitted it."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from otlint.core.errors import OtlintError
from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.jsontypes import as_json
from otlint.core.rule import Option, Options, mapping_option, rule, string_option, strings_option
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import Loc, ResourceFacts


def _records(res: ResourceFacts) -> int:
    return int(sum(res.counts[:3]))


@rule("ID001", "service-name-missing", Join.IDENTITY, Level.ERROR)
def service_name_missing(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Records whose resource has no usable ``service.name``.

    What it checks:
        Every resource (traces, metrics, logs) has a ``service.name`` attribute that
        is a non-empty string.

    Why it breaks the join:
        ``service.name`` is the key every backend groups telemetry by. Without it a
        span, log line or metric cannot be attributed to a service, so none of the
        other joins (trace to log, trace to metric, caller to callee) can be read off
        a service map either.

    Example:
        A resource with ``{"service.namespace": "shop", "host.name": "node-1"}`` and no
        ``service.name``; or ``service.name: ""``.

    Fix:
        Set ``OTEL_SERVICE_NAME`` (or ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``
        or the SDK's resource) for the deployable unit that emits these records.
    """
    reasons: dict[str, int] = defaultdict(int)
    locs = []
    for res in ctx.corpus.resources:
        if res.service is not None:
            continue
        t, v = res.attrs.get("service.name", ("missing", None))
        reason = (
            "missing" if t == "missing" else "empty" if v in ("", None) else f"a {t}, not a string"
        )
        reasons[reason] += _records(res)
        locs.append(ctx.first_location(res))
    if reasons:
        total = sum(reasons.values())
        yield Hit(
            message="service.name is "
            + ", ".join(f"{r} on {n} records" for r, n in sorted(reasons.items())),
            service=None,
            count=total,
            locations=ctx.locations(locs),
            context={"reasons": dict(reasons)},
        )


@rule("ID002", "service-name-unknown", Join.IDENTITY, Level.ERROR)
def service_name_unknown(ctx: Context, opts: Options) -> Iterator[Hit]:
    """``service.name`` is the SDK's fallback ``unknown_service[:executable]``.

    What it checks:
        No service is named ``unknown_service`` or ``unknown_service:<process>``.

    Why it breaks the join:
        SDKs fall back to this name when nobody configured one. Every unconfigured
        process of the same runtime gets the same name (``unknown_service:python``), so
        unrelated services are merged into one node and their traces, logs and
        metrics cannot be told apart.

    Example:
        ``service.name: unknown_service:java`` on the spans of a billing worker.

    Fix:
        Set ``OTEL_SERVICE_NAME=billing-worker`` in the workload's environment.
    """
    for name, svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        if name is not None and name.startswith("unknown_service"):
            yield Hit(
                message=f"service.name is the SDK fallback {name!r}: this service was never named",
                service=name,
                count=svc.records,
                locations=ctx.locations(ctx.first_location(r) for r in ctx.resources_of(name)),
            )


#: How to set each identity key, for the ID003 message.
HOW_TO_SET = {
    "service.instance.id": (
        "service.instance.id: OTEL_RESOURCE_ATTRIBUTES=service.instance.id=<unique per replica> (on Kubernetes the "
        "pod name from the downward API; the OpenTelemetry Operator sets it; or an SDK resource detector that "
        "generates one, as the Java agent does)"
    ),
    "deployment.environment.name": (
        "deployment.environment.name: OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=<environment>, "
        "spelled alike in every service"
    ),
    "service.namespace": (
        "service.namespace: OTEL_RESOURCE_ATTRIBUTES=service.namespace=<system> (the OpenTelemetry Operator sets "
        "it in the containers it instruments)"
    ),
}


@rule(
    "ID003",
    "identity-attribute-missing",
    Join.IDENTITY,
    Level.WARNING,
    required=Option.strings(
        ["service.namespace", "service.instance.id", "deployment.environment.name"]
    ),
    # SDKs set neither unless asked: info. A key not listed here takes the rule's level.
    levels=Option.mapping({"service.instance.id": "info", "service.namespace": "info"}),
)
def identity_attribute_missing(ctx: Context, opts: Options) -> Iterator[Hit]:
    """A service's resources lack attributes the rule set requires for identity.

    What it checks:
        Every resource of a named service carries each key in the ``required`` option
        (default ``service.namespace``, ``service.instance.id``,
        ``deployment.environment.name``). The ``levels`` option gives a key its own
        level (default: ``service.instance.id`` and ``service.namespace`` at info,
        since no SDK sets them unless asked); a key it does not list takes the rule's
        level (warning). One finding per service, at the level of its most severe
        missing key, naming the others and saying how to set its keys (the
        ``how`` context holds the way to set each).
        A key present under its deprecated name (``deployment.environment``) is not
        missing: the environment is known, and SC001 asks for the rename.

    Why it breaks the join:
        ``service.name`` alone does not identify a stream: staging and production
        share names, so without ``deployment.environment.name`` their telemetry
        merges into one service in every backend, and the environment does not make
        services distinct by itself, so joins must include it. Two teams may own a
        ``gateway`` (``service.namespace``), and without ``service.instance.id`` the
        spans of one replica cannot be joined to that replica's metrics.

    Example:
        ``service.name: checkout`` with no ``deployment.environment.name``.

    Fix:
        Add the keys to ``OTEL_RESOURCE_ATTRIBUTES`` (e.g.
        ``service.namespace=shop,deployment.environment.name=staging``) or the SDK
        resource. ``service.instance.id`` must differ per replica: take the pod name
        from the Kubernetes downward API, let the OpenTelemetry Operator inject it, or
        enable an SDK resource detector that generates one (the Java agent does).
    """
    required = strings_option(opts, "required")
    levels: dict[str, Level] = {}
    for key, word in mapping_option(opts, "levels").items():
        try:
            levels[key] = Level.parse(str(word))
        except ValueError as exc:
            raise OtlintError(f"option levels of ID003, key {key}: {exc}") from None
    for name, _svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        if name is None:
            continue
        missing: dict[str, int] = defaultdict(int)
        locs: dict[str, list[Loc | None]] = defaultdict(list)
        for res in ctx.resources_of(name):
            lacking = [k for k in required if not _has(res, k)]
            for k in lacking:
                missing[k] += _records(res)
                locs[k].append(ctx.first_location(res))
        if not missing:
            continue
        # One finding per service, at the level of its most severe missing key (None: the
        # rule's own level); keys of a lower level are named in it, not found twice.
        lacking = sorted(missing)
        level = max(
            (levels.get(k) for k in lacking), key=lambda lv: 9 if lv is None else lv.severity
        )
        keys = [k for k in lacking if levels.get(k) == level]
        also = [k for k in lacking if levels.get(k) != level]
        lower = "/".join(dict.fromkeys(levels[k].value for k in also))
        how = "; ".join(HOW_TO_SET[k] for k in keys if k in HOW_TO_SET)
        yield Hit(
            message=f"missing {', '.join(keys)}"
            + (f" (and, at {lower}, {', '.join(also)})" if also else "")
            + (f". To set {how}" if how else ""),
            service=name,
            count=max(missing[k] for k in keys),
            locations=ctx.locations(loc for k in lacking for loc in locs[k]),
            context={
                "missing": keys,
                "also": also,
                "how": {k: HOW_TO_SET[k] for k in lacking if k in HOW_TO_SET},
            },
            level=level,
        )


#: Required keys a resource still has under their deprecated name: the identity is
#: there, and the rename is SC001's (one root cause, one finding).
_DEPRECATED_NAMES = {"deployment.environment.name": "deployment.environment"}


def _has(res: ResourceFacts, key: str) -> bool:
    for k in (key, _DEPRECATED_NAMES.get(key)):
        if k is not None and res.attrs.get(k, ("empty", None))[1] not in (None, ""):
            return True
    return False


@rule("ID004", "instance-id-shared", Join.IDENTITY, Level.ERROR)
def instance_id_shared(ctx: Context, opts: Options) -> Iterator[Hit]:
    """One ``service.instance.id`` is used by more than one service.

    What it checks:
        Each ``service.instance.id`` value appears under one ``service.name`` only.

    Why it breaks the join:
        The instance id is what joins a replica's spans to its own metrics and logs
        (and to the pod it ran in). When two services report the same id — a
        hard-coded value copied between deployments, or a host name used as the
        instance id for every process on the host — their instances collide.

    Example:
        ``checkout`` and ``payments`` both send ``service.instance.id: instance-1``.

    Fix:
        Let the SDK generate the id (a UUID per process), or derive it from the pod
        (``k8s.pod.uid``) plus the container name.
    """
    # Keyed by the id's value as sent (a string, or whatever type a broken SDK used).
    owners: dict[object, set[str | None]] = defaultdict(set)
    records: dict[object, int] = defaultdict(int)
    locs: dict[object, list[Loc | None]] = defaultdict(list)
    for res in ctx.corpus.resources:
        v = res.value("service.instance.id")
        if v in (None, ""):
            continue
        owners[v].add(res.service)
        records[v] += _records(res)
        locs[v].append(ctx.first_location(res))
    for i, (value, services) in enumerate(sorted(owners.items(), key=lambda kv: str(kv[0]))):
        if len(services) < 2:
            continue
        names = sorted(services, key=lambda s: s or "")
        yield Hit(
            message=f"one service.instance.id (#{i + 1}) is used by {len(names)} services: "
            + ", ".join(s or "<no service.name>" for s in names),
            service=names[0],
            peer=", ".join(s or "<no service.name>" for s in names[1:]),
            count=records[value],
            locations=ctx.locations(locs[value]),
            context={"services": names},
            values={"service.instance.id": as_json(value)},
        )


@rule("ID005", "service-name-format", Join.IDENTITY, Level.WARNING, pattern=Option.string(""))
def service_name_format(ctx: Context, opts: Options) -> Iterator[Hit]:
    """``service.name`` does not match the naming pattern the rule set sets.

    What it checks:
        With the ``pattern`` option set (a Python regular expression, matched in
        full), every ``service.name`` matches it. With no pattern the rule is silent.

    Why it breaks the join:
        Names that follow no convention (``Checkout``, ``checkout-svc``,
        ``checkout_service``) split one service into several across teams and
        signals, and ``peer.service`` values written by callers stop matching.

    Example:
        ``pattern: "[a-z][a-z0-9-]*"`` and a service named ``CheckoutService``.

    Fix:
        Rename the service in its SDK configuration to follow the convention.
    """
    pattern = string_option(opts, "pattern")
    if not pattern:
        return
    regex = re.compile(pattern)
    for name, svc in sorted(ctx.services.items(), key=lambda kv: kv[0] or ""):
        if (
            name is not None
            and not name.startswith("unknown_service")
            and not regex.fullmatch(name)
        ):
            yield Hit(
                message=f"service.name {name!r} does not match the naming pattern",
                service=name,
                count=svc.records,
                locations=ctx.locations(ctx.first_location(r) for r in ctx.resources_of(name)),
                context={"pattern": pattern},
            )


@rule(
    "ID006",
    "environment-not-allowed",
    Join.IDENTITY,
    Level.WARNING,
    allowed=Option.strings([]),
)
def environment_not_allowed(ctx: Context, opts: Options) -> Iterator[Hit]:
    """``deployment.environment.name`` is not one of the allowed environments.

    What it checks:
        With the ``allowed`` option set (a list such as ``[production, staging]``),
        every ``deployment.environment.name`` (or deprecated
        ``deployment.environment``) value is in it. With no list the rule is silent.

    Why it breaks the join:
        ``prod``, ``production`` and ``Production`` are three environments to every
        query, so one environment's traces do not join its own metrics and alerts
        filtered on one spelling miss the others.

    Example:
        ``allowed: [production, staging]`` and a service reporting ``prod``.

    Fix:
        Use one of the allowed spellings in the workload's resource attributes.
    """
    allowed = set(strings_option(opts, "allowed"))
    if not allowed:
        return
    bad: dict[str | None, list[ResourceFacts]] = defaultdict(list)
    for res in ctx.corpus.resources:
        value = res.value("deployment.environment.name") or res.value("deployment.environment")
        if value not in (None, "") and str(value) not in allowed:
            bad[res.service].append(res)
    for name, resources in sorted(bad.items(), key=lambda kv: kv[0] or ""):
        yield Hit(
            message="deployment environment is not one of: " + ", ".join(sorted(allowed)),
            service=name,
            count=sum(_records(r) for r in resources),
            locations=ctx.locations(ctx.first_location(r) for r in resources),
            context={"allowed": sorted(allowed)},
            values={
                "deployment.environment.name": sorted(
                    {
                        str(
                            r.value("deployment.environment.name")
                            or r.value("deployment.environment")
                        )
                        for r in resources
                    }
                )
            },
        )


#: What a service name's spelling may vary in and still name the same service (ID007).
_SPELLING = re.compile(r"[-_.\s]+")


@rule("ID007", "service-name-variants", Join.IDENTITY, Level.WARNING)
def service_name_variants(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Service names that differ only by case, spaces or separators: one service under several names.

    What it checks:
        No two ``service.name`` values in the input are the same once case, white
        space and the separators ``-``, ``_`` and ``.`` are ignored (``checkout``,
        ``Checkout``, ``checkout `` and ``check_out`` are one name to this rule). The
        spelling with the most records (on a tie, a lower-case one) is taken as the
        service's name, and each other spelling is reported with the records it
        carries. The SDK's ``unknown_service`` names are ID002's.

    Why it breaks the join:
        Backends key a service on its exact ``service.name``: each spelling is a
        service of its own, with its own node on the service map, its own dashboards
        and alerts. The service's traces, metrics and logs are split between the
        names, a query for one misses the records of the others, and the callers'
        ``peer.service`` can match only one of them.

    Example:
        ``cart-service`` on the spans of the current release and ``cart_service`` on
        those of a replica still running the old chart; ``Checkout`` in the
        ``OTEL_SERVICE_NAME`` of one deployment and ``checkout`` in the others.

    Fix:
        Set the name in one place (a Helm value, the Operator's ``Instrumentation``,
        a shared ``.env``) so every workload and signal spells it alike; during a
        rename, the collector's transform processor can rewrite the old spelling.
    """
    spellings: dict[str, list[str]] = defaultdict(list)
    for name in ctx.services:
        if name is not None and not name.startswith("unknown_service"):
            spellings[_SPELLING.sub("", name).lower()].append(name)
    for _folded, names in sorted(spellings.items()):
        if len(names) < 2:
            continue
        records = {name: ctx.services[name].records for name in names}
        major = max(sorted(names), key=lambda n: (records[n], n == n.lower()))
        for name in sorted(names):
            if name == major:
                continue
            yield Hit(
                message=f"service.name differs from {major!r} only by case, spaces or separators: "
                f"one service is split between {len(names)} names",
                service=name,
                count=records[name],
                locations=ctx.locations(ctx.first_location(r) for r in ctx.resources_of(name)),
                context={"spelled": major, "spellings": sorted(names)},
            )


RULES = (
    service_name_missing,
    service_name_unknown,
    identity_attribute_missing,
    instance_id_shared,
    service_name_format,
    environment_not_allowed,
    service_name_variants,
)
