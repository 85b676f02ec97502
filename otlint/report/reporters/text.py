"""The terminal report: a header, the join matrix, findings grouped by join, a summary.

Config runs (``report.kind == "config"``) print the concise report instead (one
ruff-style line per finding, ``otlint.report.reporters.concise``), so editors and pre-commit
can jump to ``path:line:col``. A quiet report (``-q``) has the findings only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from otlint.core.finding import Finding, Level, Location
from otlint.core.joins import ORDER, Join
from otlint.core.jsontypes import JSONObject, JSONValue
from otlint.core.redact import MASK, redact_values
from otlint.report.incident import LINKS, IncidentPath
from otlint.report.report import JoinStatus, Report
from otlint.report.reporters import concise
from otlint.report.reporters._common import (
    Symbols,
    clean,
    encodable,
    one_line,
    plural,
    service_key,
    service_label,
    subject,
    summary_line,
    symbols_for,
)

#: Locations printed under a finding; the JSON report has all of them.
MAX_LOCATIONS = 3
#: Inputs named in the header before "and N more".
MAX_INPUTS = 3

_ANSI = {
    Level.ERROR.value: "31",
    Level.WARNING.value: "33",
    Level.INFO.value: "34",
    "ok": "32",
    "dim": "2",
    "bold": "1",
}
_LEVEL_WIDTH = max(len(level.value) for level in Level)

#: A piece of a table row: its text and the ``_ANSI`` style to paint it with ("" for none).
Cell = tuple[str, str]


@dataclass(frozen=True)
class _Style:
    """How the stream draws: glyphs, colours, and which characters it can hold."""

    sym: Symbols
    color: bool
    fit: Callable[[str], str]

    def paint(self, text: str, style: str) -> str:
        if not (self.color and style and text):
            return text
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write the human-readable report; ANSI colours only when ``color`` is true."""
    style = _Style(symbols_for(out), color, lambda text: encodable(text, out))
    if report.kind == "config":
        lines = concise.lines(report, color, style.sym.arrow)
    else:
        lines = _telemetry_lines(report, style)
    if lines:
        out.write(encodable("\n".join(lines) + "\n", out))


def _telemetry_lines(report: Report, style: _Style) -> list[str]:
    if report.quiet:
        return _findings(report, style)
    lines = [_header(report), *(f"note: {clean(note)}" for note in report.notes)]
    sections = (
        _matrix(report, style),
        _edges(report, style),
        _incidents(report, style),
        _findings(report, style),
    )
    for section in sections:
        if section:
            lines += ["", *section]
    lines += ["", _summary(report, style)]
    return lines


def _header(report: Report) -> str:
    totals = report.counts()
    counts = ", ".join(
        (
            plural(totals["spans"], "span"),
            plural(totals["logs"], "log"),
            plural(totals["data_points"], "data point"),
            plural(totals["services"], "service"),
        )
    )
    if not report.inputs:
        return f"otlint {report.version}: {counts}"
    names = [clean(name) for name in report.inputs[:MAX_INPUTS]]
    if len(report.inputs) > MAX_INPUTS:
        names[-1] += f" and {len(report.inputs) - MAX_INPUTS} more"
    return f"otlint {report.version} checked {', '.join(names)}: {counts}"


def _matrix(report: Report, style: _Style) -> list[str]:
    cells = {(c.service, c.join): c for c in report.joins if c.peer is None}
    # Only joins with cells get a column: an input column of blanks says nothing.
    present = {join for _, join in cells}
    columns = [join for join in ORDER if join in present]
    if not columns:
        return []
    services = sorted({*report.services, *(s for s, _ in cells)}, key=service_key)
    header: list[Cell] = [("service", "bold")] + [(join.value, "bold") for join in columns]
    incidents = {path.service: path for path in report.incidents}
    if incidents:
        header.append(("incident", "bold"))
    rows = [
        [(style.fit(service_label(s)), "")]
        + [_cell(cells.get((s, join)), style.sym) for join in columns]
        + ([_incident_cell(incidents.get(s), style.sym)] if incidents else [])
        for s in services
    ]
    return _table([header, *rows], style)


def _incident_cell(path: IncidentPath | None, sym: Symbols) -> Cell:
    """``ok`` when the path can be followed, else the first missing link: ``✗deploy``,
    ``·metrics``; ``baseline`` when only what the baseline hides breaks it."""
    if path is None:
        return ("", "")
    if path.missing is None:
        return ("ok", "ok")
    if path.baselined:
        return ("baseline", "dim")
    if path.status == "broken":
        return (f"{sym.broken}{path.missing}", Level.ERROR.value)
    return (f"{sym.no_data}{path.missing}", "dim")


