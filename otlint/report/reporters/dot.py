"""The service join graph in Graphviz DOT: services as nodes, calls as edges.

The same graph as the Mermaid reporter, for ``dot -Tsvg``: a broken edge is dashed,
red and labelled with the joins it breaks; a service whose identity join is broken
is filled red.
"""

from __future__ import annotations

from typing import TextIO

from otlint.report.report import JoinStatus, Report
from otlint.report.reporters import _map
from otlint.report.reporters._common import service_key, service_label, symbols_for
from otlint.report.reporters.mermaid import Edge, identity_broken


def _quote(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, control characters dropped."""
    clean = "".join(ch for ch in text if ch >= " ")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write a ``digraph`` (``color`` is ignored: the styles are in the graph): the service
    join graph, or for ``check-config`` the data-plane map when there is one."""
    if report.kind == "config" and report.dataplane is not None:
        lines = _map.to_dot(report.dataplane, report.version, symbols_for(out))
        out.write("\n".join(lines) + "\n")
        return
    cells: dict[Edge, list[JoinStatus]] = {}
    for cell in report.joins:
        if cell.peer is not None:
            cells.setdefault((cell.service, cell.peer), []).append(cell)
    services = sorted({*report.services, *(s for edge in cells for s in edge)}, key=service_key)
    unidentified = identity_broken(report)
    lines = [
        f"// otlint {report.version}: service join graph",
        "digraph otlint {",
        "  rankdir=LR;",
        "  node [shape=box];",
    ]
    for s in services:
        style = ' style=filled fillcolor="#ffebee" color="#d32f2f"' if s in unidentified else ""
        lines.append(f"  {_quote(service_label(s))} [label={_quote(service_label(s))}{style}];")
    for caller, callee in sorted(cells, key=lambda e: (service_key(e[0]), service_key(e[1]))):
        broken = [c for c in cells[(caller, callee)] if c.status == "broken"]
        ends = f"{_quote(service_label(caller))} -> {_quote(service_label(callee))}"
        if broken:
            text = ", ".join(f"{c.join.value} broken {c.broken}/{c.records}" for c in broken)
            lines.append(
                f'  {ends} [label={_quote(text)} style=dashed color="#d32f2f" fontcolor="#d32f2f"];'
            )
        else:
            lines.append(f"  {ends};")
    lines.append("}")
    out.write("\n".join(lines) + "\n")
