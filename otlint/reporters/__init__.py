"""Reporters: one module per output format, each with one ``render`` function.

A reporter renders a finished :class:`~otlint.report.Report`; it never filters or
re-ranks findings. Adding a format means adding a module and a line to
``REPORTERS``.
"""

from __future__ import annotations

from typing import Protocol, TextIO, runtime_checkable

from otlint.errors import OtlintError
from otlint.report import Report
from otlint.reporters import dot, github, json_, junit, mermaid, sarif, text

__all__ = ["DEFAULT", "REPORTERS", "Reporter", "get"]


@runtime_checkable
class Reporter(Protocol):
    """What a reporter module provides."""

    def render(self, report: Report, out: TextIO, *, color: bool) -> None:
        """Write ``report`` to ``out``; ANSI colour only when ``color`` (and the format has any)."""


#: Every output format by its ``--format`` name; the first is the default.
REPORTERS: dict[str, Reporter] = {
    "text": text,
    "json": json_,
    "sarif": sarif,
    "github": github,
    "junit": junit,
    "mermaid": mermaid,
    "dot": dot,
}

DEFAULT = "text"


def get(name: str) -> Reporter:
    """The reporter for format ``name``; an ``OtlintError`` naming the choices if none."""
    try:
        return REPORTERS[name]
    except KeyError:
        choices = ", ".join(REPORTERS)
        raise OtlintError(f"unknown format {name!r}: use one of {choices}") from None
