"""Where a collector or SDK configuration file writes credentials, for CF070.

A credential in such a file is written in a few places, found here by walking the
whole configuration (so ``service.telemetry``'s exporters and every exporter type are
covered, not only ``otlp`` and ``otlphttp``):

- a ``headers`` map (``headers: {authorization: "Bearer ..."}``: the collector's
  exporters, ``prometheusremotewrite``, ``loki``) or list (``- name: api-key`` /
  ``value: ...`` in an SDK configuration, ``- key: authorization`` / ``value: ...`` in
  the ``headers_setter`` extension): one ``Carrier`` per header, named by the header;
- ``headers_list`` (``"api-key=...,x-tenant=..."``), parsed by the rule as
  ``OTEL_EXPORTER_OTLP_HEADERS`` is;
- a key that names a credential (``redact.credential_setting``): ``bearertokenauth``'s
  ``token`` (and ``tokens``), ``basicauth``'s ``client_auth.password``,
  ``oauth2client``'s ``client_secret``, an exporter's ``api.key`` (Datadog),
  ``access_token``, ``password``;
- any other string with the shape of a credential (``redact.find_secrets``: a private
  key block, a URL with a password, a JWT ...).

Values are kept as ``Setting``s resolved with the file's reference syntax, so the rule
tells a literal from a ``${env:TOKEN}`` reference and can point into the value.
"""

from __future__ import annotations

from collections.abc import Hashable

from otlint.configs.document import Document
from otlint.configs.env import env_setting
from otlint.configs.facts import Carrier
from otlint.core.marks import YamlPath
from otlint.core.redact import credential_header, credential_setting, find_secrets

__all__ = ["carriers"]

#: Scalars a credential may be written as (a YAML number is read as its text).
_SCALARS = (str, int, float)


def carriers(doc: Document, node: object, syntax: str) -> list[Carrier]:
    """Every value of ``node`` (the configuration ``doc`` holds, at its top) written where a
    credential goes or shaped like one, in document order; ``syntax`` is the file's
    reference syntax (``collector``, ``sdk``)."""
    found: list[Carrier] = []
    # (path, node, the key of the mapping holding it): depth first, in order.
    stack: list[tuple[YamlPath, object, str]] = [((), node, "")]
    while stack:
        at, here, parent = stack.pop()
        items: list[tuple[Hashable, object]]
        if isinstance(here, dict):
            items = list(here.items())
        elif isinstance(here, list):
            items = list(enumerate(here))
        else:
            continue
        later: list[tuple[YamlPath, object, str]] = []
        for key, value in items:
            path = (*at, key)
            name = str(key)
            if isinstance(here, dict) and name.lower() == "headers":
                found += _headers(doc, path, value, syntax)
            elif isinstance(here, dict) and name.lower() == "headers_list":
                if isinstance(value, str):
                    setting = env_setting(doc, path, _label(path), value, syntax, None)
                    found.append(Carrier(setting, listed=True))
            elif isinstance(here, dict) and _names_credential(name, parent):
                for sub, item in _scalars(path, value):
                    setting = env_setting(doc, sub, _label(sub), item, syntax, None)
                    found.append(Carrier(setting, named=True))
            elif isinstance(value, str):
                if find_secrets(value):
                    setting = env_setting(doc, path, _label(path), value, syntax, None)
                    found.append(Carrier(setting))
            elif isinstance(value, dict | list):
                later.append((path, value, name if isinstance(here, dict) else parent))
        stack.extend(reversed(later))
    return found


def _names_credential(key: str, parent: str) -> bool:
    """Whether a configuration key names a credential; a bare ``key`` does under a
    mapping that says which (``api: {key: ...}``: ``api_key``)."""
    if key.lower() == "key":
        return bool(parent) and credential_setting(f"{parent}_key")
    return credential_setting(key)


def _scalars(at: YamlPath, value: object) -> list[tuple[YamlPath, object]]:
    """The scalar written at ``at``, or each scalar item of the list written there."""
    if isinstance(value, _SCALARS) and not isinstance(value, bool):
        return [(at, value)]
    if isinstance(value, list):
        return [
            ((*at, i), item)
            for i, item in enumerate(value)
            if isinstance(item, _SCALARS) and not isinstance(item, bool)
        ]
    return []


def _headers(doc: Document, at: YamlPath, value: object, syntax: str) -> list[Carrier]:
    """One carrier per header of a ``headers`` map, or of a ``headers`` list of
    ``name``/``key`` and ``value`` entries."""
    out: list[Carrier] = []
    label = _label(at)
    if isinstance(value, dict):
        for header, raw in value.items():
            if isinstance(raw, _SCALARS) and not isinstance(raw, bool):
                setting = env_setting(doc, (*at, header), label, raw, syntax, None)
                out.append(Carrier(setting, str(header), named=credential_header(str(header))))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            header = item.get("name", item.get("key"))
            raw = item.get("value")
            if not isinstance(header, str) or not isinstance(raw, _SCALARS):
                continue
            if isinstance(raw, bool):
                continue
            setting = env_setting(doc, (*at, index, "value"), label, raw, syntax, None)
            out.append(Carrier(setting, header, named=credential_header(header)))
    return out


def _label(at: YamlPath) -> str:
    """A path as messages name it: ``exporters.otlphttp/dd.headers``, ``tokens[0]``."""
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
