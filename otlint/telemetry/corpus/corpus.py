"""The Corpus: the facts that rules need, extracted once, mergeable across shards.

A Corpus is what ``observe`` builds from OTLP messages. Two Corpus shards built from
two halves of the input merge into the same facts as one pass over everything
(``merge`` is associative and commutative up to ``canonical()``), which is what lets
otlint split a dump across processes and a live stream across sidecars.

Spans, log references, exemplar references and span links are kept as compact columns
(bytes and ``array``), not objects: a million spans cost tens of megabytes, not gigabytes.

Every fact is declared once, below, as an annotation (``schema`` says how): the row
tables (``Table``, ``Spans``, ``Links``) column by column, the keyed facts of ``Corpus``
and ``ResourceFacts`` each with its merge law. Merge, record shifting, canonical
comparison, the shard encoding (``shard``) and window splitting (``split``) are derived
from those declarations, so a new fact is one declaration here and one extractor in
``observe`` (``tests/test_corpus_schema.py`` shows one).
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated, Any, Self, TypeVar

from otlint.core.finding import Location
from otlint.core.redact import shown
from otlint.core.wire import decode_resource
from otlint.telemetry.corpus.columns import NOT, Ints
from otlint.telemetry.corpus.columns import gather as gather
from otlint.telemetry.corpus.columns import renumbered as renumbered
from otlint.telemetry.corpus.columns import rows as rows
from otlint.telemetry.corpus.columns import shifted as shifted
from otlint.telemetry.corpus.columns import zero_rows as zero_rows
from otlint.telemetry.corpus.schema import (
    BYTES,
    EARLIEST,
    FILE,
    RES,
    STR,
    SUM,
    VALUE,
    Absorb,
    Each,
    Keyed,
    Ref,
    Renumbering,
    Resolver,
    Rows,
    Union,
    column,
    declared,
    init_declared,
)
from otlint.telemetry.corpus.schema import Loc as Loc


class Signal(IntEnum):
    """The three OTLP signals."""

    TRACES = 0
    METRICS = 1
    LOGS = 2

    @property
    def label(self) -> str:
        """Lower-case name used in reports: traces, metrics, logs."""
        return self.name.lower()


class AttrLevel(IntEnum):
    """Where an attribute sits."""

    RESOURCE = 0
    SPAN = 1
    LOG = 2
    POINT = 3
    EVENT = 4  # span events
    BODY = 5  # a log record's body (only the ``secrets`` fact has it)

    @property
    def label(self) -> str:
        """Lower-case name used in reports."""
        return {
            0: "resource",
            1: "span",
            2: "log record",
            3: "data point",
            4: "span event",
            5: "log body",
        }[int(self)]


# Per-resource counters (indexes into ResourceFacts.counts).
SPANS, LOGS, POINTS, LOGS_WITH_IDS, EXEMPLARS, LOGS_IDATTR_NO_IDS, LOGS_IDATTR = range(7)


@dataclass(init=False)
class ResourceFacts:
    """One distinct Resource (deduplicated by its encoded bytes) and what used it."""

    attrs: dict[str, tuple[str, Any]]  # decoded from the resource's key: not merged
    counts: Annotated[list[int], Each.of(SUM, 7)]  # records, by the counters above
    signals: Annotated[list[int], Each.of(SUM, 3)]  # messages, by Signal
    first: Annotated[list[Loc | None], Each.of(EARLIEST, 3)]  # first message, by Signal

    def __init__(self, attrs: dict[str, tuple[str, Any]]) -> None:
        self.attrs = attrs
        init_declared(self)

    @property
    def service(self) -> str | None:
        """``service.name`` as seen, or None when missing or not a string."""
        t, v = self.attrs.get("service.name", ("empty", None))
        return v if t == "string" and isinstance(v, str) and v else None

    def value(self, key: str) -> Any:
        """The attribute's value, or None."""
        return self.attrs.get(key, ("empty", None))[1]


class SpanIndex:
    """trace id + span id -> row of the first span with those ids, built as rows come in.

    ``extend`` adds the rows that follow the ones already in. A key of later rows that
    repeats an earlier one would take the later row: ``exact`` turns False, and the
    owner builds the index again in one go (where the first row wins).
    """

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.index: dict[bytes, int] = {}
        self.exact = True

    def extend(self, ids: bytes | bytearray) -> None:
        """Add the rows of ``ids`` (24 bytes a row), numbered after the rows already in."""
        new = rows(ids, 24)
        start = len(self.keys)
        before = len(self.index)
        # Built backwards so that, for repeated keys, the first row wins.
        part = dict(zip(reversed(new), range(start + len(new) - 1, start - 1, -1), strict=True))
        self.index.update(part)
        if len(self.index) != before + len(part):
            self.exact = False
        self.keys += new


