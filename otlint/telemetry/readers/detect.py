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
from otlint.core.fs import enter
from otlint.telemetry.readers.framed import framed, raw
from otlint.telemetry.readers.items import Source, Unreadable
from otlint.telemetry.readers.jsonl import json_document, jsonl
from otlint.telemetry.readers.sniff import (
    BLANK,
    GZIP,
    PEEK,
    ZSTD,
    is_json,
    is_text,
    looks_framed,
    second_line_is_json,
    starts_otlp,
)
from otlint.telemetry.readers.streams import Zstd, guard, stream_errors

if TYPE_CHECKING:
    from otlint.telemetry.readers.items import Peekable


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
        stdin = sys.stdin.buffer
        # (A stdin with no raw stream under it, as a test harness gives, is buffered itself.)
        raw: Peekable = (
            io.BufferedReader(stdin.raw, PEEK) if hasattr(stdin, "raw") else cast(Peekable, stdin)
        )
    else:
        try:
            raw = io.BufferedReader(io.FileIO(path, "rb"), PEEK)  # closed by the items iterator
        except OSError as exc:
            raise OtlintError(f"{path}: cannot open: {exc.strerror}") from None
    return _detect(path, raw, [])


def _detect(path: str, stream: Peekable, wrappers: list[str]) -> Source:
    fmt_suffix = "".join(f"+{w}" for w in wrappers)
    try:
        head: bytes = stream.peek(PEEK)
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
        # GzipFile is buffered itself, and its peek keeps what a cut stream did decode.
        return _detect(path, gzip.GzipFile(fileobj=stream), [*wrappers, "gzip"])
    if head.startswith(ZSTD) and "zstd" not in wrappers:
        return _detect(path, io.BufferedReader(Zstd(stream), PEEK), [*wrappers, "zstd"])
    inside = f" (inside {'+'.join(wrappers)})" if wrappers else ""
    if is_text(head[:512]):
        stripped = head.lstrip(BLANK)
        if not stripped and len(head) < PEEK:
            stream.close()
            return Source(path, "empty" + fmt_suffix, False, iter(()), skip=f"empty{inside}")
        if stripped[:1] in (b"{", b"["):
            newline = head.find(b"\n")
            # A first line longer than the peek is read whole (and handed on) to decide.
            prefix = b"" if newline >= 0 else stream.readline()
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
    if looks_framed(head):
        return Source(
            path, "proto-framed" + fmt_suffix, False, guard(framed(stream, path), wrappers)
        )
    if head[:1] == b"\x0a":
        return Source(path, "protobuf" + fmt_suffix, False, guard(raw(stream, path), wrappers))
    stream.close()
    return Source(
        path,
        "binary" + fmt_suffix,
        False,
        iter(()),
        skip=f"not OTLP (binary{inside}, neither OTLP protobuf nor the collector's length-prefixed framing)",
    )
