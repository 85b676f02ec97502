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
- ``disabled: true`` (the SDK emits nothing);
- where exporters write headers and credentials (``headers``, ``headers_list``), for
  CF070 (``otlint.configs.credentials``).

Unlike ``OTEL_PROPAGATORS``, an omitted ``propagator`` section (or an empty list)
means *no* propagation at all, as the configuration schema says.

Values are ``${VAR}`` / ``${VAR:-default}`` substitutions; read on its own the
environment is not known, so a variable with no default is unknown (and a name
defaulting to ``unknown_service`` is one set at deploy time). When a unit's
``OTEL_CONFIG_FILE`` names a file of the run (``follow``), the file is read again
with that unit's environment, as the SDK will read it, and judged through the unit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable

from otlint.configs.credentials import carriers
from otlint.configs.document import Document, mapping, sequence
from otlint.configs.env import (
    deploy_time_fallback,
    env_setting,
    propagators_from,
    resource_attributes_into,
)
from otlint.configs.facts import Attr, ConfigFacts, Propagators, Setting, Unit
from otlint.configs.kinds import is_sdk_configuration
from otlint.configs.names import (
    NO_PROPAGATOR,
    NO_PROPAGATOR_NO_TRACES,
    PROPAGATORS,
    RESOURCE_ATTRIBUTES,
    SERVICE_NAME,
)
from otlint.configs.subst import Env, resolve
from otlint.core.yamlpos import YamlPath

__all__ = ["detect", "find", "finish", "follow", "read"]

#: The SDK configuration files of the run by path: each document, read as its unit.
_Kept = dict[str, list[tuple[Document, Unit]]]

#: ``${VAR}`` / ``${env:VAR}`` / ``${VAR:-default}``: the variables a file reads.
_REFERENCE = re.compile(r"\$\{(?:env:)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")


