"""Kubernetes workloads: each container of a pod template is a deployable unit.

Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and
CronJob pod templates and bare Pods are read (``kind: List`` too). A container's
environment is built as the kubelet builds it: ``envFrom`` first, then ``env`` in
order, ``$(VAR)`` naming an earlier variable. ConfigMaps found anywhere in the run
are read for ``envFrom`` and ``configMapKeyRef``; Secrets, ``fieldRef`` and ConfigMaps
that are not in the run are set at deploy time and stay unknown.

Containers of pods annotated ``instrumentation.opentelemetry.io/inject-<language>``
get what the OpenTelemetry Operator injects (see ``otlint.configs.operator``), from
the ``Instrumentation`` the annotation names when it is in the run, as the
Operator's internal/instrumentation/sdk.go and podmutator.go do it. ``fieldRef``s the
pod template answers (labels, annotations, namespace) are read from it; an
``OTEL_CONFIG_FILE`` in a mounted ConfigMap of the run is followed (``sdk.follow``).
ConfigMaps and Instrumentations of one name in several folders (a chart's examples)
are told apart by folder. Containers whose image or command is a collector, a backend
or an eBPF agent are not apps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TypedDict

from otlint.configs import sdk
from otlint.configs.document import Document, mapping, sequence
from otlint.configs.env import env_setting, not_an_app, settle
from otlint.configs.facts import (
    Attr,
    ConfigFacts,
    Instrumentation,
    Propagators,
    Runner,
    Setting,
    Unit,
)
from otlint.configs.kinds import WORKLOADS, unnamed
from otlint.configs.names import SERVICE_NAME
from otlint.configs.subst import literal
from otlint.core.errors import OtlintError
from otlint.core.finding import Location
from otlint.core.yamlpos import Position, YamlPath, load_all_with_marks

__all__ = ["container_env", "detect", "find_configmap", "finish", "read"]

#: Where each workload kind keeps its pod spec.
_INJECT = "instrumentation.opentelemetry.io/inject-"
_CONTAINER_NAMES = "container-names"
#: The pod annotations the Operator and ``k8sattributes`` (``otel_annotations``) read.
RESOURCE_ANNOTATION = "resource.opentelemetry.io/"
#: What the Operator sets on every container it injects, whatever the Instrumentation
#: says: ``createResourceMap`` and ``injectCommonSDKConfig`` in the Operator's
#: internal/instrumentation/sdk.go (k8s.namespace.name, k8s.container.name,
#: k8s.pod.name from the downward API, k8s.node.name, service.instance.id as
#: namespace.pod.container, and service.namespace from the
#: resource.opentelemetry.io/service.namespace annotation or the namespace name).
_OPERATOR_ATTRIBUTES = (
    "service.instance.id",
    "service.namespace",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.node.name",
    "k8s.container.name",
)
#: The owner attribute ``addParentResourceLabels`` (sdk.go) adds, per workload kind.
_OWNER_ATTRIBUTE = {
    "Deployment": "k8s.deployment.name",
    "ReplicaSet": "k8s.replicaset.name",
    "StatefulSet": "k8s.statefulset.name",
    "DaemonSet": "k8s.daemonset.name",
    "Job": "k8s.job.name",
    "CronJob": "k8s.cronjob.name",
}
#: Labels ``chooseServiceName`` reads when ``useLabelsForResourceAttributes`` is on
#: (the Operator's pkg/constants LabelAppName), in order.
_NAME_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/name")
#: Containers the Operator adds under fixed names that are not apps: its collector
#: sidecar (internal/naming/main.go ``Container()``) and the Go eBPF instrumentation
#: sidecar (``sideCarName``, internal/instrumentation/sdk.go), which observes the app
#: container beside it rather than being a service itself.
_OPERATOR_CONTAINERS = frozenset({"otc-container", "opentelemetry-auto-instrumentation"})
_FIELD_LABEL = re.compile(r"metadata\.(?P<what>labels|annotations)\[['\"](?P<key>[^'\"]+)['\"]\]")

#: The ConfigMaps of the run by (namespace, name), each with the file it is read from:
#: one name may be rendered in many folders (a chart's examples), each its own.
ConfigMaps = dict[tuple[str | None, str], list[tuple[str, dict[str, Setting]]]]


@dataclass
class Pod:
    """What a container's ``fieldRef`` and the Operator can read of its pod template."""

    doc: Document
    meta_at: YamlPath  # the pod template's ``metadata`` in the document
    namespace: str | None
    name: str | None  # None: generated (a Deployment's pods)
    labels: dict[Hashable, object] = field(default_factory=dict)
    annotations: dict[Hashable, object] = field(default_factory=dict)

    def answer(self, path: str) -> tuple[str | None, Location | None]:
        """The value of ``fieldRef.fieldPath`` when the manifest tells it, and where."""
        match = _FIELD_LABEL.fullmatch(path.strip())
        if match is not None:
            found = self.labels if match["what"] == "labels" else self.annotations
            if match["key"] in found and found[match["key"]] is not None:
                at = (*self.meta_at, match["what"], match["key"])
                return str(found[match["key"]]), self.doc.value(at)
        elif path.strip() == "metadata.namespace" and self.namespace is not None:
            return self.namespace, self.doc.value(("metadata", "namespace"))
        elif path.strip() == "metadata.name" and self.name is not None:
            return self.name, self.doc.value((*self.meta_at, "name"))
        return None, None


