"""ConfigFacts: what configuration files say about the joins, with where they say it.

Readers fill these in; config rules read them. Two kinds of things matter:

- **units**: something that runs an SDK with one configuration (a compose service,
  a Kubernetes container, an SDK declarative configuration file) or that hands
  configuration to such things (a ``.env`` file, an Operator ``Instrumentation``).
  Each carries its environment, its effective service name, resource attributes and
  propagators, as far as they can be known statically;
- **collectors**: processors (and the join keys they delete, hash or overwrite) and
  the pipelines that use them.

Every fact keeps the ``Location`` of the key or value that states it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from otlint.configs.document import Document
from otlint.configs.subst import Value
from otlint.core.finding import Location
from otlint.core.yamlpos import YamlPath

__all__ = [
    "DEFAULT_PROPAGATORS",
    "NON_EXPORTING",
    "Attr",
    "Carrier",
    "Collector",
    "Component",
    "ConfigFacts",
    "ConfigProblem",
    "Endpoint",
    "Instrumentation",
    "KeyChange",
    "Malformed",
    "Pipeline",
    "Processor",
    "Propagators",
    "Runner",
    "Setting",
    "Suppression",
    "Unit",
]

#: What SDKs propagate when nothing is configured (``OTEL_PROPAGATORS`` unset).
DEFAULT_PROPAGATORS = ("tracecontext", "baggage")


@dataclass
class Setting:
    """One configured value (an environment variable, a config key), as written and resolved."""

    name: str
    value: Value | None  # None: set from elsewhere (a Secret, a fieldRef), value unknown
    key_at: Location
    value_at: Location
    source: str = "env"  # what set it, for messages ("env", "env_file .env", "valueFrom")
    doc: Document | None = None
    path: YamlPath = ()
    #: The whole string written at ``path`` when the value is only part of it
    #: (``NAME=value`` in a compose list), and where the value starts in it.
    written: str | None = None
    base: int = 0
    #: The shared setting this value is built on (``${OTEL_RESOURCE_ATTRIBUTES}`` from the
    #: compose project's ``.env``): where a fix for every unit using it belongs.
    origin: Setting | None = None

    @property
    def text(self) -> str | None:
        """The resolved value, None when it cannot be known statically."""
        return None if self.value is None else self.value.text

    @property
    def unknown(self) -> str | None:
        """Why the value is unknown (the references as written, or the source), or None."""
        if self.value is None:
            return self.source
        refs = self.value.unknown
        return ", ".join(refs) if refs else None

    def at_offset(self, offset: int) -> Location:
        """Where character ``offset`` of the raw value is written."""
        if self.doc is None or self.value is None:
            return self.value_at
        written = self.written if self.written is not None else self.value.raw
        return self.doc.inside(self.path, written, self.base + offset)


@dataclass(frozen=True)
class Carrier:
    """A configuration value written where a credential goes (an exporter's header, an
    auth extension's token, a key named ``password``) or that has the shape of one.

    ``setting`` is the value as written, named by its path in the file
    (``exporters.otlphttp/dd.headers``, ``extensions.bearertokenauth.token``).
    ``header`` is the header the value is sent as, when it is one; ``listed``: the value
    is a list of headers (``headers_list: "api-key=...,x-tenant=..."``), parsed as
    ``OTEL_EXPORTER_OTLP_HEADERS`` is; ``named``: its key names a credential.
    """

    setting: Setting
    header: str | None = None
    listed: bool = False
    named: bool = False


@dataclass(frozen=True)
class Attr:
    """A resource attribute a unit (or a collector) sets."""

    key: str
    value: str | None  # None when it cannot be known statically
    at: Location
    source: str  # "OTEL_RESOURCE_ATTRIBUTES", "resource.attributes", "operator", ...


@dataclass(frozen=True)
class Propagators:
    """A unit's configured propagators, lower-cased, in order."""

    names: tuple[str, ...]
    at: Location
    source: str  # "OTEL_PROPAGATORS", "propagator.composite", "spec.propagators"
    positions: tuple[Location, ...] = ()  # per name
    unknown: str | None = None  # the value could not be resolved: names are incomplete

    def position(self, name: str) -> Location:
        """Where ``name`` is written (the setting when not known)."""
        for n, loc in zip(self.names, self.positions, strict=False):
            if n == name:
                return loc
        return self.at


@dataclass(frozen=True)
class Malformed:
    """An ``OTEL_RESOURCE_ATTRIBUTES`` value SDKs will discard whole."""

    setting: Setting
    reason: str
    at: Location
    lost: tuple[str, ...]  # the keys that value would have set


@dataclass
class Unit:
    """Something that runs an SDK with one configuration, or hands configuration to some.

    ``deployable`` units (compose services, containers, SDK configuration files) must
    name their service; ``.env`` files and Operator ``Instrumentation`` resources only
    contribute settings.
    """

    kind: str  # "compose service", "container", "SDK configuration", "env file", "Instrumentation"
    name: str
    at: Location
    deployable: bool
    env: dict[str, Setting] = field(default_factory=dict)
    env_gaps: list[str] = field(default_factory=list)  # env sources that could not be read
    attributes: dict[str, Attr] = field(default_factory=dict)
    attributes_unknown: list[str] = field(default_factory=list)  # what may add unseen attributes
    service_name: Attr | None = None
    service_name_unknown: str | None = None  # why the name cannot be known statically
    propagators: Propagators | None = None  # None: the default
    malformed: list[Malformed] = field(default_factory=list)
    config_file: Setting | None = None
    ignored: list[Setting] = field(default_factory=list)  # env a config file makes SDKs ignore
    injected: str | None = None  # the Operator annotation that injects the SDK
    disabled: bool = False
    instrumented: bool = False  # sets anything OpenTelemetry at all
    #: A non-deployable unit read into a deployable one of the run (an ``env_file``, an
    #: injected ``Instrumentation``, an SDK configuration file named by
    #: ``OTEL_CONFIG_FILE``): comparisons between units count it through those.
    used: bool = False
    #: A language agent (the Java agent) builds the SDK: the app's code cannot name it.
    agent: bool = False
    image: str | None = None
    #: What makes two readings one unit (a compose service of one project, a workload's
    #: container): a file rendered twice is not two services.
    identity: str | None = None
    #: The pod's ``resource.opentelemetry.io/<key>`` annotations, which the Operator and
    #: ``k8sattributes`` (``otel_annotations: true``) turn into resource attributes.
    pod_annotations: dict[str, Attr] = field(default_factory=dict)
    #: Why the Operator will inject nothing despite the annotation, and where.
    injection_problem: str | None = None
    injection_at: Location | None = None
    #: The SDK configuration file read for ``OTEL_CONFIG_FILE`` (its path), when in the run.
    followed: str | None = None
    #: Where a service name would be added (a declarative configuration's ``resource``).
    name_at: Location | None = None
    #: Where the ``Instrumentation`` injected into it takes resource attributes for every
    #: container it instruments (its ``spec.resource``), when it is in the run.
    injected_from: Location | None = None
    #: The chart template a rendered manifest came from (``# Source:`` of ``helm template``).
    template: str | None = None
    #: Where an SDK configuration file writes headers and credentials (its exporters').
    carriers: list[Carrier] = field(default_factory=list)
    #: An ``Instrumentation``'s ``spec.<language>.env``: not its own environment, but
    #: what it gives the containers of that language.
    language_env: list[Setting] = field(default_factory=list)
    #: An SDK configuration file's exporters: per signal whose provider it configures,
    #: the OTLP exporter's endpoint (``name`` is the exporter: ``otlp_grpc``,
    #: ``otlp_http``), None when that provider exports no OTLP. A signal absent here
    #: is not exported at all (a declarative configuration without the provider).
    exports: dict[str, Setting | None] | None = None

    @property
    def label(self) -> str:
        """The unit as messages name it: ``compose service checkout``."""
        return f"{self.kind} {self.name}"

    @property
    def service(self) -> str | None:
        """The service name, when known statically."""
        return self.service_name.value if self.service_name is not None else None

    @property
    def effective_propagators(self) -> tuple[str, ...] | None:
        """The propagators the SDK will use; None when they cannot be known."""
        if self.propagators is None:
            return DEFAULT_PROPAGATORS
        if self.propagators.unknown is not None:
            return None
        return self.propagators.names


@dataclass
class Instrumentation:
    """An Operator ``Instrumentation``: what the Kubernetes reader injects into the containers
    annotated for it (``otlint.configs.operator`` reads it)."""

    namespace: str | None
    name: str
    unit: Unit
    propagators: Propagators | None
    attributes: list[Attr]
    language_env: dict[str, dict[str, Setting]] = field(default_factory=dict)
    k8s_uid: bool = False
    path: str = ""  # the file it is read from: manifests of one folder go to one namespace
    #: Where attributes for every container it instruments are written (``spec.resource``).
    resource_at: Location | None = None
    #: ``spec.defaults.useLabelsForResourceAttributes``: names and versions from labels.
    use_labels: bool = False


@dataclass(frozen=True)
class KeyChange:
    """A collector processor step that deletes, hashes or overwrites attribute keys.

    ``key`` names one key, ``pattern`` a regular expression of keys, ``kept`` the only
    keys kept (every other key is deleted). ``scope`` is ``resource`` (resource
    attributes), ``record`` (span/log/data point attributes) or ``field`` (the
    record's own trace and span id fields).
    """

    processor: str
    op: str  # "delete", "hash", "overwrite"
    how: str  # the step as written, for messages: "action: delete", "delete_key"
    at: Location
    scope: str
    key: str | None = None
    pattern: str | None = None
    kept: tuple[str, ...] | None = None
    kept_pattern: str | None = None  # keep_matching_keys: every key not matching is deleted

    def hits(self, key: str) -> bool:
        """Whether this step changes attribute ``key``."""
        if self.key is not None:
            return self.key == key
        if self.pattern is not None:
            return _search(self.pattern, key)
        if self.kept is not None:
            return key not in self.kept
        if self.kept_pattern is not None:
            return not _search(self.kept_pattern, key)
        return False


def _search(pattern: str, key: str) -> bool:
    """``re.search`` for collector patterns (RE2); a pattern Python cannot compile hits nothing."""
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False


@dataclass
class Processor:
    """A collector processor: its id, type, where it is defined, and what it changes."""

    id: str
    type: str
    at: Location
    config: object  # as written
    changes: list[KeyChange] = field(default_factory=list)
    sets: list[Attr] = field(default_factory=list)  # constant resource attributes it writes
    copies_ids: bool = False  # transform: sets trace_id/span_id from something (parsing logs)
    #: k8sattributes: the ``extract.metadata`` list, when given (None: the defaults).
    metadata: tuple[str, ...] | None = None
    metadata_at: Location | None = None
    #: resourcedetection: its detectors, and whether they overwrite what senders set.
    detectors: tuple[str, ...] = ()
    override: bool = True
    override_at: Location | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where a component listens or sends: ``host`` and ``port`` as far as they are known
    (None: not written, or known only at deploy time: ``unknown`` says why)."""

    text: str
    host: str | None
    port: int | None
    at: Location
    unknown: str | None = None
    protocol: str | None = None  # a receiver's "grpc" / "http"


@dataclass
class Component:
    """A collector receiver, exporter or connector: its id, type, where it is defined,
    its configuration as written and the endpoints it listens on or sends to."""

    id: str
    type: str
    kind: str  # "receiver" | "exporter" | "connector"
    at: Location
    config: object
    endpoints: list[Endpoint] = field(default_factory=list)
    doc: Document | None = field(default=None, repr=False, compare=False)
    path: YamlPath = ()

    def where(self, *sub: str | int) -> Location:
        """Where ``sub`` (a path under the component) is written; the component's key
        when it is not."""
        if self.doc is None:
            return self.at
        return self.doc.value((*self.path, *sub))


@dataclass
class Pipeline:
    """A collector pipeline (``traces/app``): its receivers, processors (with where each is
    listed) and exporters. ``has`` names the lists this document writes: a split
    configuration's later document replaces only those."""

    id: str
    at: Location
    processors: list[tuple[str, Location]] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)
    receivers: list[tuple[str, Location]] = field(default_factory=list)
    exporters_at: list[Location] = field(default_factory=list)
    has: frozenset[str] = frozenset({"receivers", "processors", "exporters"})

    @property
    def signal(self) -> str:
        """``traces``, ``metrics``, ``logs`` or ``profiles`` (the id's type)."""
        return self.id.split("/", 1)[0]

    @property
    def exports(self) -> bool:
        """Whether anything leaves this pipeline for a backend (debug output does not count)."""
        return any(e.split("/", 1)[0] not in NON_EXPORTING for e in self.exporters)


