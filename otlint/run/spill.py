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
import pickle
import re
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import compress
from types import TracebackType

from otlint.core.errors import OtlintError
from otlint.core.wire import CONSUMER, SERVER
from otlint.telemetry.analysis import Across, Context, TraceFacts
from otlint.telemetry.corpus.columns import rows
from otlint.telemetry.corpus.corpus import Corpus
from otlint.telemetry.corpus.schema import Renumbering, Rows, declared

#: Files rows are spilled into (a power of two; a partition is a few of them).
BUCKETS = 64
#: The budget when --max-memory is not given.
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

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int | None:
    """Bytes of a size such as ``300M``, ``2G``, ``1.5g``, ``512MiB`` or ``1000000``
    (K, M, G, T are powers of 1024); None for ``0``, ``none`` or ``unlimited`` (no bound)."""
    if text.strip().lower() in ("0", "none", "unlimited"):
        return None
    found = _SIZE.fullmatch(text)
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
        self.folder = tempfile.mkdtemp(prefix="otlint-spill-", dir=folder)
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
        chunks: list[dict[str, dict[str, object]]] = [{} for _ in range(BUCKETS)]
        for name, table in corpus.row_tables().items():
            n = len(table)
            spec = table.trace_column()
            if not n or spec is None or spec.trace is None:
                continue
            ids = getattr(table, spec.name)
            of = _buckets(ids, spec.width, spec.trace)
            if name == "links" and not self._crossing:
                self._crossing = of != _buckets(ids, spec.width, 24)
            order = sorted(range(n), key=of.__getitem__)
            starts = _starts(Counter(of))
            for col, data in table.columns():
                moved, w = _permuted(data, col.width, order)
                for b, (a, z) in starts.items():
                    chunks[b].setdefault(name, {})[col.name] = moved[a * w : z * w]
        for b, chunk in enumerate(chunks):
            if not chunk:
                continue
            try:
                with open(self._path(b), "ab") as f:
                    pickle.dump(chunk, f, protocol=pickle.HIGHEST_PROTOCOL)
            except OSError as exc:
                raise OtlintError(
                    f"{self.folder}: cannot spill rows to disk ({exc.strerror}): free some room "
                    "there (TMPDIR chooses the folder) or raise --max-memory"
                ) from None
            self.sizes[b] += sum(_nbytes(d) for t in chunk.values() for d in t.values())
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
        part.use_rows(fresh)
        part.span_index_hint = None
        tables = fresh.row_tables()
        same = Renumbering.same(corpus.paths)
        for chunk in self._chunks(buckets):
            for name, cols in chunk.items():
                table: Rows = type(tables[name])()
                for spec, _empty in table.columns():
                    data = cols[spec.name]
                    # (A bytes column may come as 64-bit lanes: its bytes are the rows'.)
                    setattr(table, spec.name, bytearray(data) if spec.width else data)  # type: ignore[call-overload]
                tables[name].extend(table, same)
        return part

    def _chunks(self, buckets: list[int]) -> Iterator[dict[str, dict[str, object]]]:
        for b in buckets:
            if not self.sizes[b]:
                continue
            with open(self._path(b), "rb") as f:
                while True:
                    try:
                        yield pickle.load(f)
                    except EOFError:
                        break

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
        return os.path.join(self.folder, f"{bucket:02d}.rows")

    def close(self) -> None:
        """Remove the folder and what was spilled into it."""
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


def _permuted(
    data: bytes | bytearray | array[int], width: int, order: list[int]
) -> tuple[bytes | array[int], int]:
    """The rows of a column in ``order``, and the items a row takes in what is returned.

    A bytes column of 8-byte multiples is moved as unsigned 64-bit lanes (each lane one
    strided copy): no ``bytes`` object per row."""
    if isinstance(data, array):
        return array(data.typecode, map(data.__getitem__, order)), 1
    if width % 8 or not data:
        return bytes(b"".join(map(rows(data, width).__getitem__, order))), width
    lanes = width // 8
    src = memoryview(data).cast("Q")
    out = array("Q")
    out.frombytes(bytes(len(data)))
    for k in range(lanes):
        out[k::lanes] = array("Q", map(src[k::lanes].__getitem__, order))
    return out, lanes


def _nbytes(data: object) -> int:
    if isinstance(data, array):
        return len(data) * data.itemsize
    return len(data) if isinstance(data, bytes | bytearray) else 0