@dataclass
class _Container:
    """A container read from a workload, linked to ConfigMaps and Instrumentations in ``finish``."""

    doc: Document
    at: YamlPath  # the container in the document
    data: dict[Hashable, object]
    workload: str  # "Deployment checkout"
    namespace: str | None
    injected: tuple[str, str] | None  # (annotation, value)
    annotations: dict[Hashable, object]
    injected_at: Location | None = None
    kind: str = "Pod"
    workload_name: str | None = None
    pod: Pod | None = None
    volumes: list[object] = field(default_factory=list)
    template: str | None = None  # the chart template it was rendered from


class _Scratch(TypedDict):
    """What ``read`` keeps for ``finish``: the run's ConfigMaps and workload containers."""

    configmaps: ConfigMaps
    containers: list[_Container]


def detect(doc: Document) -> bool:
    """A Kubernetes object this reader knows (a workload, a ConfigMap; the engine opens Lists)."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("apiVersion"), str):
        return False
    kind = data.get("kind")
    if kind in WORKLOADS:
        return unnamed(data) is None
    return kind in ("ConfigMap", "Service")


def read(doc: Document, facts: ConfigFacts) -> None:
    """Keep the containers and ConfigMaps; units are built once every file is read."""
    data = doc.top()
    scratch: _Scratch = facts.scratch.setdefault("kubernetes", {"configmaps": {}, "containers": []})
    meta = mapping(data.get("metadata"))
    namespace = str(meta["namespace"]) if meta.get("namespace") else None
    generated = f"{meta['generateName']}*" if meta.get("generateName") else "<unnamed>"
    name = str(meta.get("name") or generated)
    if data["kind"] == "ConfigMap":
        scratch["configmaps"].setdefault((namespace, name), []).append(
            (doc.path, _configmap(doc, data.get("data")))
        )
        return
    if data["kind"] == "Service":  # for the data-plane map: who reaches a collector by name
        selector = mapping(mapping(data.get("spec")).get("selector"))
        if selector:
            services: list[tuple[str | None, str, dict[Hashable, object]]]
            services = facts.scratch.setdefault("kubernetes_services", [])
            services.append((namespace, name, selector))
        return
    kind = str(data["kind"])  # a workload's: detect took nothing else
    spec_path = WORKLOADS[kind]
    pod_spec = _dig(data, spec_path)
    if not isinstance(pod_spec, dict):
        return
    template_meta = _dig(data, (*spec_path[:-1], "metadata")) if len(spec_path) > 1 else meta
    annotations = (
        mapping(template_meta.get("annotations")) if isinstance(template_meta, dict) else {}
    )
    meta_path = (*spec_path[:-1], "metadata") if len(spec_path) > 1 else ("metadata",)
    containers = [c for c in sequence(pod_spec.get("containers")) if isinstance(c, dict)]
    first = str(containers[0].get("name")) if containers else None
    labels = mapping(template_meta.get("labels")) if isinstance(template_meta, dict) else {}
    pod = Pod(
        doc,
        meta_path,
        namespace,
        name if kind == "Pod" and meta.get("name") else None,
        labels,
        annotations,
    )
    for index, container in enumerate(sequence(pod_spec.get("containers"))):
        if isinstance(container, dict):
            injected = _injection(annotations, str(container.get("name")), first)
            injected_at = doc.key((*meta_path, "annotations", injected[0])) if injected else None
            scratch["containers"].append(
                _Container(
                    doc,
                    (*spec_path, "containers", index),
                    container,
                    f"{kind} {name}",
                    namespace,
                    injected,
                    annotations,
                    injected_at,
                    kind=kind,
                    workload_name=name if meta.get("name") else None,
                    pod=pod,
                    volumes=sequence(pod_spec.get("volumes")),
                    template=_helm_source(doc),
                )
            )


def _helm_source(doc: Document) -> str | None:
    """The chart template a rendered document came from: ``helm template`` writes
    ``# Source: chart/templates/x.yaml`` above each document it renders."""
    line = doc.key(()).line or doc.value(("kind",)).line or 1
    for above in range(line - 2, -1, -1):  # not a slice: a copy of every line above, per document
        stripped = doc.lines[above].strip()
        if stripped.startswith("# Source:"):
            return stripped.removeprefix("# Source:").strip() or None
        if stripped == "---":
            return None
    return None