#: Exporters that send nothing anywhere a join is made (debug output).
NON_EXPORTING = frozenset({"debug", "logging", "nop"})


@dataclass
class Collector:
    """One collector configuration document."""

    path: str
    at: Location
    processors: dict[str, Processor] = field(default_factory=dict)
    pipelines: list[Pipeline] = field(default_factory=list)
    #: Where it writes headers and credentials: exporters' ``headers``, auth extensions.
    carriers: list[Carrier] = field(default_factory=list)
    receivers: dict[str, Component] = field(default_factory=dict)
    exporters: dict[str, Component] = field(default_factory=dict)
    connectors: dict[str, Component] = field(default_factory=dict)
    #: What the document is called where it is embedded (``ConfigMap otel-agent key relay``,
    #: ``OpenTelemetryCollector gateway``): the names other units may reach it by.
    names: list[str] = field(default_factory=list)


@dataclass
class Runner:
    """Something that runs a collector: a compose service or a Kubernetes workload, with
    the host names other units reach it by and the configuration files it is given."""

    kind: str  # "compose service", "Deployment", ...
    name: str
    at: Location
    hosts: list[str] = field(default_factory=list)
    #: (host path, path inside) of its bind mounts; the ConfigMaps it mounts.
    mounts: list[tuple[str, str]] = field(default_factory=list)
    configmaps: list[str] = field(default_factory=list)
    #: The ``--config`` files of its command, in order (paths inside the container).
    configs: list[str] = field(default_factory=list)
    env: dict[str, str | None] = field(default_factory=dict)
    #: What makes two readings one runner: a compose service of one project (a base file
    #: and its overlays, as for units).
    identity: str | None = None


