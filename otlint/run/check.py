"""One engine for every way in: read -> observe -> evaluate -> rank -> Report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from otlint import __version__
from otlint.core.finding import Finding, Hit, Location
from otlint.core.joins import ORDER, Join
from otlint.core.redact import shown_name
from otlint.registry import REGISTRY, Rule
from otlint.report.report import JoinStatus, Report, broken_cells, levelled, rule_info
from otlint.run.incident import incident_paths
from otlint.run.parallel import scan_parallel
from otlint.run.scan import ScanStats, scan_serial
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import EXEMPLARS, Corpus, Settled, Signal

if TYPE_CHECKING:
    from otlint.run.scan import Progress
    from otlint.run.spill import Spill
    from otlint.settings import Settings


def scan(
    paths: Sequence[str],
    corpus: Corpus | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    jobs: int = 1,
    spill: Spill | None = None,
) -> tuple[Corpus, ScanStats]:
    """Read every input into a Corpus. Unreadable records become problems (or, strict, an error).

    With ``jobs`` > 1 files, and large files cut at record boundaries, are read by that
    many processes, each into a Corpus shard, and the shards are merged. ``spill``
    (``--max-memory``): rows past the budget go to disk; once read, ``spill.context``
    gives what to evaluate over (then the corpus itself holds no rows).
    """
    if spill is not None and corpus is not None:
        raise ValueError("rows are spilled from the corpus scan makes: give no corpus")
    if jobs > 1 and "-" not in paths:
        shard, stats = scan_parallel(
            paths, jobs=jobs, strict=strict, progress=progress, spill=spill
        )
        return (corpus.merge(shard) if corpus is not None else shard), stats
    return scan_serial(paths, corpus, strict=strict, progress=progress, spill=spill)


def merge_shards(shards: Sequence[str], spill: Spill | None = None) -> Corpus:
    """The Corpus of shard files (``check --state``, ``serve --state``), merged in order.

    ``spill`` (``--max-memory``): past its budget, the rows merged so far go to disk, as
    ``scan`` spills the rows it reads; once merged, ``spill.context`` gives what to
    evaluate over. Each shard is read whole: the budget bounds what the shards add up
    to, not one shard.
    """
    from otlint.telemetry.corpus import shard as state

    corpus = Corpus()
    for path in shards:
        corpus.merge(state.read(path))
        if spill is not None and spill.due(corpus):
            spill.spill(corpus)
    return corpus


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
            Join.TRUST: svc.records,
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
            key = (join, shown_name(name))  # (as the findings name it: cut, credentials masked)
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
    """The ranked Report for a corpus and its findings (``settings``: which joins were checked),
    with each service's incident path."""
    ctx = context or Context(corpus)
    joins = join_matrix(ctx, findings, settings)
    return Report(
        version=__version__,
        findings=findings,
        joins=joins,
        totals=corpus.totals(),
        services=sorted(ctx.services, key=lambda s: (s is None, s or "")),
        rules=rule_info(),
        inputs=list(inputs),
        show_values=show_values,
        incidents=incident_paths(ctx, findings, joins),
    )
