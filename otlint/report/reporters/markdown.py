"""The report as GitHub Markdown, for a step summary or a pull-request comment.

In order: a title and the summary line, the notes, the join matrix as a table (with
the incident column), each service's incident path, the service join graph as a
Mermaid chart with a legend, then the first :data:`MAX_FINDINGS` findings in rank
order. ``check-config`` reports have no matrix or graph (until the config path builds
one): the summary, the notes and the findings with their ``path:line:col``.

The whole document stays under GitHub's 65,536-character comment limit: what does not
fit is cut from the end of its table, or left out, and the document says so. Text from
the input is escaped (``_markdown.cell``); attribute values appear only with
``--show-values``, masked as every other format masks them.
"""

from __future__ import annotations

import json
from typing import TextIO

from otlint.core.finding import Finding, Level
from otlint.core.joins import ORDER
from otlint.core.redact import MASK, redact_values
from otlint.report.incident import LINKS, IncidentPath
from otlint.report.report import JoinStatus, Report
from otlint.report.reporters import _map
from otlint.report.reporters._common import (
    UNICODE,
    encodable,
    plural,
    service_key,
    service_label,
    subject,
    summary_line,
)
from otlint.report.reporters._markdown import (
    GITHUB_COMMENT_LIMIT,
    Block,
    cell,
    code,
    fenced,
    fit,
    table,
)
from otlint.report.reporters.mermaid import to_mermaid

#: Findings listed before "… and N more".
MAX_FINDINGS = 20
#: Inputs named under the title before "and N more".
MAX_INPUTS = 5

#: Matrix marks: intact (check mark), broken (ballot x), no data or not checked (en dash).
INTACT, BROKEN, NONE = "\u2713", "\u2717", "\u2013"

LEGEND = (
    "Legend: a solid arrow is a caller → callee edge whose joins hold; a dotted red arrow"
    f" labelled `trace {BROKEN}N` has N calls that reach no server span; a dotted grey arrow"
    " was not checked; a red service has a broken identity join."
)


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write the Markdown document (``color`` is ignored: GitHub renders it)."""
    out.write(encodable(document(report), out))


def document(report: Report, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The whole document, at most ``limit`` characters."""
    if report.quiet:
        return fit([findings_block(report)], limit)
    blocks = [header_block(report)]
    if report.notes:
        blocks.append(Block([f"> **Note:** {cell(note)}" for note in report.notes], whole=True))
    for block in (
        matrix_block(report),
        incident_block(report),
        graph_block(report),
        map_block(report),
        findings_block(report),
    ):
        if block is not None:
            blocks.append(block)
    return fit(blocks, limit)


def header_block(report: Report) -> Block:
    """The title, what was checked, and the summary line with the counts."""
    command = "check-config" if report.kind == "config" else "check"
    lines = [f"## otlint {command}", ""]
    if report.inputs:
        names = ", ".join(code(name, in_table=False) for name in report.inputs[:MAX_INPUTS])
        if len(report.inputs) > MAX_INPUTS:
            names += f" and {len(report.inputs) - MAX_INPUTS} more"
        lines += [f"Checked {names} with otlint {cell(report.version)}.", ""]
    summary = f"**{cell(summary_line(report))}**"
    if report.kind == "telemetry":
        counts = report.counts()
        summary += " " + cell(
            "("
            + ", ".join(
                (
                    plural(counts["spans"], "span"),
                    plural(counts["logs"], "log"),
                    plural(counts["data_points"], "data point"),
                    plural(counts["services"], "service"),
                )
            )
            + ")"
        )
    lines.append(summary)
    return Block(lines, whole=True, what="summary")


def matrix_cell(status: JoinStatus | None) -> str:
    """:data:`INTACT`, :data:`BROKEN` and the records in the findings that break it,
    :data:`NONE` for no data or not checked, or ``baseline``."""
    if status is None:
        return ""
    if status.status == "intact":
        return INTACT
    if status.status == "broken":
        return f"{BROKEN} {status.broken}"
    if status.status == "baselined":
        return "baseline"
    return NONE


def incident_cell(path: IncidentPath | None) -> str:
    """``✓`` when the incident path can be followed, else its first missing link."""
    if path is None:
        return ""
    if path.missing is None:
        return INTACT
    if path.baselined:
        return f"baseline {path.missing}"
    mark = BROKEN if path.status == "broken" else NONE
    return f"{mark} {path.missing}"