# -- the row tables -------------------------------------------------------------------


@dataclass(slots=True, eq=False, init=False)
class Table(Rows):
    """Rows of id-carrying records: log references and exemplar references (``Spans`` adds to it)."""

    #: trace id (16 bytes) + span id (8)
    ids: Annotated[bytearray, column(24, trace=0)]
    res: Annotated[Ints, column("i", ref=RES)]
    file: Annotated[Ints, column("i", ref=FILE)]
    rec: Annotated[Ints, column("i", record=True)]


@dataclass(slots=True, eq=False, init=False)
class Spans(Table):
    """The span rows: a log reference's columns and the span graph's."""

    #: the parent span id, zeros for a root
    parent: Annotated[bytearray, column(8)]
    #: SpanKind
    kind: Annotated[bytearray, column(1)]
    flags: Annotated[Ints, column("I")]
    #: the interned address a span serves or calls, and the peer.service a client span
    #: names; -1 for none
    addr: Annotated[Ints, column("i", ref=STR)]
    peer: Annotated[Ints, column("i", ref=STR)]


@dataclass(slots=True, eq=False, init=False)
class Links(Rows):
    """Span links of CONSUMER/SERVER spans: batch consumers link to their producers instead
    of being their children."""

    #: the span's trace id + span id, then the linked span's
    ids: Annotated[bytearray, column(48, trace=0)]


# -- facts that merge themselves ---------------------------------------------------------


@dataclass
class Settled:
    """What windowed rules found in traces already evaluated and freed (the sidecar)."""

    count: int
    message: str
    locations: list[tuple[str, int | None, int | None]]  # (path, record, line)
    context: dict[str, Any]

    def absorb(self, other: Settled) -> None:
        """Add another window's hit for the same rule, service and peer."""
        if other.count > self.count:
            self.message = other.message
        self.count += other.count
        self.locations = sorted(
            set(self.locations) | set(other.locations), key=lambda t: (t[0], t[1] or 0)
        )[:3]
        for key, value in other.context.items():
            mine = self.context.get(key)
            if (
                isinstance(value, int | float)
                and isinstance(mine, int | float)
                and not isinstance(value, bool)
            ):
                self.context[key] = mine + value
            elif mine is None:
                self.context[key] = value

    def moved(self, ren: Renumbering) -> Settled:
        """A copy (its locations are report locations already: nothing to renumber)."""
        return Settled(self.count, self.message, list(self.locations), dict(self.context))

    def shift(self, delta: int) -> None:
        """Nothing: its locations are report locations already (the law does not shift it)."""

    def encode(self) -> object:
        """As JSON."""
        return [self.count, self.message, self.locations, self.context]

    @classmethod
    def decode(cls, raw: Any) -> Settled:
        """The hit ``encode`` wrote."""
        count, message, locations, context = raw
        return cls(int(count), str(message), [tuple(loc) for loc in locations], dict(context))

    def canonical(self, res: Resolver) -> object:
        """The count and context (which hit's message and locations are kept depends on order)."""
        return (self.count, tuple(sorted(self.context.items())))


#: Record numbers a ReadProblem keeps, the lowest ones.
MAX_PROBLEM_SAMPLES = 5