def detect(doc: Document) -> bool:
    """A mapping with a ``file_format`` version and the configuration's top-level keys."""
    return is_sdk_configuration(doc.data)


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record the file as one deployable unit (and keep it for ``OTEL_CONFIG_FILE``)."""
    unit = Unit(
        kind="SDK configuration",
        name=doc.path if doc.index == 0 else f"{doc.path}#{doc.index + 1}",
        at=doc.key(("file_format",)),
        deployable=True,
        instrumented=True,
        identity=f"sdk:{os.path.normpath(doc.path)}#{doc.index}",
    )
    _configure(doc, unit, None)
    unit.carriers = carriers(doc, doc.data, "sdk")
    facts.units.append(unit)
    keep(doc, unit, facts)


def keep(doc: Document, unit: Unit, facts: ConfigFacts) -> None:
    """Keep ``doc`` (read as ``unit``) for units whose ``OTEL_CONFIG_FILE`` names its file."""
    found: _Kept = facts.scratch.setdefault("sdk", {})
    found.setdefault(os.path.normpath(doc.path), []).append((doc, unit))


def find(facts: ConfigFacts, path: str) -> tuple[Document, Unit] | None:
    """The SDK configuration read from file ``path`` (its first document), if in the run."""
    kept: _Kept = facts.scratch.get("sdk", {})
    docs = kept.get(os.path.normpath(path))
    return docs[0] if docs else None


def finish(facts: ConfigFacts) -> None:
    """Nothing to link: units that name a file find it (``follow``)."""


def follow(unit: Unit, doc: Document, read_as: Unit, label: str | None = None) -> None:
    """Read ``doc`` as the SDK configuration of ``unit``, whose ``OTEL_CONFIG_FILE`` names it.

    The file decides: its ``${VAR}`` references take the unit's environment
    (``attributes_list: ${OTEL_RESOURCE_ATTRIBUTES}`` pulls the variable back in), the
    ``service`` resource detector reads ``OTEL_SERVICE_NAME``; every other
    ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` / ``OTEL_PROPAGATORS`` is
    really ignored. ``read_as`` (the file read on its own) is then judged through
    ``unit`` only. ``label`` names the file in messages (default: its path).
    """
    env: dict[str, str | None] = {name: s.text for name, s in unit.env.items()}
    referenced = {m.group("name") for text in _strings(doc.data) for m in _REFERENCE.finditer(text)}
    unit.followed = label or doc.path
    unit.attributes = {}
    unit.attributes_unknown = [
        a for a in unit.attributes_unknown if unit.config_file is None or a != unit.config_file.name
    ]
    unit.service_name = None
    unit.service_name_unknown = None
    unit.propagators = None
    detector = _configure(doc, unit, env)
    kept = set(referenced)
    if detector:
        kept.add(SERVICE_NAME)
        named = unit.env.get(SERVICE_NAME)
        if unit.service_name is None and named is not None and named.text:
            if named.value is not None and deploy_time_fallback(named.value):
                unit.service_name_unknown = f"{SERVICE_NAME} is {', '.join(named.value.defaulted)}"
            else:
                attr = Attr(
                    "service.name", named.text, named.value_at, f"{SERVICE_NAME} (service detector)"
                )
                unit.attributes["service.name"] = attr
                unit.service_name = attr
                unit.service_name_unknown = None
        elif unit.service_name is None and named is not None and named.unknown:
            unit.service_name_unknown = f"{SERVICE_NAME} is {named.unknown}"
    unit.ignored = [
        unit.env[n]
        for n in (SERVICE_NAME, RESOURCE_ATTRIBUTES, PROPAGATORS)
        if n in unit.env and n not in kept
    ]
    if unit.service_name is None and unit.service_name_unknown is None and unit.attributes_unknown:
        unit.service_name_unknown = "it may be set by " + ", ".join(unit.attributes_unknown)
    read_as.used = True
    read_as.deployable = False


def _strings(data: object) -> list[str]:
    """Every string value in ``data``, nested."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [t for v in data.values() for t in _strings(v)]
    if isinstance(data, list):
        return [t for v in data for t in _strings(v)]
    return []


def _configure(doc: Document, unit: Unit, env: Env | None) -> bool:
    """Read the file's resource, propagators and ``disabled`` into ``unit``, resolving
    ``${VAR}`` against ``env`` (None: nothing known). Returns whether the ``service``
    resource detector is on."""
    data = doc.top()
    unit.disabled = data.get("disabled") is True
    resource = mapping(data.get("resource"))
    # Where a name would be added: the attribute list, else the resource block, else
    # the top of the file (where ``resource:`` goes).
    if "attributes" in resource:
        unit.name_at = doc.key(("resource", "attributes"))
    elif "resource" in data:
        unit.name_at = doc.key(("resource",))
    else:
        unit.name_at = doc.key(("file_format",))
    _attributes_list(doc, unit, resource.get("attributes_list"), env)
    _attributes(doc, unit, resource.get("attributes"), env)
    detector = "service" in _detectors(resource)
    if detector and "service.name" not in unit.attributes:
        unit.service_name_unknown = "the service resource detector reads it from OTEL_SERVICE_NAME"
        unit.attributes["service.instance.id"] = Attr(
            "service.instance.id", None, doc.key(("resource",)), "the service resource detector"
        )
    unit.service_name = unit.attributes.get("service.name")
    if unit.service_name is not None and unit.service_name.value is None:
        unit.service_name_unknown = (
            "service.name is set from a variable: " + unit.service_name.source
        )
        unit.service_name = None
    if unit.service_name is None and unit.service_name_unknown is None and unit.attributes_unknown:
        unit.service_name_unknown = "it may be set by " + ", ".join(unit.attributes_unknown)
    unit.propagators = _propagators(doc, data.get("propagator"), env)
    unit.exports = _exports(doc, data, env)
    return detector


#: Where each provider lists what it exports, and the signal it carries.
_PROVIDERS = (
    ("tracer_provider", "processors", "traces"),
    ("logger_provider", "processors", "logs"),
    ("meter_provider", "readers", "metrics"),
)
_OTLP_EXPORTERS = ("otlp_grpc", "otlp_http", "otlp", "otlp_file/development")


def _exports(
    doc: Document, data: dict[Hashable, object], env: Env | None
) -> dict[str, Setting | None]:
    """Per signal whose provider the file configures, where its OTLP exporter sends."""
    out: dict[str, Setting | None] = {}
    for provider, section, signal in _PROVIDERS:
        if provider not in data:
            continue
        out[signal] = None
        for index, item in enumerate(sequence(mapping(data.get(provider)).get(section))):
            for kind, body in mapping(item).items():  # batch / simple / periodic
                exporter = mapping(mapping(body).get("exporter"))
                for name in _OTLP_EXPORTERS:
                    if name not in exporter or name == "otlp_file/development":
                        continue
                    at: YamlPath = (provider, section, index, kind, "exporter", name)
                    raw = mapping(exporter.get(name)).get("endpoint")
                    if raw is None:
                        raw = (
                            "http://localhost:4318"
                            if name == "otlp_http"
                            else "http://localhost:4317"
                        )
                        where = doc.key(at)
                    else:
                        where = doc.value((*at, "endpoint"))
                    out[signal] = Setting(
                        name,
                        resolve(str(raw), "sdk", env),
                        doc.key(at),
                        where,
                        source=f"{provider} exporter",
                        doc=doc,
                        path=(*at, "endpoint"),
                    )
                    break
                if out[signal] is not None:
                    break
            if out[signal] is not None:
                break
    return out


def _attributes(doc: Document, unit: Unit, items: object, env: Env | None) -> None:
    # ``file_format`` 0.3 on: a list of {name, value}; 0.1 and 0.2: a map of key to value.
    entries: list[tuple[tuple[YamlPath, YamlPath], str, object]]
    if isinstance(items, dict):
        entries = [
            ((("resource", "attributes", k), ("resource", "attributes", k)), str(k), v)
            for k, v in items.items()
        ]
    elif isinstance(items, list):
        entries = [
            (
                (("resource", "attributes", i, "value"), ("resource", "attributes", i, "name")),
                item["name"],
                item.get("value"),
            )
            for i, item in enumerate(items)
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        ]
    else:
        return
    for (value_at, name_at), name, value in entries:
        text: str | None = None
        source = "resource.attributes"
        if isinstance(value, str | int | float | bool):
            setting = env_setting(doc, value_at, name, value, "sdk", env)
            text = setting.text
            if setting.unknown is not None:
                text = None
                source = f"resource.attributes ({setting.unknown})"
            elif setting.value is not None and deploy_time_fallback(setting.value):
                text = None
                source = f"resource.attributes ({', '.join(setting.value.defaulted)})"
        unit.attributes[name] = Attr(name, text, doc.value(name_at), source)


def _attributes_list(doc: Document, unit: Unit, raw: object, env: Env | None) -> None:
    if not isinstance(raw, str):
        return
    setting = env_setting(
        doc, ("resource", "attributes_list"), "resource.attributes_list", raw, "sdk", env
    )
    resource_attributes_into(unit, setting)


def _detectors(resource: dict[Hashable, object]) -> set[str]:
    names: set[str] = set()
    for section in (resource.get("detection/development"), resource.get("detection"), resource):
        detectors = section.get("detectors") if isinstance(section, dict) else None
        for item in detectors if isinstance(detectors, list) else []:
            if isinstance(item, dict):
                names |= {str(k) for k in item}
            elif isinstance(item, str):
                names.add(item)
    return names


def _propagators(doc: Document, propagator: object, env: Env | None = None) -> Propagators:
    if not isinstance(propagator, dict):
        # The schema: "If omitted, a noop propagator is used" (unlike OTEL_PROPAGATORS).
        data = doc.top()
        at = doc.key(("propagator",)) if "propagator" in data else doc.key(("file_format",))
        source = NO_PROPAGATOR if "tracer_provider" in data else NO_PROPAGATOR_NO_TRACES
        return Propagators(("none",), at, source, (at,))
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
            env,
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
