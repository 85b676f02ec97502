"""Config files: the join breaks that are written into configuration before telemetry exists.

These rules run over ``ConfigFacts`` (``otlint check-config``), not over telemetry.
They name the same joins as the telemetry rules: a compose service with no service
name breaks ``identity`` exactly as the spans it will send do, one service on ``b3``
breaks ``trace`` before the first request is made.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from otlint.configs.names import (
    NO_PROPAGATOR,
    NO_PROPAGATOR_NO_TRACES,
    PROPAGATORS,
    RESOURCE_ATTRIBUTES,
    SERVICE_NAME,
)
from otlint.core.errors import OtlintError
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.redact import MASK, looks_secret
from otlint.core.rule import CheckFn, Rule, rule
from otlint.core.semconv import deprecations

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import (
        Attr,
        Collector,
        ConfigFacts,
        KeyChange,
        Pipeline,
        Processor,
        Unit,
    )

ConfigCheck = Callable[["ConfigFacts", Mapping[str, Any]], Iterator[Hit]]


def _config_rule(
    code: str, name: str, join: Join, level: Level, **options: Any
) -> Callable[[ConfigCheck], Rule]:
    """``@rule(..., target="config")`` for a check that takes ConfigFacts.

    ``Rule.check`` is typed for telemetry's ``Context``; the config engine passes
    ``ConfigFacts`` instead, and this is the one place the two types meet.
    """

    def wrap(fn: ConfigCheck) -> Rule:
        return rule(code, name, join, level, target="config", **options)(cast(CheckFn, fn))

    return wrap


#: Propagators that carry trace context (``baggage`` carries none).
TRACE_PROPAGATORS = frozenset(
    {"tracecontext", "b3", "b3multi", "jaeger", "xray", "xray-lambda", "ottrace"}
)
#: Every propagator name an SDK knows (``OTEL_PROPAGATORS`` and the declarative config).
KNOWN_PROPAGATORS = frozenset({*TRACE_PROPAGATORS, "baggage", "none"})
#: Deprecated propagators: the specification no longer asks SDKs to ship them.
DEPRECATED_PROPAGATORS = {"jaeger": "Jaeger clients", "ottrace": "OpenTracing"}
_ENV_KEYS = ("deployment.environment.name", "deployment.environment")
#: Spellings of the same environment, to their common name.
_SYNONYMS = {
    "prod": "production",
    "prd": "production",
    "live": "production",
    "stage": "staging",
    "stg": "staging",
    "dev": "development",
    "develop": "development",
    "qa": "test",
    "testing": "test",
    "tst": "test",
}
_OPS = {"delete": "deletes", "hash": "hashes", "overwrite": "overwrites"}


def _active(unit: Unit) -> bool:
    return unit.instrumented and not unit.disabled


def _plural(items: list[str], limit: int = 4) -> str:
    shown = items[:limit]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


# --------------------------------------------------------------------------- input


@_config_rule("CF001", "config-unreadable", Join.INPUT, Level.ERROR)
def config_unreadable(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A configuration file (or document) that cannot be read.

    What it checks:
        Every ``.yaml`` / ``.yml`` file given is valid YAML (no syntax errors, no
        duplicate keys) and every document a reader recognises has a shape it can
        read.

    Why it breaks the join:
        A file otlint cannot read is one nobody can check: the service it configures
        may set no name or the wrong propagator, and the collector or the SDK will
        often refuse it outright, so the unit emits nothing at all. Duplicate keys
        are worse: YAML keeps the last one silently.

    Example:
        ``OTEL_SERVICE_NAME: checkout`` twice under one compose ``environment:``, or a
        tab used for indentation.

    Fix:
        Fix the syntax at the line and column given; merge duplicate keys.
    """
    for problem in facts.problems:
        yield Hit(message=f"cannot read this file: {problem.message}", locations=[problem.at])


# --------------------------------------------------------------------------- identity


def _unnamed(facts: ConfigFacts) -> Iterator[tuple[Unit, str | None]]:
    """Deployable units whose configuration gives no service name, each with why the
    name is then *certainly* unknown (None: the app's code may still name it)."""
    for unit in facts.units:
        if (
            not (unit.deployable and _active(unit))
            or unit.service_name
            or unit.service_name_unknown
        ):
            continue
        why: str | None = None
        lost = [m for m in unit.malformed if "service.name" in m.lost]
        if unit.followed is not None:
            why = f"its SDK configuration {unit.followed} sets no service.name"
            if any(s.name == SERVICE_NAME for s in unit.ignored):
                why += f" and the SDK then ignores {SERVICE_NAME}"
        elif unit.kind == "SDK configuration":
            why = "the declarative configuration has no service.name and no service detector"
        elif lost:
            why = f"the service.name in {RESOURCE_ATTRIBUTES} is lost with its malformed value"
        elif unit.agent:
            why = "the Java agent builds the SDK from configuration only"
        yield unit, why


def _name_at(unit: Unit) -> Location:
    """Where a unit's service name would be written."""
    empty = unit.env.get(SERVICE_NAME)
    if empty is not None and empty not in unit.ignored:
        return empty.key_at
    return unit.name_at or unit.at