@dataclass
class ReadProblem:
    """A record that could not be read, or was read only leniently."""

    code: str
    kind: str
    message: str
    count: int
    first: Loc
    line: int | None = None
    samples: list[int] = field(
        default_factory=list
    )  # the lowest record numbers, at most MAX_PROBLEM_SAMPLES

    def absorb(self, other: ReadProblem) -> None:
        """Add ``other``'s count and samples; the earlier record's location, line and message win."""
        self.count += other.count
        self.samples = sorted({*self.samples, *other.samples})[:MAX_PROBLEM_SAMPLES]
        if other.first[1] < self.first[1]:
            self.first, self.line, self.message = other.first, other.line, other.message

    def moved(self, ren: Renumbering) -> ReadProblem:
        """A copy whose location is renumbered."""
        return ReadProblem(
            self.code,
            self.kind,
            self.message,
            self.count,
            ren.loc(self.first),
            self.line,
            list(self.samples),
        )

    def shift(self, delta: int) -> None:
        """Add ``delta`` to its record numbers (and line)."""
        self.first = (self.first[0], self.first[1] + delta)
        self.samples = [r + delta for r in self.samples]
        if self.line is not None:
            self.line += delta

    def encode(self) -> object:
        """As JSON."""
        return [
            self.code,
            self.kind,
            self.message,
            self.count,
            list(self.first),
            self.line,
            self.samples,
        ]

    @classmethod
    def decode(cls, raw: Any) -> ReadProblem:
        """The problem ``encode`` wrote."""
        code, kind, message, count, (f, r), line, samples = raw
        return cls(
            str(code),
            str(kind),
            str(message),
            int(count),
            (int(f), int(r)),
            None if line is None else int(line),
            [int(s) for s in samples],
        )

    def canonical(self, res: Resolver) -> object:
        """Everything but the line (which goes with the first location)."""
        return (self.count, res.loc(self.first), self.message, tuple(self.samples))


# -- the corpus ---------------------------------------------------------------------------


