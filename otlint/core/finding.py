"""One ``Finding`` type for everything otlint reports: telemetry and config files alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from otlint.core.joins import Join
from otlint.core.jsontypes import JSONObject
from otlint.core.redact import redact_values, shown, shown_name


class Level(StrEnum):
    """How serious a finding is; config, not the rule, decides it."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def severity(self) -> int:
        """Higher is worse: error 3, warning 2, info 1."""
        return _SEVERITY[self]

    @classmethod
    def parse(cls, text: str) -> Level:
        """The level named by ``text`` (``error``, ``warning``, ``info``)."""
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(f"unknown level {text!r}: use error, warning or info") from None


_SEVERITY = {Level.ERROR: 3, Level.WARNING: 2, Level.INFO: 1}


@dataclass(frozen=True, order=True)
class Location:
    """Where a record came from: a path, the record's number in it (1-based), a line."""

    path: str
    record: int | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        elif self.record is not None:
            parts.append(f"#{self.record}")
        return ":".join(parts)

    def to_json(self) -> JSONObject:
        """The location as the JSON report writes it."""
        out: JSONObject = {"path": self.path, "record": self.record, "line": self.line}
        if self.column is not None:
            out["column"] = self.column
        return out


@dataclass
class Hit:
    """What a rule reports: a finding before config gives it a code, name and level.

    ``message`` must not contain attribute values: put them in ``values`` (shown only
    with ``--show-values``, secrets masked) and keep keys, types and counts in
    ``context``.

    ``services`` is set for a finding about a file or record rather than a service
    (an unreadable record, non-canonical OTLP/JSON): the services whose records are in
    that file. Such a finding has no ``service`` and counts as none in the summary.
    ``blame`` names the service that must change when it is not ``service`` (a
    propagator mismatch is the callee's fix): the join matrix marks it too.
    ``level``, when set, is the level a rule option gave this hit (ID003's per-key
    ``levels``); it applies wherever config leaves the rule on.
    """

    message: str
    service: str | None = None
    peer: str | None = None
    count: int = 1
    locations: list[Location] = field(default_factory=list)
    context: JSONObject = field(default_factory=dict)
    values: JSONObject = field(default_factory=dict)
    services: list[str | None] | None = None
    blame: str | None = None
    level: Level | None = (
        None  # the rule's own level for this hit (a per-key option), else config's
    )


@dataclass
class Finding:
    """A ranked, levelled report of one broken join for one service (or edge)."""

    code: str
    name: str
    level: Level
    join: Join
    message: str
    service: str | None = None
    peer: str | None = None
    count: int = 1
    locations: list[Location] = field(default_factory=list)
    context: JSONObject = field(default_factory=dict)
    values: JSONObject = field(default_factory=dict)
    services: list[str | None] | None = None  # a file-level finding: the file's services
    blame: str | None = None  # the service to change, when it is not ``service``

    def __post_init__(self) -> None:
        # Whatever made the finding, what it echoes is cut to size and has no credential.
        self.message = shown(self.message)
        self.service = shown_name(self.service)
        self.peer = shown_name(self.peer)
        self.blame = shown_name(self.blame)
        if self.services is not None:
            self.services = [shown_name(s) for s in self.services]

    @property
    def marked(self) -> list[str | None]:
        """The services whose cells of the join matrix this finding marks."""
        if self.services is not None:
            return list(self.services)
        out = [self.service]
        if self.blame is not None and self.blame != self.service:
            out.append(self.blame)
        return out

    def sort_key(self) -> tuple[int, int, int, str, str, str, str]:
        """Rank: join layer, then blast radius (records), then level, then stable ties."""
        return (
            self.join.layer,
            -self.count,
            -self.level.severity,
            self.code,
            self.service or "",
            self.peer or "",
            self.message,
        )

    def to_json(self, show_values: bool = False) -> JSONObject:
        """The finding as the JSON report writes it (values only when asked)."""
        out: JSONObject = {
            "code": self.code,
            "name": self.name,
            "level": self.level.value,
            "join": self.join.value,
            "service": self.service,
            "peer": self.peer,
            "message": self.message,
            "count": self.count,
            "locations": [loc.to_json() for loc in self.locations],
            "context": dict(self.context),
        }
        if self.services is not None:
            out["services"] = list(self.services)
        if self.blame is not None:
            out["blame"] = self.blame
        if show_values and self.values:
            out["values"] = redact_values(self.values)
        return out
