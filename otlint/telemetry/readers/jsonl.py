"""OTLP/JSON: JSON Lines (among other output, as a process's stdout), and one document."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.telemetry.readers.items import (
    MAX_SAMPLES,
    Columns,
    Foreign,
    Item,
    Message,
    Skipped,
    Unreadable,
)
from otlint.telemetry.readers.otlp_fast import encode_line, prepare_line
from otlint.telemetry.readers.sniff import BLANK, has_otlp_key

if TYPE_CHECKING:
    from otlint.telemetry.readers.items import Stream


def convert_json(doc: object, record: int) -> Item | None:
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


#: The bytes a JSON text can start with (blanks and a byte order mark included).
_JSON_START = frozenset(b'{["-0123456789tfn \t\r\n\xef')


def jsonl(
    stream: Stream, prefix: bytes, decided: bool, newlines: list[int] | None = None
) -> Iterator[Item]:
    """JSON Lines: a Message per OTLP/JSON line; the lines that are not OTLP are counted.

    ``newlines``: given, the lines read that end with a newline are appended to it once
    the stream is read to its end (a piece's count numbers the pieces after it).

    A line that does not parse is a broken OTLP record (Unreadable) when it is an
    object naming an OTLP top-level key, or the file's last line, cut short, in a file
    that has OTLP lines; any other is the process's own output (a banner, a log line).
    The counts come last, as ``Foreign`` items, once the file is known to be OTLP:
    ``decided``, or once an OTLP line was read. A file with none is ``Skipped``.
    """
    otlp = decided
    text, other_json = _Tally(), _Tally()
    lineno, line = 0, b""
    with stream:
        lines = itertools.chain([prefix], stream) if prefix else stream
        for lineno, line in enumerate(lines, 1):  # (both read after the loop too)
            if (
                not line or line.isspace()
            ):  # (isspace stops at the first byte of a document; strip copies it)
                continue
            if line[0] not in _JSON_START:
                text.add(lineno)  # (a banner, a log line: no JSON starts so, none is parsed)
                continue
            # Canonical OTLP/JSON: read into columns, or else encoded; anything else
            # is read carefully (below), its deviations recorded.
            prepared = prepare_line(line)
            if prepared is not None:
                otlp = True
                yield Columns(prepared, line, lineno)
                continue
            got = encode_line(line)
            if got is not None:
                otlp = True
                yield Message(got[1], got[0], lineno)
                continue
            try:
                doc = json.loads(line)
            except (ValueError, RecursionError) as exc:
                head = line.lstrip(BLANK)[:2]
                if head[:1] == b"{" and (
                    has_otlp_key(line) or (otlp and head == b'{"' and not line.endswith(b"\n"))
                ):
                    otlp = True
                    yield Unreadable(
                        lineno,
                        f"not valid JSON ({json_error(exc)}): each line must be one OTLP/JSON document",
                    )
                else:
                    text.add(lineno)
                continue
            item = convert_json(doc, lineno)
            if item is None:
                other_json.add(lineno)
                continue
            otlp = True
            yield item
    if newlines is not None:
        newlines.append(lineno - (1 if line and not line.endswith(b"\n") else 0))
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


def json_document(stream: Stream, prefix: bytes) -> Iterator[Item]:
    """One (pretty-printed) JSON document; if it does not parse, maybe OTLP/JSON lines among text."""
    with stream:
        data = prefix + stream.read()
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        # A process's output that starts with a JSON-looking line, with OTLP/JSON lines later?
        items = list(jsonl(io.BytesIO(data), b"", False))
        if any(isinstance(item, Message) for item in items):
            yield from items
        elif has_otlp_key(data):
            yield Unreadable(
                1, f"not valid JSON ({json_error(exc)}): expected an OTLP/JSON document"
            )
        else:
            what = (
                "JSON nested too deep to read"
                if isinstance(exc, RecursionError)
                else "text that is not valid JSON"
            )
            yield Skipped(1, f"not OTLP ({what}, and names no OTLP key)")
        return
    item = convert_json(doc, 1)
    if item is None:
        yield Skipped(1, f"not OTLP (JSON, {_what_json(doc)})")
        return
    yield item


def _what_json(doc: object) -> str:
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


def json_error(exc: ValueError | RecursionError) -> str:
    """What is wrong with text ``json.loads`` refused, in one line."""
    if isinstance(exc, RecursionError):
        return "it nests arrays and objects deeper than the JSON parser goes, about 1000 levels"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
    return str(exc).splitlines()[0]
