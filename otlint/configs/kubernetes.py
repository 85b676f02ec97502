"""Kubernetes workloads: each container of a pod template is a deployable unit.

Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and
CronJob pod templates and bare Pods are read (``kind: List`` too). A container's
environment is built as the kubelet builds it: ``envFrom`` first, then ``env`` in
order, ``$(VAR)`` naming an earlier variable. ConfigMaps found anywhere in the run
are read for ``envFrom`` and ``configMapKeyRef``; Secrets, ``fieldRef`` and ConfigMaps
that are not in the run are set at deploy time and stay unknown.

Containers of pods annotated ``instrumentation.opentelemetry.io/inject-<language>``
get what the OpenTelemetry Operator injects (see ``otlint.configs.operator``), from
the ``Instrumentation`` the annotation names when it is in the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otlint.configs.document import Document, sequence
from otlint.configs.env import env_setting, settle
from otlint.configs.facts import Attr, ConfigFacts, Propagators, Setting, Unit
from otlint.finding import Location

__all__ = ["WORKLOADS", "container_env", "detect", "find_configmap", "finish", "read"]

#: Where each workload kind keeps its pod spec.
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
_INJECT = "instrumentation.opentelemetry.io/inject-"
_CONTAINER_NAMES = "container-names"
#: What the Operator sets on every container it injects, whatever the Instrumentation says.
_OPERATOR_ATTRIBUTES = (
    "service.instance.id",
    "service.version",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.node.name",
    "k8s.container.name",
)

ConfigMaps = dict[tuple[str | None, str], dict[str, Setting]]


@dataclass
class _Container:
    """A container read from a workload, linked to ConfigMaps and Instrumentations in ``finish``."""

    doc: Document
    at: tuple[Any, ...]  # the container in the document
    data: dict[str, Any]
    workload: str  # "Deployment checkout"
    namespace: str | None
    injected: tuple[str, str] | None  # (annotation, value)
    annotations: dict[str, Any]
    injected_at: Location | None = None


def detect(doc: Document) -> bool:
    """A Kubernetes object this reader knows (a workload, a ConfigMap, a List of them)."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("apiVersion"), str):
        return False
    kind = data.get("kind")
    if kind == "List":
        return isinstance(data.get("items"), list)
    return kind in WORKLOADS or kind == "ConfigMap"


def read(doc: Document, facts: ConfigFacts) -> None:
    """Keep the containers and ConfigMaps; units are built once every file is read."""
    data = doc.data
    if data.get("kind") == "List":
        from otlint.configs import operator

        for index, item in enumerate(data["items"]):
            item_doc = doc.sub(("items", index))
            if operator.detect(item_doc):
                operator.read(item_doc, facts)
            elif isinstance(item, dict) and detect(item_doc) and item.get("kind") != "List":
                read(item_doc, facts)
        return
    scratch = facts.scratch.setdefault("kubernetes", {"configmaps": {}, "containers": []})
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    namespace = str(meta["namespace"]) if meta.get("namespace") else None
    name = str(meta.get("name", "<unnamed>"))
    if data["kind"] == "ConfigMap":
        scratch["configmaps"][(namespace, name)] = _configmap(doc, data.get("data"))
        return
    spec_path = WORKLOADS[data["kind"]]
    pod_spec = _dig(data, spec_path)
    if not isinstance(pod_spec, dict):
        return
    template_meta = _dig(data, (*spec_path[:-1], "metadata")) if len(spec_path) > 1 else meta
    annotations = template_meta.get("annotations") if isinstance(template_meta, dict) else None
    annotations = annotations if isinstance(annotations, dict) else {}
    injected = next(
        (
            (str(k), str(v))
            for k, v in annotations.items()
            if str(k).startswith(_INJECT) and str(v).lower() != "false"
        ),
        None,
    )
    meta_path = (*spec_path[:-1], "metadata") if len(spec_path) > 1 else ("metadata",)
    injected_at = doc.key((*meta_path, "annotations", injected[0])) if injected else None
    for index, container in enumerate(sequence(pod_spec.get("containers"))):
        if isinstance(container, dict):
            scratch["containers"].append(
                _Container(
                    doc,
                    (*spec_path, "containers", index),
                    container,
                    f"{data['kind']} {name}",
                    namespace,
                    injected,
                    annotations,
                    injected_at,
                )
            )


def finish(facts: ConfigFacts) -> None:
    """Build a unit per container, now that every ConfigMap and Instrumentation is known."""
    scratch = facts.scratch.get("kubernetes")
    if scratch is None:
        return
    instrumentations = facts.scratch.get("operator", [])
    for container in scratch["containers"]:
        unit = _unit(container, scratch["configmaps"], instrumentations)
        if unit.instrumented:
            facts.units.append(unit)


