"""What ``otlint diff BEFORE AFTER`` found, and its three formats: text, JSON and Markdown.

``otlint.run.diff`` reads the two sides and fills a :class:`Diff`; this module only
renders it. Every name and value it prints went through ``otlint.core.redact`` on the
way in (``shown_name``, ``redact_values``): a diff shows no more than a report does.

The JSON form (``Diff.to_json``) is versioned by ``DIFF_SCHEMA``; its fields are
documented in the README (``otlint diff``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TextIO

from otlint.core.jsontypes import JSONObject, JSONValue

__all__ = [
    "DIFF_SCHEMA",
    "FORMATS",
    "CellChange",
    "Diff",
    "FindingChange",
    "IdChange",
    "KeyChange",
    "RecordChange",
    "Side",
    "render",
]

#: The version of the diff's JSON form; bumped when a field changes meaning or goes.
DIFF_SCHEMA = 1
#: ``--format`` names for ``otlint diff``.
FORMATS = ("text", "json", "markdown")


@dataclass
class Side:
    """One side of the diff as read: where from, what kind of input, what it holds."""

    path: str
    input: str  # "capture" | "shard" | "report" | "config"
    services: list[str | None]
    totals: dict[str, int]

    def to_json(self) -> JSONObject:
        """The side as the JSON diff writes it."""
        return {
            "path": self.path,
            "input": self.input,
            "services": list(self.services),
            "totals": dict(self.totals),
        }


@dataclass(frozen=True)
class CellChange:
    """A join-matrix cell whose status differs between the sides (``absent``: no such cell)."""

    join: str
    service: str | None
    peer: str | None
    before: str
    after: str
    before_broken: int
    after_broken: int
    records_before: int
    records_after: int

    @property
    def change(self) -> str:
        """``broke`` (broken after, not before), ``healed`` (broken before, intact or
        without data after), ``gone`` (broken before, the cell absent after) or ``changed``."""
        if self.after == "broken" and self.before != "broken":
            return "broke"
        if self.before == "broken":
            return "gone" if self.after == "absent" else "healed"
        return "changed"

    @property
    def where(self) -> str:
        """``caller → callee`` for an edge, else the service."""
        if self.peer is not None:
            return f"{_name(self.service)} → {_name(self.peer)}"
        return _name(self.service)

    def sentence(self) -> str:
        """The CI line: "this change breaks the trace join checkout → inventory"."""
        verb = {"broke": "breaks", "healed": "heals", "gone": "removes the broken"}.get(
            self.change, "changes"
        )
        of = "" if self.peer is not None else "of "
        return f"this change {verb} the {self.join} join {of}{self.where}"

    def to_json(self) -> JSONObject:
        """The cell change as the JSON diff writes it."""
        return {
            "join": self.join,
            "service": self.service,
            "peer": self.peer,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "broken_before": self.before_broken,
            "broken_after": self.after_broken,
            "records_before": self.records_before,
            "records_after": self.records_after,
        }


@dataclass(frozen=True)
class RecordChange:
    """Records of one service and signal on each side."""

    service: str | None
    signal: str
    before: int
    after: int

    @property
    def kept(self) -> float | None:
        """after / before (a sampling ratio), None when before had none."""
        return self.after / self.before if self.before else None

    def sentence(self) -> str:
        """ "traces of checkout: 1,000 → 102 (10.2% kept)"."""
        kept = self.kept
        how = "new" if kept is None else f"{_pct(kept)} kept"
        return f"{self.signal} of {_name(self.service)}: {self.before:,} → {self.after:,} ({how})"

    def to_json(self) -> JSONObject:
        """The record change as the JSON diff writes it."""
        return {
            "service": self.service,
            "signal": self.signal,
            "before": self.before,
            "after": self.after,
            "kept": None if self.kept is None else round(self.kept, 6),
        }


@dataclass(frozen=True)
class KeyChange:
    """A resource key of one service and signal lost, rewritten or added.

    ``values_before`` / ``values_after`` are filled only with ``--show-values``, masked.
    """

    service: str | None
    signal: str
    key: str
    change: str  # "lost" | "rewritten" | "added"
    values_before: tuple[JSONValue, ...] | None = None
    values_after: tuple[JSONValue, ...] | None = None

    def sentence(self) -> str:
        """ "checkout traces: service.version lost"."""
        signal = "every signal" if self.signal == "all" else self.signal
        text = f"{_name(self.service)} {signal}: {self.key} {self.change}"
        if self.values_before is not None or self.values_after is not None:
            text += f" ({_values(self.values_before)} → {_values(self.values_after)})"
        return text

    def to_json(self) -> JSONObject:
        """The key change as the JSON diff writes it."""
        out: JSONObject = {
            "service": self.service,
            "signal": self.signal,
            "key": self.key,
            "change": self.change,
        }
        if self.values_before is not None:
            out["values_before"] = list(self.values_before)
        if self.values_after is not None:
            out["values_after"] = list(self.values_after)
        return out


@dataclass(frozen=True)
class IdChange:
    """How the trace and span ids of one service and signal (traces, logs) moved.

    ``kept``: records of after whose (trace id, span id) before had too; ``rewritten``:
    records of after whose ids before never had, though the sides share trace ids
    elsewhere (the same traffic, so these ids were changed on the way).
    ``trace_ids_kept``: the share of before's trace ids of this service found after.
    """

    service: str | None
    signal: str
    before: int
    after: int
    kept: int
    rewritten: int
    trace_ids_before: int
    trace_ids_kept: int

    @property
    def trace_share(self) -> float | None:
        """trace_ids_kept / trace_ids_before, None when before had none."""
        return self.trace_ids_kept / self.trace_ids_before if self.trace_ids_before else None

    def sentence(self) -> str:
        """ "inventory traces: 12 of 12 records carry ids BEFORE never had (ids rewritten)"."""
        return (
            f"{_name(self.service)} {self.signal}: {self.rewritten:,} of {self.after:,} records "
            f"carry ids BEFORE never had (ids rewritten); {self.trace_ids_kept:,} of "
            f"{self.trace_ids_before:,} trace ids still found"
        )

    def to_json(self) -> JSONObject:
        """The id change as the JSON diff writes it."""
        share = self.trace_share
        return {
            "service": self.service,
            "signal": self.signal,
            "before": self.before,
            "after": self.after,
            "kept": self.kept,
            "rewritten": self.rewritten,
            "trace_ids_before": self.trace_ids_before,
            "trace_ids_kept": self.trace_ids_kept,
            "trace_ids_kept_share": None if share is None else round(share, 6),
        }


@dataclass(frozen=True)
class FindingChange:
    """A finding new in after or fixed there (matched on code, service, peer and key)."""

    code: str
    name: str
    level: str
    join: str
    service: str | None
    peer: str | None
    key: str | None
    message: str
    count: int
    finding: JSONObject  # as the JSON report writes it (values only with --show-values)

    def sentence(self) -> str:
        """ "ERROR TR007 propagator-mismatch checkout → inventory: message"."""
        where = _name(self.service) if self.peer is None else f"{_name(self.service)} → {self.peer}"
        return f"{self.level.upper():7s} {self.code} {self.name}  {where}: {self.message}"


@dataclass(frozen=True)
class BoundaryChange:
    """A join lost (or no longer lost) on an edge of the data-plane map: config trees only."""

    source: str  # the edge's ends, by label
    target: str
    signal: str
    join: str
    why: str
    change: str  # "lost" (on the edge after, not before) | "restored"

    def sentence(self) -> str:
        """One line for CI logs."""
        if self.change == "lost":
            return (
                f"this change loses the {self.join} join of {self.signal} on "
                f"{self.source} → {self.target} ({self.why})"
            )
        return f"the {self.join} join of {self.signal} on {self.source} → {self.target} is no longer lost"

    def to_json(self) -> JSONObject:
        """The change as the JSON diff writes it."""
        return {
            "from": self.source,
            "to": self.target,
            "signal": self.signal,
            "join": self.join,
            "why": self.why,
            "change": self.change,
        }


@dataclass
class Diff:
    """Everything ``otlint diff`` found between two sides."""

    version: str
    kind: str  # "telemetry" | "config"
    before: Side
    after: Side
    common: list[str | None]
    joins: list[CellChange] = field(default_factory=list)
    records: list[RecordChange] = field(default_factory=list)
    keys: list[KeyChange] = field(default_factory=list)
    ids: list[IdChange] = field(default_factory=list)
    #: the share of before's trace ids found in after (None: not compared)
    trace_ids_kept: float | None = None
    services_gone: list[str | None] = field(default_factory=list)
    services_new: list[str | None] = field(default_factory=list)
    renamed: list[tuple[str | None, str | None]] = field(default_factory=list)
    new_findings: list[FindingChange] = field(default_factory=list)
    fixed_findings: list[FindingChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: config trees: joins the data-plane map loses (or no longer loses) on its edges
    boundaries: list[BoundaryChange] = field(default_factory=list)

    @property
    def lost(self) -> list[BoundaryChange]:
        """Joins newly lost on a data-plane edge (a sampler added, an exporter that drops
        exemplars, a key deleted on the way): they make the exit code 1 too."""
        # (``sampled`` marks an edge after a sampler: what it costs is the log-trace and
        # metric-trace losses it causes, listed on their own edges)
        return [
            b
            for b in self.boundaries
            if b.change == "lost" and b.join not in ("sampled", "filtered", "regrouped")
        ]

    @property
    def broke(self) -> list[CellChange]:
        """The cells broken after and not before: what makes the exit code 1."""
        return [c for c in self.joins if c.change == "broke"]

    @property
    def healed(self) -> list[CellChange]:
        """The cells broken before and intact (or without data) after."""
        return [c for c in self.joins if c.change == "healed"]

    @property
    def exit_code(self) -> int:
        """1 when a join broke (or a data-plane edge newly loses one), else 0."""
        return 1 if self.broke or self.lost else 0

    @property
    def dropped(self) -> list[RecordChange]:
        """Record counts that changed."""
        return [r for r in self.records if r.before != r.after]

    @property
    def rewritten(self) -> list[IdChange]:
        """Services and signals whose ids were rewritten."""
        return [i for i in self.ids if i.rewritten]

    def verdict(self) -> str:
        """One line: what broke, or that nothing did."""
        n = len(self.broke) + len(self.lost)
        if n:
            return f"this change breaks {n} join{'s' if n != 1 else ''}"
        return "this change breaks no join"

    def to_json(self) -> JSONObject:
        """The diff in its documented JSON form (``DIFF_SCHEMA``)."""
        return {
            "otlint": self.version,
            "report": "diff",
            "schema": DIFF_SCHEMA,
            "kind": self.kind,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "summary": {
                "broke": len(self.broke),
                "lost_on_boundaries": len(self.lost),
                "healed": len(self.healed),
                "new_findings": len(self.new_findings),
                "fixed_findings": len(self.fixed_findings),
                "exit_code": self.exit_code,
            },
            "services": {
                "common": list(self.common),
                "gone": list(self.services_gone),
                "new": list(self.services_new),
                "renamed": [{"before": b, "after": a} for b, a in self.renamed],
            },
            "joins": [c.to_json() for c in self.joins],
            "records": [r.to_json() for r in self.records],
            "resource_keys": [k.to_json() for k in self.keys],
            "ids": {
                "trace_ids_kept_share": None
                if self.trace_ids_kept is None
                else round(self.trace_ids_kept, 6),
                "services": [i.to_json() for i in self.ids],
            },
            "findings": {
                "new": [f.finding for f in self.new_findings],
                "fixed": [f.finding for f in self.fixed_findings],
            },
            "boundaries": [b.to_json() for b in self.boundaries],
            "notes": list(self.notes),
        }


def render(diff: Diff, out: TextIO, fmt: str) -> None:
    """Write ``diff`` to ``out`` as ``text``, ``json`` or ``markdown``."""
    if fmt == "json":
        json.dump(diff.to_json(), out, indent=2)
        out.write("\n")
    elif fmt == "markdown":
        out.write(markdown(diff))
    else:
        out.write(text(diff))


# -- text -----------------------------------------------------------------------------------


def text(diff: Diff) -> str:
    """The terminal form: what broke first (one line each, for CI logs), then the details."""
    lines = [
        f"otlint diff: {diff.before.path} ({diff.before.input}) → {diff.after.path} "
        f"({diff.after.input}), {len(diff.common)} service{'s' if len(diff.common) != 1 else ''} in common"
    ]
    lines += [c.sentence() for c in diff.broke]
    lines += [b.sentence() for b in diff.lost]
    if not diff.broke and not diff.lost:
        lines.append("this change breaks no join")
    if diff.joins:
        width = max(len(c.join) for c in diff.joins)
        where = max(len(c.where) for c in diff.joins)
        lines += ["", "joins (before → after)"]
        for c in diff.joins:
            lines.append(
                f"  {c.join:{width}s}  {c.where:{where}s}  {c.before} → {c.after}"
                f"{_broken_counts(c)}  {c.change}"
            )
    if diff.renamed or diff.services_gone or diff.services_new:
        lines += ["", "services"]
        lines += [f"  renamed: {_name(b)} → {_name(a)}" for b, a in diff.renamed]
        if diff.services_gone:
            lines.append(f"  only before: {', '.join(_name(s) for s in diff.services_gone)}")
        if diff.services_new:
            lines.append(f"  only after: {', '.join(_name(s) for s in diff.services_new)}")
    if diff.dropped:
        lines += ["", "records"]
        lines += [f"  {r.sentence()}" for r in diff.dropped]
    if diff.keys:
        lines += ["", "resource keys"]
        lines += [f"  {k.sentence()}" for k in diff.keys]
    if diff.trace_ids_kept is not None or diff.rewritten:
        lines += ["", "ids"]
        if diff.trace_ids_kept is not None:
            lines.append(f"  trace ids of BEFORE still found in AFTER: {_pct(diff.trace_ids_kept)}")
        lines += [f"  {i.sentence()}" for i in diff.rewritten]
    if diff.new_findings or diff.fixed_findings:
        lines += ["", "findings"]
        lines += [f"  new    {f.sentence()}" for f in diff.new_findings]
        lines += [f"  fixed  {f.sentence()}" for f in diff.fixed_findings]
    if diff.boundaries:
        lines += ["", "data-plane map (joins lost on the way)"]
        lines += [
            f"  {b.change:8s} {b.join} of {b.signal} on {b.source} → {b.target}: {b.why}"
            for b in diff.boundaries
        ]
    if diff.notes:
        lines += ["", *[f"note: {n}" for n in diff.notes]]
    lines += ["", _summary(diff)]
    return "\n".join(lines) + "\n"


def _summary(diff: Diff) -> str:
    return (
        f"{len(diff.broke)} joins broke, {len(diff.healed)} healed, "
        f"{len(diff.new_findings)} new findings, {len(diff.fixed_findings)} fixed"
    )


def _broken_counts(c: CellChange) -> str:
    if not (c.before_broken or c.after_broken):
        return ""
    return f" ({c.before_broken:,} → {c.after_broken:,} broken)"


# -- markdown --------------------------------------------------------------------------------


def markdown(diff: Diff) -> str:
    """GitHub-flavoured Markdown for a step summary or a PR comment: a verdict, then tables."""
    out = ["## otlint diff", ""]
    if diff.broke or diff.lost:
        out.append(f"**:x: {_md(diff.verdict())}**")
        out.append("")
        out += [f"- {_md(c.sentence())}" for c in diff.broke]
        out += [f"- {_md(b.sentence())}" for b in diff.lost]
    else:
        out.append("**:white_check_mark: this change breaks no join**")
    out += [
        "",
        f"`{_code(diff.before.path)}` ({diff.before.input}) → `{_code(diff.after.path)}` "
        f"({diff.after.input}), {len(diff.common)} services in common. {_md(_summary(diff))}.",
    ]
    if diff.joins:
        out += _table(
            "Joins",
            ["join", "where", "before", "after", "change"],
            [[c.join, c.where, c.before, c.after, c.change] for c in diff.joins],
        )
    if diff.renamed or diff.services_gone or diff.services_new:
        rows = [["renamed", f"{_name(b)} → {_name(a)}"] for b, a in diff.renamed]
        rows += [["only before", _name(s)] for s in diff.services_gone]
        rows += [["only after", _name(s)] for s in diff.services_new]
        out += _table("Services", ["change", "service"], rows)
    if diff.dropped:
        out += _table(
            "Records",
            ["service", "signal", "before", "after", "kept"],
            [
                [
                    _name(r.service),
                    r.signal,
                    f"{r.before:,}",
                    f"{r.after:,}",
                    "new" if r.kept is None else _pct(r.kept),
                ]
                for r in diff.dropped
            ],
        )
    if diff.keys:
        show = any(k.values_before is not None or k.values_after is not None for k in diff.keys)
        head = ["service", "signal", "key", "change"] + (["before", "after"] if show else [])
        rows = []
        for k in diff.keys:
            row = [_name(k.service), k.signal, k.key, k.change]
            if show:
                row += [_values(k.values_before), _values(k.values_after)]
            rows.append(row)
        out += _table("Resource keys", head, rows)
    if diff.rewritten:
        out += _table(
            "Ids rewritten",
            ["service", "signal", "rewritten", "of", "trace ids still found"],
            [
                [
                    _name(i.service),
                    i.signal,
                    f"{i.rewritten:,}",
                    f"{i.after:,}",
                    f"{i.trace_ids_kept:,} of {i.trace_ids_before:,}",
                ]
                for i in diff.rewritten
            ],
        )
    if diff.new_findings or diff.fixed_findings:
        out += _table(
            "Findings",
            ["", "level", "code", "where", "message"],
            [["new", *_finding_cells(f)] for f in diff.new_findings]
            + [["fixed", *_finding_cells(f)] for f in diff.fixed_findings],
        )
    if diff.boundaries:
        out += _table(
            "Data-plane map",
            ["change", "from", "to", "signal", "join", "why"],
            [[b.change, b.source, b.target, b.signal, b.join, b.why] for b in diff.boundaries],
        )
    if diff.notes:
        out += ["", *[f"> {_md(n)}" for n in diff.notes]]
    return "\n".join(out) + "\n"


def _finding_cells(f: FindingChange) -> list[str]:
    where = _name(f.service) if f.peer is None else f"{_name(f.service)} → {f.peer}"
    return [f.level, f.code, where, f.message]


def _table(title: str, head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["", f"### {title}", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join("---" for _ in head) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _cell(text: str) -> str:
    """A table cell: one line, its pipes escaped."""
    return _md(" ".join(text.split())).replace("|", "\\|")


def _code(text: str) -> str:
    """Text for a code span (where nothing is escaped): its backticks made quotes."""
    return " ".join(text.replace("`", "'").split())


def _md(text: str) -> str:
    """Text with the characters that would start Markdown or HTML markup escaped."""
    for ch in ("\\", "`", "*", "_", "<", ">", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return text


# -- shared ------------------------------------------------------------------------------------


def _name(service: str | None) -> str:
    return "(no service.name)" if service is None else service


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _values(values: tuple[JSONValue, ...] | None) -> str:
    if values is None or not values:
        return "(none)"
    return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in values)
