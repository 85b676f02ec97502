"""Readers: bytes on disk (or stdin) -> encoded OTLP messages, each with where it came from.

Readers know formats and nothing about rules. The format is detected from the content,
not the file name:

============================  =================================================
content starts with           read as
============================  =================================================
``1f 8b``                     gzip around any format below
``28 b5 2f fd``               a zstd stream around any format below
``{`` (first line is JSON)    JSON Lines: one OTLP/JSON document per line
``{`` (otherwise)             one (pretty-printed) OTLP/JSON document
other text                    JSON Lines among other output (a process's stdout
                              with the SDK exporter writing to it), if any line
                              is an OTLP/JSON document
4-byte big-endian length      collector file-exporter framing (``format: proto``
                              or ``compression: zstd``): each message, optionally
                              a zstd frame, prefixed by its length
``0a``                        one raw ``Export*ServiceRequest`` / ``*Data``
============================  =================================================

What is not OTLP is told by content, and skipped (``Source.skip``, or a ``Skipped``
item once reading found it out): valid JSON whose top level is no OTLP document, text
with no OTLP/JSON line in it, binary data in no OTLP framing, an empty file. What is
OTLP and broken is an ``Unreadable`` item. In a file with OTLP/JSON lines, the lines
that are not OTLP (an app's banner and log lines) are counted in ``Foreign`` items.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from otlint.core.errors import OtlintError
from otlint.core.fs import enter
from otlint.telemetry.corpus.corpus import Signal

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_PEEK = 1 << 16


@dataclass
class Message:
    """One encoded TracesData / MetricsData / LogsData and where it came from."""

    payload: bytes
    signal: Signal | None  # None: tell from the bytes (binary formats do not say)
    record: int  # 1-based record number: line number in text formats, frame number in binary
    deviations: list[Any] = field(default_factory=list)  # otlp_json.Deviation


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
    """

    path: str
    format: str
    lines: bool  # record numbers are line numbers
    items: Iterator[Item]
    skip: str | None = None
    decided: bool = True

    def close(self) -> None:
        """Close the file behind a source whose items will not be read."""
        close = getattr(self.items, "close", None)
        if close is not None:
            close()


def expand(paths: Sequence[str]) -> Iterator[tuple[str, bool]]:
    """Yield (path, explicit) for each input; folders are walked recursively, sorted.

    ``explicit`` is False for files found inside a folder. (Both are read alike: what
    is not OTLP is skipped with a note, wherever it was found.)
    """
    for p in paths:
        if p == "-":
            yield p, True
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(filter(enter, dirs))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield os.path.join(root, name), False
        elif path.exists():
            yield p, True
        else:
            raise OtlintError(
                f"{p}: no such file or folder: give a path to an OTLP dump or a folder of them"
            )


def open_source(path: str) -> Source:
    """Open ``path`` (``-`` for stdin) and detect its format (``skip`` set if it is not OTLP)."""
    if path == "-":
        raw: IO[bytes] = (
            io.BufferedReader(sys.stdin.buffer.raw, _PEEK)
            if hasattr(sys.stdin.buffer, "raw")
            else sys.stdin.buffer
        )
    else:
        try:
            raw = open(path, "rb", buffering=_PEEK)  # noqa: SIM115 - closed by the items iterator
        except OSError as exc:
            raise OtlintError(f"{path}: cannot open: {exc.strerror}") from None
    return _detect(path, raw, [])


def _stream_errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """What a broken stream raises: zstandard's error only once a zstd stream was opened."""
    import zlib

    zstandard = sys.modules.get("zstandard")
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, *more)
    return (*errors, zstandard.ZstdError) if zstandard is not None else errors


_BLANK = b" \t\r\n\xef\xbb\xbf"