def finish(facts: ConfigFacts) -> None:
    """Build a unit per container, now that every ConfigMap and Instrumentation is known."""
    scratch: _Scratch | None = facts.scratch.get("kubernetes")
    if scratch is None:
        return
    instrumentations: list[Instrumentation] = facts.scratch.get("operator", [])
    for container in scratch["containers"]:
        image = container.data.get("image")
        command = container.data.get("command") or container.data.get("args")
        what = not_an_app(str(image) if image else None, command)
        if what == "a collector" and container.workload_name is not None:
            facts.runners.append(_runner(container, facts))
        if what or container.data.get("name") in _OPERATOR_CONTAINERS:
            continue
        unit = _unit(container, scratch["configmaps"], instrumentations)
        if unit.instrumented or unit.injection_problem:
            facts.units.append(unit)
        if unit.instrumented and unit.config_file is not None and unit.config_file.text:
            _follow(unit, container, unit.config_file.text, scratch["configmaps"], facts)


def _runner(container: _Container, facts: ConfigFacts) -> Runner:
    """A workload's collector container: the Services that select its pods (the names
    units reach it by) and the ConfigMaps it mounts (where its configuration is)."""
    labels = container.pod.labels if container.pod is not None else {}
    services: list[tuple[str | None, str, dict[Hashable, object]]]
    services = facts.scratch.get("kubernetes_services", [])
    hosts = [
        name
        for namespace, name, selector in services
        if namespace in (None, container.namespace)
        and all(labels.get(k) == v for k, v in selector.items())
    ]
    configmaps = [
        str(mapping(v.get("configMap")).get("name"))
        for v in container.volumes
        if isinstance(v, dict) and isinstance(v.get("configMap"), dict)
    ]
    return Runner(
        kind=container.kind,
        name=str(container.workload_name),
        at=container.doc.key(container.at),
        hosts=hosts,
        configmaps=configmaps,
    )


