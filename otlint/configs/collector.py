"""OpenTelemetry Collector configuration: processors that change join keys, and pipelines.

A document is a collector configuration when its top-level keys are collector
sections (``receivers``, ``processors``, ``exporters``, ``connectors``,
``extensions``, ``service``); an Operator ``OpenTelemetryCollector`` with a mapping
``spec.config`` (``v1beta1``) is read the same way. Configurations written as a
string inside another document are found by ``embedded``: a ConfigMap key holding
one (the Helm chart's ``relay``, the Operator's ``collector.yaml``; told by content,
not by the key's name) and a ``v1alpha1`` ``OpenTelemetryCollector``'s ``spec.config``
string; positions point into the string where it is written. Split configurations (``--config a.yaml
--config b.yaml``) work: a pipeline's processor is looked up in its own document
first, then in the other collector documents of the run.

What each processor changes:

- ``resource`` (``attributes:``) and ``attributes`` (``actions:``): ``delete`` and
  ``hash`` of a ``key`` or ``pattern``; ``update`` / ``upsert`` with a constant
  ``value`` overwrite (``insert`` only fills a gap, ``from_attribute`` copies);
- ``transform`` (OTTL): ``delete_key``, ``delete_matching_keys``, ``keep_keys``,
  ``keep_matching_keys``, and ``set`` to a literal, ``nil`` or a hash (``SHA256``,
  ``FNV`` ...) — unless ``where`` only fires when the key is ``nil`` (a default);
  ``set(trace_id ...)`` / ``set(span_id ...)`` the same way. ``context: resource``
  (or a ``resource.`` path) acts on resource attributes, other contexts on records;
- ``k8sattributes`` (also spelled ``k8s_attributes``): which metadata it extracts;
  ``resourcedetection`` (also spelled ``resource_detection``): its detectors and
  ``override`` (true by default).

``${env:VAR}`` values are resolved only when they have a default. Where the
configuration writes headers and credentials (exporters' ``headers``, auth extensions'
tokens and passwords) is kept for CF070 (``otlint.configs.credentials``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import TypedDict, Unpack

from otlint.configs import endpoints
from otlint.configs.credentials import carriers
from otlint.configs.document import Document, mapping, sequence, string_documents
from otlint.configs.facts import (
    Attr,
    Collector,
    Component,
    ConfigFacts,
    KeyChange,
    Pipeline,
    Processor,
)
from otlint.configs.subst import resolve
from otlint.core.errors import OtlintError
from otlint.core.marks import YamlPath
from otlint.core.yamlpos import LimitError

__all__ = ["detect", "embedded", "finish", "read"]

_SECTIONS = frozenset(
    {"receivers", "processors", "exporters", "connectors", "extensions", "service"}
)
_DETECTION = ("resourcedetection", "resource_detection")
#: Processor types under their newer snake_case names (the Helm chart renders
#: ``k8s_attributes``), read as the type they name.
_TYPE_ALIASES = {"k8s_attributes": "k8sattributes", "resource_detection": "resourcedetection"}
_HASHES = (
    "SHA1",
    "SHA256",
    "SHA512",
    "MD5",
    "FNV",
    "Murmur3Hash",
    "Murmur3Hash128",
    "XXH3",
    "XXH128",
    "Hex",
)
_STR = r'"(?P<s>(?:[^"\\]|\\.)*)"'
_TARGET = (
    r"(?P<target>(?:(?P<ctx>resource|span|spanevent|log|datapoint|metric|scope)\.)?attributes)"
)
_DELETE_KEY = re.compile(rf"\bdelete_key\(\s*{_TARGET}\s*,\s*{_STR}\s*\)")
_DELETE_MATCHING = re.compile(rf"\bdelete_matching_keys\(\s*{_TARGET}\s*,\s*{_STR}\s*\)")
_KEEP_KEYS = re.compile(rf"\bkeep_keys\(\s*{_TARGET}\s*,\s*\[(?P<list>[^\]]*)\]\s*\)")
_KEEP_MATCHING = re.compile(rf"\bkeep_matching_keys\(\s*{_TARGET}\s*,\s*{_STR}\s*\)")
_SET_ATTR = re.compile(rf"^\s*set\(\s*{_TARGET}\[\s*{_STR}\s*\]\s*,")
_SET_FIELD = re.compile(
    r"^\s*set\(\s*(?:(?:span|log|spanevent)\.)?(?P<field>trace_id|span_id|parent_span_id)(?:\.string)?\s*,"
)
_STATEMENT_KEYS = (
    "trace_statements",
    "metric_statements",
    "log_statements",
    "profile_statements",
    "statements",
)


def detect(doc: Document) -> bool:
    """A collector configuration (or an Operator ``OpenTelemetryCollector`` holding one)."""
    data = doc.data
    if not isinstance(data, dict):
        return False
    if data.get("kind") == "OpenTelemetryCollector":
        spec = data.get("spec")
        return isinstance(spec, dict) and isinstance(spec.get("config"), dict)
    keys = set(data)
    if not keys or not keys <= _SECTIONS:
        return False
    service = data.get("service")
    return isinstance(service, dict) or isinstance(data.get("processors"), dict)


#: A line of a string that starts a collector section at the string's top level.
_SECTION_LINE = re.compile(
    r"^(?:receivers|processors|exporters|connectors|extensions|service)[ \t]*:", re.MULTILINE
)
#: What a string must have to be reported as a collector config that is not YAML.
_PIPELINE_LINE = re.compile(r"^service[ \t]*:", re.MULTILINE)


def embedded(doc: Document) -> list[tuple[str, Document | OtlintError]]:
    """Collector configurations written as strings inside ``doc``, each with where it is.

    Looked for in a ConfigMap's ``data`` (any key: a string that parses as YAML and
    is a collector configuration), in an ``OpenTelemetryCollector`` whose
    ``spec.config`` is a string (``v1alpha1``), and in the items of a ``List``
    (where a mapping ``spec.config`` is found too). A ConfigMap string that has
    collector sections and a ``service:`` but is not YAML, and a ``spec.config``
    string that is not YAML, are returned as the error.
    """
    data = doc.data
    if not isinstance(data, dict):
        return []
    kind = data.get("kind")
    meta = mapping(data.get("metadata"))
    name = str(meta.get("name", "<unnamed>"))
    found: list[tuple[str, Document | OtlintError]] = []
    if kind == "List":
        for index, item in enumerate(sequence(data.get("items"))):
            sub = doc.sub(("items", index))
            if isinstance(item, dict) and item.get("kind") != "List":
                if detect(sub):
                    label = f"OpenTelemetryCollector {mapping(item.get('metadata')).get('name', '<unnamed>')}"
                    found.append((f"{label} spec.config", sub.sub(("spec", "config"))))
                else:
                    found += embedded(sub)
    elif kind == "ConfigMap" and isinstance(data.get("apiVersion"), str):
        for key, value in mapping(data.get("data")).items():
            if isinstance(value, str) and _SECTION_LINE.search(value):
                where = f"ConfigMap {name} key {key}"
                found += _collectors(doc, ("data", key), value, where, strict=False)
    elif kind == "OpenTelemetryCollector":
        config = mapping(data.get("spec")).get("config")
        if isinstance(config, str):
            where = f"OpenTelemetryCollector {name} spec.config"
            found += _collectors(doc, ("spec", "config"), config, where, strict=True)
    return found


def _collectors(
    doc: Document, at: YamlPath, text: str, where: str, *, strict: bool
) -> list[tuple[str, Document | OtlintError]]:
    if doc.budget is not None and doc.budget.exhausted:
        return []  # the file's budget ran out, which is reported once: read no more of it
    try:
        docs = string_documents(doc, at, text)
    except OtlintError as exc:
        if (
            strict
            or isinstance(exc, LimitError)  # nested or aliased past the bounds: hostile
            or (_PIPELINE_LINE.search(text) and len(_SECTION_LINE.findall(text)) > 1)
        ):
            return [(where, exc)]
        return []
    found = [d for d in docs if (strict and isinstance(d.data, dict)) or detect(d)]
    return [(where, d) for d in found]


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record the collector's processors and pipelines."""
    called: list[str] = []
    if doc.top().get("kind") == "OpenTelemetryCollector":
        called.append(
            f"OpenTelemetryCollector {mapping(doc.top().get('metadata')).get('name')} spec.config"
        )
        doc = doc.sub(("spec", "config"))
    data = doc.top()
    collector = Collector(doc.path, doc.value(()), names=called)
    processors = data.get("processors")
    for pid, config in processors.items() if isinstance(processors, dict) else []:
        pid = str(pid)
        ptype = pid.split("/", 1)[0]
        processor = Processor(
            pid, _TYPE_ALIASES.get(ptype, ptype), doc.key(("processors", pid)), config
        )
        if isinstance(config, dict):
            _analyse(doc, ("processors", pid), processor, config)
        collector.processors[pid] = processor
    for section, kind, into in (
        ("receivers", "receiver", collector.receivers),
        ("exporters", "exporter", collector.exporters),
        ("connectors", "connector", collector.connectors),
    ):
        written = data.get(section)
        for cid, config in written.items() if isinstance(written, dict) else []:
            into[str(cid)] = _component(doc, section, kind, str(cid), config)
    service = mapping(data.get("service"))
    pipelines = service.get("pipelines")
    for plid, pipeline in pipelines.items() if isinstance(pipelines, dict) else []:
        if not isinstance(pipeline, dict):
            continue
        at = ("service", "pipelines", plid)
        names = sequence(pipeline.get("processors"))
        exporters = sequence(pipeline.get("exporters"))
        receivers = sequence(pipeline.get("receivers"))
        collector.pipelines.append(
            Pipeline(
                str(plid),
                doc.key(at),
                [(str(n), doc.value((*at, "processors", i))) for i, n in enumerate(names)],
                [str(e) for e in exporters],
                [(str(n), doc.value((*at, "receivers", i))) for i, n in enumerate(receivers)],
                [doc.value((*at, "exporters", i)) for i in range(len(exporters))],
                frozenset(k for k in ("receivers", "processors", "exporters") if k in pipeline),
            )
        )
    collector.carriers = carriers(doc, data, "collector")
    facts.collectors.append(collector)


