"""Protobuf: the collector file exporter's length-prefixed frames, and one raw message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.telemetry.readers.items import Item, Message, Unreadable
from otlint.telemetry.readers.jsonl import convert_json, json_error
from otlint.telemetry.readers.sniff import ZSTD

if TYPE_CHECKING:
    from otlint.telemetry.readers.items import Stream


def framed(stream: Stream, path: str, first: int = 0) -> Iterator[Item]:
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
            if payload[:4] == ZSTD:
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
                            item = convert_json(json.loads(line), record)
                        except ValueError as exc:
                            yield Unreadable(record, f"not valid JSON ({json_error(exc)})")
                            continue
                        yield (
                            item
                            if item is not None
                            else Unreadable(record, "a JSON line that is no OTLP document")
                        )
                continue
            yield Message(bytes(payload), None, record)


def raw(stream: Stream, path: str) -> Iterator[Item]:
    with stream:
        data = stream.read()
    yield Message(data, None, 1)