def _follow(
    unit: Unit, container: _Container, path: str, configmaps: ConfigMaps, facts: ConfigFacts
) -> None:
    """Read the SDK configuration ``OTEL_CONFIG_FILE`` names when a ConfigMap of the run
    is mounted there (``volumeMounts`` + ``volumes[].configMap``, ``subPath``, ``items``)."""
    target = os.path.normpath(path)
    volumes = {str(v.get("name")): v for v in container.volumes if isinstance(v, dict)}
    for mount in sequence(container.data.get("volumeMounts")):
        if not isinstance(mount, dict) or not isinstance(mount.get("mountPath"), str):
            continue
        inside = os.path.normpath(mount["mountPath"])
        sub = mount.get("subPath")
        if target == inside:
            rel = str(sub) if sub else None
        elif target.startswith(inside.rstrip("/") + "/") and not sub:
            rel = os.path.relpath(target, inside)
        else:
            continue
        volume = volumes.get(str(mount.get("name")), {})
        source = volume.get("configMap") if isinstance(volume, dict) else None
        if not isinstance(source, dict) or rel is None:
            continue
        key = next(
            (
                str(item.get("key"))
                for item in sequence(source.get("items"))
                if isinstance(item, dict) and item.get("path") == rel
            ),
            rel,
        )
        data = find_configmap(
            configmaps, container.namespace, str(source.get("name")), container.doc.path
        )
        setting = data.get(key) if data else None
        doc = _embedded_once(setting, facts) if setting is not None else None
        if setting is not None and doc is not None and sdk.detect(doc):
            read_as = Unit(
                kind="SDK configuration",
                name=f"{doc.path} {key}",
                at=setting.value_at,
                deployable=False,
            )
            sdk.follow(unit, doc, read_as, f"{doc.path} (ConfigMap {source.get('name')} key {key})")
        return


def _embedded_once(setting: Setting, facts: ConfigFacts) -> Document | None:
    """``_embedded(setting)``, read once however many containers mount that ConfigMap key."""
    read: dict[int, tuple[Setting, Document | None]] = facts.scratch.setdefault("embedded_sdk", {})
    if id(setting) not in read:
        read[id(setting)] = (setting, _embedded(setting))  # the setting kept: its id stays its
    return read[id(setting)][1]


def _embedded(setting: Setting) -> Document | None:
    """A ConfigMap value holding YAML (``key: |`` and the text below), as a document
    whose positions are those of the text in the manifest."""
    outer = setting.doc
    if outer is None or setting.value is None:
        return None
    text = setting.value.raw
    start = setting.value_at.line or 1
    lines = outer.lines
    first = lines[start] if start < len(lines) else ""
    block = (
        (lines[start - 1] if start - 1 < len(lines) else "")
        .rstrip()
        .endswith(("|", "|-", "|+", ">", ">-"))
    )
    indent = len(first) - len(first.lstrip(" ")) if block else 0
    below = start if block else start - 1

    def origin(line: int, column: int) -> Position:
        # The text's lines are the manifest's from ``below`` on, each indented by ``indent``.
        return Position(line + below, column + indent)

    try:
        loaded = load_all_with_marks(text, outer.path, origin)
    except OtlintError:
        return None
    if not loaded:
        return None
    data, marks = loaded[0]
    return Document(outer.path, outer.index, data, marks, outer.lines)


def _unit(
    container: _Container, configmaps: ConfigMaps, instrumentations: list[Instrumentation]
) -> Unit:
    doc, at, data = container.doc, container.at, container.data
    cname = str(data.get("name", "<unnamed>"))
    unit = Unit(
        kind="container",
        name=f"{cname} ({container.workload})",
        at=doc.value((*at, "name")),
        deployable=True,
        image=str(data["image"]) if data.get("image") else None,
        identity=f"k8s:{container.namespace}:{container.workload}:{cname}",
        template=container.template,
    )
    pod = container.pod
    if pod is not None:
        for key, value in pod.annotations.items():
            if str(key).startswith(RESOURCE_ANNOTATION):
                attr_key = str(key).removeprefix(RESOURCE_ANNOTATION)
                unit.pod_annotations[attr_key] = Attr(
                    attr_key,
                    None if value is None else str(value),
                    doc.key((*pod.meta_at, "annotations", key)),
                    f"pod annotation {key}",
                )
    known: dict[str, str | None] = {}
    for source in sequence(data.get("envFrom")):
        if not isinstance(source, dict):
            continue
        prefix = str(source.get("prefix") or "")
        if isinstance(source.get("configMapRef"), dict):
            ref = str(source["configMapRef"].get("name"))
            found = find_configmap(configmaps, container.namespace, ref, doc.path)
            if found is None:
                unit.env_gaps.append(f"ConfigMap {ref} (envFrom)")
                continue
            for key, setting in found.items():
                unit.env[prefix + key] = setting
                known[prefix + key] = setting.text
        elif isinstance(source.get("secretRef"), dict):
            unit.env_gaps.append(f"Secret {source['secretRef'].get('name')} (envFrom)")
    unit.env.update(
        container_env(
            doc, (*at, "env"), data.get("env"), known, configmaps, container.namespace, pod
        )
    )
    extra: list[Attr] = []
    propagators: Propagators | None = None
    if container.injected is not None:
        key, value = container.injected
        where = container.injected_at or unit.at
        instr, problem = _instrumentation(instrumentations, container, value)
        if problem is not None:
            # The Operator logs an error and admits the pod as it is: nothing is injected.
            unit.injection_problem = f"{key}: {value!r}: {problem}"
            unit.injection_at = where
        else:
            unit.injected = f"{key}: {value}"
            use_labels = False
            if instr is not None:
                instr.unit.used = True
                for name, setting in instr.unit.env.items():
                    unit.env.setdefault(name, setting)
                language = key.removeprefix(_INJECT)
                for name, setting in instr.language_env.get(language, {}).items():
                    unit.env.setdefault(name, setting)
                extra += instr.attributes
                propagators = instr.propagators
                use_labels = instr.use_labels
                unit.injected_from = instr.resource_at
                if instr.k8s_uid:
                    extra.append(Attr("k8s.pod.uid", None, where, "operator"))
            extra += _operator_attributes(container, unit, where, use_labels)
            if SERVICE_NAME not in unit.env:
                unit.env[SERVICE_NAME] = _operator_name(container, cname, where, use_labels)
    settle(unit, extra, propagators)
    return unit