#: Component types under their newer snake_case names (``otlp_grpc/jaeger``).
COMPONENT_ALIASES = {
    "otlp_grpc": "otlp",
    "otlp_http": "otlphttp",
    "span_metrics": "spanmetrics",
    "service_graph": "servicegraph",
    "prometheus_remote_write": "prometheusremotewrite",
}
#: Where exporters of each shape write where they send (the first one written counts).
_SEND_KEYS: tuple[YamlPath, ...] = (
    ("endpoint",),
    ("endpoints", 0),
    ("http", "endpoint"),
    ("traces_endpoint",),
    ("metrics_endpoint",),
    ("logs_endpoint",),
)


def _component(doc: Document, section: str, kind: str, cid: str, config: object) -> Component:
    """A receiver, exporter or connector, with the endpoints it listens on or sends to."""
    ctype = cid.split("/", 1)[0]
    ctype = COMPONENT_ALIASES.get(ctype, ctype)
    here: YamlPath = (section, cid)
    component = Component(cid, ctype, kind, doc.key(here), config, doc=doc, path=here)
    conf = mapping(config)
    if kind == "receiver" and ctype == "otlp":
        protocols = mapping(conf.get("protocols"))
        for protocol in ("grpc", "http"):
            if protocol not in protocols:
                continue
            raw = mapping(protocols.get(protocol)).get("endpoint")
            where = (*here, "protocols", protocol)
            component.endpoints.append(
                endpoints.parse(
                    str(raw)
                    if raw is not None
                    else f"localhost:{endpoints.DEFAULT_PORTS[protocol]}",
                    doc.value((*where, "endpoint")) if raw is not None else doc.key(where),
                    "collector",
                    protocol=protocol,
                    default_port=endpoints.DEFAULT_PORTS[protocol],
                )
            )
    elif kind == "exporter":
        sends: str | None = {"otlp": "grpc", "otlphttp": "http"}.get(ctype)
        for path in _SEND_KEYS:
            node = _dig(conf, path)
            if isinstance(node, str | int) and str(node).strip():
                component.endpoints.append(
                    endpoints.parse(
                        str(node),
                        doc.value((*here, *path)),
                        "collector",
                        protocol=sends,
                        default_port=endpoints.DEFAULT_PORTS.get(sends or ""),
                    )
                )
                break
    return component


