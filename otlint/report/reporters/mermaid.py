"""The service join graph as a Mermaid flowchart: services as nodes, calls as edges.

Edges come from the join matrix's caller -> callee cells. An edge whose joins all
hold is a plain arrow; one with a broken join is dotted, red and labelled with the
joins it breaks (``trace ✗3``). Services whose identity join is broken are red:
their telemetry cannot be attributed, so every edge touching them is suspect.
For ``check-config`` it draws the data-plane map instead (``_map``).
"""

from __future__ import annotations

import re
from typing import TextIO

from otlint.core.joins import ORDER, Join
from otlint.report.report import JoinStatus, Report
from otlint.report.reporters import _map
from otlint.report.reporters._common import Symbols, service_key, service_label, symbols_for
from otlint.report.reporters._map import label

_BROKEN_LINK = "stroke:#d32f2f,stroke-width:2px,color:#d32f2f"
_BROKEN_NODE = "fill:#ffebee,stroke:#d32f2f,color:#b71c1c"
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")

Edge = tuple[str | None, str | None]


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write a ``flowchart LR`` (``color`` is ignored: the styles are in the chart): the
    service join graph, or for ``check-config`` the data-plane map when there is one."""
    sym = symbols_for(out)
    if report.kind == "config" and report.dataplane is not None:
        lines = _map.to_mermaid(report.dataplane, report.version, sym)
    else:
        lines = to_mermaid(report, sym)
    out.write("\n".join(lines) + "\n")


def to_mermaid(report: Report, sym: Symbols) -> list[str]:
    """The flowchart's lines."""
    cells: dict[Edge, list[JoinStatus]] = {}
    for cell in report.joins:
        if cell.peer is not None:
            cells.setdefault((cell.service, cell.peer), []).append(cell)
    services = sorted({*report.services, *(s for edge in cells for s in edge)}, key=service_key)
    ids = node_ids(services)
    lines = [f"%% otlint {report.version}: service join graph", "flowchart LR"]
    lines += [f'    {ids[s]}["{label(service_label(s))}"]' for s in services]
    broken_links: list[int] = []
    for number, edge in enumerate(
        sorted(cells, key=lambda e: (service_key(e[0]), service_key(e[1])))
    ):
        caller, callee = ids[edge[0]], ids[edge[1]]
        broken = _broken_label(cells[edge], sym)
        if broken:
            lines.append(f'    {caller} -. "{label(broken)}" .-> {callee}')
            broken_links.append(number)
        elif all(c.status in ("no-data", "not-checked") for c in cells[edge]):
            lines.append(f"    {caller} -.-> {callee}")
        else:
            lines.append(f"    {caller} --> {callee}")
    if broken_links:
        lines.append(f"    linkStyle {','.join(map(str, broken_links))} {_BROKEN_LINK}")
    broken_identity = identity_broken(report)
    unidentified = [s for s in services if s in broken_identity]
    if unidentified:
        lines.append(f"    classDef broken {_BROKEN_NODE}")
        lines.append(f"    class {','.join(ids[s] for s in unidentified)} broken")
    return lines


def _broken_label(cells: list[JoinStatus], sym: Symbols) -> str:
    """``trace ✗3, peer ✗1`` for an edge's broken joins, in report order; empty if none."""
    broken = sorted((c for c in cells if c.status == "broken"), key=lambda c: ORDER.index(c.join))
    return ", ".join(f"{c.join.value} {sym.broken}{c.broken}" for c in broken)


def identity_broken(report: Report) -> set[str | None]:
    """Services whose identity join is broken (a matrix cell or a finding says so)."""
    cells = {c.service for c in report.joins if c.join is Join.IDENTITY and c.status == "broken"}
    found = {f.service for f in report.findings if f.join is Join.IDENTITY}
    return cells | found


def node_ids(services: list[str | None]) -> dict[str | None, str]:
    """A Mermaid-safe, unique id per service.

    Names hold dots, colons and slashes that Mermaid reads as syntax, and a bare
    ``end`` or a leading ``o``/``x`` changes the arrow; a ``svc_`` prefix and
    ``[A-Za-z0-9_]`` only avoid all of them, and a counter keeps ``a.b`` and
    ``a_b`` apart.
    """
    ids: dict[str | None, str] = {}
    taken: set[str] = set()
    for service in services:
        base = "svc_none" if service is None else "svc_" + _NOT_ID.sub("_", service)
        node, n = base, 1
        while node in taken:
            n += 1
            node = f"{base}_{n}"
        ids[service] = node
        taken.add(node)
    return ids
