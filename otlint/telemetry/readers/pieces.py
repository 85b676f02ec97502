"""Byte ranges of one large file, cut at record boundaries, for parallel reads."""

from __future__ import annotations

import io
import itertools
from typing import TYPE_CHECKING, BinaryIO

from otlint.telemetry.readers.framed import framed
from otlint.telemetry.readers.items import Source
from otlint.telemetry.readers.jsonl import jsonl
from otlint.telemetry.readers.sniff import PEEK
from otlint.telemetry.readers.streams import Budget, guard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Formats whose files can be cut at record boundaries and read in pieces.
SPLITTABLE = ("jsonl", "proto-framed")


class _Range(io.RawIOBase):
    """The bytes [start, end) of a file, as a stream of its own."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._size = self._left = end - start

    def consumed(self) -> int:
        """Bytes of the range read so far (some may still wait in a buffer above)."""
        return self._size - self._left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        n = self._file.readinto(view) or 0
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_range(path: str, fmt: str, start: int, end: int, first: int | None = None) -> Source:
    """Read records of ``path`` (of format ``fmt``) in [start, end), cut at record boundaries.

    Record numbers continue from ``first``, the records before ``start``, when it is
    known (frames); otherwise they restart at 1 and the caller shifts them.
    """
    piece = _Range(path, start, end)
    stream = io.BufferedReader(piece, PEEK)
    if fmt == "jsonl":
        # Only files known to be OTLP are cut: a piece of one with no OTLP line is still OTLP.
        newlines: list[int] = []
        source = Source(path, fmt, True, guard(jsonl(stream, b"", True, newlines), []))
        source.newlines = newlines
    elif fmt == "proto-framed":
        budget = Budget.of_size(end - start)  # (for the zstd frames among them)
        source = Source(
            path, fmt, False, guard(framed(stream, path, first or 0, budget=budget), [])
        )
    else:
        piece.close()
        raise ValueError(f"format {fmt!r} cannot be read in pieces")
    source.size = end - start
    source.consumed = piece.consumed
    return source


def _zero_run(f: BinaryIO, pos: int) -> int:
    """How many bytes of empty frames (zero length prefixes) start at ``pos``; at least 4."""
    f.seek(pos)
    run = 0
    while True:
        block = f.read(PEEK)
        zeros = len(block) - len(block.lstrip(b"\0"))
        run += zeros
        if not block or zeros < len(block):
            return max(4, run // 4 * 4)


def split_points(path: str, fmt: str, size: int, chunk: int) -> list[tuple[int, int, int | None]]:
    """Cut a file into ranges of about ``chunk`` bytes that start and end on records.

    Each range comes with the number of records before it when the cut finds it out
    for free (frames are counted on the way), else None (lines are not).
    """
    cuts = [0]
    before: list[int | None] = [0 if fmt == "proto-framed" else None]
    with open(path, "rb") as f:
        if fmt == "jsonl":
            target = chunk
            while target < size:
                f.seek(target)
                f.readline()
                pos = f.tell()
                if pos >= size:
                    break
                cuts.append(pos)
                before.append(None)  # (lines before it: not counted)
                target = pos + chunk
        elif fmt == "proto-framed":
            pos = last = frames = 0
            while pos < size:
                f.seek(pos)
                head = f.read(4)
                if len(head) < 4:
                    break
                n = int.from_bytes(head, "big")
                if n == 0:
                    # A zero-filled stretch: every 4 bytes an empty frame, not walked one by one.
                    run = _zero_run(f, pos)
                    pos += run
                    frames += run // 4
                else:
                    pos += 4 + n
                    frames += 1
                if pos - last >= chunk and pos < size:
                    cuts.append(pos)
                    before.append(frames)
                    last = pos
        else:
            raise ValueError(f"format {fmt!r} cannot be read in pieces")
    cuts.append(size)
    return [(a, b, n) for (a, b), n in zip(itertools.pairwise(cuts), before, strict=True)]
