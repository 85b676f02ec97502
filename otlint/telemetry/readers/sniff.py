"""Telling a format from the first bytes of an input, without parsing it all."""

from __future__ import annotations

import json
import os
import re

from otlint.core.wire import wire_fields
from otlint.telemetry.corpus.corpus import Signal

GZIP = b"\x1f\x8b"
ZSTD = b"\x28\xb5\x2f\xfd"
#: How much of an input is looked at to tell its format (and read ahead while reading).
PEEK = 1 << 16
#: Blank bytes (and a UTF-8 byte order mark) before a document.
BLANK = b" \t\r\n\xef\xbb\xbf"


def is_json(line: bytes) -> bool:
    """Whether ``line`` is a JSON object (one nested too deep to parse is not, here)."""
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def is_text(head: bytes) -> bool:
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


def has_otlp_key(text: bytes) -> bool:
    """Whether ``text`` names an OTLP/JSON top-level key (``"resourceSpans"``, ...)."""
    return b'"resource' in text and any(k in text for k in _OTLP_KEYS)


#: A line that opens an OTLP/JSON document: its first key is the signal's (as every writer puts it).
_OTLP_START = re.compile(rb'\s*\{\s*"resource(Spans|Metrics|Logs|_spans|_metrics|_logs)"\s*:')


def starts_otlp(head: bytes) -> bool:
    """Whether the first line of ``head`` opens an OTLP/JSON document (then the file is OTLP).

    Told from its first bytes, never parsed: the first line of a large batch can be
    megabytes long. Both the whole read and the pieces of ``--jobs`` go by it.
    """
    return _OTLP_START.match(head.lstrip(BLANK)) is not None


def second_line_is_json(head: bytes, newline: int) -> bool:
    """A broken first line must not turn JSON Lines into one (unreadable) document.

    A pretty-printed document may have a whole JSON value on its second line too; it is
    told apart by its first line, which leaves a bracket open (ends in ``[``, ``{``, ``,``
    or ``:``), or by the second line's indentation, which JSON Lines never have.
    """
    if newline < 0 or head[:newline].rstrip()[-1:] in (b"[", b"{", b",", b":"):
        return False
    for line in head[newline + 1 :].split(b"\n")[:-1]:
        if line.strip():
            return not line[:1].isspace() and is_json(line)
    return False


def looks_framed(head: bytes, loose: bool = False) -> bool:
    """Whether ``head`` starts with the collector's length-prefixed framing.

    Empty frames (zero length prefixes) before the first frame are looked past: the
    reader reports them. A head of zeros alone is no framing. ``loose``: a first frame
    may open with another field before field 1 (asked only once the head is known to be
    neither protobuf nor OTLP/JSON after stray bytes).
    """
    empty = (len(head) - len(head.lstrip(b"\0"))) // 4 * 4
    if empty:
        head = head[empty:]
    if len(head) < 5:
        return False
    n = int.from_bytes(head[:4], "big")
    if n == 0 or head[0] == 0x0A:
        # A raw message starts with field 1's tag (0x0a); a length prefix of that size
        # would mean a frame of 160 MiB or more.
        return False
    if head[4:5] == b"\x0a" or head[4:8] == ZSTD:
        return True
    # No message starts with a zero byte (field 0 is no field), so a head of 0x00 is a
    # prefix under 16 MiB; the first frame is taken as one when it lies whole in the head
    # and reads as a message holding field 1 (its resources) after another field first.
    return loose and head[0] == 0 and _holds_field_one(head[4 : 4 + n], n)


def _holds_field_one(payload: bytes, n: int) -> bool:
    """Whether ``payload`` is ``n`` bytes of protobuf fields, one of them field 1 (LEN)."""
    if len(payload) < n:
        return False
    try:
        return any(num == 1 and wt == 2 for num, wt, _ in wire_fields(payload))
    except ValueError:
        return False


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
