"""Corpus shards on disk: ``--state FILE`` writes one, ``otlint merge`` reads many.

The format is otlint's own, versioned, and safe to read from an untrusted source (no
pickle): a zstd frame holding ``MAGIC``, a JSON header, and the raw bytes of the
Corpus' columns. Resources are stored as their encoded bytes and decoded again on
load, exactly as ``observe`` decoded them.
"""

from __future__ import annotations

import base64
import json
import sys
from array import array
from pathlib import Path
from typing import Any

import zstandard

from otlint.core.errors import OtlintError
from otlint.telemetry.corpus.corpus import Corpus, ReadProblem, Settled, Table

MAGIC = b"OTLINT-STATE\n"
VERSION = 1

_COLUMNS = ("ids", "res", "file", "rec", "parent", "kind", "flags", "addr", "peer")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def to_bytes(corpus: Corpus, level: int = 3) -> bytes:
    """Serialize a corpus (see the module docstring); ``level`` is the zstd level (1 for speed)."""
    blobs: list[bytes] = []
    offset = 0

    def blob(data: bytes) -> list[int]:
        nonlocal offset
        blobs.append(data)
        offset += len(data)
        return [offset - len(data), len(data)]

    tables: dict[str, dict[str, Any]] = {}
    for name in ("spans", "logs", "exemplars"):
        table: Table = getattr(corpus, name)
        cols: dict[str, Any] = {}
        for col in _COLUMNS:
            if not table.with_graph and col in ("parent", "kind", "flags", "addr", "peer"):
                continue
            value = getattr(table, col)
            typecode = value.typecode if isinstance(value, array) else "bytes"
            cols[col] = {
                "type": typecode,
                "at": blob(value.tobytes() if isinstance(value, array) else bytes(value)),
            }
        tables[name] = cols
    header = {
        "version": VERSION,
        "byteorder": sys.byteorder,
        "paths": corpus.paths,
        "path_lines": corpus.path_lines,
        "strings": corpus.strings,
        "resources": [
            {"key": _b64(key), "counts": r.counts, "signals": r.signals, "first": r.first}
            for key, r in zip(corpus.resource_keys, corpus.resources, strict=True)
        ],
        "tables": tables,
        "links": blob(bytes(corpus.links)),
        "attrs": [
            [
                res,
                lvl,
                [
                    [kb.decode("latin-1"), t, c, corpus.attr_first.get((res, lvl), {}).get((kb, t))]
                    for (kb, t), c in counts.items()
                ],
            ]
            for (res, lvl), counts in corpus.attr_counts.items()
        ],
        "bad_ids": [[r, w, p, c, loc] for (r, w, p), (c, loc) in corpus.bad_ids.items()],
        "problems": [
            [p.code, f, k, p.message, p.count, p.first, p.line, p.samples]
            for (_, f, k), p in corpus.problems.items()
        ],
        "settled": [
            [c, s, p, h.count, h.message, h.locations, h.context]
            for (c, s, p), h in corpus.settled.items()
        ],
        "settled_edges": [[a, b, v] for (a, b), v in corpus.settled_edges.items()],
        "settled_traces": corpus.settled_traces,
        "settled_resolved_logs": [[s, n] for s, n in corpus.settled_resolved_logs.items()],
        "file_resources": sorted(corpus.file_resources),
        "kind_keys": [
            [r, key.decode("latin-1"), kind, n] for (r, key, kind), n in corpus.kind_keys.items()
        ],
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    raw = MAGIC + len(head).to_bytes(8, "big") + head + b"".join(blobs)
    return zstandard.ZstdCompressor(level=level).compress(raw)


def from_bytes(data: bytes, origin: str = "<state>") -> Corpus:
    """Rebuild a corpus; a file that is not a state file of this version is an OtlintError."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34)
    except zstandard.ZstdError:
        raise OtlintError(f"{origin}: not an otlint state file (write one with --state)") from None
    if not raw.startswith(MAGIC):
        raise OtlintError(f"{origin}: not an otlint state file (write one with --state)")
    try:
        n = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "big")
        start = len(MAGIC) + 8
        header = json.loads(raw[start : start + n])
        body = memoryview(raw)[start + n :]
        if header.get("version") != VERSION:
            raise OtlintError(
                f"{origin}: state file version {header.get('version')} needs another otlint (this one reads {VERSION})"
            )
        return _rebuild(header, body)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise OtlintError(
            f"{origin}: damaged otlint state file ({type(exc).__name__}: {exc})"
        ) from None


def _rebuild(header: dict[str, Any], body: memoryview) -> Corpus:
    corpus = Corpus()
    for path, lines in zip(header["paths"], header["path_lines"], strict=True):
        corpus.path_index(path, lines)
    for s in header["strings"]:
        corpus.string_index(s)
    for r in header["resources"]:
        idx = corpus.resource_index(base64.b64decode(r["key"]))
        facts = corpus.resources[idx]
        facts.counts = list(r["counts"])
        facts.signals = list(r["signals"])
        facts.first = [tuple(f) if f is not None else None for f in r["first"]]
    swap = header["byteorder"] != sys.byteorder
    for name, cols in header["tables"].items():
        table: Table = getattr(corpus, name)
        for col, spec in cols.items():
            at, size = spec["at"]
            chunk = bytes(body[at : at + size])
            if spec["type"] == "bytes":
                setattr(table, col, bytearray(chunk))
            else:
                arr = array(spec["type"])
                arr.frombytes(chunk)
                if swap:
                    arr.byteswap()
                setattr(table, col, arr)
    at, size = header["links"]
    corpus.links = bytearray(body[at : at + size])
    for res, lvl, entries in header["attrs"]:
        counts = corpus.attr_counts.setdefault((res, lvl), {})
        firsts = corpus.attr_first.setdefault((res, lvl), {})
        for key, t, c, first in entries:
            kt = (key.encode("latin-1"), t)
            counts[kt] = c
            if first is not None:
                firsts[kt] = tuple(first)
    for r, w, p, c, loc in header["bad_ids"]:
        corpus.bad_ids[(r, w, p)] = [c, tuple(loc)]
    for code, f, k, message, count, first, line, *rest in header["problems"]:
        # (Shards of earlier otlint 0.1 builds have no samples: the first record stands for them.)
        samples = list(rest[0]) if rest else [first[1]]
        corpus.problems[(code, f, k)] = ReadProblem(
            code, k, message, count, (first[0], first[1]), line, samples
        )
    corpus.file_resources = {(f, r) for f, r in header.get("file_resources", [])}
    corpus.kind_keys = {
        (r, key.encode("latin-1"), kind): n for r, key, kind, n in header.get("kind_keys", [])
    }
    corpus.absorb_settled(
        {
            (c, s, p): Settled(n, m, [tuple(loc) for loc in locs], ctx)
            for c, s, p, n, m, locs, ctx in header["settled"]
        },
        {(a, b): list(v) for a, b, v in header["settled_edges"]},
        header["settled_traces"],
        {s: n for s, n in header["settled_resolved_logs"]},
    )
    return corpus


def write(corpus: Corpus, path: str | Path) -> None:
    """Write a corpus shard to ``path``."""
    try:
        Path(path).write_bytes(to_bytes(corpus))
    except OSError as exc:
        raise OtlintError(f"{path}: cannot write the state file: {exc.strerror}") from None


def read(path: str | Path) -> Corpus:
    """Read a corpus shard from ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read the state file: {exc.strerror}") from None
    return from_bytes(data, str(path))
