"""docker-compose files: each service is a deployable unit with its environment.

``environment:`` is read in both forms (``- NAME=value`` and ``NAME: value``), after
the service's ``env_file:`` files (the service's own entries win, as in compose).
Values are interpolated as compose does, from the ``.env`` file beside the compose
file; a variable that is neither there nor defaulted comes from the shell that runs
compose and is unknown here. A ``NAME`` with no value is passed through from that
shell, so it is unknown too.

A service whose image or command is a collector, a backend or an eBPF agent is not
an app (``env.not_an_app``). ``OTEL_RESOURCE_ATTRIBUTES=${OTEL_RESOURCE_ATTRIBUTES},...``
remembers the project ``.env`` line it builds on (``Setting.origin``): a key missing
there is missing for every service, and fixed there. ``OTEL_CONFIG_FILE`` is followed
into the SDK configuration a bind mount (``volumes:``) brings in from the run.
A service that runs a collector is kept as a ``Runner`` (its host names, mounts and
``--config`` files) for the data-plane map.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable

from otlint.configs import dotenv, sdk
from otlint.configs.document import Document, mapping, parse_dotenv, sequence
from otlint.configs.endpoints import service_host
from otlint.configs.env import env_setting, not_an_app, settle
from otlint.configs.facts import ConfigFacts, Runner, Setting, Unit
from otlint.configs.kinds import is_compose_file
from otlint.configs.names import PROJECT_ENV
from otlint.configs.subst import resolve
from otlint.core.marks import YamlPath
from otlint.core.textfile import not_readable, read_text

__all__ = ["detect", "finish", "host_path", "read"]

#: A service that names an SDK configuration file, with its bind mounts (host, container).
_Mounted = tuple[Unit, list[tuple[str, str]]]


def detect(doc: Document) -> bool:
    """A compose file (``otlint.configs.kinds.is_compose_file``)."""
    return is_compose_file(doc.data)


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record every instrumented service as a unit.

    A service whose image (or command) is a collector, a backend or an eBPF agent is
    not an app, whatever ``OTEL_*`` variables it carries (see ``env.not_an_app``).
    """
    folder = os.path.dirname(doc.path)
    project = _project_settings(folder)
    interpolation = {name: setting.text for name, setting in project.items()}
    data = doc.top()
    included: dict[str, str] = facts.scratch.setdefault("compose_included", {})
    for path in _included(data.get("include"), folder):
        included.setdefault(path, os.path.abspath(folder))
    services = data["services"]
    assert isinstance(services, dict), "is_compose_file took it"
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        at = ("services", name)
        image = service.get("image")
        image_text = resolve(str(image), "compose", interpolation).text if image else None
        what = not_an_app(image_text, service.get("entrypoint") or service.get("command"))
        if what == "a collector":
            facts.runners.append(_runner(doc, str(name), service, folder, interpolation))
        if what:
            continue
        unit = Unit(
            kind="compose service",
            name=str(name),
            at=doc.key(at),
            deployable=True,
            image=image_text,
            # Every compose file of a folder is one project: an override file's
            # ``checkout`` is the base file's ``checkout``.
            identity=f"compose:{os.path.abspath(folder)}:{name}",
        )
        _env_files(unit, service.get("env_file"), folder, facts)
        unit.env.update(
            _environment(doc, (*at, "environment"), service.get("environment"), interpolation)
        )
        for setting in unit.env.values():
            setting.origin = setting.origin or _origin(setting, project)
        settle(unit)
        if unit.instrumented:
            facts.units.append(unit)
            mounts = _volumes(service.get("volumes"), folder, interpolation)
            if unit.config_file is not None and mounts:
                kept: list[_Mounted] = facts.scratch.setdefault("compose", [])
                kept.append((unit, mounts))


_CONFIG_ARG = re.compile(r"--config[= ](?P<path>\S+)")


def _runner(
    doc: Document,
    name: str,
    service: dict[Hashable, object],
    folder: str,
    interpolation: dict[str, str | None],
) -> Runner:
    """A service that runs a collector: the names it is reached by, what it mounts and
    the ``--config`` files its command gives it."""
    hosts = [name]
    for key in ("container_name", "hostname"):
        if isinstance(service.get(key), str):
            hosts.append(str(service[key]))
    for network in mapping(service.get("networks")).values():
        hosts += [str(a) for a in sequence(mapping(network).get("aliases"))]
    command = service.get("command")
    words = command if isinstance(command, list) else str(command or "").split()
    configs = []
    for i, word in enumerate(words):
        text = resolve(str(word), "compose", interpolation).text or ""
        match = _CONFIG_ARG.match(text)
        if match:
            configs.append(match["path"])
        elif text == "--config" and i + 1 < len(words):
            configs.append(resolve(str(words[i + 1]), "compose", interpolation).text or "")
    environment = _environment(
        doc, ("services", name, "environment"), service.get("environment"), interpolation
    )
    return Runner(
        kind="compose service",
        name=name,
        at=doc.key(("services", name)),
        hosts=[service_host(h) for h in hosts],
        mounts=_volumes(service.get("volumes"), folder, interpolation),
        configs=[c.removeprefix("file:") for c in configs if c],
        env={k: v.text for k, v in environment.items()},
        identity=f"compose:{os.path.abspath(folder)}:{name}",
    )


