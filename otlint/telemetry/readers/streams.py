"""Streams that say when they break: zstd frames cut short, and the guard that turns a
stream breaking mid-file into one last ``Unreadable`` item."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.telemetry.readers.items import Item, Skipped, Unreadable
from otlint.telemetry.readers.sniff import PEEK

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from otlint.telemetry.readers.items import Stream


def stream_errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """What a broken stream raises: zstandard's error only once a zstd stream was opened."""
    import zlib

    zstandard = sys.modules.get("zstandard")
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, *more)
    return (*errors, zstandard.ZstdError) if zstandard is not None else errors


class Zstd(io.RawIOBase):
    """A zstd stream of one or more frames that says so when it ends inside a frame.

    (zstandard's stream reader ends quietly there, and a cut file would look whole.)
    """

    def __init__(self, source: Stream) -> None:
        import zstandard

        self._source = source
        self._zstd = zstandard.ZstdDecompressor()
        self._frame = self._zstd.decompressobj()
        self._inside = False  # a frame has begun and not ended
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._out:
            chunk = self._source.read(PEEK)
            if not chunk:
                if self._inside:
                    raise EOFError("the file ends inside a zstd frame")
                return 0
            out = self._frame.decompress(chunk)
            self._inside = not self._frame.eof
            while self._frame.eof and self._frame.unused_data:
                rest = self._frame.unused_data
                self._frame = self._zstd.decompressobj()
                out += self._frame.decompress(rest)
                self._inside = not self._frame.eof
            if self._frame.eof:
                self._frame = self._zstd.decompressobj()
            self._out = out
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._source.close()
        super().close()


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
