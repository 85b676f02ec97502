"""The Corpus: the facts that rules need, extracted once, mergeable across shards.

A Corpus is what ``observe`` builds from OTLP messages. Two Corpus shards built from
two halves of the input merge into the same facts as one pass over everything
(``merge`` is associative and commutative up to ``canonical()``), which is what lets
otlint split a dump across processes and a live stream across sidecars.

Spans, log references and exemplar references are kept as compact columns (bytes and
``array``), not objects: a million spans cost tens of megabytes, not gigabytes.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any

from otlint.core.finding import Location
from otlint.core.wire import decode_resource


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

    @property
    def label(self) -> str:
        """Lower-case name used in reports."""
        return {0: "resource", 1: "span", 2: "log record", 3: "data point", 4: "span event"}[
            int(self)
        ]


#: A location inside the corpus: (path index, record number).
Loc = tuple[int, int]

# Per-resource counters (indexes into ResourceFacts.counts).
SPANS, LOGS, POINTS, LOGS_WITH_IDS, EXEMPLARS, LOGS_IDATTR_NO_IDS, LOGS_IDATTR = range(7)


@dataclass
class ResourceFacts:
    """One distinct Resource (deduplicated by its encoded bytes) and what used it."""

    attrs: dict[str, tuple[str, Any]]
    counts: list[int] = field(default_factory=lambda: [0] * 7)
    signals: list[int] = field(default_factory=lambda: [0, 0, 0])
    first: list[Loc | None] = field(default_factory=lambda: [None, None, None])

    @property
    def service(self) -> str | None:
        """``service.name`` as seen, or None when missing or not a string."""
        t, v = self.attrs.get("service.name", ("empty", None))
        return v if t == "string" and isinstance(v, str) and v else None

    def value(self, key: str) -> Any:
        """The attribute's value, or None."""
        return self.attrs.get(key, ("empty", None))[1]


#: Rows unpacked per ``struct`` call: a format of n fields costs n entries while it lives.
_CHUNK = 1 << 14


@lru_cache(maxsize=8)
def _rows_of(width: int, n: int) -> struct.Struct:
    return struct.Struct(f"{width}s" * n)