@_config_rule("CF010", "config-service-name-missing", Join.IDENTITY, Level.ERROR)
def service_name_missing(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A deployable unit whose configuration leaves its service name certainly unknown.

    What it checks:
        A compose service, Kubernetes container or SDK configuration file that sets
        up OpenTelemetry, where the configuration alone decides the name and gives
        none: a declarative SDK configuration with no ``service.name`` (nor the
        ``service`` detector), an ``OTEL_CONFIG_FILE`` in the run that sets none
        (the SDK then ignores ``OTEL_SERVICE_NAME``), a ``service.name`` lost with a
        malformed ``OTEL_RESOURCE_ATTRIBUTES``, or the Java agent with no
        ``otel.service.name``. Units that may name themselves in code are CF015's;
        names the Operator injects, and names from a Secret or an unresolved
        variable, count as set (CF060 notes those).

    Why it breaks the join:
        Without a name the SDK reports ``unknown_service:<process>``; every unnamed
        unit of the same runtime lands on the same node of the service map, so none
        of its spans, logs or metrics can be attributed or joined to its callers.

    Example:
        A declarative configuration (``file_format: "1.0"``) whose ``resource`` has
        attributes but no ``service.name``.

    Fix:
        Add ``service.name`` to the configuration's ``resource.attributes`` (or the
        ``service`` detector, which reads ``OTEL_SERVICE_NAME``); for the Java agent,
        ``OTEL_SERVICE_NAME``.
    """
    for unit, why in _unnamed(facts):
        if why is None:
            continue
        yield Hit(
            message=f"{unit.label} sets no service name ({why}): its telemetry will be reported as unknown_service",
            locations=[_name_at(unit)],
            context={"unit": unit.label},
        )


@_config_rule("CF015", "config-service-name-in-code", Join.IDENTITY, Level.INFO)
def service_name_in_code(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """An instrumented unit whose configuration sets no service name: its code must.

    What it checks:
        A compose service or Kubernetes container with SDK settings (an exporter
        endpoint, a sampler, ...) but no ``OTEL_SERVICE_NAME`` and no ``service.name``
        in ``OTEL_RESOURCE_ATTRIBUTES``. Many apps name themselves in code
        (``Resource.create({"service.name": ...})``, ``AddService(...)``,
        ``resource.WithAttributes(semconv.ServiceName(...))``), which no
        configuration file shows, so this is a note, not an error.

    Why it breaks the join:
        It does not if the code names the service. If it does not, the SDK reports
        ``unknown_service:<process>`` and the unit's telemetry joins nothing of its
        own.

    Example:
        A compose service with only ``OTEL_EXPORTER_OTLP_ENDPOINT``.

    Fix:
        Make sure the code sets ``service.name``, or set ``OTEL_SERVICE_NAME`` in the
        unit's environment (the variable wins over the code in most SDKs).
    """
    for unit, why in _unnamed(facts):
        if why is not None:
            continue
        empty = unit.env.get(SERVICE_NAME)
        note = f" ({SERVICE_NAME} is empty, which SDKs treat as unset)" if empty is not None else ""
        yield Hit(
            message=f"{unit.label} sets no service name in its configuration{note}: it must be set in "
            "code, or its telemetry is reported as unknown_service",
            locations=[_name_at(unit)],
            context={"unit": unit.label},
        )


@_config_rule("CF011", "config-service-name-unknown", Join.IDENTITY, Level.ERROR)
def service_name_unknown(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A service name set to the SDK's fallback ``unknown_service``.

    What it checks:
        No unit sets its service name to ``unknown_service`` or
        ``unknown_service:<anything>``.

    Why it breaks the join:
        That is the name SDKs use for a service nobody named; writing it down makes
        the unit indistinguishable from every other unnamed process, so its
        telemetry merges with theirs and joins to none of its own callers.

    Example:
        ``OTEL_SERVICE_NAME=unknown_service:java`` copied from a dashboard.

    Fix:
        Name the service after what it is: ``OTEL_SERVICE_NAME=billing-worker``.
    """
    for unit in facts.units:
        name = unit.service
        if (
            _active(unit)
            and unit.service_name is not None
            and name is not None
            and name.startswith("unknown_service")
        ):
            yield Hit(
                message=f"{unit.label} names its service {name!r}, the fallback SDKs use for an unnamed service",
                service=name,
                locations=[unit.service_name.at],
                context={"unit": unit.label},
            )


