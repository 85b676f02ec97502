"""One engine for every way in: read -> observe -> evaluate -> rank -> Report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from otlint import __version__
from otlint.core.errors import OtlintError
from otlint.core.finding import Finding, Hit, Location, levelled
from otlint.core.joins import ORDER, Join
from otlint.registry import REGISTRY, Rule
from otlint.report.report import JoinStatus, Report, broken_cells, rule_info
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import EXEMPLARS, Corpus, Settled, Signal
from otlint.telemetry.observe import Observer
from otlint.telemetry.readers import (
    Foreign,
    Message,
    Skipped,
    Source,
    Unreadable,
    classify,
    expand,
    has_otlp_shape,
    open_source,
    signal_hint,
)

if TYPE_CHECKING:
    from otlint.settings import Settings


@dataclass
class ScanStats:
    """What a scan read: inputs, skipped files (each with why), records."""

    inputs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    bytes: int = 0


#: Called as records are read: (current path, records so far, decoded bytes so far).
Progress = Callable[[str, int, int], None]


def scan(
    paths: Sequence[str],
    corpus: Corpus | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    jobs: int = 1,
) -> tuple[Corpus, ScanStats]:
    """Read every input into a Corpus. Unreadable records become problems (or, strict, an error).

    With ``jobs`` > 1 files, and large files cut at record boundaries, are read by that
    many processes, each into a Corpus shard, and the shards are merged.
    """
    if jobs > 1 and "-" not in paths:
        from otlint.run.parallel import scan_parallel

        shard, stats = scan_parallel(paths, jobs=jobs, strict=strict, progress=progress)
        return (corpus.merge(shard) if corpus is not None else shard), stats
    corpus = corpus if corpus is not None else Corpus()
    stats = ScanStats()
    observer = Observer(corpus)
    for path, _explicit in expand(paths):
        # A file named on the command line and one found in a folder are read alike:
        # what is not OTLP is skipped (the caller says so), what is OTLP and broken is reported.
        source = open_source(path)
        display = "<stdin>" if path == "-" else path
        if source.skip is not None:
            stats.skipped.append((display, source.skip))
            continue
        if read_source(source, display, observer, stats, strict=strict, progress=progress):
            stats.inputs.append(display)
    return corpus, stats


def read_source(
    source: Source,
    display: str,
    observer: Observer,
    stats: ScanStats,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> bool:
    """Observe every item of one opened source; False if it turned out not to be OTLP (then skipped)."""
    corpus = observer.corpus
    file = -1  # the path is indexed at its first record: a skipped file leaves no trace
    hint = signal_hint(source.path)
    for item in source.items:
        if isinstance(item, Skipped):
            stats.skipped.append((display, item.reason))
            return False
        if file < 0:
            if isinstance(item, Message) and item.signal is None and _not_otlp(item.payload, hint):
                stats.skipped.append(
                    (
                        display,
                        "not OTLP (protobuf or binary data without the shape of an OTLP request)",
                    )
                )
                return False
            file = corpus.path_index(display, lines=source.lines)
        if isinstance(item, Unreadable):
            _unreadable(corpus, display, item.record, item.message, strict, source.lines, file)
            continue
        if isinstance(item, Foreign):
            _foreign(corpus, item, file, source.lines)
            continue
        stats.records += _observe(observer, corpus, item, file, hint, display, strict, source.lines)
        stats.bytes += len(item.payload)
        if progress is not None:
            progress(display, stats.records, stats.bytes)
    return True


#: The problem kind of lines that are not OTLP in an OTLP/JSON Lines file (RD003).
FOREIGN = "foreign"
NOT_JSON = "not JSON"
OTHER_JSON = "JSON, not OTLP"


def _foreign(corpus: Corpus, item: Foreign, file: int, lines: bool) -> None:
    # (The rule words the finding from the count and samples: shards of one file add up.)
    detail = OTHER_JSON if item.json else NOT_JSON
    corpus.add_problem(
        FOREIGN,
        detail,
        detail,
        (file, item.record),
        item.record if lines else None,
        item.count,
        samples=item.samples,
    )


def _not_otlp(payload: bytes, hint: Signal | None) -> bool:
    """A file's first message is some other program's protobuf (then the file is skipped)."""
    return bool(payload) and classify(payload, hint) is None and not has_otlp_shape(payload)


def _observe(
    observer: Observer,
    corpus: Corpus,
    msg: Message,
    file: int,
    hint: Signal | None,
    path: str,
    strict: bool,
    lines: bool,
) -> int:
    loc = (file, msg.record)
    line = msg.record if lines else None
    for dev in msg.deviations:
        corpus.add_problem(dev.kind, dev.detail, dev.message, loc, line, dev.count)
    signal = msg.signal if msg.signal is not None else classify(msg.payload, hint)
    if signal is None:
        if not msg.payload:
            return 0
        _unreadable(
            corpus,
            path,
            msg.record,
            "cannot tell whether this protobuf message holds traces, metrics or logs",
            strict,
            lines,
            file,
        )
        return 0
    try:
        return observer.observe(signal, msg.payload, file, msg.record)
    except DecodeError as exc:
        _unreadable(
            corpus,
            path,
            msg.record,
            f"not a valid OTLP {signal.label} message ({exc})",
            strict,
            lines,
            file,
        )
        return 0


def _unreadable(
    corpus: Corpus,
    path: str,
    record: int,
    message: str,
    strict: bool,
    lines: bool,
    file: int | None = None,
) -> None:
    if strict:
        raise OtlintError(
            f"{path}:{record}: {message} (without --strict, unreadable records are reported and skipped)"
        )
    if file is None:
        file = corpus.path_index(path, lines=lines)
    corpus.add_problem(
        "unreadable", message.split(" (", 1)[0], message, (file, record), record if lines else None
    )


def evaluate(
    corpus: Corpus,
    settings: Settings,
    registry: Mapping[str, Rule] = REGISTRY,
    context: Context | None = None,
) -> list[Finding]:
    """Run every enabled telemetry rule over the corpus; findings come back ranked."""
    ctx = context or Context(corpus)
    findings: list[Finding] = []
    for code in sorted(settings.rules):
        rule = registry[code]
        if rule.target != "telemetry":
            continue
        hits = list(rule.check(ctx, settings.options_for(code)))
        if rule.windowed and corpus.settled:
            hits = _with_settled(code, hits, corpus)
        findings += levelled(rule, hits, settings)
    findings.sort(key=Finding.sort_key)
    return findings


def _with_settled(code: str, hits: list[Hit], corpus: Corpus) -> list[Hit]:
    """Add what a windowed rule found in traces the sidecar already judged and freed."""
    by_key = {(h.service, h.peer): h for h in hits}
    for (c, service, peer), settled in sorted(
        corpus.settled.items(), key=lambda kv: (kv[0][1] or "", kv[0][2] or "")
    ):
        if c != code:
            continue
        past = Settled(
            settled.count, settled.message, list(settled.locations), dict(settled.context)
        )
        hit = by_key.get((service, peer))
        if hit is not None:
            past.absorb(
                Settled(
                    hit.count,
                    hit.message,
                    [(loc.path, loc.record, loc.line) for loc in hit.locations],
                    hit.context,
                )
            )
            hits.remove(hit)
        hits.append(
            Hit(
                message=past.message,
                service=service,
                peer=peer,
                count=past.count,
                locations=[Location(p, record=r, line=ln) for p, r, ln in past.locations],
                context=past.context,
                # (A settled hit keeps its context, not its Hit: TR007 says there that the callee must change.)
                blame=peer if past.context.get("fix") == "callee" else None,
            )
        )
    return hits


#: The rules whose findings decide a caller -> callee edge.
EDGE_RULES = ("TR006", "TR007")


def join_matrix(
    ctx: Context,
    findings: Iterable[Finding],
    settings: Settings | None = None,
    registry: Mapping[str, Rule] = REGISTRY,
) -> list[JoinStatus]:
    """Services x joins (intact, broken, no data or not checked) and the caller -> callee trace edges.

    With ``settings``, a join none of whose rules ran for a service (deselected with
    ``--select`` / ``--ignore``, or off for that service) is ``not-checked``: the
    matrix claims nothing it did not check.
    """
    findings = list(findings)
    broken = broken_cells(findings)
    by_join: dict[Join, list[str]] = defaultdict(list)
    for code, rule in registry.items():
        if rule.target == "telemetry":
            by_join[rule.join].append(code)

    def checked(codes: Iterable[str], service: str | None) -> bool:
        return settings is None or any(
            settings.level_for(code, service) is not None for code in codes
        )

    rows: list[JoinStatus] = []
    corpus = ctx.corpus
    for name in sorted(ctx.services, key=lambda s: (s is None, s or "")):
        svc = ctx.services[name]
        exemplars = sum(corpus.resources[r].counts[EXEMPLARS] for r in svc.resources)
        signals = sum(
            1 for s in Signal if any(corpus.resources[r].signals[s] for r in svc.resources)
        )
        records = {
            Join.INPUT: 0,
            Join.IDENTITY: svc.records,
            Join.TRACE: svc.spans,
            Join.LOG_TRACE: svc.logs if svc.spans else 0,
            Join.METRIC_TRACE: exemplars if svc.spans else 0,
            Join.SIGNAL_RESOURCE: svc.records if signals > 1 else 0,
            Join.DEPLOY: svc.records,
            Join.INFRA: svc.records,
            Join.PEER: svc.spans,
            Join.SCHEMA: svc.records,
        }
        for join in ORDER:
            key = (join, name)
            if join is Join.INPUT and key not in broken:
                continue
            n = records[join]
            if key in broken:
                status = "broken"
            elif not checked(by_join[join], name):
                status = "not-checked"
            else:
                status = "intact" if n else "no-data"
            rows.append(JoinStatus(join, name, None, status, n, broken.get(key, 0)))
    edges = {k: [e.calls, e.joined] for k, e in ctx.graph.edges.items()}
    for k, (calls, joined) in corpus.settled_edges.items():
        entry = edges.setdefault(k, [0, 0])
        entry[0] += calls
        entry[1] += joined
    for (caller, callee), (calls, joined) in sorted(
        edges.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")
    ):
        if caller == callee:
            continue
        broken_calls = calls - joined
        if not checked(EDGE_RULES, caller):
            status = "not-checked"
        else:
            status = "broken" if broken_calls else "intact"
        rows.append(JoinStatus(Join.TRACE, caller, callee, status, calls, broken_calls))
    return rows


def build_report(
    corpus: Corpus,
    findings: list[Finding],
    inputs: Sequence[str],
    show_values: bool = False,
    context: Context | None = None,
    settings: Settings | None = None,
) -> Report:
    """The ranked Report for a corpus and its findings (``settings``: which joins were checked)."""
    ctx = context or Context(corpus)
    return Report(
        version=__version__,
        findings=findings,
        joins=join_matrix(ctx, findings, settings),
        totals=corpus.totals(),
        services=sorted(ctx.services, key=lambda s: (s is None, s or "")),
        rules=rule_info(),
        inputs=list(inputs),
        show_values=show_values,
    )
