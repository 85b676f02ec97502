"""Inputs the fuzzers (tests/fuzz/, ``bench/fuzz.py``) found crashing a reader, kept as fixtures.

Each file in ``fuzzed/`` is named for the fuzzer that found it (before any ``-``) and is
replayed through that fuzzer's harness function (the real readers, observing into a Corpus): it must raise
nothing. What each was:

- ``wire``, ``pieces``, ``framed``, ``gzip``: a KeyValue whose key or value field had a
  varint where bytes belong; ``wire_fields`` was handed an ``int`` (TypeError), or
  ``bytes(n)`` would have made n zero bytes.
- ``file``: a KeyValue whose key length runs past its end: ``key_and_type``'s fast path
  indexed past the bytes (IndexError).
- ``framed-link``: a span link whose trace id field is a varint: observe made
  ``bytes(n)`` of it, n zero bytes (MemoryError), found after 250 s of fuzzing.
- ``raw``, ``zstd``: attribute bytes that are no protobuf (field number 0, wire type 4)
  escaped ``observe`` as ValueError: now the record is unreadable (RD001).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from otlint.run.check import scan

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "fuzz"))

import harness  # noqa: E402

FUZZED = sorted((HERE / "fuzzed").glob("*.bin"))


@pytest.mark.parametrize("path", FUZZED, ids=[p.stem for p in FUZZED])
def test_fuzzed_input_reads_without_raising(path: Path) -> None:
    getattr(harness, f"read_{path.stem.split('-')[0]}")(path.read_bytes())


@pytest.mark.parametrize("path", FUZZED, ids=[p.stem for p in FUZZED])
def test_fuzzed_input_as_a_file_is_checked(path: Path) -> None:
    scan([str(path)], jobs=1)