@_config_rule(
    "CF012",
    "config-identity-attribute-missing",
    Join.IDENTITY,
    Level.WARNING,
    required=["service.namespace", "deployment.environment.name"],
    levels={"service.namespace": "info"},
)
def identity_attribute_missing(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Deployable units whose resource lacks attributes the rule set requires.

    What it checks:
        Every instrumented deployable unit sets each key of the ``required`` option
        (default ``service.namespace`` and ``deployment.environment.name``) in its
        resource attributes, or gets it from somewhere the run shows: the
        OpenTelemetry Operator (which injects ``service.namespace`` and the pod's
        ``resource.opentelemetry.io/*`` annotations), a ``k8sattributes`` processor
        of a collector beside it (``otel_annotations: true`` reads those
        annotations; ``extract.metadata`` may list ``service.namespace``), or a
        collector ``resource`` processor that inserts the key. Units whose
        attributes come partly from somewhere that cannot be read here (a Secret,
        an unresolved variable) are not judged. Units whose attributes come from
        one shared place (the compose project's ``.env``, an ``env_file``, a YAML
        anchor, the ``spec.resource`` of the ``Instrumentation`` injected into
        them) are reported once, at that place, with the units in the context;
        containers rendered from one chart template (``# Source:`` of ``helm
        template``) once per file, at the first, the others' lines in the context.
        ``service.instance.id`` is not required by default: it must differ per
        process, so it belongs to the SDK, the Operator or ``$(POD_UID)``, not to a
        file; add it to ``required`` to check those are wired. The ``levels`` option
        gives a key its own level, as for telemetry's ID003 (default:
        ``service.namespace`` at info; the others at the rule's level, warning). One
        finding per unit (or shared place), at the level of its most severe missing
        key, naming the others. A deprecated
        ``deployment.environment`` still names the environment: the rename is
        CF040's finding, not a missing key here (one root cause, one finding); with
        CF040 turned off, ``deployment.environment.name`` is reported missing here.

    Why it breaks the join:
        ``service.name`` alone does not identify a stream: staging and production
        share names, two teams may both own a ``gateway``. Telemetry without its
        environment or namespace joins to the wrong twin, or to both.

    Example:
        ``OTEL_RESOURCE_ATTRIBUTES=service.namespace=shop`` with no
        ``deployment.environment.name``.

    Fix:
        Add the missing keys to ``OTEL_RESOURCE_ATTRIBUTES``
        (``deployment.environment.name=production``) or to ``resource.attributes``,
        at the line given: for a shared ``.env`` that fixes every unit listed.
    """
    required = [str(k) for k in opts["required"]]
    levels = _key_levels(opts, "CF012")
    # A deprecated deployment.environment is CF040's rename; with CF040 turned off the
    # key is still missing under its current name, and said here.
    defer = facts.enabled is None or "CF040" in facts.enabled
    groups: dict[tuple[object, tuple[str, ...], str, Level | None], list[tuple[Unit, Location]]] = (
        defaultdict(list)
    )
    for unit in facts.units:
        if (
            not (unit.deployable and _active(unit))
            or unit.attributes_unknown
            or (unit.config_file is not None and unit.followed is None)
        ):
            continue
        have = set(unit.attributes) | _supplied(unit, facts)
        if "deployment.environment" in have and defer:
            have.add("deployment.environment.name")  # named, under the old key: CF040's
        lacking = [k for k in required if k not in have]
        if not lacking:
            continue
        site, shared = _attributes_at(unit)
        # Units rendered from one chart template share their fix in the chart, which is
        # not in the run: one finding per file and template, at each unit's line.
        group: object = site if shared or unit.template is None else (site.path, unit.template)
        # One finding per unit, at the level of its most severe missing key (None: the
        # rule's own); keys of a lower level are named in it, not found twice.
        level = max((levels.get(k) for k in lacking), key=_severity)
        missing = tuple(k for k in lacking if levels.get(k) == level)
        also = tuple(k for k in lacking if levels.get(k) != level)
        hint = f" (nor, at {_lower(also, levels)}, {', '.join(also)})" if also else ""
        if "deployment.environment.name" in lacking and "deployment.environment" in have:
            hint += " (the deprecated deployment.environment is set: rename it)"
        if any(k in m.lost for m in unit.malformed for k in lacking):
            hint += f" (lost with the malformed {RESOURCE_ATTRIBUTES})"
        groups[(group, missing, hint, level)].append((unit, site))
    for (group, missing, hint, level), members in groups.items():
        units = [u for u, _ in members]
        labels = [u.label for u in units]
        if len(units) == 1:
            message = f"{units[0].label} sets no {', '.join(missing)}{hint}"
        elif isinstance(group, tuple):
            message = (
                f"{len(units)} units rendered from {group[1]} set no {', '.join(missing)} "
                f"({_plural(labels)}){hint}: set it once in the chart"
            )
        else:
            message = (
                f"{', '.join(missing)} is set by none of the {len(units)} units whose resource "
                f"attributes come from here ({_plural(labels)}){hint}"
            )
        services = {u.service for u in units}
        yield Hit(
            message=message,
            service=units[0].service if len(services) == 1 else None,
            count=len(units),
            locations=[members[0][1]],
            context={
                "unit": labels[0],
                "units": labels,
                "missing": list(missing),
                "at": [str(site) for site in dict.fromkeys(site for _, site in members)],
            },
            level=level,
        )


def _severity(level: Level | None) -> int:
    """A per-key level's severity; None (the rule's own level) ranks above them all."""
    return 9 if level is None else level.severity


def _lower(keys: Sequence[str], levels: Mapping[str, Level]) -> str:
    return "/".join(dict.fromkeys(levels[k].value for k in keys if k in levels)) or "its level"


def _key_levels(opts: Mapping[str, Any], code: str) -> dict[str, Level]:
    """The ``levels`` option: a level per required key."""
    levels: dict[str, Level] = {}
    for key, text in dict(opts.get("levels") or {}).items():
        try:
            levels[key] = Level.parse(str(text))
        except ValueError as exc:
            raise OtlintError(f"option levels of {code}, key {key}: {exc}") from None
    return levels


def _attributes_at(unit: Unit) -> tuple[Location, bool]:
    """Where a unit's resource attributes are written (or the unit, when nowhere), and
    whether that place is shared: the setting they are built on, when there is one."""
    setting = unit.env.get(RESOURCE_ATTRIBUTES)
    if setting is not None and setting not in unit.ignored:
        if setting.origin is not None:
            return setting.origin.key_at, True
        return setting.key_at, setting.source.startswith(("env_file", "ConfigMap"))
    if unit.followed is not None and unit.name_at is not None:
        return unit.name_at, False
    if unit.injected_from is not None:
        # The Instrumentation's spec.resource reaches every container it instruments.
        return unit.injected_from, True
    own = [a for a in unit.attributes.values() if a.source not in ("operator", SERVICE_NAME)]
    return (own[0].at if own else unit.name_at or unit.at), False


_K8SATTRIBUTES = ("k8sattributes", "k8s_attributes")


def _supplied(unit: Unit, facts: ConfigFacts) -> set[str]:
    """Resource attribute keys a collector beside ``unit`` adds to its telemetry.

    A collector is beside a unit when the collector's file is in the unit's folder or
    a folder above it, or one level further down (a chart's ``collector/`` next to
    its apps). ``k8sattributes`` adds, to pods only, the ``resource.opentelemetry.io``
    annotations (``otel_annotations: true``) and ``service.*`` keys listed in
    ``extract.metadata``; a ``resource`` processor adds what it inserts or upserts.
    """
    found: set[str] = set()
    for collector in facts.collectors:
        if not _beside(collector.path, unit.at.path):
            continue
        for pipeline in collector.pipelines:
            if not pipeline.exports:
                continue
            for name, _at in pipeline.processors:
                processor = _processor(collector, name, facts)
                if processor is None:
                    continue
                config = processor.config if isinstance(processor.config, dict) else {}
                if processor.type in _K8SATTRIBUTES and unit.kind == "container":
                    extract = config.get("extract")
                    if isinstance(extract, dict) and extract.get("otel_annotations") is True:
                        found |= set(unit.pod_annotations)
                    listed = extract.get("metadata") if isinstance(extract, dict) else None
                    metadata = processor.metadata or (
                        tuple(str(m) for m in listed) if isinstance(listed, list) else ()
                    )
                    found |= {m for m in metadata if m.startswith("service.")}
                if processor.type == "resource":
                    for action in config.get("attributes") or []:
                        if isinstance(action, dict) and action.get("action") in (
                            "insert",
                            "upsert",
                        ):
                            found.add(str(action.get("key")))
    return found


def _beside(collector_path: str, unit_path: str) -> bool:
    unit_dir = os.path.dirname(os.path.abspath(unit_path))
    here = os.path.dirname(os.path.abspath(collector_path))
    for folder in (here, os.path.dirname(here)):
        if unit_dir == folder or unit_dir.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


@_config_rule("CF013", "config-env-ignored", Join.IDENTITY, Level.WARNING)
def env_ignored(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """``OTEL_SERVICE_NAME`` and friends set next to ``OTEL_CONFIG_FILE``, which makes SDKs ignore them.

    What it checks:
        A unit that sets ``OTEL_CONFIG_FILE`` (or ``OTEL_EXPERIMENTAL_CONFIG_FILE``)
        does not also set ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES`` or
        ``OTEL_PROPAGATORS``.

    Why it breaks the join:
        With a declarative configuration file, SDKs take everything from the file and
        ignore the other ``OTEL_*`` variables. The name and attributes the
        environment seems to give the service never reach its telemetry, unless the
        file references them as ``${OTEL_SERVICE_NAME}``.

    Example:
        A container with ``OTEL_CONFIG_FILE=/etc/otel/sdk.yaml`` and
        ``OTEL_SERVICE_NAME=checkout``, and a ``sdk.yaml`` that sets no
        ``service.name``.

    Fix:
        Put the values in the configuration file, or reference the variables there
        (``value: ${OTEL_SERVICE_NAME}``) and keep them. When the file is not among the
        files checked (copied into the image), whether it references them cannot be
        known: that is said at info; add the file to the run to have it judged.
    """
    for unit in facts.units:
        if unit.config_file is None or not _active(unit):
            continue
        for setting in unit.ignored:
            level = None
            if unit.followed is not None:
                if setting.name == SERVICE_NAME and unit.service in (None, setting.text):
                    # The lost name is CF010's error, at the file; a name that reaches
                    # the SDK another way (``service.name=$(OTEL_SERVICE_NAME)``) is not lost.
                    continue
                message = f"{setting.name} is ignored: {unit.followed} (its {unit.config_file.name}) does not reference it"
            else:
                # The file is not in the run (baked into the image, mounted from elsewhere):
                # whether it references the variable cannot be known here.
                level = Level.INFO
                where = unit.config_file.text or "the file it names"
                message = (
                    f"{setting.name} is ignored unless {where} references it: {unit.config_file.name} "
                    "is set, SDKs then read only that file, and it is not among the files checked"
                )
            yield Hit(
                message=message,
                service=unit.service,
                locations=[setting.key_at],
                context={"variable": setting.name, "unit": unit.label},
                level=level,
            )


@_config_rule("CF014", "resource-attributes-malformed", Join.IDENTITY, Level.ERROR)
def resource_attributes_malformed(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """An ``OTEL_RESOURCE_ATTRIBUTES`` value SDKs will discard whole.

    What it checks:
        ``OTEL_RESOURCE_ATTRIBUTES`` (and the declarative configuration's
        ``resource.attributes_list``) is a list of ``key=value`` entries separated by
        commas, every entry has a ``=`` and a non-empty key, ``,`` and ``=`` inside
        values are percent-encoded and every ``%`` starts a valid ``%XX`` escape.

    Why it breaks the join:
        The specification has SDKs discard the *entire* value on any error, so one
        bad entry silently drops every attribute of the list — the namespace, the
        environment, the version, the pod uid — and every join built on them.

    Example:
        ``OTEL_RESOURCE_ATTRIBUTES=service.namespace=shop,team,deployment.environment.name=prod``
        (``team`` has no ``=``): SDKs drop ``service.namespace`` and
        ``deployment.environment.name`` too.

    Fix:
        Give every entry a ``key=value`` form; percent-encode ``,`` (``%2C``), ``=``
        (``%3D``) and ``%`` (``%25``) inside values.
    """
    for unit in facts.units:
        for bad in unit.malformed:
            lost = list(bad.lost)
            losing = f"losing {_plural(lost)}" if lost else "losing every attribute in it"
            yield Hit(
                message=f"{bad.setting.name} is malformed ({bad.reason}): SDKs discard the whole value, {losing}",
                service=unit.service,
                locations=[bad.at],
                context={"reason": bad.reason, "lost": lost},
                values={
                    bad.setting.name: _masked(bad.setting.value.raw) if bad.setting.value else None
                },
            )


def _masked(raw: str) -> str:
    """An attribute list with the values of secret-looking entries masked.

    The report masks a value only when the whole of it looks secret; a token inside
    one entry of a list would slip through.
    """
    out = []
    for entry in raw.split(","):
        key, sep, value = entry.partition("=")
        out.append(f"{key}={MASK}" if sep and looks_secret(key.strip(), value.strip()) else entry)
    return ",".join(out)


@_config_rule("CF016", "operator-injection-ambiguous", Join.IDENTITY, Level.ERROR)
def operator_injection_ambiguous(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """An Operator injection annotation that cannot choose its ``Instrumentation``.

    What it checks:
        A pod annotated ``instrumentation.opentelemetry.io/inject-<language>: "true"``
        whose namespace holds more than one ``Instrumentation`` in the run (manifests
        with no namespace count as one namespace when they sit in the same folder,
        or the ``Instrumentation`` in a folder above).

    Why it breaks the join:
        With ``"true"`` the Operator takes *the* Instrumentation of the namespace;
        with several it logs "multiple OpenTelemetry Instrumentation instances
        available, cannot determine which one to select" and admits the pod
        uninstrumented. The service emits no telemetry at all: every trace through
        it breaks there.

    Example:
        ``inject-java: "true"`` in a namespace with Instrumentations ``java`` and
        ``python``.

    Fix:
        Name the one to use: ``inject-java: "java"`` (or ``"other-namespace/java"``).
    """
    for unit in facts.units:
        if unit.injection_problem is None:
            continue
        yield Hit(
            message=f"{unit.label}: {unit.injection_problem}",
            locations=[unit.injection_at or unit.at],
            context={"unit": unit.label},
        )


def _image_name(image: str | None) -> str | None:
    """An image's name without registry, organisation, tag or digest (``cart``): a
    mirror or a retag is the same program."""
    if not image:
        return None
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def _named_at(unit: Unit) -> Location:
    """Where to change a unit's name: its ``OTEL_SERVICE_NAME`` entry when the value is
    read from the pod (a label other containers share), else where the name is written."""
    setting = unit.env.get(SERVICE_NAME)
    if setting is not None and setting.source.startswith("the pod's"):
        return setting.key_at
    return unit.service_name.at if unit.service_name is not None else unit.at


@_config_rule("CF017", "service-name-duplicate", Join.IDENTITY, Level.WARNING)
def service_name_duplicate(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Two different services configured with the same service name.

    What it checks:
        Across the run, deployable units that run images of different names (the
        last part of the repository, without tag) under one ``service.name`` and ``service.namespace`` (and the same
        ``deployment.environment.name``, where both set one). A unit read twice is
        not a duplicate: the same compose service in an override file, the same
        workload container rendered for another environment, replicas, an image
        only retagged. Units whose image is not known are not compared.

    Why it breaks the join:
        Backends key a service by its namespace and name: two programs under one
        name merge into one node of the service map, one latency histogram, one
        error rate, and the calls between them look like calls to itself.

    Example:
        ``OTEL_SERVICE_NAME=api`` on both ``shop/orders`` and ``shop/payments``.

    Fix:
        Give each its own name (or a ``service.namespace`` that tells them apart).
    """
    seen: dict[tuple[str | None, str, str | None], list[Unit]] = defaultdict(list)
    for unit in facts.units:
        name = unit.service
        if not (unit.deployable and _active(unit)) or name is None or unit.service_name is None:
            continue
        ns = unit.attributes.get("service.namespace")
        env = next((unit.attributes[k] for k in _ENV_KEYS if k in unit.attributes), None)
        key = (ns.value if ns is not None else None, name, env.value if env is not None else None)
        earlier = list(seen[key])
        seen[key].append(unit)
        if unit.image is None or any(
            u.identity == unit.identity or _image_name(u.image) == _image_name(unit.image)
            for u in earlier
        ):
            continue  # the first of its kind, or a unit already seen, read again
        others = [u for u in earlier if u.image is not None]
        if not others:
            continue
        folder = os.path.dirname(unit.at.path)
        first = next((u for u in others if os.path.dirname(u.at.path) == folder), others[0])
        yield Hit(
            message=f"{unit.label} is named {name!r} like {first.label}, which runs another image: "
            "backends merge the two into one service",
            service=name,
            locations=[_named_at(unit)],
            context={
                "unit": unit.label,
                "first": first.label,
                "first_at": str(first.service_name.at if first.service_name else first.at),
            },
        )


# --------------------------------------------------------------------------- trace


def _trace_set(names: tuple[str, ...]) -> frozenset[str]:
    # b3 extractors read the single and the multi-header form alike.
    return frozenset("b3" if n == "b3multi" else n for n in names if n in TRACE_PROPAGATORS)


def _propagating(facts: ConfigFacts) -> list[tuple[Unit, frozenset[str]]]:
    """Units whose propagators are known and carry trace context, with their trace set."""
    out = []
    for unit in facts.units:
        names = unit.effective_propagators
        if (
            not _active(unit)
            or names is None
            or unit.used
            or (not unit.deployable and unit.propagators is None)
        ):
            continue
        trace = _trace_set(names)
        if trace:
            out.append((unit, trace))
    return out


def _systems(
    units: list[tuple[Unit, frozenset[str]]], facts: ConfigFacts
) -> list[list[tuple[Unit, frozenset[str]]]]:
    """The propagating units grouped by the system they run in (see ``_system``)."""
    groups: dict[str, list[tuple[Unit, frozenset[str]]]] = defaultdict(list)
    for unit, trace in units:
        groups[_system(unit, facts)].append((unit, trace))
    return [groups[k] for k in sorted(groups)]


def _system(unit: Unit, facts: ConfigFacts) -> str:
    """The system a unit runs in, named by a folder: units call each other only within one.

    - A compose project: the compose files of one folder (the base file, its ``-f``
      overlays, the ``.env`` beside them) and the files their ``include:`` pulls in.
    - Kubernetes manifests: the folder that holds them, all namespaces in it (an
      Operator e2e test applies its folder into one namespace, and a test whose
      Instrumentation sits in another namespace is still one system); an
      ``Instrumentation`` with the workloads beside it. Namespaces do not join
      folders: rendered chart examples all say ``namespace: default``.
    - A rendered Helm release: the folder it was rendered into, with the sub-folders
      its subcharts were written to (``rendered/opentelemetry-collector/`` for
      ``# Source: demo/charts/opentelemetry-collector/templates/...``).
    - An SDK configuration file: its folder.

    A run over a whole repository holds many such systems (an e2e test per folder, a
    chart example per folder, a compose example per folder): they are not compared.
    """
    path = os.path.abspath(unit.at.path)
    included: dict[str, str] = facts.scratch.get("compose_included", {})
    if path in included:
        return included[path]
    folder = os.path.dirname(path)
    if unit.template:
        rendered = set(os.path.normpath(unit.template).split(os.sep)[:-1])
        while os.path.basename(folder) in rendered and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
    return folder


def _majority(units: list[tuple[Unit, frozenset[str]]]) -> frozenset[str]:
    """The trace propagator set most units use (ties: the one with tracecontext)."""
    counts: dict[frozenset[str], int] = defaultdict(int)
    for _, trace in units:
        counts[trace] += 1
    return max(counts, key=lambda s: (counts[s], "tracecontext" in s, sorted(s)))


def _where(unit: Unit) -> Location:
    return unit.propagators.at if unit.propagators is not None else unit.at


def _describe(unit: Unit) -> str:
    names = unit.effective_propagators or ()
    return ",".join(names) + ("" if unit.propagators is not None else " (the default)")


@_config_rule("CF020", "propagators-disjoint", Join.TRACE, Level.ERROR)
def propagators_disjoint(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Services configured with trace propagators that share none with the others.

    What it checks:
        Within each system of the run, each unit's trace propagators (from
        ``OTEL_PROPAGATORS``, ``propagator.composite``, an ``Instrumentation``'s
        ``spec.propagators``, or the default ``tracecontext,baggage``) have at least
        one in common with the propagators most of its units use. ``b3`` and
        ``b3multi`` count as one. A system is named by a folder: a compose project
        (the compose files of one folder, its overlays and the files its
        ``include:`` pulls in); a folder of Kubernetes manifests, whatever namespaces
        they name, with the ``Instrumentation`` beside them; a rendered Helm release
        with its subcharts' sub-folders; an SDK configuration's folder. The examples
        and test folders of one repository are not compared with each other.

    Why it breaks the join:
        A caller injects only its own headers and a callee extracts only its own.
        With nothing in common, every call between them starts a new trace: the
        client span has no server child and the server span has no parent.

    Example:
        ``OTEL_PROPAGATORS=b3`` on ``payments`` while every other service uses the
        default ``tracecontext,baggage``.

    Fix:
        Use one propagator everywhere (``tracecontext,baggage``); during a migration
        list both on the odd service (``tracecontext,baggage,b3``).
    """
    for units in _systems(_propagating(facts), facts):
        yield from _disjoint(units)


def _disjoint(units: list[tuple[Unit, frozenset[str]]]) -> Iterator[Hit]:
    if len(units) < 2:
        return
    common = _majority(units)
    others = [u for u, t in units if t == common]
    for unit, trace in units:
        if trace & common:
            continue
        peers = sorted({u.service or u.label for u in others})
        yield Hit(
            message=f"{unit.label} propagates {_describe(unit)}, sharing no trace propagator with "
            f"{','.join(sorted(common))} used by {_plural(peers)}: calls between them start new traces",
            service=unit.service,
            peer=", ".join(peers) if peers else None,
            count=len(others),
            locations=[_where(unit)],
            context={"propagators": sorted(trace), "others": sorted(common), "units": peers},
        )


@_config_rule("CF021", "tracecontext-missing", Join.TRACE, Level.WARNING)
def tracecontext_missing(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Propagators configured without W3C ``tracecontext``.

    What it checks:
        Every unit that propagates trace context at all includes ``tracecontext``.

    Why it breaks the join:
        W3C Trace Context is what everything else in the path speaks: the collector,
        service meshes, cloud load balancers, other teams' and vendors' SDKs. A unit
        that only speaks ``b3`` or ``xray`` loses the trace at the first hop that is
        not configured like it.

    Example:
        ``OTEL_PROPAGATORS=b3multi``.

    Fix:
        Put ``tracecontext`` first and keep the other one as long as callers need it:
        ``OTEL_PROPAGATORS=tracecontext,baggage,b3multi``.
    """
    for unit, _trace in _propagating(facts):
        names = unit.effective_propagators or ()
        if "tracecontext" not in names and unit.propagators is not None:
            yield Hit(
                message=f"{unit.propagators.source} has no tracecontext ({','.join(names)}): the trace is lost "
                "at every hop that speaks W3C Trace Context only",
                service=unit.service,
                locations=[unit.propagators.at],
                context={"propagators": list(names)},
            )


@_config_rule("CF022", "propagators-differ", Join.TRACE, Level.INFO)
def propagators_differ(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Services whose trace propagators differ from the others' but still overlap.

    What it checks:
        Within each system (a compose project, a folder of manifests, a rendered
        Helm release: as for CF020),
        each unit's trace propagators equal the set most of its units use. Units that
        share none at all are CF020's.

    Why it breaks the join:
        Today the calls still join through the propagator they share, but the
        configuration has drifted: whoever removes the shared one (or upgrades an SDK
        that drops it) breaks every call between the two groups.

    Example:
        ``tracecontext,b3`` on ``checkout`` while the rest use ``tracecontext``.

    Fix:
        Align the propagators; if a unit must keep an extra one for a legacy caller,
        silence this on that line with ``# otlint: disable=CF022``.
    """
    for units in _systems(_propagating(facts), facts):
        if len(units) < 2:
            continue
        common = _majority(units)
        yield from _differ(units, common)


def _differ(units: list[tuple[Unit, frozenset[str]]], common: frozenset[str]) -> Iterator[Hit]:
    for unit, trace in units:
        if trace != common and trace & common:
            yield Hit(
                message=f"{unit.label} propagates {_describe(unit)} while most units use {','.join(sorted(common))}",
                service=unit.service,
                locations=[_where(unit)],
                context={"propagators": sorted(trace), "others": sorted(common)},
            )


@_config_rule("CF023", "propagator-deprecated", Join.TRACE, Level.WARNING)
def propagator_deprecated(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Deprecated propagators: ``jaeger`` and ``ottrace``.

    What it checks:
        No unit configures the ``jaeger`` or ``ottrace`` propagator.

    Why it breaks the join:
        Both formats are deprecated: Jaeger and OpenTracing clients have moved to W3C
        Trace Context, and SDKs are dropping them. A unit that relies on them loses
        its traces when its SDK, or its callers', is upgraded.

    Example:
        ``OTEL_PROPAGATORS=jaeger``.

    Fix:
        Switch to ``tracecontext`` (keep the old one beside it only while callers
        still send it).
    """
    for unit in facts.units:
        if unit.propagators is None or not _active(unit):
            continue
        for name in unit.propagators.names:
            if name in DEPRECATED_PROPAGATORS:
                yield Hit(
                    message=f"propagator {name} is deprecated ({DEPRECATED_PROPAGATORS[name]} have moved to "
                    "W3C Trace Context): use tracecontext",
                    service=unit.service,
                    locations=[unit.propagators.position(name)],
                    context={"propagator": name},
                )


@_config_rule("CF024", "propagators-none", Join.TRACE, Level.ERROR)
def propagators_none(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A unit configured to propagate nothing.

    What it checks:
        No unit sets ``OTEL_PROPAGATORS=none``, and no declarative configuration
        omits ``propagator`` (which, unlike the environment variable, means no
        propagator at all) or leaves it empty. A declarative configuration that has no
        ``tracer_provider`` either makes no spans of its own: that one is said at
        info, since only a traced request passing through the unit loses its context
        (a metrics-only service, or a documentation snippet of one feature).

    Why it breaks the join:
        With no propagator the unit neither reads the caller's trace context nor
        sends its own: every request it serves starts a new trace, and every call it
        makes starts another.

    Example:
        ``OTEL_PROPAGATORS=none``; an SDK configuration file with a
        ``tracer_provider`` and no ``propagator``.

    Fix:
        ``OTEL_PROPAGATORS=tracecontext,baggage``; in the configuration file
        ``propagator: {composite: [{tracecontext: }, {baggage: }]}``.
    """
    for unit in facts.units:
        if unit.propagators is None or not _active(unit) or "none" not in unit.propagators.names:
            continue
        source = unit.propagators.source
        level = None
        if source == NO_PROPAGATOR_NO_TRACES:
            # It makes no spans: only a traced request passing through it loses its trace.
            level = Level.INFO
            message = (
                "the configuration has no propagator section (which means none) and no "
                "tracer_provider: a traced request passing through the unit loses its trace "
                "context on the unit's outgoing calls"
            )
        else:
            what = (
                f"{source} is none"
                if source != NO_PROPAGATOR
                else "the configuration has no propagator section (which means none)"
            )
            message = f"{what}: the unit neither reads nor sends trace context, so every request starts a new trace"
        yield Hit(
            message=message,
            service=unit.service,
            locations=[unit.propagators.position("none")],
            context={"unit": unit.label},
            level=level,
        )


@_config_rule("CF025", "propagator-unknown", Join.TRACE, Level.ERROR)
def propagator_unknown(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A propagator name no SDK knows.

    What it checks:
        Every configured propagator is one of ``tracecontext``, ``baggage``, ``b3``,
        ``b3multi``, ``jaeger``, ``xray``, ``xray-lambda``, ``ottrace`` or ``none``.

    Why it breaks the join:
        SDKs skip a name they do not know (with a warning nobody reads), or refuse to
        start. A typo such as ``tracecontex`` or ``w3c`` leaves the unit without the
        propagator everyone else uses.

    Example:
        ``OTEL_PROPAGATORS=w3c,baggage``.

    Fix:
        Use the registered name: ``tracecontext``.
    """
    for unit in facts.units:
        if unit.propagators is None or not _active(unit):
            continue
        for name in unit.propagators.names:
            if name not in KNOWN_PROPAGATORS:
                import difflib

                close = difflib.get_close_matches(name, sorted(KNOWN_PROPAGATORS), n=1)
                hint = (
                    f" (did you mean {close[0]}?)"
                    if close
                    else " (W3C Trace Context is tracecontext)"
                )
                yield Hit(
                    message=f"propagator {name!r} is not one SDKs know{hint}: they skip it or fail to start",
                    service=unit.service,
                    locations=[unit.propagators.position(name)],
                    context={"propagator": name},
                )


# --------------------------------------------------------------------------- collector


def _processor(collector: Collector, name: str, facts: ConfigFacts) -> Processor | None:
    """A pipeline's processor: from its own document, else the one other document defining it."""
    if name in collector.processors:
        return collector.processors[name]
    found = [c.processors[name] for c in facts.collectors if name in c.processors]
    return found[0] if len(found) == 1 else None


def _exported(facts: ConfigFacts) -> Iterator[tuple[Processor, list[Pipeline]]]:
    """Each processor used by pipelines that export, with those pipelines."""
    used: dict[int, tuple[Processor, list[Pipeline]]] = {}
    for collector in facts.collectors:
        for pipeline in collector.pipelines:
            if not pipeline.exports:
                continue
            for name, _at in pipeline.processors:
                processor = _processor(collector, name, facts)
                if processor is not None:
                    used.setdefault(id(processor), (processor, []))[1].append(pipeline)
    yield from used.values()


def _key_changes(
    facts: ConfigFacts,
    keys: list[str],
    scopes: tuple[str, ...],
    skip: Callable[[Processor, KeyChange], bool] | None = None,
) -> Iterator[tuple[Processor, KeyChange, list[str], list[Pipeline]]]:
    for processor, pipelines in _exported(facts):
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
            message=f"processor {processor.id} {_OPS[change.op]} {_plural(hit)} ({change.how}) in "
            f"{'pipeline' if len(names) == 1 else 'pipelines'} {', '.join(names)}: {consequence}",
            count=len(names),
            locations=[change.at],
            context={"processor": processor.id, "keys": hit, "op": change.op, "pipelines": names},
        )


@_config_rule(
    "CF030",
    "collector-drops-identity",
    Join.IDENTITY,
    Level.ERROR,
    keys=[
        "service.name",
        "service.namespace",
        "service.instance.id",
        "deployment.environment.name",
    ],
)
def collector_drops_identity(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
        facts, [str(k) for k in opts["keys"]], "telemetry loses the identity it joins on"
    )


@_config_rule(
    "CF031", "collector-drops-version", Join.DEPLOY, Level.WARNING, keys=["service.version"]
)
def collector_drops_version(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
        facts, [str(k) for k in opts["keys"]], "telemetry can no longer be tied to a deploy"
    )


@_config_rule(
    "CF032",
    "collector-drops-infra-id",
    Join.INFRA,
    Level.WARNING,
    keys=["k8s.pod.uid", "host.id", "container.id", "k8s.node.uid"],
)
def collector_drops_infra_id(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
        [str(k) for k in opts["keys"]],
        "telemetry can no longer be joined to its pod, host or container",
    )


@_config_rule(
    "CF033",
    "collector-drops-trace-ids",
    Join.TRACE,
    Level.ERROR,
    keys=["trace_id", "span_id", "parent_span_id", "traceId", "spanId", "trace.id", "span.id"],
)
def collector_drops_trace_ids(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    keys = [str(k) for k in opts["keys"]]

    def copied(processor: Processor, change: KeyChange) -> bool:
        return change.op == "delete" and change.scope == "record" and processor.copies_ids

    for processor, change, hit, pipelines in _key_changes(facts, keys, ("record", "field"), copied):
        names = sorted({p.id for p in pipelines})
        what = (
            f"the record's {hit[0]}" if change.scope == "field" else f"the {_plural(hit)} attribute"
        )
        yield Hit(
            message=f"processor {processor.id} {_OPS[change.op]} {what} ({change.how}) in "
            f"{'pipeline' if len(names) == 1 else 'pipelines'} {', '.join(names)}: the ids resolve to no span",
            count=len(names),
            locations=[change.at],
            context={"processor": processor.id, "keys": hit, "op": change.op, "pipelines": names},
        )


@_config_rule("CF034", "k8sattributes-no-pod-uid", Join.INFRA, Level.WARNING)
def k8sattributes_no_pod_uid(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    for processor, pipelines in _exported(facts):
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


@_config_rule("CF035", "resourcedetection-overrides", Join.INFRA, Level.INFO)
def resourcedetection_overrides(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
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
    for processor, pipelines in _exported(facts):
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


# --------------------------------------------------------------------------- schema


def _all_attributes(facts: ConfigFacts) -> Iterator[tuple[Attr, str | None]]:
    """Every resource attribute a unit or a collector writes (once per place it is
    written), with the service of the first unit that uses it."""
    seen: set[tuple[str, Location]] = set()
    for unit in facts.units:
        if not unit.disabled:
            for attr in unit.attributes.values():
                if attr.source != "operator" and (attr.key, attr.at) not in seen:
                    seen.add((attr.key, attr.at))
                    yield attr, unit.service
    for processor, _ in _exported(facts):
        for attr in processor.sets:
            if (attr.key, attr.at) not in seen:
                seen.add((attr.key, attr.at))
                yield attr, None


@_config_rule("CF040", "config-deprecated-attribute", Join.SCHEMA, Level.WARNING)
def deprecated_attribute(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """Resource attribute keys the semantic conventions have deprecated.

    What it checks:
        Keys set in ``OTEL_RESOURCE_ATTRIBUTES``, ``resource.attributes``, an
        ``Instrumentation``'s ``spec.resource`` or a collector ``resource`` processor,
        against the deprecations of the installed
        ``opentelemetry-semantic-conventions`` package.

    Why it breaks the join:
        When some services move to the new key and others keep the old one, the same
        fact lives under two keys: a query on ``deployment.environment.name`` misses
        every service that still sends ``deployment.environment``.

    Example:
        ``OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod``.

    Fix:
        Rename to the replacement the finding names.
    """
    deprecated = deprecations()
    for attr, service in _all_attributes(facts):
        found = deprecated.get(attr.key)
        if found is not None:
            yield Hit(
                message=f"{attr.key} is deprecated: {found.advice()}",
                service=service,
                locations=[attr.at],
                context={
                    "key": attr.key,
                    "replacement": found.replacements[0] if len(found.replacements) == 1 else None,
                    "replacements": list(found.replacements),
                    "how": found.kind,
                },
            )


def _environment(value: str) -> str:
    word = value.strip().lower()
    return _SYNONYMS.get(word, word)


@_config_rule("CF041", "environment-spelling", Join.SCHEMA, Level.WARNING)
def environment_spelling(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """One deployment environment spelled more than one way across the files.

    What it checks:
        Across every file of the run, the values of ``deployment.environment.name``
        (and the deprecated ``deployment.environment``) that name the same
        environment (``prod``, ``production``, ``Production``, ``prd``, ``live``;
        ``stage``/``staging``/``stg``; ``dev``/``development``) are spelled the same
        way. The spelling most places use wins; the others are reported.

    Why it breaks the join:
        To every query, dashboard and alert, ``prod`` and ``production`` are two
        environments: one environment's traces stop joining its own metrics, and a
        filter on one spelling silently misses the services using the other.

    Example:
        ``deployment.environment.name=prod`` on ``checkout`` and ``production`` on
        ``payments``.

    Fix:
        Pick one spelling (set it once, in a shared ``.env``, ConfigMap or collector
        ``resource`` processor with ``action: insert``) and use it everywhere.
    """
    groups: dict[str, list[tuple[Attr, str | None]]] = defaultdict(list)
    for attr, service in _all_attributes(facts):
        if attr.key in _ENV_KEYS and attr.value:
            groups[_environment(attr.value)].append((attr, service))
    for entries in groups.values():
        spellings: dict[str, int] = defaultdict(int)
        for attr, _ in entries:
            spellings[str(attr.value)] += 1
        if len(spellings) < 2:
            continue
        usual = max(spellings, key=lambda s: (spellings[s], s == s.lower(), s))
        for attr, service in entries:
            if attr.value != usual:
                yield Hit(
                    message=f"{attr.key} spells this environment differently from {spellings[usual]} other "
                    f"{'place' if spellings[usual] == 1 else 'places'} ({len(spellings)} spellings in all)",
                    service=service,
                    locations=[attr.at],
                    context={"key": attr.key, "spellings": len(spellings)},
                    values={attr.key: attr.value, "usual": usual},
                )


@_config_rule("CF042", "config-environment-not-allowed", Join.IDENTITY, Level.WARNING, allowed=[])
def environment_not_allowed(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A deployment environment that is not one of the allowed ones.

    What it checks:
        With the ``allowed`` option set (e.g. ``[production, staging]``), every
        ``deployment.environment.name`` (or ``deployment.environment``) value
        written in the files is in it. With no list the rule is silent.

    Why it breaks the join:
        An environment outside the agreed list is one no dashboard, alert or
        retention policy filters on: its telemetry joins nothing the team looks at.

    Example:
        ``allowed: [production, staging]`` and ``deployment.environment.name=prod``.

    Fix:
        Use one of the allowed spellings.
    """
    allowed = {str(a) for a in opts["allowed"]}
    if not allowed:
        return
    for attr, service in _all_attributes(facts):
        if attr.key in _ENV_KEYS and attr.value is not None and attr.value not in allowed:
            yield Hit(
                message=f"{attr.key} is not one of: {', '.join(sorted(allowed))}",
                service=service,
                locations=[attr.at],
                context={"key": attr.key, "allowed": sorted(allowed)},
                values={attr.key: attr.value},
            )


# --------------------------------------------------------------------------- notes


@_config_rule("CF060", "value-unresolved", Join.INPUT, Level.INFO)
def value_unresolved(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """A service name or propagator list that is only known at deploy time, so not checked.

    What it checks:
        Notes each instrumented unit whose service name or propagators come from a
        variable that cannot be resolved statically (``$(VAR)`` from a ``fieldRef``,
        ``${VAR}`` with no default), a Secret, an ``env_file`` or ConfigMap that is
        not in the run, or an ``OTEL_CONFIG_FILE``. Names the Operator injects are
        not noted.

    Why it breaks the join:
        It may not: otlint does not guess what a deploy pipeline substitutes. The
        note says which joins were not checked, so a gap is a known gap.

    Example:
        ``OTEL_SERVICE_NAME: ${SERVICE_NAME}`` in a compose file with no ``.env``
        beside it.

    Fix:
        Nothing to fix if the value is set at deploy time; run ``otlint check-config``
        on the rendered manifests (``helm template``, ``kustomize build``) to check it.
    """
    for unit in facts.units:
        if not (unit.deployable and _active(unit)):
            continue
        if unit.service_name is None and unit.service_name_unknown and unit.injected is None:
            setting = unit.env.get(SERVICE_NAME) or unit.config_file
            yield Hit(
                message=f"{unit.label}: the service name is not checked: {unit.service_name_unknown}",
                locations=[setting.value_at if setting is not None else unit.name_at or unit.at],
                context={"unit": unit.label, "what": "service name"},
            )
        if (
            unit.propagators is not None
            and unit.propagators.unknown is not None
            and unit.config_file is None
        ):
            setting = unit.env.get(PROPAGATORS)
            yield Hit(
                message=f"{unit.label}: the propagators are not checked: {unit.propagators.source} is "
                f"{unit.propagators.unknown}",
                service=unit.service,
                locations=[setting.value_at if setting is not None else unit.propagators.at],
                context={"unit": unit.label, "what": "propagators"},
            )


@_config_rule("CF090", "unused-suppression", Join.INPUT, Level.WARNING)
def unused_suppression(facts: ConfigFacts, opts: Mapping[str, Any]) -> Iterator[Hit]:
    """An ``# otlint: disable=CODE`` comment that silences nothing.

    What it checks:
        Every code in a ``disable`` / ``disable-file`` comment names a rule and
        silenced a finding in this run. Codes of rules that are turned off are not
        reported (another configuration may turn them on).

    Why it breaks the join:
        A stale suppression is a hole waiting for the next break: the line it sits on
        is silenced for that rule forever, including when someone later writes the
        very break it was meant to excuse somewhere else on the line.

    Example:
        ``OTEL_PROPAGATORS: tracecontext  # otlint: disable=CF020`` after the service
        was moved off ``b3``.

    Fix:
        Remove the comment (or the codes in it that are no longer needed).
    """
    enabled = facts.enabled or frozenset()
    for suppression in facts.suppressions:
        for code in suppression.codes:
            if code in suppression.used or (code == "ALL" and suppression.used):
                continue
            if code != "ALL" and code not in facts.known_codes:
                why = f"{code} names no rule"
            elif code == "ALL" or code in enabled:
                why = f"nothing here triggers {code}"
            else:
                continue
            yield Hit(
                message=f"unused suppression: {why}",
                locations=[suppression.at],
                context={"code": code},
            )


RULES = (
    config_unreadable,
    service_name_missing,
    service_name_unknown,
    service_name_in_code,
    operator_injection_ambiguous,
    service_name_duplicate,
    identity_attribute_missing,
    env_ignored,
    resource_attributes_malformed,
    propagators_disjoint,
    tracecontext_missing,
    propagators_differ,
    propagator_deprecated,
    propagators_none,
    propagator_unknown,
    collector_drops_identity,
    collector_drops_version,
    collector_drops_infra_id,
    collector_drops_trace_ids,
    k8sattributes_no_pod_uid,
    resourcedetection_overrides,
    deprecated_attribute,
    environment_spelling,
    environment_not_allowed,
    value_unresolved,
    unused_suppression,
)