def _incidents(report: Report, style: _Style) -> list[str]:
    """Per service, whether an incident can be followed from its metrics, and the first link that fails."""
    if not report.incidents:
        return []
    arrow = f" {style.sym.arrow} "
    rows: list[list[Cell]] = []
    for path in sorted(report.incidents, key=lambda p: service_key(p.service)):
        cell = _incident_cell(path, style.sym)
        why = path.summary()
        rows.append(
            [(style.fit(service_label(path.service)), ""), cell, (style.fit(clean(why)), "")]
        )
    title = (
        f"{style.paint('incident path', 'bold')} {style.sym.dash} {arrow.join(LINKS)}, per service"
    )
    return [title, *_table(rows, style, indent="  ")]


def _cell(cell: JoinStatus | None, sym: Symbols) -> Cell:
    """A matrix cell; blank where the join was not evaluated for the service."""
    if cell is None:
        return ("", "")
    if cell.status == "intact":
        return ("ok", "ok")
    if cell.status == "broken":
        return (f"{sym.broken}{cell.broken}", Level.ERROR.value)
    if cell.status in ("no-data", "not-checked"):
        return (sym.no_data, "dim")
    if cell.status == "baselined":
        return ("baseline", "dim")
    return (cell.status, "")


def _table(rows: list[list[Cell]], style: _Style, indent: str = "") -> list[str]:
    widths = [max(len(row[i][0]) for row in rows) for i in range(len(rows[0]))]
    # Pad before painting: escape codes have no width on screen but count in len().
    return [
        indent
        + "  ".join(
            style.paint(text, how) + " " * (width - len(text))
            for (text, how), width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def _edges(report: Report, style: _Style) -> list[str]:
    edges = sorted(
        (c for c in report.joins if c.peer is not None),
        key=lambda c: (ORDER.index(c.join), service_key(c.service), service_key(c.peer)),
    )
    if not edges:
        return []
    arrow = style.sym.arrow
    rows: list[list[Cell]] = [
        [
            (style.fit(f"{service_label(c.service)} {arrow} {service_label(c.peer)}"), ""),
            (c.join.value, ""),
            (c.status, _STATUS_STYLE.get(c.status, "")),
            (
                f"{c.records} calls, {c.broken} broken"
                if c.join is Join.TRACE
                else f"{c.broken}/{c.records}",
                "",
            ),
        ]
        for c in edges
    ]
    return [style.paint("edges", "bold"), *_table(rows, style, indent="  ")]


_STATUS_STYLE = {
    "intact": "ok",
    "broken": Level.ERROR.value,
    "no-data": "dim",
    "not-checked": "dim",
    "baselined": "dim",
}


def _findings(report: Report, style: _Style) -> list[str]:
    by_join: dict[Join, list[Finding]] = {}
    for finding in report.findings:  # already ranked: keep that order inside a join
        by_join.setdefault(finding.join, []).append(finding)
    lines: list[str] = []
    for join in (j for j in ORDER if j in by_join):
        if lines:
            lines.append("")
        lines.append(f"{style.paint(join.value, 'bold')} {style.sym.dash} {join.description}")
        for finding in by_join[join]:
            lines += _finding_lines(finding, report.show_values, style)
    return lines


def _finding_lines(finding: Finding, show_values: bool, style: _Style) -> list[str]:
    level = finding.level.value
    lines = [
        f"  {style.paint(level.upper(), level)}{' ' * (_LEVEL_WIDTH - len(level))} "
        f"{finding.code} {finding.name}  {subject(finding, style.sym.arrow)}  "
        f"{one_line(finding.message)}  ({plural(finding.count, 'record')})"
    ]
    lines += [f"      {_where(loc)}" for loc in finding.locations[:MAX_LOCATIONS]]
    hidden = len(finding.locations) - MAX_LOCATIONS
    if hidden > 0:
        lines.append(f"      {style.sym.ellipsis} {plural(hidden, 'more location')}")
    if show_values and finding.values:
        lines.append(f"      values: {_values(finding.values)}")
    return lines


def _where(location: Location) -> str:
    return clean(str(location))


def _values(values: JSONObject) -> str:
    """Masked values as ``key=value`` pairs (JSON literals, so strings are quoted)."""
    return ", ".join(
        f"{clean(key)}={_value(value)}" for key, value in redact_values(values).items()
    )


def _value(value: JSONValue) -> str:
    if value == MASK:
        return MASK
    return clean(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))


def _summary(report: Report, style: _Style) -> str:
    levels = report.by_level()
    worst = next((level.value for level in Level if levels[level.value]), "ok")
    return style.paint(summary_line(report), worst)
