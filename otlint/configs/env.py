"""What an SDK makes of its environment: service name, resource attributes, propagators.

Every reader that sees environment variables (``.env`` files, compose services,
Kubernetes containers, Operator ``Instrumentation``) records them as ``Setting``s on
a ``Unit`` and calls ``settle`` to derive what the SDK will use, following the
specification's precedence:

- ``OTEL_SERVICE_NAME`` beats ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``; an
  empty variable is the same as an unset one;
- a malformed ``OTEL_RESOURCE_ATTRIBUTES`` is discarded whole;
- with ``OTEL_CONFIG_FILE`` set, the SDK reads its configuration from that file and
  ignores the other ``OTEL_*`` variables (the file may still reference them);
- the Java agent's system properties (``-Dotel.service.name=...`` in
  ``JAVA_TOOL_OPTIONS``) beat the variables they mirror.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from otlint.configs.document import Document
from otlint.configs.facts import Attr, Malformed, Propagators, Setting, Unit
from otlint.configs.names import CONFIG_FILE, PROPAGATORS, RESOURCE_ATTRIBUTES, SERVICE_NAME
from otlint.configs.resattrs import parse_resource_attributes
from otlint.configs.subst import Env, Value, literal, resolve
from otlint.core.yamlpos import YamlPath

__all__ = [
    "CONFIG_FILE",
    "NOT_AN_APP",
    "PROPAGATORS",
    "RESOURCE_ATTRIBUTES",
    "SDK_DISABLED",
    "SERVICE_NAME",
    "deploy_time_fallback",
    "env_setting",
    "is_sdk_variable",
    "not_an_app",
    "propagators_from",
    "settle",
]

EXPERIMENTAL_CONFIG_FILE = "OTEL_EXPERIMENTAL_CONFIG_FILE"
"""The name ``OTEL_CONFIG_FILE`` had before the declarative configuration was stable."""
SDK_DISABLED = "OTEL_SDK_DISABLED"
"""``true`` turns the SDK off: the unit emits nothing, so nothing about it can break."""

#: Variables the Java agent reads system properties from.
_JAVA_OPTIONS = ("JAVA_TOOL_OPTIONS", "JAVA_OPTS", "_JAVA_OPTIONS")
_JAVA_PROPERTY = re.compile(
    r"-Dotel\.(?P<prop>service\.name|resource\.attributes|propagators)=(?P<value>\"[^\"]*\"|'[^']*'|\S+)"
)
#: Any ``-Dotel.*`` system property: the Java agent (or the SDK's autoconfigure) reads it.
_JAVA_ANY_PROPERTY = re.compile(r"-Dotel\.[a-z]")
_JAVA_VARIABLE = {
    "service.name": SERVICE_NAME,
    "resource.attributes": RESOURCE_ATTRIBUTES,
    "propagators": PROPAGATORS,
}


#: The variables of the OpenTelemetry specification's "Environment Variable
#: Specification" (configuration/sdk-environment-variables.md), by exact name ...
_SDK_VARIABLES = frozenset(
    {
        "OTEL_SDK_DISABLED",
        "OTEL_ENTITIES",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_SERVICE_NAME",
        "OTEL_LOG_LEVEL",
        "OTEL_PROPAGATORS",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_METRICS_EXPORTER",
        "OTEL_LOGS_EXPORTER",
        "OTEL_METRICS_EXEMPLAR_FILTER",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "OTEL_METRIC_EXPORT_TIMEOUT",
        "OTEL_CONFIG_FILE",
        "OTEL_EXPERIMENTAL_CONFIG_FILE",
        "OTEL_SEMCONV_STABILITY_OPT_IN",
    }
)
#: ... and by prefix: the batch processors, the limits, the exporters' own variables;
#: then the language SDKs' and agents' documented variables (Java agent, .NET
#: automatic instrumentation, Python, Node.js, PHP, Ruby, Go auto-instrumentation).
#: Chart and demo variables that merely start with ``OTEL_`` (``OTEL_K8S_*``,
#: ``OTEL_COLLECTOR_*``), eBPF instrumentation (``OTEL_EBPF_*``) and the collector's
#: own configuration are none of these: they do not make a unit an SDK app.
_SDK_PREFIXES = (
    "OTEL_BSP_",
    "OTEL_BLRP_",
    "OTEL_SPAN_",
    "OTEL_LOGRECORD_",
    "OTEL_EXPORTER_OTLP_",
    "OTEL_EXPORTER_ZIPKIN_",
    "OTEL_EXPORTER_PROMETHEUS_",
    "OTEL_EXPORTER_JAEGER_",
    "OTEL_EXPERIMENTAL_",
    "OTEL_JAVAAGENT_",
    "OTEL_INSTRUMENTATION_",
    "OTEL_DOTNET_AUTO_",
    "OTEL_PYTHON_",
    "OTEL_NODE_",
    "OTEL_PHP_",
    "OTEL_RUBY_",
    "OTEL_GO_AUTO_",
)


def is_sdk_variable(name: str) -> bool:
    """Whether ``name`` is a variable an OpenTelemetry SDK (or language agent) reads."""
    return name in _SDK_VARIABLES or name.startswith(_SDK_PREFIXES)


#: Images (their name, the last part of the repository) and commands that are
#: OpenTelemetry infrastructure or a backend, not an app the SDK instruments: a
#: collector reads ``OTEL_*`` variables a chart sets for its own config, an eBPF agent
#: reads ``OTEL_EXPORTER_OTLP_*`` and names the services *it* observes, and neither
#: emits the telemetry of a service of its own that must be named.
NOT_AN_APP: tuple[tuple[re.Pattern[str], str], ...] = (
    # Vendors' distributions too: aws-otel-collector, splunk-otel-collector, signoz-otel-collector.
    (
        re.compile(r"([\w.]+-)*(opentelemetry-collector|otelcol|otel-collector)([\w.-]*)"),
        "a collector",
    ),
    (re.compile(r"alloy|grafana-agent|otel-lgtm"), "a collector"),
    (
        re.compile(r"opentelemetry-ebpf-[\w.-]+|ebpf-instrument|obi|beyla(-k8s-cache)?"),
        "an eBPF agent",
    ),
    (
        re.compile(
            r"jaeger(-(query|collector|agent|ingester|all-in-one|remote-storage))?|all-in-one"
        ),
        "Jaeger",
    ),
    (re.compile(r"tempo(-query|-vulture)?"), "Tempo"),
    (re.compile(r"prometheus"), "Prometheus"),
    (re.compile(r"grafana"), "Grafana"),
    (re.compile(r"loki|mimir"), "a Grafana backend"),
)


def not_an_app(image: str | None, command: object = None) -> str | None:
    """What a unit running ``image`` (or ``command``) is when it is not an app, else None.

    ``image`` is judged by its name without registry, organisation, tag or digest
    (``ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.1``
    is ``opentelemetry-collector-k8s``); ``command`` by its program's file name
    (``/otelcol-contrib``).
    """
    names: list[str] = []
    if image:
        repository = image.split("@", 1)[0]
        last = repository.rsplit("/", 1)[-1]
        names.append(last.split(":", 1)[0].lower())
    program = command[0] if isinstance(command, list) and command else command
    if isinstance(program, str) and program.strip():
        names.append(program.split()[0].rsplit("/", 1)[-1].lower())
    for name in names:
        for pattern, what in NOT_AN_APP:
            if pattern.fullmatch(name):
                return what
    return None


def env_setting(
    doc: Document,
    at: YamlPath,
    name: str,
    raw: object,
    syntax: str,
    env: Env | None,
    source: str = "env",
    written: str | None = None,
) -> Setting:
    """A ``Setting`` for variable ``name`` whose value is written at ``at``.

    ``raw`` None means the value is set from elsewhere (unknown); YAML numbers and
    booleans are read as the strings a container would see. ``written`` is the whole
    string at ``at`` when the value is its tail (``NAME=value`` list items).
    """
    value = None if raw is None else resolve(_as_text(raw), syntax, env)
    setting = Setting(
        name=name,
        value=value,
        key_at=doc.key(at),
        value_at=doc.value(at),
        source=source,
        doc=doc,
        path=at,
    )
    if written is not None and value is not None:
        setting.written = written
        setting.base = len(written) - len(value.raw)
        setting.value_at = doc.inside(at, written, setting.base)
    return setting


def _as_text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def settle(unit: Unit, extra: Iterable[Attr] = (), propagators: Propagators | None = None) -> None:
    """Derive ``unit``'s service name, attributes and propagators from its ``env``.

    ``extra`` are attributes set outside the environment with lower precedence (an
    ``Instrumentation``'s ``spec.resource``); ``propagators`` the ones to use when
    ``OTEL_PROPAGATORS`` is not set (``Instrumentation`` ``spec.propagators``).
    """
    env = dict(unit.env)
    env.update(_java_properties(unit.env))
    agent = any(
        ("-javaagent" in (env[n].text or "") and "otel" in (env[n].text or "").lower())
        or _JAVA_ANY_PROPERTY.search(env[n].text or "") is not None
        for n in _JAVA_OPTIONS
        if n in env
    )
    unit.agent = unit.agent or agent
    unit.instrumented = (
        unit.instrumented
        or agent
        or unit.injected is not None
        or any(is_sdk_variable(n) for n in env)
    )
    disabled = env.get(SDK_DISABLED)
    unit.disabled = disabled is not None and (disabled.text or "").strip().lower() == "true"
    config = env.get(CONFIG_FILE) or env.get(EXPERIMENTAL_CONFIG_FILE)
    if config is not None and (config.text is None or config.text.strip()):
        unit.config_file = config
        unit.ignored = [
            env[n] for n in (SERVICE_NAME, RESOURCE_ATTRIBUTES, PROPAGATORS) if n in env
        ]
        unit.service_name_unknown = f"the configuration file in {config.name}"
        unit.attributes_unknown.append(config.name)
        unit.propagators = Propagators((), config.value_at, config.name, unknown=config.name)
        return
    for attr in extra:
        unit.attributes[attr.key] = attr
    resource_attributes_into(unit, env.get(RESOURCE_ATTRIBUTES))
    _service_name(unit, env.get(SERVICE_NAME))
    listed = env.get(PROPAGATORS)
    if listed is not None and (listed.text is None or listed.text.strip()):
        unit.propagators = propagators_from(listed)
    elif propagators is not None:
        unit.propagators = propagators


def resource_attributes_into(unit: Unit, setting: Setting | None) -> None:
    """Add the attributes of an ``OTEL_RESOURCE_ATTRIBUTES``-style setting to ``unit``.

    A value that cannot be known statically is noted as unknown; a malformed one is
    noted with what SDKs lose by discarding it whole.
    """
    if setting is None:
        return
    if setting.value is None:
        unit.attributes_unknown.append(f"{setting.name} ({setting.source})")
        return
    parsed = parse_resource_attributes(setting.value)
    if parsed.opaque or any(e.key is None for e in parsed.entries):
        unit.attributes_unknown.append(f"{setting.name} ({', '.join(parsed.unknown)})")
    if parsed.error is not None:
        unit.malformed.append(
            Malformed(
                setting, parsed.error, setting.at_offset(parsed.error_offset), tuple(parsed.keys)
            )
        )
        return
    for entry in parsed.entries:
        if entry.key:
            unit.attributes[entry.key] = Attr(
                entry.key, entry.value, setting.at_offset(entry.offset), setting.name
            )


def _service_name(unit: Unit, setting: Setting | None) -> None:
    if setting is not None and setting.unknown is not None:
        unit.service_name_unknown = f"{setting.name} is {setting.unknown}"
        return
    if setting is not None and setting.value is not None and deploy_time_fallback(setting.value):
        unit.service_name_unknown = (
            f"{setting.name} is {', '.join(setting.value.defaulted)}: set at deploy time "
            "(the unknown_service default applies only when it is not)"
        )
        return
    if setting is not None and (setting.text or "").strip():
        attr = Attr("service.name", setting.text, setting.value_at, setting.name)
        unit.attributes["service.name"] = attr
        unit.service_name = attr
        return
    unit.service_name = unit.attributes.get("service.name")
    if unit.service_name is not None:
        return
    if unit.attributes_unknown:
        unit.service_name_unknown = "it may be set by " + ", ".join(unit.attributes_unknown)
    elif unit.injected is not None:
        unit.service_name_unknown = f"the OpenTelemetry Operator sets it ({unit.injected})"
    elif unit.env_gaps:
        unit.service_name_unknown = "it may come from " + ", ".join(unit.env_gaps)


def deploy_time_fallback(value: Value) -> bool:
    """Whether a name is the SDK's own fallback written as a default
    (``${OTEL_SERVICE_NAME:-unknown_service}``): the variable is meant to be set at
    deploy time, so the name is unknown here, not ``unknown_service``."""
    text = value.text or ""
    return bool(value.defaulted) and text.strip().startswith("unknown_service")


def propagators_from(setting: Setting) -> Propagators:
    """The propagators a comma-separated list (``OTEL_PROPAGATORS``) names."""
    if setting.unknown is not None or setting.value is None:
        return Propagators((), setting.value_at, setting.name, unknown=setting.unknown)
    flat, offsets = setting.value.flat()
    names: list[str] = []
    positions = []
    for match in re.finditer(r"[^,\s]+", flat):
        names.append(match.group(0).lower())
        positions.append(setting.at_offset(offsets[match.start()]))
    return Propagators(tuple(names), setting.value_at, setting.name, tuple(positions))


def _java_properties(env: dict[str, Setting]) -> dict[str, Setting]:
    """``-Dotel.*`` system properties in the JVM option variables, as the variables they beat."""
    out: dict[str, Setting] = {}
    for name in _JAVA_OPTIONS:
        setting = env.get(name)
        if setting is None or setting.value is None:
            continue
        flat, offsets = setting.value.flat()
        for match in _JAVA_PROPERTY.finditer(flat):
            text = match.group("value")
            if text[:1] in "\"'":
                text = text[1:-1]
            start = offsets[match.start("value")] if match.start("value") < len(offsets) else 0
            out[_JAVA_VARIABLE[match.group("prop")]] = Setting(
                name=f"{name} -Dotel.{match.group('prop')}",
                value=literal(text) if "\x00" not in text else None,
                key_at=setting.key_at,
                value_at=setting.at_offset(start),
                source=name,
            )
    return out