def matrix_block(report: Report) -> Block | None:
    """Services by joins (and the incident column) as a table; None with no cells."""
    cells = {(c.service, c.join): c for c in report.joins if c.peer is None}
    present = {join for _, join in cells}
    columns = [join for join in ORDER if join in present]
    if not columns:
        return None
    incidents = {path.service: path for path in report.incidents}
    header = ["service", *(join.value for join in columns)]
    if incidents:
        header.append("incident")
    services = sorted({*report.services, *(s for s, _ in cells)}, key=service_key)
    rows = []
    for s in services:
        row = [code(service_label(s)), *(matrix_cell(cells.get((s, join))) for join in columns)]
        if incidents:
            row.append(incident_cell(incidents.get(s)))
        rows.append(row)
    lines = table(header, rows)
    key = (
        f"{INTACT} intact · {BROKEN} N broken (records in the findings that break it) ·"
        f" {NONE} no data or not checked · incident: the first link of the incident path"
        " that fails"
    )
    return Block(
        ["### Join matrix", "", key, "", *lines[:2]], lines[2:], what="services", share=0.4
    )


def incident_block(report: Report) -> Block | None:
    """Per service: can an incident be followed from its metrics, and the first link that fails."""
    if not report.incidents:
        return None
    rows = []
    for path in sorted(report.incidents, key=lambda p: service_key(p.service)):
        why = path.summary()
        rows.append([code(service_label(path.service)), incident_cell(path), cell(why)])
    lines = table(["service", "incident path", "why"], rows)
    intro = (
        "A latency spike in a service's metrics → the traces behind it → the deploy that"
        " caused it → the downstream call whose errors rose: "
        + " → ".join(f"`{link}`" for link in LINKS)
        + "."
    )
    return Block(
        ["### Incident path", "", intro, "", *lines[:2]],
        lines[2:],
        what="services' paths",
        share=0.2,
    )


def graph_block(report: Report) -> Block | None:
    """The service join graph as a Mermaid chart and its legend; None without edges."""
    if not any(c.peer is not None for c in report.joins):
        return None
    chart = fenced("mermaid", to_mermaid(report, UNICODE))
    return Block(
        ["### Service join graph", "", *chart, "", LEGEND], whole=True, what="The join graph"
    )


def map_block(report: Report) -> Block | None:
    """``check-config``: the data-plane map as a Mermaid chart, its legend, and a table of
    the edges on which joins are lost; None when the run has no map."""
    if report.dataplane is None:
        return None
    chart = fenced("mermaid", _map.to_mermaid(report.dataplane, report.version, UNICODE))
    names = {
        str(n.get("id")): str(n.get("label")) for n in _map.items(report.dataplane.get("nodes"))
    }
    rows = []
    for edge in _map.items(report.dataplane.get("edges")):
        for item in _map.items(edge.get("lost")):
            rows.append(
                [
                    cell(names.get(str(edge.get("from")), "?")),
                    cell(names.get(str(edge.get("to")), "?")),
                    cell(str(item.get("signal"))),
                    cell(str(item.get("join"))),
                    cell(str(item.get("why"))),
                ]
            )
    lines = ["### Data-plane map", "", *chart, "", "Legend: " + "; ".join(_map.LEGEND) + "."]
    if rows:
        lines += ["", *table(["from", "to", "signal", "join lost", "why"], rows)]
    return Block(lines, whole=True, what="The data-plane map")


def findings_block(report: Report) -> Block:
    """The first findings in rank order as a table, and how many more there are."""
    shown = report.findings[:MAX_FINDINGS]
    title = ["### Findings", ""]
    if not shown:
        return Block([*title, cell(summary_line(report))], whole=True, what="The findings")
    # A config finding is about a place in a file, not a service's records.
    if report.kind == "config":
        header = ["#", "level", "code", "join", "message", "location"]
    else:
        header = ["#", "level", "code", "join", "service", "message", "records", "location"]
    if report.show_values:
        header.append("values")
    rows = [_finding_row(n, f, report) for n, f in enumerate(shown, 1)]
    lines = table(header, rows)
    tail = []
    more = len(report.findings) - len(shown)
    if more:
        tail = ["", f"… and {plural(more, 'more finding')} (`--format json` lists every one)."]
    return Block([*title, *lines[:2]], [*lines[2:], *tail], what="findings")


def _finding_row(number: int, finding: Finding, report: Report) -> list[str]:
    level = finding.level.value
    message = cell(f"{finding.name}: {finding.message}")
    row = [str(number), f"**{level}**" if finding.level is Level.ERROR else level]
    row += [code(finding.code), finding.join.value]
    if report.kind == "config":
        row += [message, _location(finding)]
    else:
        row += [code(subject(finding)), message, str(finding.count), _location(finding)]
    if report.show_values:
        row.append(_values(finding))
    return row


def _location(finding: Finding) -> str:
    if not finding.locations:
        return ""
    first = code(str(finding.locations[0]))
    others = len(finding.locations) - 1
    return f"{first} +{others}" if others else first


def _values(finding: Finding) -> str:
    """Masked values as ``key=value`` code spans (JSON literals), as the text report shows them."""
    if not finding.values:
        return ""
    pairs = []
    for key, value in redact_values(finding.values).items():
        shown = (
            MASK
            if value == MASK
            else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
        )
        pairs.append(code(f"{key}={shown}"))
    return " ".join(pairs)
