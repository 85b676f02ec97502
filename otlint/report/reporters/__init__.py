"""Reporters: one module per output format, each with one ``render`` function.

A reporter renders a finished :class:`~otlint.report.report.Report`; it never filters or
re-ranks findings. Adding a format means adding a module and a line to
``REPORTERS``.
"""

from __future__ import annotations

import importlib
from typing import Protocol, TextIO, cast, runtime_checkable

from otlint.core.errors import OtlintError
from otlint.report.report import Report

__all__ = ["DEFAULT", "REPORTERS", "Reporter", "get"]


@runtime_checkable
class Reporter(Protocol):
    """What a reporter module provides."""

    def render(self, report: Report, out: TextIO, *, color: bool) -> None:
        """Write ``report`` to ``out``; ANSI colour only when ``color`` (and the format has any)."""


#: Every output format by its ``--format`` name, and the module that renders it (imported
#: when asked for); the first is the default.
REPORTERS: dict[str, str] = {
    "text": "otlint.report.reporters.text",
    "concise": "otlint.report.reporters.concise",
    "json": "otlint.report.reporters.json_",
    "sarif": "otlint.report.reporters.sarif",
    "github": "otlint.report.reporters.github",
    "junit": "otlint.report.reporters.junit",
    "mermaid": "otlint.report.reporters.mermaid",
    "dot": "otlint.report.reporters.dot",
    "markdown": "otlint.report.reporters.markdown",
}

DEFAULT = "text"


def get(name: str) -> Reporter:
    """The reporter for format ``name``; an ``OtlintError`` naming the choices if none."""
    module = REPORTERS.get(name)
    if module is None:
        choices = ", ".join(REPORTERS)
        raise OtlintError(f"unknown format {name!r}: use one of {choices}")
    return cast(Reporter, importlib.import_module(module))