def _operator_attributes(
    container: _Container, unit: Unit, where: Location, use_labels: bool
) -> list[Attr]:
    """The resource attributes the Operator adds (``createResourceMap``, sdk.go)."""
    pod = container.pod
    out = [Attr(k, None, where, "operator") for k in _OPERATOR_ATTRIBUTES]
    owner = _OWNER_ATTRIBUTE.get(container.kind)
    if owner is not None:
        out.append(Attr(owner, container.workload_name, where, "operator"))
    # Pod annotations resource.opentelemetry.io/<key> (not service.name: that one names
    # the service through OTEL_SERVICE_NAME).
    out += [a for k, a in unit.pod_annotations.items() if k != "service.name"]
    # service.version: the annotation, the app.kubernetes.io/version label (with
    # useLabelsForResourceAttributes), else the image tag (chooseServiceVersion).
    version = unit.pod_annotations.get("service.version")
    if (
        version is None
        and use_labels
        and pod is not None
        and pod.labels.get("app.kubernetes.io/version")
    ):
        version = Attr(
            "service.version", str(pod.labels["app.kubernetes.io/version"]), where, "operator"
        )
    if version is None and unit.image and _image_tag(unit.image):
        version = Attr("service.version", _image_tag(unit.image), where, "operator")
    if version is not None:
        out.append(version)
    return out


def _image_tag(image: str) -> str | None:
    """The tag (and digest) of an image reference, as the Operator parses it."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if digest:
        return f"{tag}@{digest}" if tag else digest
    return tag or None


def _operator_name(container: _Container, cname: str, where: Location, use_labels: bool) -> Setting:
    """The ``OTEL_SERVICE_NAME`` the Operator sets on a container that has none
    (``chooseServiceName``, sdk.go): the ``resource.opentelemetry.io/service.name``
    annotation, the ``app.kubernetes.io/instance`` / ``name`` labels (with
    ``useLabelsForResourceAttributes``), the owning workload's name, the pod's name,
    and last the container's name."""
    pod = container.pod
    name: str | None = None
    why = "the Operator"
    if pod is not None and pod.annotations.get(RESOURCE_ANNOTATION + "service.name"):
        name = str(pod.annotations[RESOURCE_ANNOTATION + "service.name"])
        why = "the Operator, from the resource.opentelemetry.io/service.name annotation"
    elif use_labels and pod is not None and any(pod.labels.get(k) for k in _NAME_LABELS):
        label = next(k for k in _NAME_LABELS if pod.labels.get(k))
        name, why = str(pod.labels[label]), f"the Operator, from the {label} label"
    elif container.kind in _OWNER_ATTRIBUTE and container.workload_name:
        name, why = container.workload_name, f"the Operator, from the {container.kind} name"
    elif container.kind == "Pod":
        name = pod.name if pod is not None else None
        why = "the Operator, from the pod name"
    else:
        name, why = cname, "the Operator, from the container name"
    return Setting(SERVICE_NAME, literal(name) if name else None, where, where, why)


