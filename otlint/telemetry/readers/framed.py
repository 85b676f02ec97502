"""Protobuf: the collector file exporter's length-prefixed frames, and one raw message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.telemetry.readers.items import Item, Message, Unreadable
from otlint.telemetry.readers.jsonl import convert_json, json_error
from otlint.telemetry.readers.sniff import PEEK, ZSTD
from otlint.telemetry.readers.streams import Budget, Expanded, expanded_message, unzstd

if TYPE_CHECKING:
    from otlint.telemetry.readers.items import Stream


def framed(
    stream: Stream, path: str, first: int = 0, *, budget: Budget | None = None
) -> Iterator[Item]:
    """Each frame of a length-prefixed file: a Message, or an Unreadable for what is wrong.

    ``first``: the frames before this stream (a piece of a file). ``budget``: how far the
    zstd frames among them may expand, together (by default, as a file of
    ``MAX_RATIO``-times-nothing: ``MIN_CAP``).
    """
    budget = budget if budget is not None else Budget.of_size(0)
    with stream:
        record = first
        carry = 0  # zero bytes of the next length prefix already read
        while True:
            head = stream.read(4) if not carry else bytes(carry) + stream.read(4 - carry)
            carry = 0
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
            if n == 0:
                # An empty frame holds no record; a run of them is a zero-filled stretch.
                more, carry = _zero_frames(stream)
                empty = 1 + more
                yield Unreadable(record, _empty_frames(empty))
                record += empty - 1
                continue
            payload = stream.read(n)
            if len(payload) < n:
                yield Unreadable(
                    record,
                    f"truncated message: the prefix says {n} bytes, the file ends after {len(payload)}",
                )
                return
            if payload[:4] == ZSTD:
                try:
                    import zstandard

                    payload = unzstd(payload, budget)
                except Expanded as exc:
                    yield Unreadable(record, expanded_message([], exc, record))
                    return
                except (zstandard.ZstdError, EOFError) as exc:
                    yield Unreadable(record, f"zstd frame does not decompress ({exc})")
                    continue
            # (A protobuf message starts with 0x0a, a newline: strip a few bytes, not a copy of all.)
            if (
                payload[:64].lstrip()[:1] == b"{"
                or (payload[:64].isspace() and payload.lstrip()[:1] == b"{")
            ) and _json_lines(payload):
                # Collector json + zstd (legacy framing): each frame holds JSON lines.
                for line in payload.splitlines():
                    if line and not line.isspace():
                        try:
                            item = convert_json(json.loads(line), record)
                        except (ValueError, RecursionError) as exc:
                            yield Unreadable(record, f"not valid JSON ({json_error(exc)})")
                            continue
                        yield (
                            item
                            if item is not None
                            else Unreadable(record, "a JSON line that is no OTLP document")
                        )
                continue
            yield Message(bytes(payload), None, record)


def _json_lines(payload: bytes) -> bool:
    """Whether a frame that starts like JSON (``{`` after blanks) holds JSON lines (the
    legacy json + zstd framing), not protobuf.

    A protobuf message starts with 0x0a, a newline, and one whose first field is 123
    bytes long goes on with ``{``: a payload that starts with a newline is JSON only if
    its first line parses.
    """
    if payload[:1] != b"\n":
        return True
    first = next(line for line in payload.splitlines() if line and not line.isspace())
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _zero_frames(stream: Stream) -> tuple[int, int]:
    """Consume the empty frames (4 zero bytes each) that come next.

    Returns how many there were, and how many zero bytes after them were consumed too
    (0 to 3: the start of the next length prefix). The stream's buffer is looked into,
    not read a prefix at a time: 50 MB of zeros are 12 million empty frames. (A stream
    that cannot peek has each counted on its own.)
    """
    peek = getattr(stream, "peek", None)
    zeros = 0
    while peek is not None:
        ahead: bytes = peek(PEEK)
        run = len(ahead) - len(ahead.lstrip(b"\0"))
        if run:
            stream.read(run)
            zeros += run
        if not ahead or run < len(ahead):
            break
    return zeros // 4, zeros % 4


def _empty_frames(count: int) -> str:
    if count == 1:
        return (
            "an empty frame (a zero length prefix): it holds no record; exporters do not"
            " write one, so the file may be damaged here"
        )
    return (
        f"{count} empty frames in a row ({count * 4} zero bytes): a zero-filled stretch,"
        " as a crash leaves in a file whose data was never written; no record in it"
    )


def raw(stream: Stream, path: str) -> Iterator[Item]:
    """The whole stream as one message (a raw ``Export*ServiceRequest`` / ``*Data``)."""
    with stream:
        data = stream.read()
    yield Message(data, None, 1)