def _detect(path: str, stream: Any, wrappers: list[str]) -> Source:
    fmt_suffix = "".join(f"+{w}" for w in wrappers)
    try:
        head: bytes = stream.peek(_PEEK)
    except _stream_errors(ValueError) as exc:
        stream.close()
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Source(
            path,
            "unreadable" + fmt_suffix,
            False,
            iter([Unreadable(1, f"cannot read {what} ({reason})")]),
        )
    if head.startswith(_GZIP) and "gzip" not in wrappers:
        # GzipFile is buffered itself, and its peek keeps what a cut stream did decode.
        return _detect(path, gzip.GzipFile(fileobj=stream), [*wrappers, "gzip"])
    if head.startswith(_ZSTD) and "zstd" not in wrappers:
        return _detect(path, io.BufferedReader(_Zstd(stream), _PEEK), [*wrappers, "zstd"])
    inside = f" (inside {'+'.join(wrappers)})" if wrappers else ""
    if _is_text(head[:512]):
        stripped = head.lstrip(_BLANK)
        if not stripped and len(head) < _PEEK:
            stream.close()
            return Source(path, "empty" + fmt_suffix, False, iter(()), skip=f"empty{inside}")
        if stripped[:1] in (b"{", b"["):
            newline = head.find(b"\n")
            # A first line longer than the peek is read whole (and handed on) to decide.
            prefix = b"" if newline >= 0 else stream.readline()
            if _is_json(head[:newline] if newline >= 0 else prefix) or _second_line_is_json(
                head, newline
            ):
                decided = _starts_otlp(head if newline >= 0 else prefix)
                items = _guard(_jsonl(stream, prefix, decided), wrappers)
                return Source(path, "jsonl" + fmt_suffix, True, items, decided=decided)
            return Source(
                path, "json" + fmt_suffix, False, _guard(_json_document(stream, prefix), wrappers)
            )
        # Other text: a process's output, where an SDK exporter may write OTLP/JSON lines
        # among the app's own; a text file is never protobuf.
        items = _guard(_jsonl(stream, b"", False), wrappers, text=True)
        return Source(path, "jsonl" + fmt_suffix, True, items, decided=False)
    if _looks_framed(head):
        return Source(
            path, "proto-framed" + fmt_suffix, False, _guard(_framed(stream, path), wrappers)
        )
    if head[:1] == b"\x0a":
        return Source(path, "protobuf" + fmt_suffix, False, _guard(_raw(stream, path), wrappers))
    stream.close()
    return Source(
        path,
        "binary" + fmt_suffix,
        False,
        iter(()),
        skip=f"not OTLP (binary{inside}, neither OTLP protobuf nor the collector's length-prefixed framing)",
    )


class _Zstd(io.RawIOBase):
    """A zstd stream of one or more frames that says so when it ends inside a frame.

    (zstandard's stream reader ends quietly there, and a cut file would look whole.)
    """

    def __init__(self, source: Any) -> None:
        import zstandard

        self._source = source
        self._zstd = zstandard.ZstdDecompressor()
        self._frame = self._zstd.decompressobj()
        self._inside = False  # a frame has begun and not ended
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            chunk = self._source.read(_PEEK)
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
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._source.close()
        super().close()