class Corpus:
    """All facts one or more observe passes extracted; see the module docstring.

    Its annotations are the declarations (``schema``): the row tables and the keyed facts
    with their laws. ``__init__`` makes each empty; ``merge``, ``shift_records``,
    ``canonical``, the shard encoding and ``split`` walk them.
    """

    # The interned tables: merge looks entries up by value and renumbers the references.
    paths: list[str]
    path_lines: list[bool]  # record numbers of the path are line numbers
    resource_keys: list[bytes]  # a Resource's encoded bytes
    resources: list[ResourceFacts]
    strings: list[str]  # addresses, peer names

    # The row tables.
    spans: Spans
    logs: Table
    exemplars: Table
    links: Links

    # The keyed facts.
    #: (resource, attribute level) -> {(key bytes, value type): count}, and where each was first.
    attr_counts: Annotated[
        dict[tuple[int, int], dict[tuple[bytes, int], int]],
        Keyed((RES, VALUE), Keyed((BYTES, VALUE), SUM)),
    ]
    attr_first: Annotated[
        dict[tuple[int, int], dict[tuple[bytes, int], Loc]],
        Keyed((RES, VALUE), Keyed((BYTES, VALUE), EARLIEST)),
    ]
    #: (resource, record field, problem) -> [count, first location]
    bad_ids: Annotated[
        dict[tuple[int, str, str], list[Any]], Keyed((RES, VALUE, VALUE), Each(SUM, EARLIEST))
    ]
    #: (code, path, kind) -> the problem
    problems: Annotated[
        dict[tuple[str, int, str], ReadProblem], Keyed((VALUE, FILE, VALUE), Absorb(ReadProblem))
    ]
    #: (resource, attribute level, key, secret kind) -> [records, first location]: the
    #: credentials values carry (``redact.secrets_in``); never the values themselves.
    secrets: Annotated[
        dict[tuple[int, int, str, str], list[Any]],
        Keyed((RES, VALUE, VALUE, VALUE), Each(SUM, EARLIEST)),
    ]
    #: (path, resource) for every resource a file's records carry: whose file a problem is in.
    file_resources: Annotated[set[tuple[int, int]], Union((FILE, RES))]
    #: (resource, key, span kind) -> spans: the kinds of the spans carrying a wire.KIND_KEYS key.
    kind_keys: Annotated[dict[tuple[int, bytes, int], int], Keyed((RES, BYTES, VALUE), SUM)]
    #: Windowed rule hits and trace edges of traces evaluated and freed (the sidecar):
    #: (code, service, peer) -> hit; (caller, callee) -> [calls, joined]; traces; and, per
    #: service, logs that joined a span.
    settled: Annotated[
        dict[tuple[str, str | None, str | None], Settled],
        Keyed((VALUE, VALUE, VALUE), Absorb(Settled, shifts=False)),
    ]
    settled_edges: Annotated[
        dict[tuple[str | None, str | None], list[int]], Keyed((VALUE, VALUE), Each(SUM, SUM))
    ]
    settled_traces: Annotated[int, SUM]
    settled_resolved_logs: Annotated[dict[str | None, int], Keyed(VALUE, SUM)]

    # Not a fact: the span index, when it was built while shards were merged (``--jobs``);
    # it counts only if it covers every span row (``analysis.Context``).
    span_index_hint: SpanIndex | None

    def __init__(self) -> None:
        self.paths = []
        self.path_lines = []
        self._path_idx: dict[str, int] = {}
        self.resource_keys = []
        self.resources = []
        self._res_idx: dict[bytes, int] = {}
        self.strings = []
        self._str_idx: dict[str, int] = {}
        init_declared(self)
        self.span_index_hint = None

    # -- interning -------------------------------------------------------------
    def path_index(self, path: str, lines: bool = False) -> int:
        """Index of ``path``; ``lines`` says its record numbers are line numbers."""
        idx = self._path_idx.get(path)
        if idx is None:
            idx = self._path_idx[path] = len(self.paths)
            self.paths.append(path)
            self.path_lines.append(lines)
        return idx

    def string_index(self, text: str) -> int:
        """Index of an interned string (addresses, peer names)."""
        idx = self._str_idx.get(text)
        if idx is None:
            idx = self._str_idx[text] = len(self.strings)
            self.strings.append(text)
        return idx

    def resource_index(self, key: bytes, attrs: dict[str, tuple[str, Any]] | None = None) -> int:
        """Index of the resource encoded as ``key``, decoding it the first time."""
        idx = self._res_idx.get(key)
        if idx is None:
            if attrs is None:
                attrs = decode_resource(key)
            idx = self._res_idx[key] = len(self.resources)
            self.resource_keys.append(key)
            self.resources.append(ResourceFacts(attrs=attrs))
        return idx

    def add_problem(
        self,
        code: str,
        kind: str,
        message: str,
        loc: Loc,
        line: int | None,
        count: int = 1,
        samples: list[int] | None = None,
    ) -> None:
        """Count a read problem of ``kind`` in the file of ``loc`` (``samples``: its records, else
        ``loc``'s). The message is kept as a report may show it (``redact.shown``: clipped, its
        credentials masked), so a shard holds no credential from a malformed record either."""
        message = shown(message)
        key = (code, loc[0], kind)
        seen = samples if samples is not None else [loc[1]]
        prob = ReadProblem(
            code, kind, message, count, loc, line, sorted(seen)[:MAX_PROBLEM_SAMPLES]
        )
        mine = self.problems.get(key)
        if mine is None:
            self.problems[key] = prob
        else:
            mine.absorb(prob)

    def add_bad_id(self, res: int, what: str, problem: str, loc: Loc) -> None:
        """Count an invalid id in field ``what`` of a record of resource ``res``."""
        key = (res, what, problem)
        entry = self.bad_ids.get(key)
        if entry is None:
            self.bad_ids[key] = [1, loc]
        else:
            entry[0] += 1

    # -- locations -------------------------------------------------------------
    def location(self, loc: Loc) -> Location:
        """A report Location for a corpus location."""
        path = self.paths[loc[0]]
        if self.path_lines[loc[0]]:
            return Location(path, record=loc[1], line=loc[1])
        return Location(path, record=loc[1])

    # -- summary ---------------------------------------------------------------
    def totals(self) -> dict[str, int]:
        """Records seen per kind."""
        sums = [0] * 7
        for r in self.resources:
            for i, c in enumerate(r.counts):
                sums[i] += c
        return {
            "spans": sums[SPANS],
            "logs": sums[LOGS],
            "data_points": sums[POINTS],
            "exemplars": sums[EXEMPLARS],
        }

    def services_in(self, file: int) -> list[str | None]:
        """The services (``service.name``, None when missing) whose records are in ``file``."""
        found = {self.resources[r].service for f, r in self.file_resources if f == file}
        return sorted(found, key=lambda s: (s is not None, s or ""))

    # -- derived from the declarations -------------------------------------------
    def row_tables(self) -> dict[str, Rows]:
        """Every row table, by name."""
        return {name: getattr(self, name) for name, _cls in declared(type(self)).tables}

    def use_rows(self, other: Corpus) -> None:
        """Hold ``other``'s row tables instead of its own (``other``: a part from ``split``)."""
        for name, _cls in declared(type(self)).tables:
            setattr(self, name, getattr(other, name))

    def shift_records(self, delta: int) -> None:
        """Add ``delta`` to every record number: a shard read from the middle of a file
        numbered its records from 1, and learns only afterwards how many came before."""
        if not delta:
            return
        for rows_ in self.row_tables().values():
            rows_.shift(delta)
        per_resource = [(name, law) for name, law in declared(ResourceFacts).facts if law.shifts]
        for res in self.resources:
            for name, law in per_resource:
                setattr(res, name, law.shift(getattr(res, name), delta))
        for name, law in declared(type(self)).facts:
            if law.shifts:
                setattr(self, name, law.shift(getattr(self, name), delta))

    def merge(self, other: Self) -> Self:
        """Fold ``other`` into this corpus (in place) and return it: rows are concatenated
        with their references renumbered, every other fact combines by its law."""
        file_map = [
            self.path_index(p, lines)
            for p, lines in zip(other.paths, other.path_lines, strict=True)
        ]
        str_map = [self.string_index(s) for s in other.strings]
        res_map = [
            self.resource_index(key, facts.attrs)
            for key, facts in zip(other.resource_keys, other.resources, strict=True)
        ]
        ren = Renumbering({RES: res_map, FILE: file_map, STR: str_map}, self.paths)
        per_resource = declared(ResourceFacts).facts
        for idx, theirs in zip(res_map, other.resources, strict=True):
            mine = self.resources[idx]
            for name, law in per_resource:
                setattr(mine, name, law.merge(getattr(mine, name), getattr(theirs, name), ren))
        decl = declared(type(self))
        for name, _cls in decl.tables:
            getattr(self, name).extend(getattr(other, name), ren)
        for name, law in decl.facts:
            setattr(self, name, law.merge(getattr(self, name), getattr(other, name), ren))
        return self

    def absorb_settled(
        self,
        settled: dict[tuple[str, str | None, str | None], Settled],
        edges: dict[tuple[str | None, str | None], list[int]],
        traces: int,
        resolved_logs: dict[str | None, int] | None = None,
    ) -> None:
        """Add windowed hits and edges of evaluated-and-freed traces."""
        same = Renumbering.same(self.paths)
        law = declared(type(self)).laws
        self.settled = law["settled"].merge(self.settled, settled, same)
        self.settled_edges = law["settled_edges"].merge(self.settled_edges, edges, same)
        self.settled_traces += traces
        self.settled_resolved_logs = law["settled_resolved_logs"].merge(
            self.settled_resolved_logs, resolved_logs or {}, same
        )

    def canonical(self) -> dict[str, object]:
        """An order-free description of every fact, equal for equal corpora."""
        refs: dict[Ref, list[Hashable]] = {
            RES: list(self.resource_keys),
            FILE: list(self.paths),
            STR: list(self.strings),
        }
        res = Resolver(refs)
        per_resource = declared(ResourceFacts).facts
        out: dict[str, object] = {
            "resources": {
                key: tuple(law.canonical(getattr(facts, name), res) for name, law in per_resource)
                for key, facts in zip(self.resource_keys, self.resources, strict=True)
            }
        }
        for name, rows_ in self.row_tables().items():
            out[name] = rows_.canonical(res)
        for name, law in declared(type(self)).facts:
            out[name] = law.canonical(getattr(self, name), res)
        return out