def _unit(container: _Container, configmaps: ConfigMaps, instrumentations: list[Any]) -> Unit:
    doc, at, data = container.doc, container.at, container.data
    cname = str(data.get("name", "<unnamed>"))
    unit = Unit(
        kind="container",
        name=f"{cname} ({container.workload})",
        at=doc.value((*at, "name")),
        deployable=True,
    )
    known: dict[str, str | None] = {}
    for source in sequence(data.get("envFrom")):
        if not isinstance(source, dict):
            continue
        prefix = str(source.get("prefix") or "")
        if isinstance(source.get("configMapRef"), dict):
            ref = str(source["configMapRef"].get("name"))
            found = find_configmap(configmaps, container.namespace, ref)
            if found is None:
                unit.env_gaps.append(f"ConfigMap {ref} (envFrom)")
                continue
            for key, setting in found.items():
                unit.env[prefix + key] = setting
                known[prefix + key] = setting.text
        elif isinstance(source.get("secretRef"), dict):
            unit.env_gaps.append(f"Secret {source['secretRef'].get('name')} (envFrom)")
    unit.env.update(
        container_env(doc, (*at, "env"), data.get("env"), known, configmaps, container.namespace)
    )
    extra: list[Attr] = []
    propagators: Propagators | None = None
    if container.injected is not None and _injects(container, cname):
        key, value = container.injected
        unit.injected = f"{key}: {value}"
        where = container.injected_at or unit.at
        instr = _instrumentation(instrumentations, container.namespace, value)
        if instr is not None:
            instr.unit.used = True
            for name, setting in instr.unit.env.items():
                unit.env.setdefault(name, setting)
            language = key.removeprefix(_INJECT)
            for name, setting in instr.language_env.get(language, {}).items():
                unit.env.setdefault(name, setting)
            extra += instr.attributes
            propagators = instr.propagators
            if instr.k8s_uid:
                extra.append(Attr("k8s.pod.uid", None, where, "operator"))
        extra += [Attr(k, None, where, "operator") for k in _OPERATOR_ATTRIBUTES]
    settle(unit, extra, propagators)
    return unit


def _injects(container: _Container, name: str) -> bool:
    """Whether the Operator injects into this container (``container-names`` limits it)."""
    for key, value in container.annotations.items():
        if str(key).startswith("instrumentation.opentelemetry.io/") and str(key).endswith(
            _CONTAINER_NAMES
        ):
            return name in [n.strip() for n in str(value).split(",")]
    return True


def _instrumentation(instrumentations: list[Any], namespace: str | None, value: str) -> Any:
    """The ``Instrumentation`` an inject annotation's value names, if it is in the run.

    ``"true"`` means the one in the pod's namespace; ``name`` one by name there;
    ``namespace/name`` one elsewhere.
    """
    if value.lower() == "true":
        found = [i for i in instrumentations if i.namespace in (namespace, None)]
    elif "/" in value:
        ns, _, name = value.partition("/")
        found = [i for i in instrumentations if i.name == name and i.namespace in (ns, None)]
    else:
        found = [
            i for i in instrumentations if i.name == value and i.namespace in (namespace, None)
        ]
    return found[0] if len(found) == 1 else None


def _configmap(doc: Document, data: Any) -> dict[str, Setting]:
    if not isinstance(data, dict):
        return {}
    return {
        str(key): env_setting(
            doc, ("data", key), str(key), value, "kubernetes", None, source="ConfigMap"
        )
        for key, value in data.items()
    }


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def container_env(
    doc: Document,
    at: tuple[Any, ...],
    value: Any,
    known: dict[str, str | None],
    configmaps: ConfigMaps,
    namespace: str | None = None,
) -> dict[str, Setting]:
    """A Kubernetes ``env:`` list as settings, in order.

    ``known`` holds the variables defined before the list (``envFrom``); ``$(VAR)``
    resolves against it and the earlier entries. ``configMapKeyRef`` reads
    ``configmaps`` (by namespace and name); ``fieldRef`` and ``secretKeyRef`` are
    set at run time and stay unknown.
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
            setting = _value_from(doc, item_at, name, item.get("valueFrom"), configmaps, namespace)
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
    at: tuple[Any, ...],
    name: str,
    source: Any,
    configmaps: ConfigMaps,
    namespace: str | None,
) -> Setting:
    what = "valueFrom"
    if isinstance(source, dict):
        ref = source.get("configMapKeyRef")
        if isinstance(ref, dict):
            data = find_configmap(configmaps, namespace, str(ref.get("name")))
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
            what = f"the pod's {source['fieldRef'].get('fieldPath')}"
        elif isinstance(source.get("secretKeyRef"), dict):
            what = f"Secret {source['secretKeyRef'].get('name')}"
        elif isinstance(source.get("resourceFieldRef"), dict):
            what = "a container resource"
    return env_setting(doc, (*at, "valueFrom"), name, None, "kubernetes", None, source=what)


def find_configmap(
    configmaps: ConfigMaps, namespace: str | None, name: str
) -> dict[str, Setting] | None:
    """The ConfigMap ``name`` seen in this run, in ``namespace`` or with no namespace given."""
    for key in ((namespace, name), (None, name)):
        if key in configmaps:
            return configmaps[key]
    matches = [
        data
        for (ns, n), data in configmaps.items()
        if n == name and (namespace is None or ns is None)
    ]
    return matches[0] if len(matches) == 1 else None
