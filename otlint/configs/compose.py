"""docker-compose files: each service is a deployable unit with its environment.

``environment:`` is read in both forms (``- NAME=value`` and ``NAME: value``), after
the service's ``env_file:`` files (the service's own entries win, as in compose).
Values are interpolated as compose does, from the ``.env`` file beside the compose
file; a variable that is neither there nor defaulted comes from the shell that runs
compose and is unknown here. A ``NAME`` with no value is passed through from that
shell, so it is unknown too.
"""

from __future__ import annotations

import os
from typing import Any

from otlint.configs import dotenv
from otlint.configs.document import Document, parse_dotenv
from otlint.configs.env import env_setting, settle
from otlint.configs.facts import ConfigFacts, Setting, Unit
from otlint.configs.kinds import is_compose_file

__all__ = ["detect", "finish", "read"]


def detect(doc: Document) -> bool:
    """A compose file (``otlint.configs.kinds.is_compose_file``)."""
    return is_compose_file(doc.data)


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record every instrumented service as a unit."""
    folder = os.path.dirname(doc.path)
    interpolation = _project_env(folder)
    for name, service in doc.data["services"].items():
        if not isinstance(service, dict):
            continue
        at = ("services", name)
        unit = Unit(kind="compose service", name=str(name), at=doc.key(at), deployable=True)
        _env_files(unit, service.get("env_file"), folder, facts)
        unit.env.update(
            _environment(doc, (*at, "environment"), service.get("environment"), interpolation)
        )
        settle(unit)
        if unit.instrumented:
            facts.units.append(unit)


def finish(facts: ConfigFacts) -> None:
    """Nothing to link: ``env_file`` references are read with their service."""


def _project_env(folder: str) -> dict[str, str | None]:
    """The variables compose interpolates the file with: the project's ``.env``."""
    path = os.path.join(folder, ".env")
    try:
        with open(path, encoding="utf-8") as handle:
            doc = parse_dotenv(handle.read(), path)
    except (OSError, UnicodeDecodeError):
        return {}
    return {name: setting.text for name, setting in dotenv.settings(doc).items()}


def _env_files(unit: Unit, value: Any, folder: str, facts: ConfigFacts) -> None:
    entries = value if isinstance(value, list) else [value] if value is not None else []
    for entry in entries:
        required = True
        if isinstance(entry, dict):
            required = entry.get("required", True) is not False
            entry = entry.get("path")
        if not isinstance(entry, str):
            continue
        path = os.path.normpath(os.path.join(folder, entry))
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            if required:
                unit.env_gaps.append(f"env_file {entry}")
            continue
        unit.env.update(dotenv.settings(parse_dotenv(text, path), source=f"env_file {entry}"))
        facts.scratch.setdefault("env_files", set()).add(path)


def _environment(
    doc: Document, at: tuple[Any, ...], value: Any, interpolation: dict[str, str | None]
) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    if isinstance(value, dict):
        for name, raw in value.items():
            name = str(name)
            if raw is None:
                raw = interpolation.get(name)
                out[name] = _passed_through(doc, (*at, name), name, raw)
            else:
                out[name] = env_setting(doc, (*at, name), name, raw, "compose", interpolation)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                continue
            name, sep, raw = item.partition("=")
            name = name.strip()
            if not sep:
                out[name] = _passed_through(doc, (*at, index), name, interpolation.get(name))
            else:
                out[name] = env_setting(
                    doc, (*at, index), name, raw, "compose", interpolation, written=item
                )
    return out


def _passed_through(doc: Document, at: tuple[Any, ...], name: str, known: str | None) -> Setting:
    """``NAME`` with no value: compose passes the shell's (or the project .env's) value."""
    if known is not None:
        return env_setting(doc, at, name, known, "compose", None, source="the project .env")
    return env_setting(doc, at, name, None, "compose", None, source="the shell that runs compose")
