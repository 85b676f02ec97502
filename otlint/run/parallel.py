"""``--jobs N``: read inputs in N processes, each into a Corpus shard, then merge.

Work is cut into units of about equal size: whole files, and pieces of large JSON Lines
or proto-framed files cut at record boundaries (compressed files are read whole: on a
``--max-memory`` budget, in parts, ``_Parts``).
``jobs - 1`` worker processes and the parent claim units, largest first, from a shared
counter. A worker pickles each shard into a private temporary folder (these are this
run's own processes, so the safe ``otlint.telemetry.corpus.shard`` format and its compression are not
needed); the parent keeps its own shards as they are. Between its own units, and
while it waits for the workers' last ones, it merges the shards that are in (and
indexes their spans once it has nothing left to read). A piece of a framed file knows
the frames before it (the cut counted them), so it is numbered where it is read and
merged in any order; a piece of a JSON Lines file waits for the pieces before it
(its line numbers are shifted by theirs). Merging is order-free, so the findings
equal those of ``--jobs 1``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Never, Protocol, TypeAlias

from otlint.core.errors import OtlintError
from otlint.run.scan import Inputs, ScanStats, find_inputs, read_file, read_source, scan_serial
from otlint.telemetry.corpus.corpus import Corpus, SpanIndex
from otlint.telemetry.observe import Observer
from otlint.telemetry.readers import (
    SPLITTABLE,
    Foreign,
    Item,
    Skipped,
    Source,
    open_range,
    open_source,
    split_points,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from otlint.run.scan import Progress
    from otlint.run.spill import Spill

#: Files smaller than this are never cut.
MIN_PIECE = 8 << 20
#: Inputs smaller than this are read in one process whatever --jobs says.
SMALL_INPUT = 4 << 20
#: Units per process: more balance the load (a megabyte of spans is more work than one of
#: logs), fewer cost less to merge.
PIECES_PER_JOB = 4


@dataclass(frozen=True)
class Unit:
    """One piece of work: a whole file, or bytes [start, end) of a splittable one.

    ``first`` is the number of records before ``start`` when the cut knew it (frames),
    None when the piece's record numbers must be shifted after reading (lines).
    """

    path: str
    fmt: str | None = None
    start: int = 0
    end: int = 0
    first: int | None = None


def plan(
    paths: Sequence[str], jobs: int, skipped: list[tuple[str, str]] | None = None
) -> list[Unit]:
    """Cut the inputs into units, about four per process (what a walk skips: ``skipped``)."""
    inputs = find_inputs(paths, sized=True)
    if skipped is not None:
        skipped += inputs.notes
    return plan_inputs(inputs, jobs)


def plan_inputs(
    inputs: Inputs, jobs: int, chunk: int | None = None, largest: int | None = None
) -> list[Unit]:
    """``plan`` for inputs already expanded and sized (``chunk``: the bytes of a piece,
    instead of the inputs over four pieces per job, at least ``MIN_PIECE``; ``largest``:
    the most bytes a piece may have (a memory budget's), where files can be cut)."""
    sizes = [size or 0 for size in inputs.sizes or [os.path.getsize(p) for p in inputs.files]]
    if chunk is None:
        chunk = max(MIN_PIECE, sum(sizes) // max(1, PIECES_PER_JOB * jobs))
    if largest is not None:
        chunk = max(MIN_PIECE // 8, min(chunk, largest * 2 // 3))
    units: list[Unit] = []
    for path, size in zip(inputs.files, sizes, strict=True):
        if size > chunk * 3 // 2:
            source = open_source(path)
            # (JSON Lines not known to be OTLP from its first lines is read whole, as --jobs 1 does.)
            fmt = source.format if source.skip is None and source.decided else None
            source.close()
            if fmt in SPLITTABLE:
                units += [
                    Unit(path, fmt, a, b, first)
                    for a, b, first in split_points(path, fmt, size, chunk)
                ]
                continue
        units.append(Unit(path))
    return units


def plan_for(inputs: Inputs, jobs: int, spill: Spill | None) -> list[Unit]:
    """``plan_inputs`` for a run on the budget of ``spill``: pieces no larger than a
    worker's share can read (a budget only ever makes them smaller)."""
    return plan_inputs(inputs, jobs, largest=None if spill is None else spill.piece)


def _read(
    unit: Unit,
    strict: bool,
    progress: Progress | None = None,
    parts: int | None = None,
    hand_over: Callable[[tuple[Corpus, ScanStats, int]], None] | None = None,
    after: int = 0,
) -> tuple[Corpus, ScanStats, int]:
    """Read one unit into a shard; returns (shard, stats, records in the piece for numbering).

    A whole file (``parts`` and ``hand_over`` given) goes to ``hand_over`` in parts
    whenever its rows pass ``parts`` bytes, the last part returned; ``after``: its
    records up to this one were handed over already (by a worker that then died).
    """
    if unit.fmt is None:
        if (parts is None or hand_over is None) and not after:
            corpus, stats = scan_serial([unit.path], strict=strict, progress=progress)
            return corpus, stats, 0
        return _read_whole(unit, strict, progress, parts, hand_over, after)
    corpus = Corpus()
    stats = ScanStats(inputs=[unit.path])
    source = open_range(unit.path, unit.fmt, unit.start, unit.end, unit.first)
    counter = _Counting(source.items)
    source.items = counter
    try:
        read_source(source, unit.path, Observer(corpus), stats, strict=strict, progress=progress)
    except OtlintError as exc:  # (--strict: the line in the file, not in the piece)
        raise _in_file(exc, unit) from None
    if source.newlines:  # (the reader counted the piece's lines: no second pass over it)
        return corpus, stats, source.newlines[0]
    return corpus, stats, _records_in(unit, counter.last)


def _read_whole(
    unit: Unit,
    strict: bool,
    progress: Progress | None,
    parts: int | None,
    hand_over: Callable[[tuple[Corpus, ScanStats, int]], None] | None,
    after: int,
) -> tuple[Corpus, ScanStats, int]:
    """``_read`` of a whole file in parts (returns the last), from the record after ``after``."""
    stats = ScanStats()
    observer = Observer(Corpus())
    counted: list[_Counting] = []
    sources: list[Source] = []

    def opened(source: Source) -> None:
        counted.append(_Counting(source.items))
        source.items = _After(counted[0], after) if after else counted[0]
        sources.append(source)

    def last() -> int:
        return counted[0].last if counted else 0

    def consumed() -> int:
        tell = sources[0].consumed if sources else None
        try:
            return tell() if tell is not None else 0
        except (ValueError, OSError):  # (closed)
            return 0

    out = None
    if parts is not None and hand_over is not None:
        out = _Parts(parts, hand_over, last, stats, consumed)
    read_file(
        unit.path, observer, stats, strict=strict, progress=progress, spill=out, opened=opened
    )
    return observer.corpus, stats, last()


class _Parts:
    """``--max-memory`` for a whole file (compressed: it cannot be cut) read by one process.

    Once the rows it read pass ``limit`` bytes, the corpus so far goes to ``hand_over``
    as a part, with the file's last record read, its records and the bytes of it read (as
    stored) so far, and reading goes on into a new corpus: the parts are shards of the
    same file, merged as they come.
    A worker that dies after some parts loses nothing: the file is read again from the
    record after the last part taken (``_After``).
    """

    def __init__(
        self,
        limit: int,
        hand_over: Callable[[tuple[Corpus, ScanStats, int]], None],
        last: Callable[[], int],
        stats: ScanStats,
        consumed: Callable[[], int] = lambda: 0,
    ) -> None:
        self.limit = limit
        self.hand_over = hand_over
        self.last = last  # (the file's last record read)
        self.stats = stats
        self.consumed = consumed  # (the bytes of the file read so far, as stored)

    def due(self, corpus: Corpus) -> bool:
        """Whether the corpus holds more rows than its share."""
        from otlint.run.spill import row_bytes

        return row_bytes(corpus) > self.limit

    def spill(self, corpus: Corpus) -> Corpus:
        """Hand ``corpus`` over as a part; the new corpus to read on into."""
        so_far = ScanStats(records=self.stats.records, bytes=self.consumed())
        self.hand_over((corpus, so_far, self.last()))
        return Corpus()


class _After:
    """A whole file's items after record ``after`` (the notes of the whole file still come:
    the count of lines that are not OTLP, a file that is not OTLP)."""

    def __init__(self, items: Iterator[Item], after: int) -> None:
        self._items = items
        self.after = after

    def __iter__(self) -> _After:
        return self

    def __next__(self) -> Item:
        while True:
            item = next(self._items)
            if item.record > self.after or isinstance(item, (Skipped, Foreign)):
                return item


class _NoRoom(Exception):
    """A worker could not write a part of a whole file (no room in the temporary folder)."""


def _in_file(exc: OtlintError, unit: Unit) -> OtlintError:
    """A strict error of a JSON Lines piece, ``PATH:LINE: ...``, with the line counted
    from the start of the file (the piece numbered its lines from 1)."""
    head, sep, rest = str(exc).partition(": ")
    path, colon, line = head.rpartition(":")
    if not (
        _shifted(unit) and unit.start and sep and colon and path == unit.path and line.isdigit()
    ):
        return exc
    before = _records_in(Unit(unit.path, unit.fmt, 0, unit.start), 0)
    return OtlintError(f"{path}:{int(line) + before}: {rest}")


#: For ``otlint.distributed``, whose workers read units and whose client merges them.
read_unit = _read


class _Ahead:
    """The progress of the unit this process reads, on top of the units done before it."""

    def __init__(self, progress: Progress, records: int, done: int) -> None:
        self.progress = progress
        self.records = records
        self.done = done

    def begin(self, total: int | None) -> None:
        """(The run's total was given once, before the first unit.)"""

    def __call__(self, path: str, records: int, done: int) -> None:
        self.progress(path, self.records + records, self.done + done)


class _Counting:
    """Passes items through and remembers the last record number, to number the next piece."""

    def __init__(self, items: Iterator[Item]) -> None:
        self._items = items
        self.last = 0

    def __iter__(self) -> _Counting:
        return self

    def __next__(self) -> Item:
        item = next(self._items)
        self.last = item.record
        return item


def scan_parallel(
    paths: Sequence[str],
    *,
    jobs: int,
    strict: bool = False,
    progress: Progress | None = None,
    spill: Spill | None = None,
) -> tuple[Corpus, ScanStats]:
    """Like ``scan.scan_serial`` over ``jobs`` processes (``spill``: as there, for the
    merged corpus; pieces are cut small enough that a worker's shard fits its share)."""
    inputs = find_inputs(paths, sized=True)
    walk_notes = inputs.notes
    units = plan_for(inputs, jobs, spill)
    parts = None if spill is None else spill.limit
    total = sum(map(_size, units))
    if len(units) == 1 or total < SMALL_INPUT:
        # Starting processes costs more than it saves on small inputs.
        return scan_serial(paths, strict=strict, progress=progress, inputs=inputs, spill=spill)
    if progress is not None:
        progress.begin(inputs.total)
    merger = _Merger(units, spill)
    _run(units, jobs, strict, progress, merger.add, merger.prepare, parts, merger.read_here)
    corpus, stats = merger.finish()
    stats.skipped[:0] = walk_notes
    return corpus, stats


class _Merger:
    """Merges shards as they come in: a piece of a JSON Lines file after the pieces before it."""

    def __init__(self, units: list[Unit], spill: Spill | None = None) -> None:
        self.units = units
        self.spill = spill
        self.waiting: dict[int, tuple[Corpus, ScanStats, int]] = {}
        self.stats: list[ScanStats | None] = [None] * len(units)
        self.corpus: Corpus | None = None
        # Per file cut in pieces that must be shifted: the next piece to merge, and the
        # records of the pieces merged.
        self.next_piece: dict[str, int] = {}
        self.before: dict[str, int] = {}
        self.pieces = {
            u.path: [i for i, v in enumerate(units) if v.path == u.path]
            for u in units
            if _shifted(u)
        }

    def add(self, i: int, result: tuple[Corpus, ScanStats, int]) -> None:
        """Take unit ``i``'s result and merge every shard that can be merged now."""
        self.waiting[i] = result
        for j in sorted(self.waiting):
            unit = self.units[j]
            if _shifted(unit) and self.pieces[unit.path][self.next_piece.get(unit.path, 0)] != j:
                continue  # an earlier piece of the file is not in yet
            self._merge(j, *self.waiting.pop(j))

    def read_here(
        self, i: int, strict: bool, progress: Progress | None
    ) -> tuple[Corpus, ScanStats, int]:
        """Read unit ``i`` (a whole file) straight into the merged corpus, whose rows are
        spilled as they pass the budget: no part to hand over (``add`` then has nothing
        to merge)."""
        corpus, stats = scan_serial(
            [self.units[i].path], self.corpus, strict=strict, progress=progress, spill=self.spill
        )
        self.corpus = corpus
        return corpus, stats, 0

    def _merge(self, i: int, shard: Corpus, part_stats: ScanStats, last: int) -> None:
        unit = self.units[i]
        if _shifted(unit):
            # Lines of earlier pieces of the same file come before this piece's.
            shard.shift_records(self.before.get(unit.path, 0))
            self.before[unit.path] = self.before.get(unit.path, 0) + last
            self.next_piece[unit.path] = self.next_piece.get(unit.path, 0) + 1
        self.stats[i] = part_stats
        if shard is not self.corpus:  # (else read into it: ``read_here``)
            self.corpus = shard if self.corpus is None else self.corpus.merge(shard)
        if self.spill is not None:
            if self.spill.due(self.corpus):
                self.spill.spill(self.corpus)
            if self.spill.spills:
                return  # (no span index once rows are spilled: spans are judged by partition)
        hint = self.corpus.span_index_hint
        if hint is not None and shard is not self.corpus and len(shard.spans):
            hint.extend(shard.spans.ids)

    def prepare(self) -> None:
        """Index the spans merged so far: this process has read its last unit and waits."""
        if (
            self.corpus is not None
            and (self.spill is None or not self.spill.spills)
            and self.corpus.span_index_hint is None
            and len(self.corpus.spans)
        ):
            hint = SpanIndex()
            hint.extend(self.corpus.spans.ids)
            self.corpus.span_index_hint = hint

    def finish(self) -> tuple[Corpus, ScanStats]:
        """The merged corpus, and the stats in the order of the units."""
        assert self.corpus is not None and not self.waiting
        stats = ScanStats()
        for unit, part_stats in zip(self.units, self.stats, strict=True):
            assert part_stats is not None
            if unit.fmt is None:
                stats.inputs += part_stats.inputs
            elif unit.start == 0:
                stats.inputs.append(unit.path)
            stats.skipped += part_stats.skipped
            stats.records += part_stats.records
            stats.bytes += part_stats.bytes
        return self.corpus, stats


#: (Public for ``otlint.distributed``: merges unit results in any order.)
Merger = _Merger


def _run(
    units: list[Unit],
    jobs: int,
    strict: bool,
    progress: Progress | None,
    consume: Callable[[int, tuple[Corpus, ScanStats, int]], None],
    idle: Callable[[], None] | None = None,
    parts: int | None = None,
    read_here: Callable[[int, bool, Progress | None], tuple[Corpus, ScanStats, int]] | None = None,
) -> None:
    """Read every unit: ``jobs - 1`` worker processes and this one take them, largest first.

    ``parts`` (``--max-memory``): the bytes of rows a worker holds before it hands a
    whole file's corpus so far over as a part (``_Parts``), each consumed as it comes;
    this process reads a whole file with ``read_here`` instead (straight into what it
    merges, which spills), unless a worker handed part of it over before it died.

    Each process claims its next unit itself from a shared counter, so nobody waits for
    a round trip to be handed work. A worker pickles each shard into a file of a
    private temporary folder and sends only its unit number down a pipe: a shard of
    megabytes pushed through a pipe crawls while this process, busy reading, holds
    the interpreter lock the receiving thread needs for every chunk. This process
    keeps its own shards as they are, and hands each result to ``consume`` on this
    thread: after each unit it reads, and as the workers' come in while it waits.
    Once it has read its last unit and workers still read, it calls ``idle`` first.

    A worker that fails sends its exception, which is raised here. Nothing else loses
    a unit: a worker that dies without a word, a shard that cannot be written or read
    back, workers that cannot start (no shared memory, no temporary folder, no more
    processes) — this process reads the units that never came back.
    """
    import multiprocessing
    import pickle
    import shutil
    import tempfile
    from multiprocessing.connection import wait

    order = sorted(range(len(units)), key=lambda i: _size(units[i]), reverse=True)
    claimed: _Counter = _Alone()
    folder: str | None = None
    workers: list[
        tuple[BaseProcess, Connection[Never, _Sent]]
    ] = []  # (process, this end of its pipe)
    done: set[int] = set()
    done_records = done_bytes = 0
    # Per unit handed over in parts: (its last record, records, bytes read) so far; units
    # a part of which was lost (its later parts and its end are not taken: it is read
    # again after).
    covered: dict[int, tuple[int, int, int]] = {}
    lost: set[int] = set()

    def take(i: int, result: tuple[Corpus, ScanStats, int]) -> None:
        nonlocal done_records, done_bytes
        done.add(i)
        consume(i, result)
        done_records += result[1].records
        done_bytes += result[1].bytes
        if progress is not None:
            progress(units[i].path, done_records, done_bytes)

    def take_part(i: int, part: tuple[Corpus, ScanStats, int]) -> None:
        corpus, stats, last = part
        covered[i] = (last, stats.records, stats.bytes)
        consume(i, (corpus, ScanStats(), last))  # (the unit's stats come with its end)
        if progress is not None:  # (its records and bytes so far show)
            ahead = [(n, b) for j, (_, n, b) in covered.items() if j not in done]
            progress(
                units[i].path,
                done_records + sum(n for n, _ in ahead),
                done_bytes + sum(b for _, b in ahead),
            )

    def read(i: int, progress: Progress | None = None) -> tuple[Corpus, ScanStats, int]:
        """Unit ``i`` read here, on from the last part a worker handed over of it."""
        after, records, _ = covered.get(i, (0, 0, 0))
        lost.discard(i)
        if read_here is not None and parts is not None and units[i].fmt is None and not after:
            return read_here(i, strict, progress)
        corpus, stats, last = _read(units[i], strict, progress, parts, partial(take_part, i), after)
        stats.records += records
        return corpus, stats, last

    def collect(timeout: float | None) -> None:
        """Take what the workers sent; drop those that have finished or died."""
        ready = wait([conn for _, conn in workers], timeout)
        for proc, conn in list(workers):
            if conn not in ready:
                continue
            try:
                i, error = conn.recv()
            except (EOFError, OSError):  # finished, or died: its units are read below
                conn.close()
                proc.join()
                workers.remove((proc, conn))
                continue
            if isinstance(error, Exception):
                raise error
            part = error is not None
            if i in lost:
                continue  # (read again here at the end, from its last part taken)
            try:
                path = os.path.join(str(folder), f"{i}.{error}.part" if part else f"{i}.pickle")
                with open(path, "rb") as f:
                    result = pickle.load(f)
                os.unlink(path)
            except (OSError, EOFError, pickle.UnpicklingError):
                if part:
                    lost.add(i)
                continue  # read here at the end
            if part:
                take_part(i, result)
            else:
                take(i, result)

    try:
        try:
            context = multiprocessing.get_context()
            shared = context.Value("i", 0)
            folder = tempfile.mkdtemp(prefix="otlint-")
            claimed = shared
            for _ in range(max(1, jobs - 1)):
                mine, theirs = context.Pipe(duplex=False)
                proc: BaseProcess = context.Process(
                    target=_drain,
                    args=(units, order, strict, claimed, theirs, folder, parts),
                    daemon=True,
                )
                try:
                    proc.start()
                finally:
                    theirs.close()
                workers.append((proc, mine))
        except OSError:
            pass  # fewer workers, or none: this process reads what they would have
        while (k := _claim(claimed, len(order))) is not None:
            if progress is None:
                take(order[k], read(order[k]))
            else:  # (this process's own unit shows as it is read; the workers' as they come back)
                take(order[k], read(order[k], _Ahead(progress, done_records, done_bytes)))
            collect(0)
        if idle is not None and workers:
            idle()
        while workers:
            collect(None)
        for i in order:  # units a worker claimed and never sent back (or only in part)
            if i not in done:
                take(i, read(i))
    finally:
        for proc, conn in workers:
            proc.terminate()
            proc.join()
            conn.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if TYPE_CHECKING:  # (a Protocol class costs ~1 ms to make at import)

    class _Counter(Protocol):
        """The claim counter: a shared ``multiprocessing.Value``, or ``_Alone``."""

        value: int

        def get_lock(self) -> AbstractContextManager[object]:
            """What to hold while reading and moving the counter."""
            ...


#: What a worker sends down its pipe: a unit it read (None), a part of one (the part's
#: number), or the unit and the error it stopped on.
_Sent: TypeAlias = tuple[int, Exception | int | None]


class _Alone:
    """The claim counter when no worker could start: this process alone, no lock."""

    value = 0

    def get_lock(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


def _claim(claimed: _Counter, total: int) -> int | None:
    """The next position in the shared order of units, or None when all are taken."""
    with claimed.get_lock():
        k = int(claimed.value)
        if k >= total:
            return None
        claimed.value = k + 1
    return k


def _drain(
    units: list[Unit],
    order: list[int],
    strict: bool,
    claimed: _Counter,
    conn: Connection[_Sent, Never],
    folder: str,
    parts: int | None = None,
) -> None:
    """A worker process: read units until none is left, each shard pickled into ``folder``
    (a whole file's parts too, as they are handed over: ``_Parts``)."""
    import pickle

    def hand_over(i: int, counted: list[int], part: tuple[Corpus, ScanStats, int]) -> None:
        try:
            with open(os.path.join(folder, f"{i}.{counted[0]}.part"), "wb") as f:
                pickle.dump(part, f, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            raise _NoRoom from None
        conn.send((i, counted[0]))
        counted[0] += 1

    try:
        while (k := _claim(claimed, len(order))) is not None:
            i = order[k]
            try:
                result = _read(units[i], strict, None, parts, partial(hand_over, i, [0]))
            except _NoRoom:  # the parent reads the rest of it, and what this worker claimed
                return
            except Exception as exc:  # sent to the parent, which raises it
                conn.send((i, exc))
                return
            try:
                with open(os.path.join(folder, f"{i}.pickle"), "wb") as f:
                    pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            except OSError:  # no room for it: stop here; the parent reads what this worker claimed
                return
            conn.send((i, None))
    finally:
        conn.close()


def _shifted(unit: Unit) -> bool:
    """Whether a unit is a piece whose record numbers are shifted after reading."""
    return unit.fmt is not None and unit.first is None


def _size(unit: Unit) -> int:
    return os.path.getsize(unit.path) if unit.fmt is None else unit.end - unit.start


def _records_in(unit: Unit, last: int) -> int:
    """Records (frames, or lines with blank ones) in a piece, to number the pieces after it."""
    if unit.fmt != "jsonl":
        return last
    count = 0
    with open(unit.path, "rb") as f:
        f.seek(unit.start)
        left = unit.end - unit.start
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count
