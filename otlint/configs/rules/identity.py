"""Config rules CF01x, identity: the service name and identity attributes a workload is configured with."""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from otlint.configs.names import RESOURCE_ATTRIBUTES, SERVICE_NAME
from otlint.configs.rules.pipelines import pipeline_processor
from otlint.configs.rules.units import ENV_KEYS, active
from otlint.configs.rules.wording import plural
from otlint.core.errors import OtlintError
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.redact import MASK, looks_secret
from otlint.core.rule import Option, Options, mapping_option, rule, strings_option

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts, Unit


def _unnamed(facts: ConfigFacts) -> Iterator[tuple[Unit, str | None]]:
    """Deployable units whose configuration gives no service name, each with why the
    name is then *certainly* unknown (None: the app's code may still name it)."""
    for unit in facts.units:
        if not (unit.deployable and active(unit)) or unit.service_name or unit.service_name_unknown:
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


@rule("CF010", "config-service-name-missing", Join.IDENTITY, Level.ERROR, target="config")
def service_name_missing(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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


@rule("CF015", "config-service-name-in-code", Join.IDENTITY, Level.INFO, target="config")
def service_name_in_code(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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


@rule("CF011", "config-service-name-unknown", Join.IDENTITY, Level.ERROR, target="config")
def service_name_unknown(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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
            active(unit)
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


@rule(
    "CF012",
    "config-identity-attribute-missing",
    Join.IDENTITY,
    Level.WARNING,
    required=Option.strings(["service.namespace", "deployment.environment.name"]),
    # As ID003: the namespace is optional in the conventions, the environment is not.
    levels=Option.mapping({"service.namespace": "info"}),
    target="config",
)
def identity_attribute_missing(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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
    required = strings_option(opts, "required")
    levels = _key_levels(opts, "CF012")
    # A deprecated deployment.environment is CF040's rename; with CF040 turned off the
    # key is still missing under its current name, and said here.
    defer = facts.enabled is None or "CF040" in facts.enabled
    groups: dict[tuple[object, tuple[str, ...], str, Level | None], list[tuple[Unit, Location]]] = (
        defaultdict(list)
    )
    for unit in facts.units:
        if (
            not (unit.deployable and active(unit))
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
                f"({plural(labels)}){hint}: set it once in the chart"
            )
        else:
            message = (
                f"{', '.join(missing)} is set by none of the {len(units)} units whose resource "
                f"attributes come from here ({plural(labels)}){hint}"
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


def _key_levels(opts: Options, code: str) -> dict[str, Level]:
    """The ``levels`` option: a level per required key."""
    levels: dict[str, Level] = {}
    for key, word in mapping_option(opts, "levels").items():
        try:
            levels[key] = Level.parse(str(word))
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
    cwd = os.getcwd()
    unit_dir = _folder(unit.at.path, cwd)
    for collector in facts.collectors:
        if not _beside(_folder(collector.path, cwd), unit_dir):
            continue
        for pipeline in collector.pipelines:
            if not pipeline.exports:
                continue
            for name, _at in pipeline.processors:
                processor = pipeline_processor(collector, name, facts)
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


@functools.lru_cache(maxsize=4096)
def _folder(path: str, cwd: str) -> str:
    """The absolute folder of ``path`` (relative to ``cwd``): asked once per unit and
    collector pair, so remembered."""
    return os.path.dirname(os.path.normpath(os.path.join(cwd, path)))  # = abspath, given cwd


def _beside(here: str, unit_dir: str) -> bool:
    """Whether a unit in ``unit_dir`` is beside a collector in ``here`` (see ``_supplied``)."""
    for folder in (here, os.path.dirname(here)):
        if unit_dir == folder or unit_dir.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


@rule("CF013", "config-env-ignored", Join.IDENTITY, Level.WARNING, target="config")
def env_ignored(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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
        if unit.config_file is None or not active(unit):
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


@rule("CF014", "resource-attributes-malformed", Join.IDENTITY, Level.ERROR, target="config")
def resource_attributes_malformed(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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
            losing = f"losing {plural(lost)}" if lost else "losing every attribute in it"
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


@rule("CF016", "operator-injection-ambiguous", Join.IDENTITY, Level.ERROR, target="config")
def operator_injection_ambiguous(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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


@dataclass
class _Named:
    """The units seen under one service name: their identities and image names, and
    the first of them with an image (overall and per folder)."""

    identities: set[str | None] = field(default_factory=set)
    images: set[str | None] = field(default_factory=set)
    first: Unit | None = None
    first_in: dict[str, Unit] = field(default_factory=dict)

    def add(self, unit: Unit, image: str | None, folder: str) -> None:
        """Count ``unit`` (image name ``image``, file in ``folder``) as seen."""
        self.identities.add(unit.identity)
        self.images.add(image)
        if unit.image is not None:
            self.first = self.first or unit
            self.first_in.setdefault(folder, unit)


@rule("CF017", "service-name-duplicate", Join.IDENTITY, Level.WARNING, target="config")
def service_name_duplicate(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
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
    # Per (namespace, name, environment): what the units seen so far under it were, kept
    # as sets and firsts so that thousands of units under one name stay linear.
    seen: dict[tuple[str | None, str, str | None], _Named] = defaultdict(_Named)
    for unit in facts.units:
        name = unit.service
        if not (unit.deployable and active(unit)) or name is None or unit.service_name is None:
            continue
        ns = unit.attributes.get("service.namespace")
        env = next((unit.attributes[k] for k in ENV_KEYS if k in unit.attributes), None)
        key = (ns.value if ns is not None else None, name, env.value if env is not None else None)
        earlier = seen[key]
        image = _image_name(unit.image)
        folder = os.path.dirname(unit.at.path)
        again = unit.identity in earlier.identities or image in earlier.images
        first = earlier.first_in.get(folder) or earlier.first
        earlier.add(unit, image, folder)
        if unit.image is None or again or first is None:
            continue  # the first of its kind, or a unit already seen, read again
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


RULES = (
    service_name_missing,
    service_name_unknown,
    service_name_in_code,
    operator_injection_ambiguous,
    service_name_duplicate,
    identity_attribute_missing,
    env_ignored,
    resource_attributes_malformed,
)
