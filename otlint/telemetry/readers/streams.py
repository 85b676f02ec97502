"""Streams that say when they break: zstd frames cut short, decompression past its cap, and
the guard that turns a stream breaking mid-file into one last ``Unreadable`` item.

Decompression is capped (``Budget``): an input may expand to ``MIN_CAP`` bytes, or to
``MAX_RATIO`` times its compressed size when that is more. Real telemetry compresses 3 to
30 times (JSON about 15, protobuf about 4); a gzip or zstd "bomb" expands a thousand
times or more. Past the cap the stream raises ``Expanded`` and the rest of the input is
not read (a finding says so and how to read such a file anyway: decompress it first,
plain files have no cap). Both decompressors here are fed bounded slices, so no single
call can expand past the cap by more than a few MiB.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from otlint.telemetry.readers.items import Item, Skipped, Unreadable
from otlint.telemetry.readers.sniff import PEEK

if TYPE_CHECKING:
    import gzip

    from _typeshed import WriteableBuffer

    from otlint.telemetry.readers.items import Stream


#: Decompressed bytes an input may expand to, whatever its size (128 MiB).
MIN_CAP = 128 << 20
#: Decompressed bytes per compressed byte an input may expand to, past ``MIN_CAP``.
MAX_RATIO = 200
#: Compressed bytes fed to zstd per call: a zstd block expands at most ~32,000 times
#: (an RLE block), so one call yields at most ~32 MiB.
ZSTD_STEP = 1 << 10


def stream_errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """What a broken stream raises: zstandard's error only once a zstd stream was opened."""
    import zlib

    zstandard = sys.modules.get("zstandard")
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, *more)
    return (*errors, zstandard.ZstdError) if zstandard is not None else errors


def _size(n: int) -> str:
    """A byte count for a message: ``128 MiB``, ``3.2 KiB``."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    raise AssertionError  # (unreachable)


class Expanded(OSError):
    """A decompressed stream grew past its ``Budget``: the rest of the input is not read."""

    def __init__(self, cap: int, compressed: int) -> None:
        super().__init__(
            f"expands past {_size(cap)} (the cap: {MAX_RATIO} times its {_size(compressed)}"
            f" compressed, and at least {_size(MIN_CAP)})"
        )


class Budget:
    """How far one input may expand when decompressed (see the module docstring).

    ``compressed()`` is the input's compressed size: fixed for a file on disk, the bytes
    read so far for a pipe (``Counted``).
    """

    __slots__ = ("_cap", "compressed")

    def __init__(self, compressed: Callable[[], int]) -> None:
        self.compressed = compressed
        self._cap = MIN_CAP

    @classmethod
    def of_size(cls, size: int) -> Budget:
        """The budget of an input of ``size`` compressed bytes."""
        return cls(lambda: size)

    def check(self, total: int) -> None:
        """Raise ``Expanded`` when ``total`` decompressed bytes exceed the cap."""
        if total > self._cap:
            compressed = self.compressed()
            self._cap = max(MIN_CAP, MAX_RATIO * compressed)
            if total > self._cap:
                raise Expanded(self._cap, compressed)


class Counted(io.RawIOBase):
    """A pipe (stdin, a FIFO) that counts what was read from it, for its ``Budget``."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        n = self._raw.readinto(buffer)
        if n:
            self.count += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def budget_of(raw: io.RawIOBase) -> tuple[io.RawIOBase, Budget]:
    """The stream to read ``raw`` through, and the budget of what it may expand to."""
    try:
        st = os.fstat(raw.fileno())
    except (OSError, ValueError):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return raw, Budget.of_size(st.st_size)
    counted = Counted(raw)
    return counted, Budget(lambda: counted.count)


