"""The concise report: one ``path:line:col: CODE [level] message`` line per finding.

This is the form ruff and flake8 print, the one editors, pre-commit and CI log parsers
read (``%f:%l:%c: %m``); ``check-config``'s text format is this report.

- A config finding gets a line per location: each is a place to edit. A telemetry
  finding gets one line, at its first location: the others are more records of the
  same break (the text and JSON reports list them), and one root cause is one line.
- A location with a line (JSON Lines, config files) prints it, with column 1 where
  there is none; in a binary dump the record (frame) number stands in the line's
  place. A location with a path only prints ``path:1:1`` (as ruff does for a
  file-level finding). A finding with no location at all (a service with no
  ``service.version`` anywhere) prints ``-:0:0`` — line 0, as flake8 writes for what
  has no line; ``-`` is never an input's name here, since stdin shows as ``<stdin>``.
- A telemetry finding's message starts with the service it is about (``checkout:``,
  ``checkout → inventory:`` for an edge), when it has one; a config finding's message
  names its unit itself.
- Lines are sorted by path, line, column and code; then the notes and the summary
  line, unless the report is quiet (``-q``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from otlint.core.finding import Finding, Level, Location
from otlint.core.jsontypes import JSONObject
from otlint.core.redact import redact_values
from otlint.report.report import Report
from otlint.report.reporters._common import (
    clean,
    encodable,
    one_line,
    subject,
    summary_line,
    symbols_for,
)

_ANSI = {Level.ERROR.value: "31", Level.WARNING.value: "33", Level.INFO.value: "34"}

#: Where a finding with no location is said to be (see the module docstring).
NOWHERE = "-:0:0"


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write one line per finding (and, unless quiet, the notes and the summary)."""
    text = "".join(line + "\n" for line in lines(report, color, symbols_for(out).arrow))
    out.write(encodable(text, out))


def lines(report: Report, color: bool, arrow: str = "\u2192") -> list[str]:
    """The report's lines, without line ends."""

    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color and style in _ANSI else text

    out = []
    for _, where, finding in sorted(_entries(report), key=lambda e: e[0]):
        level = finding.level.value
        about = (
            f"{subject(finding, arrow)}: "
            if report.kind != "config" and finding.service is not None
            else ""
        )
        out.append(
            f"{clean(where)}: {finding.code} [{paint(level, level)}] {about}{one_line(finding.message)}"
        )
        if report.show_values and finding.values:
            out.append(f"    values: {_values(finding.values)}")
    if report.quiet:
        return out
    if out:
        out.append("")
    out += [f"note: {one_line(note)}" for note in report.notes]
    levels = report.by_level()
    worst = next((level.value for level in Level if levels[level.value]), "")
    out.append(paint(summary_line(report), worst))
    return out


def position(location: Location) -> tuple[int, int]:
    """(line, column) of a location as this report prints it."""
    if location.line is not None:
        return location.line, location.column or 1
    if location.record is not None:
        return location.record, 1
    return 1, 1


def _entries(report: Report) -> Iterable[tuple[tuple[object, ...], str, Finding]]:
    """(sort key, ``path:line:col``, finding) for each line to print."""
    for finding in report.findings:
        locations = finding.locations if report.kind == "config" else finding.locations[:1]
        if not locations:
            yield ((0, "", 0, 0, finding.code), NOWHERE, finding)
        for loc in locations:
            line, column = position(loc)
            yield (
                (1, loc.path, line, column, finding.code),
                f"{loc.path}:{line}:{column}",
                finding,
            )


def _values(values: JSONObject) -> str:
    """Masked values as ``key=value`` pairs, as the text report shows them."""
    import json

    from otlint.core.redact import MASK

    shown = []
    for key, value in redact_values(values).items():
        text = (
            MASK
            if value == MASK
            else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
        )
        shown.append(f"{clean(key)}={clean(text)}")
    return ", ".join(shown)
