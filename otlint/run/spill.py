"""``--max-memory``: spill the Corpus' rows to disk by trace, and judge one partition at a time.

A Corpus is small but for its row tables (spans, log and exemplar references, span
links), which grow with the capture. When the rows held pass the process's share of
the budget, ``Spill.spill`` moves them into a private temporary folder: every row goes
to one of ``BUCKETS`` files by a hash of its trace id (links by their consumer span's
trace), so each file holds every row of its traces. The keyed facts (resources,
attribute statistics, bad ids, problems) stay in memory: they grow with the variety of
the telemetry, not its volume.

After the last input, ``judge`` loads the buckets a few at a time (as many as fit the
budget), builds each partition's span graph and references (``Context.trace_facts``)
and merges them (``TraceFacts.merge``); the rules then run once, over those merged
facts and the keyed facts, and find what one pass over every row finds. What looks
across traces comes from the whole input (``analysis.Across``): the addresses SERVER
spans serve (collected as rows are spilled), and links from a consumer span in one
partition to a producer in another (a first pass over the partitions with such links).

The folder is removed when the ``Spill`` is closed: at the end, on an error, on Ctrl-C.
"""

from __future__ import annotations

import copy
import os
import re
from array import array
from collections import Counter
from itertools import compress
from types import TracebackType
from typing import cast

from otlint.core.errors import OtlintError
from otlint.core.wire import CONSUMER, SERVER
from otlint.telemetry.analysis import Across, Context, TraceFacts
from otlint.telemetry.corpus.columns import gather, rows
from otlint.telemetry.corpus.corpus import Corpus
from otlint.telemetry.corpus.schema import Column, Rows, declared

#: Files rows are spilled into (a power of two; a partition is a few of them).
BUCKETS = 64
#: The budget when --max-memory is not given: a laptop's share for one command (as
#: ``DEFAULT_MAX_MEMORY`` says it).
DEFAULT_BUDGET = 512 << 20
DEFAULT_MAX_MEMORY = "512M"
#: What the interpreter, the modules and the keyed facts take before any row: the part of
#: the budget rows cannot have, per process.
BASE = 48 << 20
#: Memory a row costs while it is judged (span index, graph, parents), over its bytes in
#: the columns: measured on the bench corpus.
JUDGING = 6
#: Input bytes a worker's share of the budget can read as one piece.
PIECE = 1
#: Memory a row costs while read and merged (the columns, copies while growing and while
#: spilled), over its bytes in the columns.
READING = 3

#: A size (compiled when a size is given: most runs take the default, parsed by hand).
_SIZE = r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*"
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int | None:
    """Bytes of a size such as ``300M``, ``2G``, ``1.5g``, ``512MiB`` or ``1000000``
    (K, M, G, T are powers of 1024); None for ``0``, ``none`` or ``unlimited`` (no bound)."""
    if text.strip().lower() in ("0", "none", "unlimited"):
        return None
    found = re.fullmatch(_SIZE, text, re.IGNORECASE)
    if found is None:
        raise OtlintError(
            f"--max-memory {text!r}: not a size: give a number with K, M or G (300M, 2G), or 0 for no bound"
        )
    size = int(float(found.group(1)) * _UNITS[found.group(2).lower()])
    if size == 0:
        return None
    if size < 1 << 20:
        raise OtlintError(f"--max-memory {text!r}: too small: give at least 1M (0 for no bound)")
    return size


def row_bytes(corpus: Corpus) -> int:
    """Bytes the corpus' row tables hold in their columns."""
    total = 0
    for table in corpus.row_tables().values():
        width = _WIDTHS.get(type(table))
        if width is None:
            width = _WIDTHS[type(table)] = sum(
                spec.width or array(spec.typecode).itemsize
                for spec in declared(type(table)).columns
            )
        total += len(table) * width
    return total


#: Bytes a row of each row table takes in its columns.
_WIDTHS: dict[type[Rows], int] = {}


def _buckets(column: bytes | bytearray, width: int, at: int) -> bytes:
    """One byte per row: its bucket, from the 16 bytes of the trace id at ``at`` (XOR-ed:
    ids random in any of their bytes spread alike)."""
    n = len(column) // width
    acc = 0
    for j in range(16):
        acc ^= int.from_bytes(column[at + j :: width], "little")
    return acc.to_bytes(n, "little").translate(_MOD)


_MOD = bytes(b % BUCKETS for b in range(256))
_IS_SERVER = bytes(1 if k in (SERVER, CONSUMER) else 0 for k in range(256))


