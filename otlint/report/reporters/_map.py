"""The data-plane map of ``check-config`` as Mermaid and as Graphviz DOT.

Units (rounded), collectors (double-bordered) and destinations (cylinders); each edge
is labelled with the signals it carries, and an edge on which a join is lost is red,
dotted and names the joins (``logs ✗ log-trace``). What each loss is and why is in the
JSON report (``dataplane.edges[].lost``) and in the findings.
"""

from __future__ import annotations

import re

from otlint.core.jsontypes import JSONObject, JSONValue
from otlint.report.reporters._common import Symbols

__all__ = ["LEGEND", "MARKS", "edge_label", "items", "label", "to_dot", "to_mermaid"]

_BROKEN_LINK = "stroke:#d32f2f,stroke-width:2px,color:#d32f2f"
_SHAPES = {"unit": ('(["', '"])'), "collector": ('[["', '"]]'), "destination": ('[("', '")]')}
_DOT_SHAPES = {"unit": "box, style=rounded", "collector": "box3d", "destination": "cylinder"}
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")

#: What the map's shapes and colours mean, one line each (Markdown writes it under the chart).
LEGEND = (
    "rounded: a unit (an app's SDK); double box: a collector; cylinder: a destination",
    "red dotted edge: a join is lost on the way (named on the edge)",
)


#: What an edge's ``lost`` may note that is no join lost by itself: records a sampler or
#: filter drops (what that costs is a log-trace loss on the edges of the logs kept), and
#: resources a ``groupbyattrs`` rebuilds from record attributes.
MARKS = ("sampled", "filtered", "regrouped")


def items(value: JSONValue) -> list[JSONObject]:
    """The objects of a JSON array (nothing when ``value`` is not one)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def edge_label(edge: JSONObject, sym: Symbols) -> tuple[str, bool]:
    """``traces, logs`` or ``traces, logs ✗ log-trace, identity``; True when a join is lost."""
    signals = edge.get("signals")
    text = ", ".join(str(s) for s in signals) if isinstance(signals, list) else ""
    lost = sorted({str(item.get("join")) for item in items(edge.get("lost"))} - set(MARKS))
    marks = [m for m in MARKS if any(item.get("join") == m for item in items(edge.get("lost")))]
    if marks:
        text += f" ({', '.join(marks)})"
    if lost:
        text += f" {sym.broken} " + ", ".join(lost)
    return text, bool(lost)


def label(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for quotes, markup and backticks)."""
    return (
        text.replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("`", "#96;")  # a label in backticks is Markdown to Mermaid
        .replace("\n", " ")
    )


def to_mermaid(graph: JSONObject, version: str, sym: Symbols) -> list[str]:
    """A ``flowchart LR`` of the map."""
    lines = [f"%% otlint {version}: data-plane map", "flowchart LR"]
    ids: dict[str, str] = {}
    for node in items(graph.get("nodes")):
        nid = "n_" + _NOT_ID.sub("_", str(node.get("id")))
        ids[str(node.get("id"))] = nid
        left, right = _SHAPES.get(str(node.get("kind")), ('["', '"]'))
        lines.append(f"    {nid}{left}{label(str(node.get('label')))}{right}")
    broken: list[int] = []
    for number, edge in enumerate(items(graph.get("edges"))):
        a, b = ids.get(str(edge.get("from"))), ids.get(str(edge.get("to")))
        if a is None or b is None:
            continue
        text, lost = edge_label(edge, sym)
        if lost:
            lines.append(f'    {a} -. "{label(text)}" .-> {b}')
            broken.append(number)
        else:
            lines.append(f'    {a} -->|"{label(text)}"| {b}')
    if broken:
        lines.append(f"    linkStyle {','.join(map(str, broken))} {_BROKEN_LINK}")
    return lines


def _quote(text: str) -> str:
    clean = "".join(ch for ch in text if ch >= " ")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: JSONObject, version: str, sym: Symbols) -> list[str]:
    """A ``digraph`` of the map, for ``dot -Tsvg``."""
    lines = [f"// otlint {version}: data-plane map", "digraph dataplane {", "  rankdir=LR;"]
    for node in items(graph.get("nodes")):
        shape = _DOT_SHAPES.get(str(node.get("kind")), "box")
        lines.append(
            f"  {_quote(str(node.get('id')))} [label={_quote(str(node.get('label')))} shape={shape}];"
        )
    for edge in items(graph.get("edges")):
        text, lost = edge_label(edge, sym)
        style = ' style=dashed color="#d32f2f" fontcolor="#d32f2f"' if lost else ""
        lines.append(
            f"  {_quote(str(edge.get('from')))} -> {_quote(str(edge.get('to')))} "
            f"[label={_quote(text)}{style}];"
        )
    lines.append("}")
    return lines