class Capped(io.RawIOBase):
    """A decompressing stream (gzip) read through its ``Budget``."""

    def __init__(self, inner: gzip.GzipFile, budget: Budget) -> None:
        self._inner = inner
        self._budget = budget
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        # (One read of the decompressor at a time, at most what is asked: a bounded slice
        # per call, and what a cut stream did decode comes out before it breaks.)
        data = self._inner.read1(min(len(view), PEEK))
        n = len(data)
        view[:n] = data
        self._total += n
        self._budget.check(self._total)
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


class Zstd(io.RawIOBase):
    """A zstd stream of one or more frames that says so when it ends inside a frame.

    (zstandard's stream reader ends quietly there, and a cut file would look whole.)
    Compressed bytes are fed ``ZSTD_STEP`` at a time, so what one call yields is bounded,
    and each output chunk is handed out from an offset, not sliced off its front.
    """

    def __init__(self, source: Stream, budget: Budget) -> None:
        import zstandard

        self._source = source
        self._budget = budget
        self._zstd = zstandard.ZstdDecompressor()
        self._frame = self._zstd.decompressobj()
        self._inside = False  # a frame has begun and not ended
        self._in = memoryview(b"")  # compressed bytes read and not yet fed
        self._out = b""
        self._pos = 0  # what of _out was handed out
        self._total = 0

    def readable(self) -> bool:
        return True

    def _feed(self, chunk: memoryview) -> bytes:
        out: bytes = self._frame.decompress(chunk)
        self._inside = not self._frame.eof
        while self._frame.eof:
            rest = self._frame.unused_data
            self._frame = self._zstd.decompressobj()
            if not rest:
                break
            out += self._frame.decompress(rest)
            self._inside = not self._frame.eof
        return out

    def readinto(self, buffer: WriteableBuffer) -> int:
        while self._pos >= len(self._out):
            if not self._in:
                chunk = self._source.read(PEEK)
                if not chunk:
                    if self._inside:
                        raise EOFError("the file ends inside a zstd frame")
                    return 0
                self._in = memoryview(chunk)
            step, self._in = self._in[:ZSTD_STEP], self._in[ZSTD_STEP:]
            self._out, self._pos = self._feed(step), 0
            self._total += len(self._out)
            self._budget.check(self._total)
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._out) - self._pos)
        view[:n] = memoryview(self._out)[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._source.close()
        super().close()


def unzstd(payload: bytes, budget: Budget) -> bytes:
    """The zstd frame(s) of ``payload`` decompressed, within ``budget``.

    Raises ``Expanded`` past the cap, ``EOFError`` for a frame cut short, and
    ``zstandard.ZstdError`` for one that does not decompress.
    """
    out = Zstd(io.BytesIO(payload), budget)
    try:
        return out.readall()
    finally:
        out.close()


def guard(items: Iterator[Item], wrappers: list[str], *, text: bool = False) -> Iterator[Item]:
    """Turn a stream that breaks mid-file (cut gzip/zstd, I/O error) into one last Unreadable.

    ``text``: the stream is text not yet known to be OTLP; when it breaks before any OTLP
    line, nothing says it was OTLP, and it is skipped as what it is.
    """
    last = 0
    seen = False
    try:
        for item in items:
            last = max(last, item.record)
            seen = True
            yield item
    except Expanded as exc:
        yield Unreadable(last + 1, expanded_message(wrappers, exc, last + 1))
    except stream_errors() as exc:
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if text and not seen:
            yield Skipped(
                1, f"not OTLP (text with no OTLP/JSON line before {what} breaks off: {reason})"
            )
            return
        yield Unreadable(
            last + 1,
            f"{what} is cut short or corrupt after record {last} ({reason}): the rest is lost",
        )


def expanded_message(wrappers: list[str], exc: Expanded, record: int) -> str:
    """The finding for a stream that expanded past its cap while record ``record`` was read."""
    what = f"the {'+'.join(wrappers)} stream" if wrappers else "a zstd frame"
    return (
        f"{what} {exc} while record {record} was read: a decompression bomb, or data that"
        " compresses unusually well; the rest is not read. If the file is genuine,"
        " decompress it first (gunzip, zstd -d) and check the plain file, which has no cap"
    )
