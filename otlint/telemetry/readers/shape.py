"""Telling which OTLP message a binary payload is, and whether it is one at all, from its
wire format (protobuf carries no type name)."""

from __future__ import annotations

from otlint.core.wire import wire_fields
from otlint.telemetry.corpus.corpus import Signal

#: Fields ``classify`` looks at before it gives up telling (and leaves it to the hint).
MAX_LOOKED = 4096

#: The bytes ``has_otlp_shape`` walks: the envelope's start tells.
SHAPE_PREFIX = 1 << 16


def classify(payload: bytes, hint: Signal | None = None) -> Signal | None:
    """Which OTLP message ``payload`` is, from its first leaf record (span, metric, log).

    ``TracesData``, ``MetricsData`` and ``LogsData`` all start with field 1; what tells
    them apart is the shape of the records inside: a log record's field 1 is a fixed64
    timestamp, a span's fields 7/8 are fixed64 times, a metric's data sits in fields
    5, 7, 9, 10, 11 as messages.
    """

    # Telling needs one leaf: a message of many empty containers (hostile, or garbage
    # that parses) is not walked to its end. (Counted off the path to the first leaf.)
    looked = 0
    try:
        # A memoryview: the walk slices without copying the message it looks into.
        for num, wt, rs in wire_fields(memoryview(payload)):
            if num == 1 and wt == 2:
                for num2, wt2, scope in wire_fields(rs):
                    if num2 == 2 and wt2 == 2:
                        for num3, wt3, leaf in wire_fields(scope):
                            if num3 == 2 and wt3 == 2:
                                found = _classify_leaf(leaf)
                                if found is not None:
                                    return found
                            looked += 1
                            if looked > MAX_LOOKED:
                                return hint
                    looked += 1
                    if looked > MAX_LOOKED:
                        return hint
            looked += 1
            if looked > MAX_LOOKED:
                return hint
    except (ValueError, IndexError):
        return hint
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
    # (A prefix is a message cut short, which passes on what it has.)
    return bool(payload) and _envelope(memoryview(payload)[:SHAPE_PREFIX], 0)


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