class Spill:
    """Rows spilled into a private temporary folder by trace (see the module docstring).

    ``limit``: the bytes of rows a process holds before it spills (``due``); ``judging``:
    the bytes of rows a partition may hold while it is judged.
    """

    def __init__(
        self, limit: int, judging: int, piece: int | None = None, folder: str | None = None
    ) -> None:
        self.limit = limit
        self.judging = judging
        #: The most input bytes a piece read by one worker may have (``parallel.plan_inputs``).
        self.piece = piece
        self._parent = folder
        #: The private folder, made at the first spill.
        self.folder: str | None = None
        self.sizes = [0] * BUCKETS  # bytes of rows per bucket
        self.spills = 0
        self.across = Across()
        # Links whose producer's trace is in another bucket than their consumer's.
        self._crossing = False

    @classmethod
    def for_budget(cls, budget: int, processes: int, folder: str | None = None) -> Spill:
        """A spill for ``budget`` bytes shared by ``processes`` processes (its temporary
        folder made in ``folder``, else where ``tempfile`` makes them: ``TMPDIR``)."""
        # (A budget below what the interpreter takes is not kept: rows are then spilled
        # almost as soon as they are read.)
        each = budget // max(1, processes)
        share = max(each - BASE, each // 8)
        whole = max(budget - BASE, budget // 8)
        return cls(share // READING, whole // JUDGING, share * PIECE, folder)

    # -- while reading -----------------------------------------------------------------
    def due(self, corpus: Corpus) -> bool:
        """Whether the corpus holds more rows than this process may."""
        return row_bytes(corpus) > self.limit

    def spill(self, corpus: Corpus) -> None:
        """Move every row of ``corpus`` into the buckets (its row tables are left empty)."""
        spans = corpus.spans
        if len(spans):
            mask = spans.kind.translate(_IS_SERVER)
            self.across.served.update(
                zip(compress(spans.addr, mask), compress(spans.res, mask), strict=True)
            )
        if self.folder is None:
            import tempfile  # (~9 ms: only a run that spills pays it)

            try:
                self.folder = tempfile.mkdtemp(prefix="otlint-spill-", dir=self._parent)
            except OSError as exc:
                raise OtlintError(
                    f"{self._parent or tempfile.gettempdir()}: cannot make a folder to spill rows"
                    f" into ({exc.strerror}): set TMPDIR to a folder otlint can write, or raise"
                    " --max-memory (0: no bound)"
                ) from None
        blobs: list[list[tuple[int, bytes]]] = [[] for _ in range(BUCKETS)]
        for t, (name, table) in enumerate(corpus.row_tables().items()):
            spec = table.trace_column()
            if not len(table) or spec is None or spec.trace is None:
                continue
            ids = getattr(table, spec.name)
            if name == "links" and not self._crossing:
                self._crossing = _buckets(ids, spec.width, 0) != _buckets(ids, spec.width, 24)
            matrix = _matrix(table)
            width = _row_width(type(table))
            for col, _data in table.columns():  # (its rows are in ``matrix`` now)
                setattr(table, col.name, col.empty())
            for at in range(0, len(matrix), width * _SLICE):
                part = bytes(memoryview(matrix)[at : at + width * _SLICE])
                for b, rows_b in _by_bucket(part, width, spec.trace).items():
                    blobs[b].append((t, rows_b))
        for b, found in enumerate(blobs):
            if not found:
                continue
            try:
                with open(self._path(b), "ab") as f:
                    for t, data in found:
                        f.write(bytes([t]) + len(data).to_bytes(8, "little"))
                        f.write(data)
            except OSError as exc:
                raise OtlintError(
                    f"{self.folder}: cannot spill rows to disk ({exc.strerror}): free some room "
                    "there (TMPDIR chooses the folder) or raise --max-memory"
                ) from None
            self.sizes[b] += sum(len(data) for _, data in found)
        corpus.use_rows(Corpus())
        corpus.span_index_hint = None
        self.spills += 1

    # -- judging -------------------------------------------------------------------------
    def context(self, corpus: Corpus) -> Context:
        """What the rules evaluate over once every input is read: ``corpus``'s keyed facts
        and the merged trace facts of all its rows (those still held are spilled first)."""
        if row_bytes(corpus):
            self.spill(corpus)
        return Context(corpus, facts=self.judge(corpus))

    def partitions(self) -> list[list[int]]:
        """The buckets in groups that each fit ``judging`` bytes (a bucket alone may not)."""
        groups: list[list[int]] = []
        held = 0
        for b, size in enumerate(self.sizes):
            if not size:
                continue
            if groups and held + size <= self.judging:
                groups[-1].append(b)
                held += size
            else:
                groups.append([b])
                held = size
        return groups

    def load(self, corpus: Corpus, buckets: list[int]) -> Corpus:
        """A corpus sharing every keyed fact of ``corpus``, holding the rows of ``buckets``."""
        part = copy.copy(corpus)
        fresh = Corpus()
        tables = list(fresh.row_tables().values())
        found: list[list[memoryview]] = [[] for _ in tables]
        for b in buckets:
            if not self.sizes[b]:
                continue
            with open(self._path(b), "rb") as f:
                data = memoryview(f.read())
            at = 0
            while at < len(data):
                t = data[at]
                size = int.from_bytes(data[at + 1 : at + 9], "little")
                found[t].append(data[at + 9 : at + 9 + size])
                at += 9 + size
        for table, blobs in zip(tables, found, strict=True):
            if blobs:
                _unpack(table, b"".join(blobs))
            blobs.clear()
        part.use_rows(fresh)
        part.span_index_hint = None
        return part

    def judge(self, corpus: Corpus) -> TraceFacts:
        """The trace facts of every spilled row, one partition at a time, merged."""
        groups = self.partitions()
        if self._crossing:
            self._handoff(corpus, groups)
        total: TraceFacts | None = None
        for group in groups:
            facts = Context(self.load(corpus, group), across=self.across).trace_facts()
            total = facts if total is None else total.merge(facts)
        if total is None:  # (nothing was spilled: the facts of no rows)
            total = Context(corpus, across=self.across).trace_facts()
        return total

    def _handoff(self, corpus: Corpus, groups: list[list[int]]) -> None:
        """Links whose producer is in another partition: the service of their consumer span
        (a SERVER/CONSUMER span of this partition) for the producer's partition to use."""
        group_of = {b: g for g, group in enumerate(groups) for b in group}
        for g, group in enumerate(groups):
            part = self.load(corpus, group)
            links = part.links
            if not len(links):
                continue
            away = _buckets(links.ids, 48, 24)
            leaving = [
                i for i, b in enumerate(away) if group_of.get(b, -1) != g
            ]  # (a bucket with no rows is no partition)
            if not leaving:
                continue
            ctx = Context(part)
            index, spans = ctx.span_index, part.spans
            svc_of = [r.service for r in part.resources]
            for i in leaving:
                consumer = index.get(bytes(links.ids[48 * i : 48 * i + 24]))
                if consumer is not None and spans.kind[consumer] in (SERVER, CONSUMER):
                    self.across.handoff.append(
                        (bytes(links.ids[48 * i + 24 : 48 * i + 48]), svc_of[spans.res[consumer]])
                    )

    # -- the folder -------------------------------------------------------------------
    def _path(self, bucket: int) -> str:
        assert self.folder is not None, "nothing was spilled"
        return os.path.join(self.folder, f"{bucket:02d}.rows")

    def close(self) -> None:
        """Remove the folder and what was spilled into it."""
        if self.folder is not None:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _starts(counts: Counter[int]) -> dict[int, tuple[int, int]]:
    """Per bucket with rows: its rows' [start, end) once sorted by bucket."""
    out: dict[int, tuple[int, int]] = {}
    at = 0
    for b in sorted(counts):
        out[b] = (at, at + counts[b])
        at += counts[b]
    return out


#: Rows sorted into buckets at a time (what a spill holds besides the rows themselves).
_SLICE = 1 << 15


def _layout(table: type[Rows]) -> list[tuple[Column, int]]:
    """Each column of the table and the bytes it takes in a row."""
    return [(spec, spec.width or array(spec.typecode).itemsize) for spec in declared(table).columns]


def _row_width(table: type[Rows]) -> int:
    return sum(w for _, w in _layout(table))


def _matrix(table: Rows) -> bytearray:
    """The table's rows as one row-major block: each row its columns' bytes, side by side."""
    n = len(table)
    parts = []
    for spec, w in _layout(type(table)):
        data = getattr(table, spec.name)
        # (A view of an int column's bytes: ``gather`` takes any buffer.)
        parts.append((cast(bytes, memoryview(data).cast("B")), w, 0, w))
    return gather(n, *parts)


def _unpack(table: Rows, matrix: bytes) -> None:
    """Fill ``table``'s columns from a row-major block ``_matrix`` made."""
    layout = _layout(type(table))
    width = sum(w for _, w in layout)
    n = len(matrix) // width
    at = 0
    for spec, w in layout:
        column = gather(n, (matrix, width, at, w))
        if spec.width:
            setattr(table, spec.name, column)
        else:
            ints = array(spec.typecode)
            ints.frombytes(column)
            setattr(table, spec.name, ints)
        at += w


def _by_bucket(block: bytes, width: int, trace: int) -> dict[int, bytes]:
    """The rows of a row-major block, by bucket (in their order within each)."""
    of = _buckets(block, width, trace)
    found = Counter(of)
    if len(found) == 1:
        return {of[0]: block}
    cut = rows(block, width)
    moved = b"".join(map(cut.__getitem__, sorted(range(len(cut)), key=of.__getitem__)))
    out = {}
    at = 0
    for b in sorted(found):
        out[b] = moved[at * width : (at + found[b]) * width]
        at += found[b]
    return out


def _nbytes(data: object) -> int:
    if isinstance(data, array):
        return len(data) * data.itemsize
    return len(data) if isinstance(data, bytes | bytearray) else 0