@dataclass
class Suppression:
    """An ``# otlint: disable=CODE`` comment (``line`` None: ``disable-file``)."""

    path: str
    at: Location  # the comment
    line: int | None  # the line it silences; None for the whole file
    codes: tuple[str, ...]
    used: set[str] = field(default_factory=set)

    def covers(self, code: str, path: str, line: int | None) -> bool:
        """Whether a finding of ``code`` at ``path:line`` is silenced by this comment."""
        if path != self.path or not any(c in (code, "ALL") for c in self.codes):
            return False
        return self.line is None or self.line == line


@dataclass(frozen=True)
class ConfigProblem:
    """A configuration file that could not be read, and where."""

    at: Location
    message: str


@dataclass
class ConfigFacts:
    """Everything the readers found in one run's files."""

    inputs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    #: Per file, in order: what it was read as ("read as ...") or why it was "skipped: ...".
    read_as: list[tuple[str, str]] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    collectors: list[Collector] = field(default_factory=list)
    runners: list[Runner] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    #: Per reader, what it keeps between documents to link them in ``finish``.
    scratch: dict[str, Any] = field(default_factory=dict)
    #: The rules this run evaluates (None: all of them), set by the run before the rules:
    #: a rule leaves a case to another only when that other one runs.
    enabled: frozenset[str] | None = None
    #: Every rule code otlint has (a suppression naming another code names no rule).
    known_codes: frozenset[str] = frozenset()
