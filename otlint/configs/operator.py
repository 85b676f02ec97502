"""OpenTelemetry Operator ``Instrumentation`` resources.

An ``Instrumentation`` is not deployed by itself: the Operator injects its SDK
settings into the containers of pods annotated
``instrumentation.opentelemetry.io/inject-<language>``. It is recorded as a
non-deployable unit (its propagators, resource attributes and environment are checked
on their own) and kept for the Kubernetes reader, which merges it into the containers
it is injected into.

What the Operator injects: ``spec.env`` (and ``spec.<language>.env``) for variables
the container does not set, ``spec.propagators`` as ``OTEL_PROPAGATORS``,
``spec.resource.resourceAttributes`` into ``OTEL_RESOURCE_ATTRIBUTES``, and on its
own ``OTEL_SERVICE_NAME`` (from the workload), ``service.instance.id``,
``service.namespace`` (the namespace), ``service.version`` (from the image tag),
the pod's ``resource.opentelemetry.io/*`` annotations and ``k8s.*`` attributes
(``k8s.pod.uid`` only with ``spec.resource.addK8sUIDAttributes``): see
``otlint.configs.kubernetes`` and the Operator's internal/instrumentation/sdk.go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from otlint.configs.document import Document, mapping
from otlint.configs.env import settle
from otlint.configs.facts import Attr, ConfigFacts, Propagators, Setting, Unit
from otlint.configs.kubernetes import container_env
from otlint.core.finding import Location

__all__ = ["LANGUAGES", "Instrumentation", "detect", "finish", "read"]

#: The languages an ``Instrumentation`` has a section for (``spec.java`` ...).
LANGUAGES = ("java", "nodejs", "python", "dotnet", "go", "apacheHttpd", "nginx")


@dataclass
class Instrumentation:
    """What the Kubernetes reader needs to inject one ``Instrumentation`` into a container."""

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


def detect(doc: Document) -> bool:
    """``kind: Instrumentation`` of the ``opentelemetry.io`` API group."""
    data = doc.data
    return (
        isinstance(data, dict)
        and data.get("kind") == "Instrumentation"
        and str(data.get("apiVersion", "")).startswith("opentelemetry.io/")
    )


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record the resource as a unit and keep it for injection into containers."""
    data = doc.data
    meta = mapping(data.get("metadata"))
    spec = mapping(data.get("spec"))
    namespace = meta.get("namespace")
    name = str(meta.get("name", "<unnamed>"))
    unit = Unit(
        kind="Instrumentation",
        name=f"{namespace}/{name}" if namespace else name,
        at=doc.value(("metadata", "name")),
        deployable=False,
        injected="Instrumentation",
    )
    unit.env = container_env(doc, ("spec", "env"), spec.get("env"), {}, {})
    languages = {
        lang: container_env(doc, ("spec", lang, "env"), section.get("env"), {}, {})
        for lang in LANGUAGES
        if isinstance(section := spec.get(lang), dict)
    }
    propagators = _propagators(doc, spec.get("propagators"))
    resource = mapping(spec.get("resource"))
    attributes = _attributes(doc, resource.get("resourceAttributes"))
    settle(unit, attributes, propagators)
    facts.units.append(unit)
    facts.scratch.setdefault("operator", []).append(
        Instrumentation(
            namespace=str(namespace) if namespace else None,
            name=name,
            unit=unit,
            propagators=propagators,
            attributes=attributes,
            language_env=languages,
            k8s_uid=resource.get("addK8sUIDAttributes") is True,
            path=doc.path,
            resource_at=doc.key(("spec", "resource", "resourceAttributes"))
            if "resourceAttributes" in resource
            else doc.key(("spec", "resource"))
            if "resource" in spec
            else doc.key(("spec",)),
            use_labels=mapping(spec.get("defaults")).get("useLabelsForResourceAttributes") is True,
        )
    )


def finish(facts: ConfigFacts) -> None:
    """Nothing to link here: containers find their ``Instrumentation`` (kubernetes.finish)."""


def _propagators(doc: Document, value: Any) -> Propagators | None:
    if not isinstance(value, list) or not value:
        return None
    names = tuple(str(v).strip().lower() for v in value)
    positions = tuple(doc.value(("spec", "propagators", i)) for i in range(len(value)))
    return Propagators(names, doc.key(("spec", "propagators")), "spec.propagators", positions)


def _attributes(doc: Document, value: Any) -> list[Attr]:
    if not isinstance(value, dict):
        return []
    at = ("spec", "resource", "resourceAttributes")
    return [
        Attr(
            str(k),
            None if v is None else str(v),
            doc.key((*at, k)),
            "spec.resource.resourceAttributes",
        )
        for k, v in value.items()
    ]
