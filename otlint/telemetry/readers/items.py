"""What a reader yields: one item per record (a message, or what is wrong with it), and the
``Source`` around them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from otlint.telemetry.corpus.corpus import Signal

if TYPE_CHECKING:  # (the protocols are for the type checker: a Protocol class costs ~1 ms to make)
    from types import TracebackType
    from typing import Protocol

    from otlint.telemetry.readers.otlp_fast import Prepared
    from otlint.telemetry.readers.otlp_json import Deviation

    class Stream(Protocol):
        """A byte stream a format reader consumes: a file, a decompressor, a byte range."""

        def read(self, size: int = -1, /) -> bytes:
            """Up to ``size`` bytes (all that is left when -1)."""
            ...

        def readline(self, size: int = -1, /) -> bytes:
            """One line, with its newline."""
            ...

        def close(self) -> None:
            """Release what is behind the stream."""
            ...

        def __iter__(self) -> Iterator[bytes]:
            """Its lines."""
            ...

        def __enter__(self) -> Stream:
            """The stream itself; closed on exit."""
            ...

        def __exit__(
            self,
            kind: type[BaseException] | None,
            value: BaseException | None,
            traceback: TracebackType | None,
            /,
        ) -> object:
            """Close."""
            ...

    class Peekable(Stream, Protocol):
        """A stream whose next bytes can be looked at without consuming them (format detection)."""

        def peek(self, size: int, /) -> bytes:
            """At least one byte ahead, at most what the buffer holds (may exceed ``size``)."""
            ...

        def seek(self, offset: int, whence: int = 0, /) -> int:
            """Move (gzip rewinds its source); a pipe raises ``io.UnsupportedOperation``."""
            ...


@dataclass
class Message:
    """One encoded TracesData / MetricsData / LogsData and where it came from."""

    payload: bytes
    signal: Signal | None  # None: tell from the bytes (binary formats do not say)
    record: int  # 1-based record number: line number in text formats, frame number in binary
    deviations: list[Deviation] = field(default_factory=list)


class Columns(Message):
    """A canonical OTLP/JSON line already read into the hot loop's columns
    (``otlp_fast.prepare_line``; ``observe_structs.fold`` takes them). Its protobuf bytes
    are made only when asked for: ``payload`` encodes the line."""

    def __init__(self, prepared: Prepared, line: bytes, record: int) -> None:
        self.prepared = prepared
        self.line = line
        self.signal = prepared.signal
        self.record = record
        self.deviations = []

    @property
    def payload(self) -> bytes:  # type: ignore[override]
        """The line's protobuf bytes (what ``otlp_json.convert`` gives)."""
        from otlint.telemetry.readers.otlp_fast import encode_line

        got = encode_line(self.line)
        if got is None:  # pragma: no cover - a prepared line always encodes
            import json

            from otlint.telemetry.readers.otlp_json import convert

            return convert(json.loads(self.line))[1]
        return got[1]


@dataclass
class Unreadable:
    """A record that could not be read; the rest of the file is still read."""

    record: int
    message: str


#: Line numbers a ``Foreign`` item keeps, the first ones.
MAX_SAMPLES = 5


@dataclass
class Foreign:
    """Lines of an OTLP/JSON Lines file that are not OTLP, skipped and counted (one per kind).

    ``json``: the lines are valid JSON that is no OTLP document (an app's JSON log
    line); otherwise they are not JSON at all (a banner, a plain log line).
    """

    record: int  # the first such line
    count: int
    json: bool
    samples: list[int]  # the first MAX_SAMPLES line numbers


@dataclass
class Skipped:
    """The whole input is not OTLP, found out while reading it; nothing came before it."""

    record: int
    reason: str  # "not OTLP (...)", for the note on stderr


Item = Message | Unreadable | Foreign | Skipped


@dataclass
class Source:
    """One input: its display path, detected format, and its items.

    ``skip`` says why the input is not read at all (it is not OTLP, or empty), when
    its first bytes tell. ``decided`` is False for JSON Lines whose first lines hold
    no OTLP document: whether it is OTLP is known only once read (so it is not cut
    into pieces either).

    ``size`` is the input's size in bytes as stored (compressed, for a .gz or .zst),
    None for a pipe; ``consumed`` says how many of those bytes were read so far (None
    when nothing can tell), for the progress line. Both count the input as it is on
    disk, so a compressed input's progress and its total are in the same unit.
    """

    path: str
    format: str
    lines: bool  # record numbers are line numbers
    items: Iterator[Item]
    skip: str | None = None
    decided: bool = True
    size: int | None = None
    consumed: Callable[[], int] | None = None
    #: (A piece of JSON Lines) its lines that end with a newline, once read to its end.
    newlines: list[int] | None = None

    def close(self) -> None:
        """Close the file behind a source whose items will not be read."""
        close = getattr(self.items, "close", None)
        if close is not None:
            close()
