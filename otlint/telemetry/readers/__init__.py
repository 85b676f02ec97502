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

Hostile input is bounded, each bound an ``Unreadable`` item past it (RD001), never an
exception: decompression (``streams.Budget``: 128 MiB, or 200 times the compressed size),
AnyValues nested more than 64 levels (``core.wire``), JSON nested deeper than the parser
goes; runs of empty frames (a zero-filled stretch) are one item, read a buffer at a time.
A folder walk skips, with a note, what is no regular file (dangling or looping links,
pipes, devices) and sub-folders it cannot list (``core.fs``).
"""

from __future__ import annotations

from otlint.telemetry.readers.detect import expand, open_source
from otlint.telemetry.readers.items import (
    Columns,
    Foreign,
    Item,
    Message,
    Skipped,
    Source,
    Unreadable,
)
from otlint.telemetry.readers.pieces import SPLITTABLE, open_range, split_points
from otlint.telemetry.readers.shape import classify, has_otlp_shape
from otlint.telemetry.readers.sniff import signal_hint

__all__ = [
    "SPLITTABLE",
    "Columns",
    "Foreign",
    "Item",
    "Message",
    "Skipped",
    "Source",
    "Unreadable",
    "classify",
    "expand",
    "has_otlp_shape",
    "open_range",
    "open_source",
    "signal_hint",
    "split_points",
]