def _is_json(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def _is_text(head: bytes) -> bool:
    """True for text: protobuf tags and lengths put control bytes in the first few hundred."""
    return not any(b in _CONTROL for b in head)


#: The top-level keys of an OTLP/JSON document, as they appear in its text.
_OTLP_KEYS = tuple(
    f'"{k}"'.encode()
    for k in (
        "resourceSpans",
        "resourceMetrics",
        "resourceLogs",
        "resource_spans",
        "resource_metrics",
        "resource_logs",
    )
)


def _has_otlp_key(text: bytes) -> bool:
    """Whether ``text`` names an OTLP/JSON top-level key (``"resourceSpans"``, ...)."""
    return b'"resource' in text and any(k in text for k in _OTLP_KEYS)


#: A line that opens an OTLP/JSON document: its first key is the signal's (as every writer puts it).
_OTLP_START = re.compile(rb'\s*\{\s*"resource(Spans|Metrics|Logs|_spans|_metrics|_logs)"\s*:')


def _starts_otlp(head: bytes) -> bool:
    """Whether the first line of ``head`` opens an OTLP/JSON document (then the file is OTLP).

    Told from its first bytes, never parsed: the first line of a large batch can be
    megabytes long. Both the whole read and the pieces of ``--jobs`` go by it.
    """
    return _OTLP_START.match(head.lstrip(_BLANK)) is not None


def _second_line_is_json(head: bytes, newline: int) -> bool:
    """A broken first line must not turn JSON Lines into one (unreadable) document.

    A pretty-printed document may have a whole JSON value on its second line too; it is
    told apart by its first line, which leaves a bracket open (ends in ``[``, ``{``, ``,``
    or ``:``), or by the second line's indentation, which JSON Lines never have.
    """
    if newline < 0 or head[:newline].rstrip()[-1:] in (b"[", b"{", b",", b":"):
        return False
    for line in head[newline + 1 :].split(b"\n")[:-1]:
        if line.strip():
            return not line[:1].isspace() and _is_json(line)
    return False


def _looks_framed(head: bytes) -> bool:
    if len(head) < 5:
        return False
    n = int.from_bytes(head[:4], "big")
    # A raw message starts with field 1's tag (0x0a); a length prefix of that size
    # would mean a frame of 160 MiB or more.
    return head[0] != 0x0A and n > 0 and (head[4:5] == b"\x0a" or head[4:8] == _ZSTD)


def signal_hint(path: str) -> Signal | None:
    """The signal a file name suggests (``traces.binpb``), used when bytes cannot tell."""
    name = os.path.basename(path).lower()
    for word, sig in (
        ("trace", Signal.TRACES),
        ("span", Signal.TRACES),
        ("metric", Signal.METRICS),
        ("log", Signal.LOGS),
    ):
        if word in name:
            return sig
    return None


def _guard(items: Iterator[Item], wrappers: list[str], *, text: bool = False) -> Iterator[Item]:
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
    except _stream_errors() as exc:
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


# -- the formats -------------------------------------------------------------------
def _convert_json(doc: Any, record: int) -> Item | None:
    """One parsed document as a Message, an Unreadable (OTLP, broken), or None (not OTLP)."""
    from otlint.telemetry.readers.otlp_json import NoOtlpDocument, NotOtlp, convert

    try:
        signal, payload, deviations = convert(doc)
    except NoOtlpDocument:
        return None
    except NotOtlp as exc:
        return Unreadable(record, str(exc))
    return Message(payload, signal, record, deviations)


class _Tally:
    """Lines of one kind that are not OTLP: how many, and the first few line numbers."""

    __slots__ = ("count", "samples")

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[int] = []

    def add(self, lineno: int) -> None:
        self.count += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(lineno)


def _jsonl(stream: Any, prefix: bytes, decided: bool) -> Iterator[Item]:
    """JSON Lines: a Message per OTLP/JSON line; the lines that are not OTLP are counted.

    A line that does not parse is a broken OTLP record (Unreadable) when it is an
    object naming an OTLP top-level key, or the file's last line, cut short, in a file
    that has OTLP lines; any other is the process's own output (a banner, a log line).
    The counts come last, as ``Foreign`` items, once the file is known to be OTLP:
    ``decided``, or once an OTLP line was read. A file with none is ``Skipped``.
    """
    otlp = decided
    text, other_json = _Tally(), _Tally()
    with stream:
        lines = itertools.chain([prefix], stream) if prefix else stream
        for lineno, line in enumerate(lines, 1):
            if (
                not line or line.isspace()
            ):  # (isspace stops at the first byte of a document; strip copies it)
                continue
            try:
                doc = json.loads(line)
            except ValueError as exc:
                head = line.lstrip(_BLANK)[:2]
                if head[:1] == b"{" and (
                    _has_otlp_key(line) or (otlp and head == b'{"' and not line.endswith(b"\n"))
                ):
                    otlp = True
                    yield Unreadable(
                        lineno,
                        f"not valid JSON ({_json_error(exc)}): each line must be one OTLP/JSON document",
                    )
                else:
                    text.add(lineno)
                continue
            item = _convert_json(doc, lineno)
            if item is None:
                other_json.add(lineno)
                continue
            otlp = True
            yield item
    if not otlp:
        yield Skipped(1, _not_otlp_lines(text.count, other_json.count))
        return
    for tally, is_json in ((text, False), (other_json, True)):
        if tally.count:
            yield Foreign(tally.samples[0], tally.count, is_json, tally.samples)


def _not_otlp_lines(text: int, other_json: int) -> str:
    if not text and not other_json:
        return "empty (only blank lines)"
    if other_json == 1 and not text:
        return "not OTLP (JSON that is no OTLP/JSON document)"
    if not text:
        return f"not OTLP (JSON Lines, none of its {other_json} lines an OTLP/JSON document)"
    if not other_json:
        return "not OTLP (text, no line of it an OTLP/JSON document)"
    return f"not OTLP ({other_json} JSON and {text} other lines, none an OTLP/JSON document)"


def _json_document(stream: Any, prefix: bytes) -> Iterator[Item]:
    """One (pretty-printed) JSON document; if it does not parse, maybe OTLP/JSON lines among text."""
    with stream:
        data = prefix + stream.read()
    try:
        doc = json.loads(data)
    except ValueError as exc:
        # A process's output that starts with a JSON-looking line, with OTLP/JSON lines later?
        items = list(_jsonl(io.BytesIO(data), b"", False))
        if any(isinstance(item, Message) for item in items):
            yield from items
        elif _has_otlp_key(data):
            yield Unreadable(
                1, f"not valid JSON ({_json_error(exc)}): expected an OTLP/JSON document"
            )
        else:
            yield Skipped(1, "not OTLP (text that is not valid JSON, and names no OTLP key)")
        return
    item = _convert_json(doc, 1)
    if item is None:
        yield Skipped(1, f"not OTLP (JSON, {_what_json(doc)})")
        return
    yield item


def _what_json(doc: Any) -> str:
    """What a JSON document that is not OTLP holds, briefly and without its values."""
    if isinstance(doc, dict):
        if not doc:
            return "an empty object"
        keys = list(doc)
        shown = ", ".join(repr(k) for k in keys[:3]) + (
            f" and {len(keys) - 3} more" if len(keys) > 3 else ""
        )
        return f"an object with top-level keys {shown}"
    if isinstance(doc, list):
        return f"an array of {len(doc)} items"
    return "a single value"


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
    return str(exc).splitlines()[0]


def _framed(stream: Any, path: str, first: int = 0) -> Iterator[Item]:
    with stream:
        record = first
        while True:
            head = stream.read(4)
            if not head:
                return
            record += 1
            if len(head) < 4:
                yield Unreadable(
                    record,
                    f"truncated length prefix ({len(head)} of 4 bytes): the file was cut short",
                )
                return
            n = int.from_bytes(head, "big")
            payload = stream.read(n)
            if len(payload) < n:
                yield Unreadable(
                    record,
                    f"truncated message: the prefix says {n} bytes, the file ends after {len(payload)}",
                )
                return
            if payload[:4] == _ZSTD:
                try:
                    import zstandard

                    payload = zstandard.ZstdDecompressor().decompress(
                        payload, max_output_size=1 << 30
                    )
                except zstandard.ZstdError as exc:
                    yield Unreadable(record, f"zstd frame does not decompress ({exc})")
                    continue
            # (A protobuf message starts with 0x0a, a newline: strip a few bytes, not a copy of all.)
            if payload[:64].lstrip()[:1] == b"{" or (
                payload[:64].isspace() and payload.lstrip()[:1] == b"{"
            ):
                # Collector json + zstd (legacy framing): each frame holds JSON lines.
                for line in payload.splitlines():
                    if line and not line.isspace():
                        try:
                            item = _convert_json(json.loads(line), record)
                        except ValueError as exc:
                            yield Unreadable(record, f"not valid JSON ({_json_error(exc)})")
                            continue
                        yield (
                            item
                            if item is not None
                            else Unreadable(record, "a JSON line that is no OTLP document")
                        )
                continue
            yield Message(bytes(payload), None, record)


def _raw(stream: Any, path: str) -> Iterator[Item]:
    with stream:
        data = stream.read()
    yield Message(data, None, 1)


# -- telling the signal of a binary message -------------------------------------------
def classify(payload: bytes, hint: Signal | None = None) -> Signal | None:
    """Which OTLP message ``payload`` is, from its first leaf record (span, metric, log).

    ``TracesData``, ``MetricsData`` and ``LogsData`` all start with field 1; what tells
    them apart is the shape of the records inside: a log record's field 1 is a fixed64
    timestamp, a span's fields 7/8 are fixed64 times, a metric's data sits in fields
    5, 7, 9, 10, 11 as messages.
    """
    from otlint.core.wire import wire_fields

    try:
        # A memoryview: the walk slices without copying the message it looks into.
        for num, wt, rs in wire_fields(memoryview(payload)):
            if num != 1 or wt != 2:
                continue
            for num2, wt2, scope in wire_fields(rs):
                if num2 != 2 or wt2 != 2:
                    continue
                for num3, wt3, leaf in wire_fields(scope):
                    if num3 == 2 and wt3 == 2:
                        found = _classify_leaf(leaf)
                        if found is not None:
                            return found
    except (ValueError, IndexError):
        return hint
    return hint


def has_otlp_shape(payload: bytes) -> bool:
    """Whether ``payload`` parses as the envelope every OTLP request shares.

    Top level: only field 1 (``resource_spans`` / ``_metrics`` / ``_logs``) as messages;
    inside each, only fields 1-3 as messages (resource, scope records, schema URL);
    inside a scope record, again only fields 1-3 (scope, leaf records, schema URL). A
    message cut short passes on what it has (a cut OTLP file is OTLP, and broken); other
    protobuf (another program's files) and other bytes fail at once. It says nothing of
    which signal the leaves are.
    """
    return bool(payload) and _envelope(memoryview(payload), 0)


def _envelope(buf: memoryview, depth: int) -> bool:
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _uvarint(buf, pos)
        if tag < 0:
            return True  # the tag itself cut short
        if tag & 7 != 2 or (tag >> 3) not in ((1,) if depth == 0 else (1, 2, 3)):
            return False
        n, pos = _uvarint(buf, pos)
        if n < 0:
            return pos >= end  # the length itself cut short
        value = buf[pos : pos + n]
        pos += n
        # Resources, scopes and leaves are not walked: their own fields are any.
        if depth < 2 and (depth == 0 or tag >> 3 == 2) and not _envelope(value, depth + 1):
            return False
    return True


def _uvarint(buf: memoryview, pos: int) -> tuple[int, int]:
    """A varint at ``pos`` and the position after it; -1 when it runs past the end or 10 bytes."""
    value = shift = 0
    for i in range(pos, min(pos + 10, len(buf))):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    return -1, len(buf)


def _classify_leaf(leaf: bytes | memoryview) -> Signal | None:
    from otlint.core.wire import wire_fields

    fields: set[tuple[int, int]] = set()
    for num, wt, _ in wire_fields(leaf):
        # Fields come in number order; these settle it before the attributes are walked.
        if wt == 1 and num in (1, 11):
            return Signal.LOGS
        if wt == 1 and num in (7, 8):
            return Signal.TRACES
        if wt == 2 and num == 7:
            return Signal.METRICS
        fields.add((num, wt))
    if (1, 1) in fields or (11, 1) in fields or ((2, 0) in fields and (7, 1) not in fields):
        return Signal.LOGS
    if (
        (7, 1) in fields
        or (8, 1) in fields
        or ((2, 2) in fields and (1, 2) in fields and (6, 0) in fields)
    ):
        return Signal.TRACES
    if any((n, 2) in fields for n in (5, 7, 9, 10, 11)):
        return Signal.METRICS
    return None


# -- byte ranges of one large file, for parallel reads ------------------------------------
#: Formats whose files can be cut at record boundaries and read in pieces.
SPLITTABLE = ("jsonl", "proto-framed")


class _Range(io.RawIOBase):
    """The bytes [start, end) of a file, as a stream of its own."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
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
    stream = io.BufferedReader(_Range(path, start, end), _PEEK)
    if fmt == "jsonl":
        # Only files known to be OTLP are cut: a piece of one with no OTLP line is still OTLP.
        return Source(path, fmt, True, _guard(_jsonl(stream, b"", True), []))
    if fmt == "proto-framed":
        return Source(path, fmt, False, _guard(_framed(stream, path, first or 0), []))
    raise ValueError(f"format {fmt!r} cannot be read in pieces")


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
                pos += 4 + int.from_bytes(head, "big")
                frames += 1
                if pos - last >= chunk and pos < size:
                    cuts.append(pos)
                    before.append(frames)
                    last = pos
        else:
            raise ValueError(f"format {fmt!r} cannot be read in pieces")
    cuts.append(size)
    return [(a, b, n) for (a, b), n in zip(itertools.pairwise(cuts), before, strict=True)]
