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

from otlint.configs.document import Document, mapping
from otlint.configs.env import settle
from otlint.configs.facts import Attr, ConfigFacts, Instrumentation, Propagators, Unit
from otlint.configs.kubernetes import container_env

__all__ = ["LANGUAGES", "Instrumentation", "detect", "finish", "read"]

#: The languages an ``Instrumentation`` has a section for (``spec.java`` ...).
LANGUAGES = ("java", "nodejs", "python", "dotnet", "go", "apacheHttpd", "nginx")


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
    data = doc.top()
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
    unit.language_env = [setting for env in languages.values() for setting in env.values()]
    propagators = _propagators(doc, spec.get("propagators"))
    resource = mapping(spec.get("resource"))
    attributes = _attributes(doc, resource.get("resourceAttributes"))
    settle(unit, attributes, propagators)
    facts.units.append(unit)
    kept: list[Instrumentation] = facts.scratch.setdefault("operator", [])
    kept.append(
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


def _propagators(doc: Document, value: object) -> Propagators | None:
    if not isinstance(value, list) or not value:
        return None
    names = tuple(str(v).strip().lower() for v in value)
    positions = tuple(doc.value(("spec", "propagators", i)) for i in range(len(value)))
    return Propagators(names, doc.key(("spec", "propagators")), "spec.propagators", positions)


def _attributes(doc: Document, value: object) -> list[Attr]:
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