def _included(include: object, folder: str) -> list[str]:
    """The compose files an ``include:`` list pulls into the project (absolute paths):
    ``- path`` or ``- path: file`` / ``- path: [files]``."""
    out: list[str] = []
    for entry in include if isinstance(include, list) else []:
        paths = entry.get("path") if isinstance(entry, dict) else entry
        for p in paths if isinstance(paths, list) else [paths]:
            if isinstance(p, str) and "${" not in p:
                out.append(os.path.abspath(os.path.join(folder, p)))
    return out


def finish(facts: ConfigFacts) -> None:
    """Read the SDK configuration file a service's ``OTEL_CONFIG_FILE`` names, when a
    volume maps it from a file of the run."""
    kept: list[_Mounted] = facts.scratch.get("compose", [])
    for unit, mounts in kept:
        target = unit.config_file.text if unit.config_file is not None else None
        host = host_path(target, mounts) if target else None
        found = sdk.find(facts, host) if host else None
        if found is not None:
            sdk.follow(unit, *found)


def _origin(setting: Setting, project: dict[str, Setting]) -> Setting | None:
    """The project ``.env`` variable a value is built on (``${OTEL_RESOURCE_ATTRIBUTES},x=y``).

    Only for the variables whose fix is shared: the resource attributes.
    """
    if setting.name != "OTEL_RESOURCE_ATTRIBUTES" or setting.value is None:
        return None
    for segment in setting.value.segments:
        if segment.literal or segment.unknown is not None:
            continue
        ref = setting.value.raw[segment.start : segment.end]
        name = ref.strip("${}").split(":", 1)[0].split("-", 1)[0]
        if name in project and "=" in (project[name].text or ""):
            return project[name]
    if setting.source == PROJECT_ENV and setting.name in project:
        return project[setting.name]
    return None


def _volumes(
    value: object, folder: str, interpolation: dict[str, str | None]
) -> list[tuple[str, str]]:
    """A service's bind mounts as (host path, container path), host paths from ``folder``."""
    out: list[tuple[str, str]] = []
    for entry in value if isinstance(value, list) else []:
        source = target = None
        if isinstance(entry, str):
            text = resolve(entry, "compose", interpolation).text
            parts = (text or "").split(":")
            if len(parts) >= 2:
                source, target = parts[0], parts[1]
        elif isinstance(entry, dict) and entry.get("type", "bind") == "bind":
            source, target = entry.get("source"), entry.get("target")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        if source.startswith((".", "/", "~")):
            out.append((os.path.normpath(os.path.join(folder, source)), target))
    return out


def host_path(target: str, mounts: list[tuple[str, str]]) -> str | None:
    """The host file a container path comes from through ``mounts`` (a file or a folder)."""
    target = os.path.normpath(target)
    for host, inside in mounts:
        inside = os.path.normpath(inside)
        if target == inside:
            return host
        if target.startswith(inside.rstrip("/") + "/"):
            return os.path.join(host, os.path.relpath(target, inside))
    return None


def _project_settings(folder: str) -> dict[str, Setting]:
    """The variables compose interpolates the file with: the project's ``.env``."""
    path = os.path.normpath(os.path.join(folder, ".env"))
    try:
        if not_readable(path) is not None:
            return {}  # a FIFO would wait for a writer that never comes
        doc = parse_dotenv(read_text(path), path)
    except (OSError, UnicodeDecodeError):
        return {}
    return dotenv.settings(doc, source=PROJECT_ENV)


def _env_files(unit: Unit, value: object, folder: str, facts: ConfigFacts) -> None:
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
            if not_readable(path) is not None:
                raise OSError(f"{path} is no regular file")
            text = read_text(path)
        except (OSError, UnicodeDecodeError):
            if required:
                unit.env_gaps.append(f"env_file {entry}")
            continue
        unit.env.update(dotenv.settings(parse_dotenv(text, path), source=f"env_file {entry}"))
        loaded: set[str] = facts.scratch.setdefault("env_files", set())
        loaded.add(path)


def _environment(
    doc: Document, at: YamlPath, value: object, interpolation: dict[str, str | None]
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


def _passed_through(doc: Document, at: YamlPath, name: str, known: str | None) -> Setting:
    """``NAME`` with no value: compose passes the shell's (or the project .env's) value."""
    if known is not None:
        return env_setting(doc, at, name, known, "compose", None, source=PROJECT_ENV)
    return env_setting(doc, at, name, None, "compose", None, source="the shell that runs compose")