def _dig(node: object, path: YamlPath) -> object:
    """The value at ``path`` under ``node`` (None where it is not there)."""
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def finish(facts: ConfigFacts) -> None:
    """Nothing to link: rules resolve pipeline processors across documents themselves."""


def _analyse(
    doc: Document, at: YamlPath, processor: Processor, config: dict[Hashable, object]
) -> None:
    kind = processor.type
    if kind == "resource":
        _actions(doc, (*at, "attributes"), processor, config.get("attributes"), "resource")
    elif kind == "attributes":
        _actions(doc, (*at, "actions"), processor, config.get("actions"), "record")
    elif kind == "transform":
        _transform(doc, at, processor, config)
    elif kind == "k8sattributes":
        extract = config.get("extract")
        metadata = extract.get("metadata") if isinstance(extract, dict) else None
        if isinstance(metadata, list):
            processor.metadata = tuple(str(m) for m in metadata)
            processor.metadata_at = doc.key((*at, "extract", "metadata"))
    elif kind in _DETECTION:
        detectors = config.get("detectors")
        processor.detectors = (
            tuple(str(d) for d in detectors) if isinstance(detectors, list) else ()
        )
        processor.override = config.get("override", True) is not False
        processor.override_at = doc.key((*at, "override")) if "override" in config else None


