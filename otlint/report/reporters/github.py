"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

GitHub turns each into an annotation on the file and line, and shows only the first
few per step, which is why the findings' ranking order is kept.
"""

from __future__ import annotations

from typing import TextIO

from otlint.core.finding import Finding, Level
from otlint.report.report import Report
from otlint.report.reporters._common import plural, subject

_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "notice"}


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write one workflow command per finding (``color`` is ignored: the runner colours)."""
    for finding in report.findings:
        out.write(command(finding) + "\n")


def command(finding: Finding) -> str:
    """The workflow command for one finding, escaped."""
    props: list[tuple[str, str]] = []
    where = ""
    if finding.locations:
        loc = finding.locations[0]
        props.append(("file", loc.path))
        if loc.line is not None:
            props.append(("line", str(loc.line)))
            if loc.column is not None:
                props.append(("col", str(loc.column)))
        elif loc.record is not None:
            where = f" (record {loc.record})"
    props.append(("title", f"{finding.code} {finding.name}"))
    message = (
        f"{subject(finding)}: {finding.message}{where} "
        f"[{plural(finding.count, 'record')}, join {finding.join.value}]"
    )
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{_COMMAND[finding.level]} {joined}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, CR and LF would end or corrupt the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` and ``,`` which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
