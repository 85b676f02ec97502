"""What kind of file a configuration file is, told from what it is, not from one key.

The readers (``otlint.configs.registry``) each recognise their own kind; this module
holds what is shared between them and the engine:

- a docker compose file: ``services:`` of compose services, or nothing but compose's
  top-level keys (an override file touching some services);
- the SDK declarative configuration: a ``file_format`` that is a version
  (``"0.3"``, ``"1.0-rc.1"``, ``"1.0"``, or a ``${VAR}`` substitution) and the
  configuration's own top-level keys (``tracer_provider``, ``meter_provider``,
  ``logger_provider``, ``resource``, ``propagator`` ...);
- files that look like configuration but are not any otlint reads, named so that the
  note saying they were skipped says what they are: Weaver / semantic-convention
  registries (``file_format: definition/2``, ``groups:`` of ``attribute_group`` /
  ``span`` / ``metric`` entries, ``attributes:`` lists of ``key:`` / ``ref:``), their
  manifests, OpenTelemetry telemetry schema files, Kubernetes objects no reader uses;
- Helm chart template sources (``templates/*.yaml`` with ``{{ ... }}``), which are not
  YAML until ``helm template`` renders them;
- what ``--verbose`` says each document was read as.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Hashable

from otlint.configs.document import Document, mapping, sequence

__all__ = [
    "COMPOSE_SERVICE_KEYS",
    "SDK_KEYS",
    "WORKLOADS",
    "describe",
    "harness_assertion",
    "helm_chart_file",
    "helm_template",
    "is_compose_file",
    "is_sdk_configuration",
    "not_configuration",
    "unnamed",
]

#: The top-level keys of the SDK declarative configuration schema besides ``file_format``.
SDK_KEYS = frozenset(
    {
        "disabled",
        "log_level",
        "attribute_limits",
        "logger_provider",
        "meter_provider",
        "tracer_provider",
        "propagator",
        "resource",
        "instrumentation",
        "instrumentation/development",
        "distribution",
    }
)
#: ``major[.minor[.patch]]`` with an optional pre-release tag; YAML may have read
#: ``file_format: 0.3`` as a number, which is compared as written (``str(0.3)``).
_VERSION = re.compile(r"\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?")
#: Semantic-convention group types (the YAML model Weaver reads).
_SEMCONV_TYPES = frozenset(
    {"attribute_group", "span", "metric", "event", "resource", "scope", "entity", "metric_group"}
)
#: Top-level lists of a Weaver ``definition/2`` file.
_DEFINITION_LISTS = ("attributes", "attribute_groups", "metrics", "spans", "events", "entities")
_TEMPLATE_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


#: Service keys that only a compose file has; one of them makes a mapping a service.
COMPOSE_SERVICE_KEYS = frozenset(
    {
        "image",
        "build",
        "environment",
        "env_file",
        "command",
        "ports",
        "depends_on",
        "volumes",
        "entrypoint",
    }
)
#: The top-level keys of the Compose Specification (and ``x-`` extensions).
_COMPOSE_TOP = frozenset(
    {
        "version",
        "name",
        "services",
        "networks",
        "volumes",
        "configs",
        "secrets",
        "include",
        "models",
    }
)


def is_compose_file(data: object) -> bool:
    """Whether ``data`` is a docker compose file (or an override file of one).

    ``services:`` must map names to service mappings; one of them must have a key
    only compose services have (``image``, ``environment`` ...), or else the file has
    nothing but compose's own top-level keys: an override that only adds labels or
    health checks to some services is a compose file too.
    """
    if not isinstance(data, dict) or "apiVersion" in data or "kind" in data:
        return False
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        return False
    if not all(isinstance(s, dict | None) for s in services.values()):
        return False
    if any(isinstance(s, dict) and COMPOSE_SERVICE_KEYS & set(s) for s in services.values()):
        return True
    return all(isinstance(k, str) and (k in _COMPOSE_TOP or k.startswith("x-")) for k in data)


def is_sdk_configuration(data: object) -> bool:
    """Whether ``data`` is an SDK declarative configuration (``OTEL_CONFIG_FILE``).

    Its ``file_format`` must be a version (or a ``${...}`` substitution) and the other
    top-level keys must include one of the configuration's own (or there be none): a
    Weaver registry (``file_format: definition/2``) or a telemetry schema file
    (``file_format: 1.1.0`` with ``schema_url`` and ``versions``) is not one.
    """
    if not isinstance(data, dict) or "file_format" not in data:
        return False
    version = data["file_format"]
    if isinstance(version, bool) or not isinstance(version, str | int | float):
        return False
    text = str(version).strip()
    if not (_VERSION.fullmatch(text) or "${" in text):
        return False
    others = set(data) - {"file_format"}
    return not others or bool(others & SDK_KEYS)


def not_configuration(data: object) -> str | None:
    """What a document that looks like configuration is instead, if otlint knows it."""
    if not isinstance(data, dict):
        return None
    file_format = data.get("file_format")
    if isinstance(file_format, str) and file_format.startswith("definition/"):
        return f"a Weaver semantic-convention definition (file_format: {file_format}), not configuration"
    groups = sequence(data.get("groups"))
    if groups and all(
        isinstance(g, dict) and "id" in g and g.get("type") in _SEMCONV_TYPES for g in groups
    ):
        return "a semantic-convention registry (groups of attributes, spans, metrics), not configuration"
    lists = [sequence(data.get(k)) for k in _DEFINITION_LISTS if k in data]
    if (
        lists
        and set(data) <= {*_DEFINITION_LISTS, "file_format", "imports"}
        and all(items and all(_definition_entry(i) for i in items) for items in lists)
    ):
        return (
            "a semantic-convention registry (attribute and signal definitions), not configuration"
        )
    if "semconv_version" in data or any(
        isinstance(d, dict) and "registry_path" in d for d in sequence(data.get("dependencies"))
    ):
        return "a Weaver registry manifest, not configuration"
    if "schema_url" in data and isinstance(data.get("versions"), dict):
        return "an OpenTelemetry telemetry schema file, not configuration"
    if "$schema" in data or "$defs" in data or ("properties" in data and "type" in data):
        return "a JSON Schema, not configuration"
    templates = sequence(data.get("templates"))
    if templates and all(isinstance(t, dict) and "template" in t for t in templates):
        return "a Weaver generator configuration (templates:), not configuration"
    if data.get("kind") == "OpenTelemetryCollector":
        return "an OpenTelemetryCollector with no spec.config (a patch or an assertion)"
    if isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str):
        if data["kind"] in WORKLOADS and unnamed(data) is not None:
            return unnamed(data)
        return f"a Kubernetes {data['kind']} (otlint reads workloads, ConfigMaps and OpenTelemetry Operator resources)"
    return None


#: The Kubernetes workloads and where each keeps its pod spec.
WORKLOADS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def unnamed(data: dict[Hashable, object]) -> str | None:
    """Why a workload is no deployment: with neither ``metadata.name`` nor
    ``generateName`` the API server refuses it, so it is a partial object (a test's
    expected state, a patch), not something deployed; None when it has a name."""
    meta = mapping(data.get("metadata"))
    if meta.get("name") or meta.get("generateName"):
        return None
    return (
        f"a {data.get('kind')} with no metadata.name (a partial object: a test assertion "
        "or a patch), not a deployment"
    )


def _definition_entry(item: object) -> bool:
    return isinstance(item, dict) and bool({"key", "ref", "id", "name"} & set(item))


def helm_template(path: str, text: str) -> str | None:
    """Why ``path`` is a Helm chart template source to skip, or None.

    A file below the ``templates/`` folder of a chart (a ``Chart.yaml`` beside that
    folder) with ``{{ ... }}`` actions is not YAML until ``helm template`` renders it,
    and its values (``{{ .Values.x }}``) are not the deployed ones even where it
    happens to parse. Other files with ``{{ ... }}`` are read as YAML when they are
    YAML (the engine skips them as templates when they are not).
    """
    parts = os.path.abspath(path).split(os.sep)
    if "templates" not in parts[:-1] or _TEMPLATE_ACTION.search(text) is None:
        return None
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] != "templates":
            continue
        chart = os.sep.join(parts[:index])
        if os.path.isfile(os.path.join(chart, "Chart.yaml")):
            return (
                f"a Helm chart template (chart {os.path.basename(chart)}), not YAML until "
                "rendered: check the output of `helm template` instead"
            )
    return None


#: kuttl's step files (``pkg/test/step.go``: ``^(?:\d+-)?([^-.]+)(-[^.]+)?(?:\.yaml)?$``):
#: the name part ``assert`` or ``errors`` (any case) makes a file checked, not applied
#: (``01-assert.yaml``, ``01-assert-collector.yaml``, ``00-errors.yaml``; ``00-error.yaml``
#: is applied). chainsaw's manifests-based tests keep the convention (two-digit index).
_STEP_ASSERT = re.compile(r"^\d+-(?:assert|errors)(?:-[^.]*)?\.ya?ml$", re.IGNORECASE)
#: Names chainsaw tests give the files their ``assert`` / ``error`` operations name.
_FREE_ASSERT = re.compile(r"^(?:assert-[^/]*|[^/]*-(?:assert|errors?))\.ya?ml$", re.IGNORECASE)
#: A kuttl or chainsaw step file that is applied: ``NN-name.yaml``.
_STEP_FILE = re.compile(r"^\d+-[^/]*\.ya?ml$")
#: The files that mark a folder as a chainsaw (``Test``) or kuttl (``TestSuite``) test.
_CHAINSAW_TESTS = ("chainsaw-test.yaml", "chainsaw-test.yml")
_KUTTL_TESTS = ("kuttl-test.yaml",)
#: chainsaw operations whose ``file`` is checked against the cluster, and those applied.
_CHECKED_OPS = frozenset({"assert", "error"})
_APPLIED_OPS = frozenset({"apply", "create", "update", "patch", "delete"})
_ASSERTION = "a test assertion (the state a kuttl/chainsaw test expects), not a deployment"


def harness_assertion(path: str) -> str | None:
    """Why ``path`` is a test harness's assertion (expected state), not a deployment, or None.

    A chainsaw test (``chainsaw-test.yaml`` in the folder) says it: a file its
    ``assert`` or ``error`` operations name is an assertion, one its ``apply`` /
    ``create`` / ``update`` / ``patch`` operations name is deployed, whatever either
    is called. Otherwise by name and a sign of the harness: kuttl's and chainsaw's
    step convention (``NN-assert*.yaml``, ``NN-errors*.yaml``) beside a step that is
    applied or a test file; ``assert-*.yaml`` / ``*-assert.yaml`` / ``*-error(s).yaml``
    beside a chainsaw test. Such a file holds partial objects the test expects to find
    (often what the Operator injected), and its findings would repeat those of the
    files the step applies. A file named otherwise is read as any other.
    """
    folder, name = os.path.split(os.path.abspath(path))
    step = _STEP_ASSERT.match(name) is not None
    chainsaw = next((t for t in _CHAINSAW_TESTS if os.path.isfile(os.path.join(folder, t))), None)
    if chainsaw is not None:
        ops = _named_by(_chainsaw_files(os.path.join(folder, chainsaw)), path)
        if ops:
            return _ASSERTION if ops <= _CHECKED_OPS else None
        return _ASSERTION if step or _FREE_ASSERT.match(name) else None
    if not step:
        return None
    try:
        siblings = os.listdir(folder)
    except OSError:
        return None
    applied = any(_STEP_FILE.match(s) and _STEP_ASSERT.match(s) is None for s in siblings)
    return _ASSERTION if applied or any(t in siblings for t in _KUTTL_TESTS) else None


def _named_by(files: dict[str, frozenset[str]], path: str) -> frozenset[str]:
    """The operations of a chainsaw test that name ``path`` (a file or a glob of them)."""
    target = os.path.abspath(path)
    ops: set[str] = set()
    for pattern, named in files.items():
        # A name without a wildcard matches itself alone: no pattern compiled for it.
        if target == pattern or (_GLOB.search(pattern) and fnmatch.fnmatchcase(target, pattern)):
            ops |= named
    return frozenset(ops)


#: What makes a name a glob for ``fnmatch`` (else it matches only an equal name).
_GLOB = re.compile(r"[*?\[]")
_CHAINSAW_CACHE: dict[tuple[str, float], dict[str, frozenset[str]]] = {}


def _chainsaw_files(test: str) -> dict[str, frozenset[str]]:
    """The files of the folder a chainsaw test names, each with the operations naming it."""
    try:
        key = (test, os.path.getmtime(test))
    except OSError:
        return {}
    if key not in _CHAINSAW_CACHE:
        from otlint.core.yamlpos import load_all_lenient

        found: dict[str, set[str]] = {}
        walked: set[int] = set()

        def walk(node: object) -> None:
            # Aliases share objects (and may make cycles): each is looked into once.
            if isinstance(node, dict | list):
                if id(node) in walked:
                    return
                walked.add(id(node))
            if isinstance(node, dict):
                for op, body in node.items():
                    target = body.get("file") if isinstance(body, dict) else None
                    if op in _CHECKED_OPS | _APPLIED_OPS and isinstance(target, str):
                        where = os.path.normpath(os.path.join(os.path.dirname(test), target))
                        found.setdefault(where, set()).add(op)
                    walk(body)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        with open(test, encoding="utf-8", errors="replace") as handle:
            walk(load_all_lenient(handle.read()) or [])
        _CHAINSAW_CACHE[key] = {k: frozenset(v) for k, v in found.items()}
    return _CHAINSAW_CACHE[key]


def helm_chart_file(path: str) -> str | None:
    """What a Helm chart's own file that no reader took is (its ``Chart.yaml``, values)."""
    name = os.path.basename(path)
    if name == "Chart.yaml":
        return "a Helm chart's Chart.yaml"
    if not name.startswith("values") or not name.endswith((".yaml", ".yml")):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(4):  # the chart, or an example or CI folder below it
        if os.path.isfile(os.path.join(folder, "Chart.yaml")):
            return (
                "Helm chart values: the chart's templates turn them into manifests; "
                "check the output of `helm template` instead"
            )
        folder = os.path.dirname(folder)
    return None


def describe(kind: str, doc: Document) -> str:
    """What ``--verbose`` says document ``doc`` was read as by the reader ``kind``."""
    data = mapping(doc.data)
    meta = mapping(data.get("metadata"))
    name = meta.get("name")
    named = f" {name}" if name else ""
    if kind == "sdk":
        return f"SDK configuration (file_format {data.get('file_format')})"
    if kind == "operator":
        return f"Operator Instrumentation{named}"
    if kind == "kubernetes":
        return f"Kubernetes {data.get('kind')}{named}"
    if kind == "compose":
        return f"compose file ({_count(len(mapping(data.get('services'))), 'service')})"
    if kind == "collector":
        if data.get("kind") == "OpenTelemetryCollector":
            return f"collector config (OpenTelemetryCollector{named} spec.config)"
        return "collector config"
    if kind == "dotenv":
        return f".env file ({_count(len(data), 'variable')})"
    return kind


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"