def _actions(
    doc: Document, at: YamlPath, processor: Processor, actions: object, scope: str
) -> None:
    for index, action in enumerate(actions if isinstance(actions, list) else []):
        if not isinstance(action, dict):
            continue
        verb = str(action.get("action", "")).lower()
        key = action.get("key")
        pattern = action.get("pattern")
        here = (*at, index)
        where = doc.value((*here, "key")) if key is not None else doc.value((*here, "pattern"))
        how = f"action: {verb}"
        constant = (
            "value" in action and "from_attribute" not in action and "from_context" not in action
        )
        if verb in ("delete", "hash"):
            processor.changes.append(
                KeyChange(
                    processor.id,
                    verb,
                    how,
                    where,
                    scope,
                    key=str(key) if key is not None else None,
                    pattern=str(pattern) if key is None and pattern is not None else None,
                )
            )
        elif verb in ("update", "upsert") and constant and key is not None:
            processor.changes.append(
                KeyChange(
                    processor.id,
                    "overwrite",
                    f"{how} with a constant value",
                    where,
                    scope,
                    key=str(key),
                )
            )
        if (
            verb in ("insert", "update", "upsert")
            and constant
            and key is not None
            and scope == "resource"
        ):
            value = resolve(str(action["value"]), "collector").text
            processor.sets.append(Attr(str(key), value, where, f"processor {processor.id}"))