def rows(data: bytes | bytearray, width: int) -> list[bytes]:
    """Cut fixed-width rows out of a column (twice as fast as ``re.findall``, in C)."""
    n, tail = divmod(len(data), width)
    if tail:
        raise ValueError(f"a column of {len(data)} bytes does not hold {width}-byte rows")
    out: list[bytes] = []
    whole = _rows_of(width, _CHUNK)
    step = width * _CHUNK
    end = (n // _CHUNK) * step
    for offset in range(0, end, step):
        out += whole.unpack_from(data, offset)
    if n % _CHUNK:
        out += _rows_of(width, n % _CHUNK).unpack_from(data, end)
    return out


#: bytes.translate table: 1 for a zero byte, 0 for any other.
_IS_ZERO = bytes([1]) + bytes(255)


def zero_rows(column: bytes | bytearray, width: int) -> bytes:
    """One byte per fixed-width row of ``column``: 1 where every byte of the row is zero.

    Byte j of every row, taken by one strided copy, is read as one big little-endian
    integer; OR-ing the ``width`` integers leaves byte i zero exactly when row i is.
    All in C, ten times faster than comparing each row's bytes.
    """
    n, tail = divmod(len(column), width)
    if tail:
        raise ValueError(f"a column of {len(column)} bytes does not hold {width}-byte rows")
    acc = 0
    for j in range(width):
        acc |= int.from_bytes(column[j::width], "little")
    return acc.to_bytes(n, "little").translate(_IS_ZERO)


def gather(n: int, *parts: tuple[bytes | bytearray, int, int, int]) -> bytearray:
    """``n`` rows, each the concatenation of byte ranges of other fixed-width columns.

    A part is (column, its row width, start, length): bytes ``start`` to
    ``start + length`` of each of the column's ``n`` rows. The copies are strided
    slice assignments, one per byte position, in C: far cheaper than a slice and a
    concatenation per row.
    """
    width = sum(length for _, _, _, length in parts)
    out = bytearray(width * n)
    at = 0
    for column, w, start, length in parts:
        if len(column) != w * n:
            raise ValueError(f"a column of {len(column)} bytes does not hold {n} rows of {w}")
        for j in range(length):
            out[at + j :: width] = column[start + j :: w]
        at += length
    return out


def renumbered(column: array[int], mapping: list[int]) -> array[int]:
    """``column`` with each index ``i`` replaced by ``mapping[i]``, and -1 (none) kept.

    When every index and its replacement fits in a byte below 255 (a shard's resources,
    files and strings usually do), the low byte of each little-endian 32-bit row is
    translated by one strided copy in C: ~40 times faster than a map over the rows.
    """
    if not mapping or mapping == list(range(len(mapping))):
        return column
    if (
        len(mapping) < 255
        and max(mapping) < 255
        and column.itemsize == 4
        and sys.byteorder == "little"
    ):
        table = bytearray(range(256))
        table[: len(mapping)] = bytes(mapping)  # -1's low byte (255) is left as it is
        raw = bytearray(column.tobytes())
        raw[0::4] = raw[0::4].translate(table)
        out = array(column.typecode)
        out.frombytes(raw)
        return out
    # -1 indexes the appended -1.
    return array(column.typecode, map([*mapping, -1].__getitem__, column))


def shifted(column: array[int], delta: int) -> array[int]:
    """``column`` with ``delta`` added to every row (``struct`` converts the ints in C)."""
    out = array(column.typecode)
    out.frombytes(struct.pack(f"{len(column)}{column.typecode}", *map(delta.__add__, column)))
    return out


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


class Table:
    """Compact columns of id-carrying records (spans, log references, exemplars)."""

    __slots__ = (
        "addr",
        "file",
        "flags",
        "ids",
        "kind",
        "parent",
        "peer",
        "rec",
        "res",
        "with_graph",
    )

    def __init__(self, with_graph: bool) -> None:
        self.with_graph = with_graph
        self.ids = bytearray()  # 24 bytes a row: trace id (16) + span id (8)
        self.res = array("i")
        self.file = array("i")
        self.rec = array("i")
        self.parent = bytearray()  # 8 bytes a row, zeros for a root (spans only)
        self.kind = bytearray()  # SpanKind (spans only)
        self.flags = array("I")
        self.addr = array("i")  # interned address a span serves or calls, -1 if none
        self.peer = array("i")  # interned peer.service of a client span, -1 if none

    def __len__(self) -> int:
        return len(self.res)

    def extend(
        self, other: Table, res_map: list[int], file_map: list[int], str_map: list[int]
    ) -> None:
        """Append ``other``'s rows, renumbering its resources, files and strings."""
        self.ids += other.ids
        self.res.extend(renumbered(other.res, res_map))
        self.file.extend(renumbered(other.file, file_map))
        self.rec.extend(other.rec)
        if self.with_graph:
            self.parent += other.parent
            self.kind += other.kind
            self.flags.extend(other.flags)
            self.addr.extend(renumbered(other.addr, str_map))
            self.peer.extend(renumbered(other.peer, str_map))

    def row(
        self, i: int, resources: list[bytes], paths: list[str], strings: list[str]
    ) -> tuple[Any, ...]:
        """Row ``i`` with indexes resolved, for canonical comparison."""
        base: tuple[Any, ...] = (
            bytes(self.ids[24 * i : 24 * i + 24]),
            resources[self.res[i]],
            paths[self.file[i]],
            self.rec[i],
        )
        if not self.with_graph:
            return base
        a, p = self.addr[i], self.peer[i]
        return (
            *base,
            bytes(self.parent[8 * i : 8 * i + 8]),
            self.kind[i],
            self.flags[i],
            strings[a] if a >= 0 else None,
            strings[p] if p >= 0 else None,
        )


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


class Corpus:
    """All facts one or more observe passes extracted; see the module docstring."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.path_lines: list[bool] = []  # record numbers of this path are line numbers
        self._path_idx: dict[str, int] = {}
        self.resource_keys: list[bytes] = []
        self.resources: list[ResourceFacts] = []
        self._res_idx: dict[bytes, int] = {}
        self.strings: list[str] = []
        self._str_idx: dict[str, int] = {}
        self.spans = Table(with_graph=True)
        self.logs = Table(with_graph=False)
        self.exemplars = Table(with_graph=False)
        # Span links of CONSUMER/SERVER spans, 48 bytes each: the span's trace id + span id,
        # then the linked span's (batch consumers link to their producers instead of
        # being their children).
        self.links = bytearray()
        # (resource, attribute level) -> {(key bytes, value type): count}
        self.attr_counts: dict[tuple[int, int], dict[tuple[bytes, int], int]] = {}
        self.attr_first: dict[tuple[int, int], dict[tuple[bytes, int], Loc]] = {}
        # (resource, record field, problem) -> [count, first location]
        self.bad_ids: dict[tuple[int, str, str], list[Any]] = {}
        self.problems: dict[tuple[str, int, str], ReadProblem] = {}
        # (path, resource) for every resource a file's records carry: whose file a problem is in.
        self.file_resources: set[tuple[int, int]] = set()
        # (resource, key, span kind) -> spans: the kinds of the spans carrying a wire.KIND_KEYS key.
        self.kind_keys: dict[tuple[int, bytes, int], int] = {}
        # Windowed rule hits and trace edges of traces evaluated and freed (the sidecar).
        self.settled: dict[tuple[str, str | None, str | None], Settled] = {}
        self.settled_edges: dict[tuple[str | None, str | None], list[int]] = {}
        self.settled_traces = 0
        self.settled_resolved_logs: dict[
            str | None, int
        ] = {}  # per service, logs that joined a span
        # The span index, when it was built while shards were merged (``--jobs``); it
        # counts only if it covers every span row (``analysis.Context``).
        self.span_index_hint: SpanIndex | None = None

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
        """Count a read problem of ``kind`` in the file of ``loc`` (``samples``: its records, else ``loc``'s)."""
        key = (code, loc[0], kind)
        seen = samples if samples is not None else [loc[1]]
        prob = self.problems.get(key)
        if prob is None:
            self.problems[key] = ReadProblem(
                code, kind, message, count, loc, line, sorted(seen)[:MAX_PROBLEM_SAMPLES]
            )
        else:
            prob.count += count
            prob.samples = sorted({*prob.samples, *seen})[:MAX_PROBLEM_SAMPLES]
            if loc[1] < prob.first[1]:
                prob.first, prob.line, prob.message = loc, line, message

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

    def shift_records(self, delta: int) -> None:
        """Add ``delta`` to every record number: a shard read from the middle of a file
        numbered its records from 1, and learns only afterwards how many came before."""
        if not delta:
            return
        for table in (self.spans, self.logs, self.exemplars):
            table.rec = shifted(table.rec, delta)
        for res in self.resources:
            res.first = [None if f is None else (f[0], f[1] + delta) for f in res.first]
        for firsts in self.attr_first.values():
            for kt, (f, r) in firsts.items():
                firsts[kt] = (f, r + delta)
        for entry in self.bad_ids.values():
            entry[1] = (entry[1][0], entry[1][1] + delta)
        for prob in self.problems.values():
            prob.first = (prob.first[0], prob.first[1] + delta)
            prob.samples = [r + delta for r in prob.samples]
            if prob.line is not None:
                prob.line += delta

    # -- merge -----------------------------------------------------------------
    def merge(self, other: Corpus) -> Corpus:
        """Fold ``other`` into this corpus (in place) and return it."""
        file_map = [
            self.path_index(p, lines)
            for p, lines in zip(other.paths, other.path_lines, strict=True)
        ]
        str_map = [self.string_index(s) for s in other.strings]
        res_map: list[int] = []
        for key, facts in zip(other.resource_keys, other.resources, strict=True):
            idx = self.resource_index(key, facts.attrs)
            res_map.append(idx)
            mine = self.resources[idx]
            for i, c in enumerate(facts.counts):
                mine.counts[i] += c
            for s in range(3):
                mine.signals[s] += facts.signals[s]
                theirs = facts.first[s]
                if theirs is not None:
                    moved = (file_map[theirs[0]], theirs[1])
                    current = mine.first[s]
                    if current is None or self._loc_key(moved) < self._loc_key(current):
                        mine.first[s] = moved
        self.spans.extend(other.spans, res_map, file_map, str_map)
        self.links += other.links
        self.logs.extend(other.logs, res_map, file_map, str_map)
        self.exemplars.extend(other.exemplars, res_map, file_map, str_map)
        for (r, lvl), counts in other.attr_counts.items():
            akey = (res_map[r], lvl)
            mine_counts = self.attr_counts.setdefault(akey, {})
            mine_first = self.attr_first.setdefault(akey, {})
            theirs_first = other.attr_first.get((r, lvl), {})
            for kt, c in counts.items():
                mine_counts[kt] = mine_counts.get(kt, 0) + c
                if kt in theirs_first:
                    loc = (file_map[theirs_first[kt][0]], theirs_first[kt][1])
                    if kt not in mine_first or self._loc_key(loc) < self._loc_key(mine_first[kt]):
                        mine_first[kt] = loc
        for (r, what, prob), (c, loc) in other.bad_ids.items():
            bkey = (res_map[r], what, prob)
            loc = (file_map[loc[0]], loc[1])
            entry = self.bad_ids.get(bkey)
            if entry is None:
                self.bad_ids[bkey] = [c, loc]
            else:
                entry[0] += c
                if self._loc_key(loc) < self._loc_key(entry[1]):
                    entry[1] = loc
        self.file_resources.update((file_map[f], res_map[r]) for f, r in other.file_resources)
        for (r, key, kind), count in other.kind_keys.items():
            kk = (res_map[r], key, kind)
            self.kind_keys[kk] = self.kind_keys.get(kk, 0) + count
        for p in other.problems.values():
            loc = (file_map[p.first[0]], p.first[1])
            self.add_problem(p.code, p.kind, p.message, loc, p.line, p.count, samples=p.samples)
        self.absorb_settled(
            other.settled, other.settled_edges, other.settled_traces, other.settled_resolved_logs
        )
        return self

    def absorb_settled(
        self,
        settled: dict[tuple[str, str | None, str | None], Settled],
        edges: dict[tuple[str | None, str | None], list[int]],
        traces: int,
        resolved_logs: dict[str | None, int] | None = None,
    ) -> None:
        """Add windowed hits and edges of evaluated-and-freed traces."""
        for key, hit in settled.items():
            mine = self.settled.get(key)
            if mine is None:
                self.settled[key] = Settled(
                    hit.count, hit.message, list(hit.locations), dict(hit.context)
                )
            else:
                mine.absorb(hit)
        for edge, (calls, joined) in edges.items():
            entry = self.settled_edges.setdefault(edge, [0, 0])
            entry[0] += calls
            entry[1] += joined
        self.settled_traces += traces
        for svc, n in (resolved_logs or {}).items():
            self.settled_resolved_logs[svc] = self.settled_resolved_logs.get(svc, 0) + n

    def _loc_key(self, loc: Loc) -> tuple[str, int]:
        return (self.paths[loc[0]], loc[1])

    def services_in(self, file: int) -> list[str | None]:
        """The services (``service.name``, None when missing) whose records are in ``file``."""
        found = {self.resources[r].service for f, r in self.file_resources if f == file}
        return sorted(found, key=lambda s: (s is not None, s or ""))

    # -- comparison ------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """An order-free description of every fact, equal for equal corpora."""
        rk, paths, strs = self.resource_keys, self.paths, self.strings

        def loc(lc: Loc | None) -> tuple[str, int] | None:
            return None if lc is None else (paths[lc[0]], lc[1])

        return {
            "resources": sorted(
                (k, r.counts, r.signals, [loc(f) for f in r.first])
                for k, r in zip(rk, self.resources, strict=True)
            ),
            "spans": sorted(self.spans.row(i, rk, paths, strs) for i in range(len(self.spans))),
            "logs": sorted(self.logs.row(i, rk, paths, strs) for i in range(len(self.logs))),
            "exemplars": sorted(
                self.exemplars.row(i, rk, paths, strs) for i in range(len(self.exemplars))
            ),
            "links": sorted(bytes(self.links[i : i + 48]) for i in range(0, len(self.links), 48)),
            "attrs": sorted(
                (rk[r], lvl, kt, c, loc(self.attr_first.get((r, lvl), {}).get(kt)))
                for (r, lvl), counts in self.attr_counts.items()
                for kt, c in counts.items()
            ),
            "bad_ids": sorted(
                (rk[r], w, p, c, loc(lc)) for (r, w, p), (c, lc) in self.bad_ids.items()
            ),
            "problems": sorted(
                (p.code, paths[f], k, p.count, loc(p.first), p.message, p.samples)
                for (_, f, k), p in self.problems.items()
            ),
            "settled": sorted(
                (c, s or "", p or "", h.count, sorted(h.context.items()))
                for (c, s, p), h in self.settled.items()
            ),
            "settled_edges": sorted(
                ((a or "", b or ""), v) for (a, b), v in self.settled_edges.items()
            ),
            "file_resources": sorted((paths[f], rk[r]) for f, r in self.file_resources),
            "kind_keys": sorted(
                (rk[r], key, kind, n) for (r, key, kind), n in self.kind_keys.items()
            ),
            "settled_traces": self.settled_traces,
            "settled_resolved_logs": sorted(
                (s or "", n) for s, n in self.settled_resolved_logs.items()
            ),
        }