def _injection(
    annotations: dict[Hashable, object], name: str, first: str | None
) -> tuple[str, str] | None:
    """The ``inject-<language>`` annotation that instruments container ``name``, if any.

    Each language's containers are listed in ``<language>-container-names`` (for
    nginx ``inject-nginx-container-names``), else in the older ``container-names``,
    else it is the pod's first container (``ensureContainer``,
    internal/instrumentation/sdk.go; annotation names in annotation.go).
    """
    for key, value in annotations.items():
        key = str(key)
        if (
            not key.startswith(_INJECT)
            or key.endswith(_CONTAINER_NAMES)
            or str(value).lower() == "false"
        ):
            continue
        language = key.removeprefix(_INJECT)
        listed = annotations.get(f"instrumentation.opentelemetry.io/{language}-{_CONTAINER_NAMES}")
        if listed is None:
            listed = annotations.get(f"{_INJECT}{language}-{_CONTAINER_NAMES}")
        if listed is None:
            listed = annotations.get(f"instrumentation.opentelemetry.io/{_CONTAINER_NAMES}")
        names = [n.strip() for n in str(listed).split(",")] if listed is not None else [first]
        if name in names:
            return key, str(value)
    return None


def _instrumentation(
    instrumentations: list[Instrumentation], container: _Container, value: str
) -> tuple[Instrumentation | None, str | None]:
    """The ``Instrumentation`` an inject annotation's value names, if it is in the run,
    or why the Operator will choose none.

    ``"true"`` means the one in the pod's namespace: with more than one there the
    Operator cannot choose ("multiple OpenTelemetry Instrumentation instances
    available", ``selectInstrumentationInstanceFromNamespace`` in
    internal/instrumentation/podmutator.go) and injects nothing. ``name`` is one by
    name there; ``namespace/name`` one elsewhere. Manifests that give no namespace
    are applied into one namespace when they sit in the same folder (or the
    ``Instrumentation`` in a folder above the workload's); one name read twice is one
    resource, updated.
    """
    namespace = container.namespace
    folder = os.path.dirname(os.path.abspath(container.doc.path))

    def near(i: Instrumentation) -> bool:
        there = os.path.dirname(os.path.abspath(i.path))
        return folder == there or folder.startswith(there.rstrip(os.sep) + os.sep)

    if "/" in value:
        namespace, _, wanted = value.partition("/")
        pool = [i for i in instrumentations if i.name == wanted]
    elif value.lower() == "true":
        pool = list(instrumentations)
    else:
        pool = [i for i in instrumentations if i.name == value]
    same = [i for i in pool if i.namespace == namespace or None in (i.namespace, namespace)]
    # One name applied twice (a test step that updates it) is one resource: the last wins.
    scoped = list({(i.namespace, i.name): i for i in same if near(i)}.values())
    if len(scoped) > 1 and value.lower() == "true":
        names = ", ".join(sorted(i.name for i in scoped))
        where = f"namespace {namespace}" if namespace else "the namespace these manifests go to"
        return None, (
            f"{len(scoped)} Instrumentations in {where} ({names}): the Operator cannot choose "
            "one and injects nothing; name one in the annotation"
        )
    if len(scoped) == 1:
        return scoped[0], None
    explicit = [i for i in same if i.namespace is not None and i.namespace == namespace]
    return (explicit[0] if len(explicit) == 1 else None), None


def _configmap(doc: Document, data: object) -> dict[str, Setting]:
    if not isinstance(data, dict):
        return {}
    return {
        str(key): env_setting(
            doc, ("data", key), str(key), value, "kubernetes", None, source="ConfigMap"
        )
        for key, value in data.items()
    }