def _transform(
    doc: Document, at: YamlPath, processor: Processor, config: dict[Hashable, object]
) -> None:
    for section in _STATEMENT_KEYS:
        groups = config.get(section)
        for gindex, group in enumerate(groups if isinstance(groups, list) else []):
            if isinstance(group, str):
                _statement(doc, (*at, section, gindex), group, None, processor)
            elif isinstance(group, dict):
                context = str(group.get("context", "")) or None
                statements = group.get("statements")
                for sindex, statement in enumerate(
                    statements if isinstance(statements, list) else []
                ):
                    if isinstance(statement, str):
                        _statement(
                            doc,
                            (*at, section, gindex, "statements", sindex),
                            statement,
                            context,
                            processor,
                        )


class _Keys(TypedDict, total=False):
    """Which keys a ``KeyChange`` changes: one of these."""

    key: str
    pattern: str
    kept: tuple[str, ...]
    kept_pattern: str


def _statement(
    doc: Document, at: YamlPath, text: str, context: str | None, processor: Processor
) -> None:
    """The key changes one OTTL statement makes."""

    def scope(match: re.Match[str]) -> str:
        ctx = match.group("ctx") or context
        return "resource" if ctx == "resource" else "record"

    def change(match: re.Match[str], op: str, how: str, offset: int, **what: Unpack[_Keys]) -> None:
        processor.changes.append(
            KeyChange(processor.id, op, how, doc.inside(at, text, offset), scope(match), **what)
        )

    for m in _DELETE_KEY.finditer(text):
        change(m, "delete", "delete_key", m.start("s") - 1, key=_unescape(m.group("s")))
    for m in _DELETE_MATCHING.finditer(text):
        change(
            m, "delete", "delete_matching_keys", m.start("s") - 1, pattern=_unescape(m.group("s"))
        )
    for m in _KEEP_KEYS.finditer(text):
        kept = tuple(_unescape(k) for k in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group("list")))
        change(m, "delete", "keep_keys", m.start(), kept=kept)
    for m in _KEEP_MATCHING.finditer(text):
        change(m, "delete", "keep_matching_keys", m.start(), kept_pattern=_unescape(m.group("s")))
    assign = _SET_ATTR.match(text)
    if assign is not None:
        expr, where = _call_rest(text, assign.end())
        key = _unescape(assign.group("s"))
        op = _assigned(expr)
        if op is not None and not _defaults_only(where, key):
            change(assign, op, f"set() to {_WHAT[op]}", assign.start("s") - 1, key=key)
    f = _SET_FIELD.match(text)
    if f is not None:
        expr, _ = _call_rest(text, f.end())
        op = _assigned(expr)
        if op is None:
            processor.copies_ids = True
        else:
            processor.changes.append(
                KeyChange(
                    processor.id,
                    op,
                    f"set() to {_WHAT[op]}",
                    doc.inside(at, text, f.start("field")),
                    "field",
                    key=f.group("field"),
                )
            )


_WHAT = {"overwrite": "a constant", "delete": "nil", "hash": "a hash"}


def _call_rest(text: str, start: int) -> tuple[str, str]:
    """The last argument of the call whose arguments continue at ``start``, and the
    ``where`` clause after the call."""
    depth = 1
    quoted = False
    i = start
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    rest = text[i + 1 :].strip()
    return text[start:i].strip(), rest[5:].strip() if rest.startswith("where") else ""


def _assigned(expr: str) -> str | None:
    """What ``set`` does to a key given the expression it assigns."""
    if re.fullmatch(_STR, expr) or re.fullmatch(r"-?\d+(\.\d+)?|true|false", expr):
        return "overwrite"
    if expr == "nil":
        return "delete"
    if re.match(rf"({'|'.join(_HASHES)})\(", expr):
        return "hash"
    return None


def _defaults_only(where: str, key: str) -> bool:
    """Whether a ``where`` clause makes ``set`` fire only when ``key`` is missing."""
    return re.search(rf'attributes\[\s*"{re.escape(key)}"\s*\]\s*==\s*nil', where) is not None


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
