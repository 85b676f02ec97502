"""The ranked result every reporter renders: findings, the join matrix and a summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

from otlint.core.finding import Finding, Hit, Level
from otlint.core.joins import Join
from otlint.core.jsontypes import JSONObject
from otlint.core.redact import mask_json, shown_name
from otlint.report.incident import IncidentPath

if TYPE_CHECKING:
    from otlint.core.rule import Rule
    from otlint.settings import Settings


@dataclass(frozen=True)
class JoinStatus:
    """One cell of the join matrix: a join for a service (or a caller -> callee edge)."""

    join: Join
    service: str | None
    peer: str | None
    status: str  # "intact" | "broken" | "no-data" | "not-checked" | "baselined"
    records: int
    broken: int

    def __post_init__(self) -> None:
        # The same cut and mask as a Finding's service and peer: they must still meet.
        object.__setattr__(self, "service", shown_name(self.service))
        object.__setattr__(self, "peer", shown_name(self.peer))

    def to_json(self) -> JSONObject:
        """The cell as the JSON report writes it."""
        return {
            "join": self.join.value,
            "service": self.service,
            "peer": self.peer,
            "status": self.status,
            "records": self.records,
            "broken": self.broken,
        }


@dataclass
class RuleInfo:
    """What reporters need to know about a rule (SARIF rule descriptors, docs links)."""

    code: str
    name: str
    join: Join
    level: Level
    summary: str
    help: str


@dataclass
class Report:
    """Everything one run found, already ranked."""

    version: str
    findings: list[Finding]
    joins: list[JoinStatus]
    totals: dict[str, int]
    services: list[str | None]
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    show_values: bool = False
    kind: str = "telemetry"  # "config" for check-config runs
    notes: list[str] = field(default_factory=list)  # caveats about the run, one line each
    sidecar: JSONObject | None = None  # otlint serve: what was received, linted, forwarded
    quiet: bool = False  # findings only: no header, matrix or summary (text and concise formats)
    incidents: list[IncidentPath] = field(default_factory=list)  # per service (telemetry runs)
    #: check-config: the data-plane map (``otlint.configs.dataplane.graph``), when the run
    #: holds collectors or units that send to one.
    dataplane: JSONObject | None = None

    def __post_init__(self) -> None:
        # Named as the findings and cells name them (cut to size, no credential).
        self.services = [shown_name(s) for s in self.services]

    def by_level(self) -> dict[str, int]:
        """Finding counts per level (all three levels always present)."""
        counts = Counter(f.level.value for f in self.findings)
        return {lvl.value: counts.get(lvl.value, 0) for lvl in Level}

    def counts(self) -> dict[str, int]:
        """Spans, logs, data points, services and findings: the numbers of the summary."""
        return {
            "spans": self.totals.get("spans", 0),
            "logs": self.totals.get("logs", 0),
            "data_points": self.totals.get("data_points", 0),
            "services": len(self.services),
            "findings": len(self.findings),
        }

    def summary(self) -> JSONObject:
        """The JSON report's ``summary`` object."""
        return {**self.counts(), "by_level": self.by_level()}

    def to_json(self) -> JSONObject:
        """The whole report in the documented JSON schema (version 1).

        ``incidents`` (one incident path per service) is an addition to version 1: a key
        that consumers of the earlier reports never read, so the version stays.
        """
        out: JSONObject = {
            "otlint": self.version,
            "schema": 1,
            "summary": self.summary(),
            "joins": [j.to_json() for j in self.joins],
            "findings": [f.to_json(self.show_values) for f in self.findings],
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.incidents:
            out["incidents"] = [path.to_json() for path in self.incidents]
        if self.sidecar is not None:
            out["sidecar"] = self.sidecar
        if self.dataplane is not None:
            out["dataplane"] = cast(JSONObject, mask_json(self.dataplane))
        return out


def broken_cells(findings: Iterable[Finding]) -> dict[tuple[Join, str | None], int]:
    """(join, service) -> records in the warning-or-worse findings that break it there.

    A finding marks its service, the service that must change when that is another
    (``Finding.blame``: a propagator mismatch marks the callee), or, for a file-level
    finding, every service of the file.
    """
    out: dict[tuple[Join, str | None], int] = defaultdict(int)
    for f in findings:
        if f.level.severity >= Level.WARNING.severity:
            for service in f.marked:
                out[(f.join, service)] += f.count
    return dict(out)


def hide(report: Report, hidden: list[Finding]) -> None:
    """Drop ``hidden`` findings (a baseline's) from ``report``, and from its join matrix.

    A cell that only hidden findings broke is ``baselined`` (known, accepted, not
    reported again), not ``broken``; an edge whose every finding is hidden likewise, and
    the broken incident path of a service whose every finding is hidden.
    """
    gone = {id(f) for f in hidden}
    report.findings = [f for f in report.findings if id(f) not in gone]
    kept = broken_cells(report.findings)
    kept_edges = {
        (f.service, f.peer) for f in report.findings if f.join is Join.TRACE and f.peer is not None
    }
    hidden_edges = {
        (f.service, f.peer) for f in hidden if f.join is Join.TRACE and f.peer is not None
    }
    cells: list[JoinStatus] = []
    for c in report.joins:
        if c.status == "broken" and c.peer is None:
            n = kept.get((c.join, c.service), 0)
            c = JoinStatus(c.join, c.service, None, "broken" if n else "baselined", c.records, n)
        elif c.status == "broken" and (c.service, c.peer) in hidden_edges - kept_edges:
            c = JoinStatus(c.join, c.service, c.peer, "baselined", c.records, c.broken)
        cells.append(c)
    report.joins = cells
    # A broken incident path of a service whose every finding the baseline hides is a
    # known break too: shown as such, not as a new one.
    kept_services = {s for f in report.findings for s in f.marked}
    hidden_services = {s for f in hidden for s in f.marked} - kept_services
    report.incidents = [
        replace(path, baselined=True)
        if path.status == "broken" and path.service in hidden_services
        else path
        for path in report.incidents
    ]


def rule_info(registry: Mapping[str, Rule] | None = None) -> dict[str, RuleInfo]:
    """Reporter-facing descriptions of every rule (of ``registry``, default: all of them)."""
    from otlint.registry import REGISTRY

    rules = REGISTRY if registry is None else registry
    return {
        code: RuleInfo(
            code=r.code, name=r.name, join=r.join, level=r.level, summary=r.summary, help=r.doc
        )
        for code, r in rules.items()
    }


def levelled(rule: Rule, hits: Iterable[Hit], settings: Settings) -> list[Finding]:
    """A rule's hits as Findings at the level config gives them (dropped where it is off)."""
    out = []
    for hit in hits:
        path = hit.locations[0].path if hit.locations else None
        level = settings.level_for(rule.code, hit.service, path)
        if level is None:
            continue
        if hit.level is not None:
            level = hit.level
        out.append(
            Finding(
                code=rule.code,
                name=rule.name,
                level=level,
                join=rule.join,
                # Credentials that reached a hit (a peer.service URL with a password, a
                # token in a value a reader quotes) are masked: the Finding masks and cuts
                # its message and names itself, and the context is masked here.
                message=hit.message,
                service=hit.service,
                peer=hit.peer,
                count=hit.count,
                locations=hit.locations,
                context={key: mask_json(value) for key, value in hit.context.items()},
                values=hit.values,
                services=hit.services,
                blame=hit.blame,
            )
        )
    return out
