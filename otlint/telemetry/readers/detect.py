"""Opening an input and telling its format from its content (the table in the package
docstring), and walking folders of inputs."""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from otlint.core.errors import OtlintError
from otlint.core.fs import enter, not_a_file, walk_error
from otlint.telemetry.readers.framed import framed, raw
from otlint.telemetry.readers.items import Source, Unreadable
from otlint.telemetry.readers.jsonl import json_document, jsonl
from otlint.telemetry.readers.sniff import (
    BLANK,
    GZIP,
    PEEK,
    ZSTD,
    has_otlp_key,
    is_json,
    is_text,
    looks_framed,
    second_line_is_json,
    starts_otlp,
)
from otlint.telemetry.readers.streams import (
    Budget,
    Capped,
    Counted,
    Expanded,
    Zstd,
    budget_of,
    expanded_message,
    guard,
    stream_errors,
)

if TYPE_CHECKING:
    from otlint.telemetry.readers.items import Peekable


def expand(
    paths: Sequence[str], skipped: list[tuple[str, str]] | None = None
) -> Iterator[tuple[str, bool]]:
    """Yield (path, explicit) for each input; folders are walked recursively, sorted.

    ``explicit`` is False for files found inside a folder. (Both are read alike: what
    is not OTLP is skipped with a note, wherever it was found.) What a walk finds that is
    no regular file, and sub-folders it cannot list, are not yielded: each goes into
    ``skipped`` as (path, why), for the notes.
    """
    notes: list[tuple[str, str]] = skipped if skipped is not None else []
    for p in paths:
        if p == "-":
            yield p, True
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path, onerror=lambda e: notes.append(walk_error(e))):
                dirs[:] = sorted(filter(enter, dirs))
                for name in sorted(files):
                    if not name.startswith("."):
                        found = os.path.join(root, name)
                        why = not_a_file(found)
                        if why is None:
                            yield found, False
                        else:
                            notes.append((found, why))
        elif path.exists():
            yield p, True
        else:
            raise OtlintError(
                f"{p}: no such file or folder: give a path to an OTLP dump or a folder of them"
            )


def open_source(path: str) -> Source:
    """Open ``path`` (``-`` for stdin) and detect its format (``skip`` set if it is not OTLP).

    A named pipe (a FIFO) is read as a stream, like stdin: opening it waits for a writer.
    """
    if path == "-":
        stdin = sys.stdin.buffer
        # (A stdin with no raw stream under it, as a test harness gives, is buffered itself.)
        if not hasattr(stdin, "raw"):
            return _detect(path, cast(Peekable, stdin), [], Budget.of_size(0))
        file: io.RawIOBase = stdin.raw
    else:
        try:
            file = io.FileIO(path, "rb")  # closed by the items iterator
        except OSError as exc:
            raise OtlintError(f"{path}: cannot open: {exc.strerror}") from None
    file, budget = budget_of(file)
    stream = io.BufferedReader(file, PEEK)
    source = _detect(path, stream, [], budget)
    # (What was read of the input as stored: the stream under any decompressor. A pipe
    # has no size and cannot tell its position: what it counted stands in.)
    if isinstance(file, Counted):
        counted = file
        source.consumed = lambda: counted.count
    else:
        source.size = budget.compressed()
        source.consumed = stream.tell
    return source


def _detect(path: str, stream: Peekable, wrappers: list[str], budget: Budget) -> Source:
    fmt_suffix = "".join(f"+{w}" for w in wrappers)
    try:
        head: bytes = stream.peek(PEEK)
    except Expanded as exc:
        stream.close()
        return _broken(path, "unreadable" + fmt_suffix, wrappers, exc)
    except stream_errors(ValueError) as exc:
        stream.close()
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Source(
            path,
            "unreadable" + fmt_suffix,
            False,
            iter([Unreadable(1, f"cannot read {what} ({reason})")]),
        )
    if head.startswith(GZIP) and "gzip" not in wrappers:
        # (Capped reads the GzipFile a member's chunk at a time: what a cut stream did
        # decode comes out before it breaks.)
        gz = Capped(gzip.GzipFile(fileobj=stream), budget)
        return _detect(path, io.BufferedReader(gz, PEEK), [*wrappers, "gzip"], budget)
    if head.startswith(ZSTD) and "zstd" not in wrappers:
        zst = io.BufferedReader(Zstd(stream, budget), PEEK)
        return _detect(path, zst, [*wrappers, "zstd"], budget)
    inside = f" (inside {'+'.join(wrappers)})" if wrappers else ""
    if is_text(head[:512]):
        stripped = head.lstrip(BLANK)
        if not stripped and len(head) < PEEK:
            stream.close()
            return Source(path, "empty" + fmt_suffix, False, iter(()), skip=f"empty{inside}")
        if stripped[:1] in (b"{", b"["):
            newline = head.find(b"\n")
            # A first line longer than the peek is read whole (and handed on) to decide.
            try:
                prefix = b"" if newline >= 0 else stream.readline()
            except stream_errors() as exc:
                stream.close()
                return _broken(path, "jsonl" + fmt_suffix, wrappers, exc)
            if is_json(head[:newline] if newline >= 0 else prefix) or second_line_is_json(
                head, newline
            ):
                decided = starts_otlp(head if newline >= 0 else prefix)
                items = guard(jsonl(stream, prefix, decided), wrappers)
                return Source(path, "jsonl" + fmt_suffix, True, items, decided=decided)
            return Source(
                path, "json" + fmt_suffix, False, guard(json_document(stream, prefix), wrappers)
            )
        # Other text: a process's output, where an SDK exporter may write OTLP/JSON lines
        # among the app's own; a text file is never protobuf.
        items = guard(jsonl(stream, b"", False), wrappers, text=True)
        return Source(path, "jsonl" + fmt_suffix, True, items, decided=False)
    if not looks_framed(head):
        if head[:1] == b"\x0a":
            return Source(path, "protobuf" + fmt_suffix, False, guard(raw(stream, path), wrappers))
        if has_otlp_key(head):
            # Binary bytes (a stray NUL, a zero-filled stretch) before or among OTLP/JSON
            # lines: read as text, whose lines that are not OTLP are counted (RD003).
            items = guard(jsonl(stream, b"", False), wrappers, text=True)
            return Source(path, "jsonl" + fmt_suffix, True, items, decided=False)
    # (Framing whose first frame opens with field 1, or, when the head is neither of the
    # above, with any field's tag.)
    if looks_framed(head, loose=True):
        return Source(
            path,
            "proto-framed" + fmt_suffix,
            False,
            guard(framed(stream, path, budget=budget), wrappers),
        )
    stream.close()
    return Source(
        path,
        "binary" + fmt_suffix,
        False,
        iter(()),
        skip=f"not OTLP (binary{inside}, neither OTLP protobuf nor the collector's length-prefixed framing)",
    )


def _broken(path: str, fmt: str, wrappers: list[str], exc: BaseException) -> Source:
    """The source of an input whose stream broke (or expanded past its cap) while detecting."""
    if isinstance(exc, Expanded):
        message = expanded_message(wrappers, exc, 1)
    else:
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        message = f"{what} is cut short or corrupt in record 1 ({reason}): the rest is lost"
    return Source(path, fmt, True, iter([Unreadable(1, message)]))
