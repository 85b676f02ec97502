"""The SDK declarative configuration file (``OTEL_CONFIG_FILE``; ``file_format: "1.0"``).

One file configures one SDK, so it is a deployable unit. It is recognised by a
``file_format`` version and the schema's top-level keys
(``otlint.configs.kinds.is_sdk_configuration``). Read:

- ``resource.attributes`` (``- name: service.name`` / ``value: ...``), which beat
  ``resource.attributes_list`` (an ``OTEL_RESOURCE_ATTRIBUTES``-style string);
- ``resource.detection/development.detectors`` (and the older ``detectors``): the
  ``service`` detector sets ``service.name`` from ``OTEL_SERVICE_NAME`` and
  ``service.instance.id``, so the name is then known only at run time;
- ``propagator.composite`` (``- tracecontext:`` or, in older formats, plain names) and
  ``propagator.composite_list`` (a comma-separated string), merged;
- ``disabled: true`` (the SDK emits nothing).

Unlike ``OTEL_PROPAGATORS``, an omitted ``propagator`` section (or an empty list)
means *no* propagation at all, as the configuration schema says.

Values are ``${VAR}`` / ``${VAR:-default}`` substitutions; the environment is not
known here, so a variable with no default is unknown.
"""

from __future__ import annotations

from typing import Any

from otlint.configs.document import Document
from otlint.configs.env import env_setting, propagators_from, resource_attributes_into
from otlint.configs.facts import Attr, ConfigFacts, Propagators, Unit
from otlint.configs.kinds import is_sdk_configuration

__all__ = ["detect", "finish", "read"]


def detect(doc: Document) -> bool:
    """A mapping with a ``file_format`` version and the configuration's top-level keys."""
    return is_sdk_configuration(doc.data)


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record the file as one deployable unit."""
    data = doc.data
    unit = Unit(
        kind="SDK configuration",
        name=doc.path if doc.index == 0 else f"{doc.path}#{doc.index + 1}",
        at=doc.key(("file_format",)),
        deployable=True,
        instrumented=True,
    )
    unit.disabled = data.get("disabled") is True
    resource = data.get("resource") if isinstance(data.get("resource"), dict) else {}
    _attributes_list(doc, unit, resource.get("attributes_list"))
    _attributes(doc, unit, resource.get("attributes"))
    if _detectors(resource) & {"service"} and "service.name" not in unit.attributes:
        unit.service_name_unknown = "the service resource detector reads it from OTEL_SERVICE_NAME"
        unit.attributes["service.instance.id"] = Attr(
            "service.instance.id", None, doc.key(("resource",)), "the service resource detector"
        )
    unit.service_name = unit.attributes.get("service.name")
    if unit.service_name is None and unit.service_name_unknown is None and unit.attributes_unknown:
        unit.service_name_unknown = "it may be set by " + ", ".join(unit.attributes_unknown)
    unit.propagators = _propagators(doc, data.get("propagator"))
    facts.units.append(unit)


def finish(facts: ConfigFacts) -> None:
    """Nothing to link: the file stands alone."""


def _attributes(doc: Document, unit: Unit, items: Any) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        at = ("resource", "attributes", index)
        value = item.get("value")
        text: str | None = None
        if isinstance(value, str | int | float | bool):
            setting = env_setting(doc, (*at, "value"), item["name"], value, "sdk", None)
            text = setting.text
            if setting.unknown is not None:
                text = None
        unit.attributes[item["name"]] = Attr(
            item["name"], text, doc.value((*at, "name")), "resource.attributes"
        )


def _attributes_list(doc: Document, unit: Unit, raw: Any) -> None:
    if not isinstance(raw, str):
        return
    setting = env_setting(
        doc, ("resource", "attributes_list"), "resource.attributes_list", raw, "sdk", None
    )
    resource_attributes_into(unit, setting)


def _detectors(resource: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for section in (resource.get("detection/development"), resource.get("detection"), resource):
        detectors = section.get("detectors") if isinstance(section, dict) else None
        for item in detectors if isinstance(detectors, list) else []:
            if isinstance(item, dict):
                names |= {str(k) for k in item}
            elif isinstance(item, str):
                names.add(item)
    return names


def _propagators(doc: Document, propagator: Any) -> Propagators:
    if not isinstance(propagator, dict):
        # The schema: "If omitted, a noop propagator is used" (unlike OTEL_PROPAGATORS).
        at = doc.key(("propagator",)) if "propagator" in doc.data else doc.key(("file_format",))
        return Propagators(("none",), at, "a configuration with no propagator section", (at,))
    names: list[str] = []
    positions = []
    composite = propagator.get("composite")
    for index, item in enumerate(composite if isinstance(composite, list) else []):
        # ``- tracecontext:`` (a mapping holding the name) since 0.3; a plain name before.
        for name in item if isinstance(item, dict) else [item]:
            names.append(str(name).strip().lower())
            positions.append(doc.value(("propagator", "composite", index)))
    unknown = None
    if isinstance(propagator.get("composite_list"), str):
        setting = env_setting(
            doc,
            ("propagator", "composite_list"),
            "propagator.composite_list",
            propagator["composite_list"],
            "sdk",
            None,
        )
        listed = propagators_from(setting)
        unknown = listed.unknown
        for name, loc in zip(listed.names, listed.positions, strict=True):
            if name not in names:
                names.append(name)
                positions.append(loc)
    if not names and unknown is None:
        # An empty composite is "no propagators", as ``none`` is in OTEL_PROPAGATORS.
        return Propagators(
            ("none",), doc.key(("propagator",)), "propagator", (doc.key(("propagator",)),)
        )
    return Propagators(
        tuple(names), doc.key(("propagator",)), "propagator", tuple(positions), unknown
    )
