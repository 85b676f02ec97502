"""``otlint diff BEFORE AFTER``: the same analysis on both sides of a boundary, compared.

Each side is a capture (what ``otlint check`` reads), a Corpus shard (``--state``), a
JSON report (``check --format json``), or a configuration tree (what ``check-config``
reads). Captures and shards are analysed as ``check`` and ``merge`` analyse them, with
the same settings for both sides; then the two are compared per service and signal:
the join matrix cell by cell, resource keys, trace and span ids, record counts, and
findings (matched on code, service, peer and key, never on message text). A JSON
report holds no records: only its joins and findings are compared.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import zstandard

from otlint import __version__
from otlint.core.errors import OtlintError
from otlint.core.finding import Level
from otlint.core.jsontypes import JSONObject, JSONValue, as_json
from otlint.core.redact import redact_values, shown_name
from otlint.report.diff import (
    BoundaryChange,
    CellChange,
    Diff,
    FindingChange,
    IdChange,
    KeyChange,
    RecordChange,
    Side,
)
from otlint.report.report import broken_cells
from otlint.telemetry.analysis import Context, Service
from otlint.telemetry.corpus import shard
from otlint.telemetry.corpus.corpus import Corpus, Signal, rows

if TYPE_CHECKING:
    from otlint.configs.facts import ConfigFacts
    from otlint.run.scan import ScanStats
    from otlint.settings import Settings

__all__ = ["Loaded", "compare", "detect", "load"]

#: The first bytes of a zstd frame (a shard is one; so may a compressed capture be).
_ZSTD = b"\x28\xb5\x2f\xfd"
#: A JSON report starts with its ``otlint`` version (``Report.to_json`` puts it first).
_REPORT_START = re.compile(rb'^\s*\{\s*"otlint"\s*:')
#: Record counts of a service, by signal, as ``analysis.Service`` counts them.
_SIGNALS = (("traces", "spans"), ("metrics", "points"), ("logs", "logs"))
#: The context fields of a finding that tell two findings of one rule and service apart.
_KEY_FIELDS = ("key", "keys", "unit", "processor")


@dataclass
class Loaded:
    """One side read and analysed: its report as JSON, and its corpus when it has one."""

    path: str
    input: str  # "capture" | "shard" | "report" | "config"
    report: JSONObject
    services: list[str | None]
    corpus: Corpus | None = None
    context: Context | None = None
    stats: ScanStats | None = None
    #: a config tree's services -> the resource attributes their units set (None: unknown)
    attributes: dict[str | None, dict[str, set[str | None]]] | None = None

    @property
    def kind(self) -> str:
        """``config`` for a configuration tree, ``telemetry`` for everything else."""
        return "config" if self.input == "config" else "telemetry"

    def side(self) -> Side:
        """The side as the diff names it."""
        summary = self.report.get("summary")
        totals: dict[str, int] = {}
        if isinstance(summary, Mapping):
            totals = {
                k: int(v)
                for k in ("spans", "logs", "data_points")
                if isinstance(v := summary.get(k), int)
            }
        return Side(self.path, self.input, self.services, totals)


def detect(path: str) -> str:
    """What ``path`` holds: ``shard``, ``report``, or ``files`` (a capture or a config tree,
    told apart by reading it). A path that does not exist is an OtlintError."""
    if path != "-" and not os.path.exists(path):
        raise OtlintError(
            f"{path}: no such file or directory: give a capture, a --state shard, a JSON report or a config folder"
        )
    if path == "-" or os.path.isdir(path):
        return "files"
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            if head.startswith(_ZSTD):
                f.seek(0)
                with zstandard.ZstdDecompressor().stream_reader(f) as z:
                    if z.read(len(shard.MAGIC)) == shard.MAGIC:
                        return "shard"
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read: {exc.strerror}") from None
    except zstandard.ZstdError:
        return "files"
    return "report" if _REPORT_START.match(head) else "files"


def load(
    path: str,
    settings: Settings,
    *,
    show_values: bool = False,
    jobs: int = 1,
    strict: bool = False,
) -> Loaded:
    """Read one side and run the normal analysis on it (``check``'s, ``merge``'s or
    ``check-config``'s), with ``settings``. Nothing readable is an OtlintError."""
    what = detect(path)
    if what == "shard":
        corpus = shard.read(path)
        if not _read_anything(corpus):
            raise OtlintError(
                f"{path}: no telemetry read: the shard holds no span, log record or data point; "
                "check that the run that wrote it read its dump"
            )
        return _analysed(path, "shard", corpus, settings, show_values, [path])
    if what == "report":
        return _report(path, settings)
    from otlint.run.check import scan

    corpus, stats = scan([path], strict=strict, jobs=jobs)
    if _read_anything(corpus):
        loaded = _analysed(path, "capture", corpus, settings, show_values, stats.inputs)
        loaded.stats = stats
        return loaded
    from otlint.run.check_config import build_config_report, evaluate_configs, read_configs

    facts = read_configs([path])
    if facts.inputs:
        findings = evaluate_configs(facts, settings)
        report = build_config_report(facts, findings, show_values=show_values)
        loaded = Loaded(path, "config", report.to_json(), list(report.services))
        loaded.attributes = _unit_attributes(facts)
        return loaded
    raise OtlintError(
        f"{path}: nothing to compare: no telemetry and no configuration otlint reads "
        f"({len(stats.skipped)} files skipped); give a capture, a --state shard, a JSON report "
        "(check --format json) or a folder of configuration files"
    )


def _unit_attributes(facts: ConfigFacts) -> dict[str | None, dict[str, set[str | None]]]:
    """service -> key -> the values the deployable units of that service set."""
    out: dict[str | None, dict[str, set[str | None]]] = defaultdict(lambda: defaultdict(set))
    for unit in facts.units:
        if unit.deployable and unit.service is not None:
            for key, attr in unit.attributes.items():
                out[unit.service][key].add(attr.value)
    return out


def _read_anything(corpus: Corpus) -> bool:
    totals = corpus.totals()
    return bool(totals["spans"] or totals["logs"] or totals["data_points"])


def _analysed(
    path: str,
    input_: str,
    corpus: Corpus,
    settings: Settings,
    show_values: bool,
    inputs: Sequence[str],
) -> Loaded:
    from otlint.run.check import build_report, evaluate

    ctx = Context(corpus)
    findings = evaluate(corpus, settings, context=ctx)
    report = build_report(
        corpus, findings, inputs, show_values=show_values, context=ctx, settings=settings
    )
    return Loaded(path, input_, report.to_json(), list(report.services), corpus, ctx)


def _report(path: str, settings: Settings) -> Loaded:
    """A JSON report of an earlier run: its joins and findings (those of the rules selected)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise OtlintError(
            f"{path}: not an otlint JSON report ({exc}): write one with check --format json -o FILE"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("report", "check") != "check"
        or not isinstance(data.get("findings"), list)
        or not isinstance(data.get("joins"), list)
    ):
        why = (
            "it is an otlint diff, not a report"
            if isinstance(data, dict) and data.get("report") == "diff"
            else "no findings and joins lists"
        )
        raise OtlintError(
            f"{path}: not an otlint JSON report ({why}): write one with check --format json -o FILE"
        )
    if data.get("schema") != 1:
        raise OtlintError(
            f"{path}: JSON report schema {data.get('schema')!r} needs another otlint (this one reads 1)"
        )
    for n, item in enumerate([*data["findings"], *data["joins"]], 1):
        if not isinstance(item, dict) or not isinstance(item.get("code", item.get("join")), str):
            raise OtlintError(
                f"{path}:{n}: not an otlint JSON report (entry {n} has no code or join): "
                "write one with check --format json -o FILE"
            )
    data["findings"] = [f for f in data["findings"] if f.get("code") in settings.rules]
    services = sorted(
        {c.get("service") for c in data["joins"]} | {f.get("service") for f in data["findings"]},
        key=lambda s: (s is None, s or ""),
    )
    return Loaded(path, "report", data, services)


# -- the comparison ---------------------------------------------------------------------------


def compare(before: Loaded, after: Loaded, *, show_values: bool = False) -> Diff:
    """Compare two analysed sides (of one kind: telemetry, or configuration)."""
    if before.kind != after.kind:
        raise OtlintError(
            f"{before.path}, {after.path}: a {before.input} and a {after.input} cannot be compared: "
            "diff two captures, shards or reports, or two config trees"
        )
    named_b = {s for s in before.services if s is not None}
    named_a = {s for s in after.services if s is not None}
    if named_b and named_a and not named_b & named_a:
        raise OtlintError(
            f"{before.path}, {after.path}: the sides share no service (before: "
            f"{_names(named_b)}; after: {_names(named_a)}): they are not the same system; "
            "diff two inputs of the same services"
        )
    diff = Diff(
        version=__version__,
        kind=before.kind,
        before=before.side(),
        after=after.side(),
        common=sorted(set(before.services) & set(after.services), key=_order),
        services_gone=sorted(set(before.services) - set(after.services), key=_order),
        services_new=sorted(set(after.services) - set(before.services), key=_order),
    )
    diff.joins = _joins(before, after)
    diff.new_findings, diff.fixed_findings = _findings(before, after)
    if before.context is not None and after.context is not None:
        _telemetry(diff, before.context, after.context, show_values)
    elif before.attributes is not None and after.attributes is not None:
        for service in diff.common:
            b = {"all": _config_values(before.attributes, service)}
            a = {"all": _config_values(after.attributes, service)}
            diff.keys += _key_changes(service, service, b, a, show_values)
        diff.boundaries = _boundaries(before, after)
    elif before.kind == "telemetry":
        diff.notes.append(
            "a JSON report holds no records: records, resource keys and ids are compared "
            "only between captures and shards"
        )
    return diff


def _losses(report: Mapping[str, Any], root: str) -> dict[tuple[str, str, str, str], str]:
    """(from, to, signal, join) -> why, for every join the data-plane map loses on an edge
    (edges by their ends' labels, node ids differing between two runs; a label naming a
    file of the tree names it from the tree's root, as both trees have it)."""
    plane = report.get("dataplane")
    if not isinstance(plane, dict):
        return {}
    prefix = os.path.join(root, "")

    def label(node: Mapping[str, Any]) -> str:
        return str(node.get("label")).replace(prefix, "")

    names = {str(n.get("id")): label(n) for n in _items(plane.get("nodes"))}
    out: dict[tuple[str, str, str, str], str] = {}
    for edge in _items(plane.get("edges")):
        ends = (names.get(str(edge.get("from")), "?"), names.get(str(edge.get("to")), "?"))
        for item in _items(edge.get("lost")):
            key = (*ends, str(item.get("signal")), str(item.get("join")))
            out.setdefault(key, str(item.get("why")))
    return out


def _boundaries(before: Loaded, after: Loaded) -> list[BoundaryChange]:
    """Joins lost on the map after and not before, and the other way round."""
    b, a = _losses(before.report, before.path), _losses(after.report, after.path)
    out = [BoundaryChange(*key, a[key], "lost") for key in sorted(a.keys() - b.keys())]
    out += [BoundaryChange(*key, b[key], "restored") for key in sorted(b.keys() - a.keys())]
    return out


def _order(s: str | None) -> tuple[bool, str]:
    return (s is None, s or "")


def _names(services: Iterable[str]) -> str:
    listed = sorted(services)
    return ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")


_Cell = tuple[str, str | None, str | None]


def _cells(side: Loaded) -> dict[_Cell, tuple[str, int, int]]:
    """(join, service, peer) -> (status, records, broken) of a side's join matrix.

    A config report has no matrix: its cells are those its warning-or-worse findings
    break, and every other join of its services is intact.
    """
    out: dict[_Cell, tuple[str, int, int]] = {}
    if side.kind == "config":
        from otlint.core.finding import Finding
        from otlint.core.joins import Join

        findings = [
            Finding(
                code=str(f["code"]),
                name=str(f.get("name", "")),
                level=Level(str(f["level"])),
                join=Join(str(f["join"])),
                message="",
                service=_str(f.get("service")),
                peer=_str(f.get("peer")),
                count=int(f.get("count") or 1),
                services=f.get("services"),
                blame=_str(f.get("blame")),
            )
            for f in _items(side.report.get("findings"))
        ]
        for (join, service), n in broken_cells(findings).items():
            out[(join.value, service, None)] = ("broken", n, n)
        for f in findings:
            if f.peer is not None and f.level.severity >= Level.WARNING.severity:
                status, _records, n = out.get((f.join.value, f.service, f.peer), ("broken", 0, 0))
                out[(f.join.value, f.service, f.peer)] = (status, n + f.count, n + f.count)
        return out
    for c in _items(side.report.get("joins")):
        key = (str(c["join"]), _str(c.get("service")), _str(c.get("peer")))
        out[key] = (str(c["status"]), int(c.get("records") or 0), int(c.get("broken") or 0))
    return out


def _joins(before: Loaded, after: Loaded) -> list[CellChange]:
    cells_b, cells_a = _cells(before), _cells(after)
    services_b, services_a = set(before.services), set(after.services)
    changes: list[CellChange] = []
    for key in sorted(set(cells_b) | set(cells_a), key=_cell_order):
        join, service, peer = key
        b = cells_b.get(key) or _missing(before, service, services_b)
        a = cells_a.get(key) or _missing(after, service, services_a)
        if b[0] == a[0] or ("absent" in (b[0], a[0]) and "broken" not in (b[0], a[0])):
            continue  # (a service on one side only is said once, among the services)
        changes.append(CellChange(join, service, peer, b[0], a[0], b[2], a[2], b[1], a[1]))
    return changes


def _missing(side: Loaded, service: str | None, services: set[str | None]) -> tuple[str, int, int]:
    """The status of a cell a side does not list: a config side lists only broken cells."""
    if side.kind == "config" and service in services:
        return ("intact", 0, 0)
    return ("absent", 0, 0)


def _cell_order(key: _Cell) -> tuple[int, str, str, str]:
    from otlint.core.joins import Join

    join, service, peer = key
    try:
        layer = Join(join).layer
    except ValueError:
        layer = 99
    return (layer, join, service or "", peer or "")


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _finding_key(f: Mapping[str, Any]) -> tuple[object, ...]:
    context = f.get("context") if isinstance(f.get("context"), Mapping) else {}
    assert isinstance(context, Mapping)
    key = tuple(json.dumps(context.get(k), sort_keys=True) for k in _KEY_FIELDS)
    return (f.get("code"), f.get("service"), f.get("peer"), key)


def _findings(before: Loaded, after: Loaded) -> tuple[list[FindingChange], list[FindingChange]]:
    """Findings only after has (new) and only before had (fixed)."""
    found_b = {_finding_key(f): f for f in _items(before.report.get("findings"))}
    found_a = {_finding_key(f): f for f in _items(after.report.get("findings"))}
    new = [_change(found_a[k]) for k in found_a if k not in found_b]
    fixed = [_change(found_b[k]) for k in found_b if k not in found_a]
    return new, fixed


def _change(f: dict[str, Any]) -> FindingChange:
    context = f.get("context") if isinstance(f.get("context"), Mapping) else {}
    assert isinstance(context, Mapping)
    key = context.get("key")
    return FindingChange(
        code=str(f.get("code")),
        name=str(f.get("name", "")),
        level=str(f.get("level", "")),
        join=str(f.get("join", "")),
        service=shown_name(_str(f.get("service"))),
        peer=shown_name(_str(f.get("peer"))),
        key=key if isinstance(key, str) else None,
        message=str(f.get("message", "")),
        count=int(f.get("count") or 0),
        finding=f,
    )


# -- telemetry: records, resource keys, ids -----------------------------------------------------


def _telemetry(diff: Diff, before: Context, after: Context, show_values: bool) -> None:
    ids_b, ids_a = _Ids(before), _Ids(after)
    freed = {
        side: ctx.corpus.settled_traces
        for side, ctx in (("BEFORE", before), ("AFTER", after))
        if ctx.corpus.settled_traces
    }
    compared = bool(ids_b.traces and ids_a.traces) and not freed
    shared = ids_b.traces & ids_a.traces
    same_traffic = compared and bool(shared)
    if freed:
        diff.notes.append(
            "ids are not compared: "
            + ", ".join(f"{side}'s sidecar freed {n:,} traces" for side, n in freed.items())
            + " once judged, so their spans are no longer in the shard"
        )
    elif compared:
        diff.trace_ids_kept = len(shared) / len(ids_b.traces)
        diff.notes.append(
            "records are matched by trace id and span id (the corpus keeps no span names or times)"
        )
        if not same_traffic:
            diff.notes.append(
                "the sides share no trace id: not the same traffic (a before/after deploy?), "
                "so no id is said to be rewritten"
            )
    diff.renamed = _renamed(diff, ids_b, ids_a) if same_traffic else []
    pairs = [(s, s) for s in diff.common] + diff.renamed
    for old, new in pairs:
        for signal, attr in _SIGNALS:
            _add_records(
                diff, old, signal, _records_of(before, old, attr), _records_of(after, new, attr)
            )
    for name in diff.services_gone:
        for signal, attr in _SIGNALS:
            _add_records(diff, name, signal, _records_of(before, name, attr), 0)
    for name in diff.services_new:
        for signal, attr in _SIGNALS:
            _add_records(diff, name, signal, 0, _records_of(after, name, attr))
    for old, new in pairs:
        diff.keys += _keys(before, after, old, new, show_values)
        for signal in ("traces", "logs"):
            change = _id_change(ids_b, ids_a, old, new, signal, same_traffic)
            if change is not None and compared:
                diff.ids.append(change)


def _raw(ctx: Context, service: str | None) -> Service | None:
    """The service a report names (``redact.shown_name``: cut, its credentials masked)."""
    svc = ctx.services.get(service)
    if svc is None:
        svc = next((v for k, v in ctx.services.items() if shown_name(k) == service), None)
    return svc


def _records_of(ctx: Context, service: str | None, attr: str) -> int:
    svc = _raw(ctx, service)
    return int(getattr(svc, attr)) if svc is not None else 0


def _add_records(diff: Diff, service: str | None, signal: str, before: int, after: int) -> None:
    if before or after:
        diff.records.append(RecordChange(shown_name(service), signal, before, after))


class _Ids:
    """The trace and span ids of a side's spans and log records, per service."""

    def __init__(self, ctx: Context) -> None:
        corpus = ctx.corpus
        self.traces: set[bytes] = set()
        #: (service, signal) -> set of trace id + span id keys; and the trace ids alone
        self.keys: dict[tuple[str | None, str], set[bytes]] = defaultdict(set)
        self.trace_ids: dict[tuple[str | None, str], set[bytes]] = defaultdict(set)
        self.records: Counter[tuple[str | None, str]] = Counter()
        service_of = [shown_name(r.service) for r in corpus.resources]
        for signal, table in (("traces", corpus.spans), ("logs", corpus.logs)):
            for key, res in zip(rows(table.ids, 24), table.res, strict=True):
                where = (service_of[res], signal)
                self.records[where] += 1
                if key[:16] == _ZERO16:
                    continue
                self.keys[where].add(key)
                self.trace_ids[where].add(key[:16])
                if signal == "traces":
                    self.traces.add(key[:16])
        self.span_owner: dict[bytes, str | None] = {}
        for (service, signal), keys in self.keys.items():
            if signal == "traces":
                for key in keys:
                    self.span_owner.setdefault(key, service)


_ZERO16 = bytes(16)


def _renamed(diff: Diff, ids_b: _Ids, ids_a: _Ids) -> list[tuple[str | None, str | None]]:
    """Services of before only whose spans after holds under a service of after only."""
    out = []
    for old in diff.services_gone:
        owners = Counter(
            ids_a.span_owner.get(k)
            for k in ids_b.keys.get((old, "traces"), ())
            if k in ids_a.span_owner
        )
        if not owners:
            continue
        new, n = owners.most_common(1)[0]
        if new in diff.services_new and n * 2 > len(ids_b.keys[(old, "traces")]):
            out.append((old, new))
    for old, new in out:
        diff.services_gone.remove(old)
        diff.services_new.remove(new)
        diff.keys.append(KeyChange(shown_name(old), "all", "service.name", "rewritten"))
    return out


def _id_change(
    ids_b: _Ids, ids_a: _Ids, old: str | None, new: str | None, signal: str, same_traffic: bool
) -> IdChange | None:
    keys_b, keys_a = ids_b.keys.get((old, signal), set()), ids_a.keys.get((new, signal), set())
    n_b, n_a = ids_b.records[(old, signal)], ids_a.records[(new, signal)]
    if not (n_b or n_a):
        return None
    # A log's span is any span of before: a log record's ids are a span's, of its own service.
    kept = len(keys_a & keys_b)
    rewritten = len(keys_a - keys_b) if same_traffic else 0
    traces_b = ids_b.trace_ids.get((old, signal), set())
    traces_kept = len(traces_b & ids_a.trace_ids.get((new, signal), set()))
    return IdChange(shown_name(old), signal, n_b, n_a, kept, rewritten, len(traces_b), traces_kept)


def _resource_values(ctx: Context, service: str | None) -> dict[str, dict[str, set[str]]]:
    """signal -> key -> the distinct values (as JSON text) of a service's resources."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    svc = _raw(ctx, service)
    for res in ctx.resources_of(svc.name) if svc is not None else ():
        for sig in Signal:
            if res.signals[sig]:
                for key, (_t, value) in res.attrs.items():
                    out[sig.label][key].add(json.dumps(as_json(value), sort_keys=True))
    return out


def _keys(
    before: Context, after: Context, old: str | None, new: str | None, show_values: bool
) -> list[KeyChange]:
    """Resource keys a service's signal lost, had rewritten or gained between the sides."""
    return _key_changes(
        old, new, _resource_values(before, old), _resource_values(after, new), show_values
    )


def _config_values(
    attributes: Mapping[str | None, Mapping[str, set[str | None]]], service: str | None
) -> dict[str, set[str]]:
    """A config tree's resource values of a service, as JSON text (an unknown value: null)."""
    return {
        key: {json.dumps(v) for v in values} for key, values in attributes.get(service, {}).items()
    }


def _key_changes(
    old: str | None,
    new: str | None,
    values_b: Mapping[str, Mapping[str, set[str]]],
    values_a: Mapping[str, Mapping[str, set[str]]],
    show_values: bool,
) -> list[KeyChange]:
    """The keys lost, rewritten or added, per signal, between two sides' values."""
    out: list[KeyChange] = []
    for signal in [*(s.label for s in Signal), "all"]:
        if signal not in values_b or signal not in values_a:
            continue  # a signal gone or new is a record change, not a key change
        b, a = values_b[signal], values_a[signal]
        for key in sorted(set(b) | set(a)):
            if key == "service.name" and old != new:
                continue
            if key not in a:
                change = "lost"
            elif key not in b:
                change = "added"
            elif a[key] != b[key]:
                change = "rewritten"
            else:
                continue
            shown_b = _shown(key, b.get(key)) if show_values else None
            shown_a = _shown(key, a.get(key)) if show_values else None
            out.append(KeyChange(shown_name(old), signal, key, change, shown_b, shown_a))
    return out


def _shown(key: str, values: set[str] | None) -> tuple[JSONValue, ...]:
    """Values as ``--show-values`` shows them: masked as every report masks them."""
    if not values:
        return ()
    decoded: list[JSONValue] = [json.loads(v) for v in sorted(values)]
    masked = redact_values({key: decoded})[key]
    return tuple(masked) if isinstance(masked, list) else (masked,)
