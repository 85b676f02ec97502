"""``.env`` files: ``NAME=value`` lines that compose, shells and container runtimes read.

A ``.env`` file is not deployed by itself — compose services and containers load
it — so it is a unit that contributes settings (resource attributes, propagators,
environment spellings) but is never required to name a service. Values may refer to
variables defined above them (``${VAR}``), as compose reads them.
"""

from __future__ import annotations

from otlint.configs.document import Document
from otlint.configs.env import env_setting, settle
from otlint.configs.facts import ConfigFacts, Setting, Unit

__all__ = ["detect", "finish", "read", "settings"]


def detect(doc: Document) -> bool:
    """``.env`` documents are recognised when the file is loaded (by their lines)."""
    return doc.syntax == "dotenv"


def settings(doc: Document, source: str = "env") -> dict[str, Setting]:
    """Every variable of a ``.env`` document, each resolved against those above it.

    A bare ``NAME`` line (value ``None``) is passed on from the environment compose
    runs in: its value is unknown.
    """
    out: dict[str, Setting] = {}
    known: dict[str, str | None] = {}
    for key, raw in doc.top().items():
        name = str(key)  # parse_dotenv's keys: the variable names, strings
        origin = source if raw is not None else "the environment compose is run in"
        setting = env_setting(doc, (name,), name, raw, "compose", known, source=origin)
        out[name] = setting
        known[name] = setting.text
    return out


def read(doc: Document, facts: ConfigFacts) -> None:
    """Record the file as a non-deployable unit."""
    unit = Unit(
        kind="env file", name=doc.path, at=doc.value(()), deployable=False, env=settings(doc)
    )
    settle(unit)
    if unit.instrumented:
        facts.units.append(unit)


def finish(facts: ConfigFacts) -> None:
    """Mark the files compose services load (``env_file``) as used by them."""
    loaded: set[str] = facts.scratch.get("env_files", set())
    for unit in facts.units:
        if unit.kind == "env file" and unit.name in loaded:
            unit.used = True