def _dig(data: object, path: tuple[str, ...]) -> object:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def container_env(
    doc: Document,
    at: YamlPath,
    value: object,
    known: dict[str, str | None],
    configmaps: ConfigMaps,
    namespace: str | None = None,
    pod: Pod | None = None,
) -> dict[str, Setting]:
    """A Kubernetes ``env:`` list as settings, in order.

    ``known`` holds the variables defined before the list (``envFrom``); ``$(VAR)``
    resolves against it and the earlier entries. ``configMapKeyRef`` reads
    ``configmaps`` (by namespace and name); ``fieldRef`` and ``secretKeyRef`` are
    set at run time and stay unknown, except the ``fieldRef``s the pod template
    itself answers (``metadata.labels['x']``, ``metadata.annotations['x']``,
    ``metadata.namespace``, a bare Pod's ``metadata.name``).
    """
    out: dict[str, Setting] = {}
    if not isinstance(value, list):
        return out
    known = dict(known)
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        item_at = (*at, index)
        if "valueFrom" in item:
            setting = _value_from(
                doc, item_at, name, item.get("valueFrom"), configmaps, namespace, pod
            )
        elif "value" in item:
            setting = env_setting(
                doc, (*item_at, "value"), name, item["value"], "kubernetes", known
            )
        else:
            setting = env_setting(doc, (*item_at, "name"), name, "", "kubernetes", known)
        setting.key_at = doc.value((*item_at, "name"))
        out[name] = setting
        known[name] = setting.text
    return out


def _value_from(
    doc: Document,
    at: YamlPath,
    name: str,
    source: object,
    configmaps: ConfigMaps,
    namespace: str | None,
    pod: Pod | None = None,
) -> Setting:
    what = "valueFrom"
    if isinstance(source, dict):
        ref = source.get("configMapKeyRef")
        if isinstance(ref, dict):
            data = find_configmap(configmaps, namespace, str(ref.get("name")), doc.path)
            key = str(ref.get("key"))
            if data is not None and key in data:
                found = data[key]
                return Setting(
                    name,
                    found.value,
                    doc.value((*at, "name")),
                    found.value_at,
                    f"ConfigMap {ref.get('name')}",
                    found.doc,
                    found.path,
                )
            what = f"ConfigMap {ref.get('name')} key {key}"
        elif isinstance(source.get("fieldRef"), dict):
            path = str(source["fieldRef"].get("fieldPath"))
            found_value, found_at = pod.answer(path) if pod is not None else (None, None)
            if found_value is not None and found_at is not None:
                return Setting(
                    name,
                    literal(found_value),
                    doc.value((*at, "name")),
                    found_at,
                    f"the pod's {path}",
                )
            what = f"the pod's {path}"
        elif isinstance(source.get("secretKeyRef"), dict):
            what = f"Secret {source['secretKeyRef'].get('name')}"
        elif isinstance(source.get("resourceFieldRef"), dict):
            what = "a container resource"
    return env_setting(doc, (*at, "valueFrom"), name, None, "kubernetes", None, source=what)


def find_configmap(
    configmaps: ConfigMaps, namespace: str | None, name: str, near: str | None = None
) -> dict[str, Setting] | None:
    """The ConfigMap ``name`` seen in this run, in ``namespace`` or with no namespace given.

    With several of that name, the one nearest the file ``near`` that uses it: in the
    same file, else in the deepest folder that holds that file; else none.
    """
    found: list[tuple[str, dict[str, Setting]]] = []
    for key in ((namespace, name), (None, name)):
        found += configmaps.get(key, [])
    if not found:
        found = [
            entry
            for (ns, n), entries in configmaps.items()
            if n == name and (namespace is None or ns is None)
            for entry in entries
        ]
    if len(found) <= 1 or near is None:
        return found[0][1] if len(found) == 1 else None
    here = os.path.abspath(near)
    same = [data for path, data in found if os.path.abspath(path) == here]
    if same:
        return same[0]
    folder = os.path.dirname(here)
    best: tuple[int, dict[str, Setting]] | None = None
    for path, data in found:
        there = os.path.dirname(os.path.abspath(path))
        inside = folder == there or folder.startswith(there.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(there) > best[0]):
            best = (len(there), data)
    return best[1] if best is not None else None