C = TypeVar("C", bound=Corpus)


def split(corpus: C, trace_ids: set[bytes], before: Mapping[str, int] | None = None) -> tuple[C, C]:
    """Two corpora sharing every fact of ``corpus`` but its rows: the first holds the rows of
    ``trace_ids``, the second the others (rows that carry no trace id stay in both).

    ``before`` is the caller's word that no row of ``trace_ids`` sits at or after row
    ``before[name]`` of table ``name`` (the sidecar's window knows when rows arrived):
    those rows go to the second corpus without being looked at.
    """
    inside = copy.copy(corpus)
    outside = copy.copy(corpus)
    for name, rows_ in corpus.row_tables().items():
        mask = rows_.members(trace_ids, (before or {}).get(name))
        if mask is not None:
            setattr(inside, name, rows_.select(mask))
            setattr(outside, name, rows_.select(mask.translate(NOT), keep_after=True))
    return inside, outside


def within(corpus: C, trace_ids: set[bytes], before: Mapping[str, int] | None = None) -> C:
    """The first corpus of ``split``, without building the second."""
    inside = copy.copy(corpus)
    for name, rows_ in corpus.row_tables().items():
        mask = rows_.members(trace_ids, (before or {}).get(name))
        if mask is not None:
            setattr(inside, name, rows_.select(mask))
    return inside
