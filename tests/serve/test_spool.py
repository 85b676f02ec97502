"""The spool on disk and gzip bodies: real files and real zlib, no server."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from otlint.core.errors import OtlintError
from otlint.serve import spool
from otlint.serve.forward import Held
from otlint.serve.http import gunzip
from otlint.telemetry.corpus.corpus import Signal


def _held() -> list[Held]:
    return [
        Held(Signal.TRACES, b"\x0a\x00" * 50, 3),
        Held(Signal.LOGS, b"", 0),
        Held(Signal.METRICS, bytes(range(256)) * 40, 7),
    ]


def test_a_spool_file_round_trips_in_order(tmp_path: Path) -> None:
    folder = spool.prepare(str(tmp_path / "spool"))
    written, counts = spool.write(folder, _held())
    assert written is not None and counts == [3, 7, 0]
    assert spool.write(folder, []) == (None, [0, 0, 0])
    said: list[str] = []
    held, used = spool.load(folder, said.append)
    assert [(h.signal, h.payload, h.records, h.replayed) for h in held] == [
        (h.signal, h.payload, h.records, True) for h in _held()
    ]
    assert used == [written] and not said
    spool.remove(used)
    assert spool.files(folder) == []


@pytest.mark.parametrize("damage", ["cut", "flip", "header"])
def test_a_damaged_spool_file_replays_up_to_the_damage_and_is_kept_aside(
    tmp_path: Path, damage: str
) -> None:
    folder = spool.prepare(str(tmp_path))
    written, _ = spool.write(folder, _held())
    assert written is not None
    data = bytearray(written.read_bytes())
    if damage == "cut":
        data = data[:-10]  # inside the last request
    elif damage == "flip":
        data[-20] ^= 0xFF  # the last request no longer matches its checksum
    else:
        data[:5] = b"XXXXX"
    written.write_bytes(bytes(data))
    said: list[str] = []
    held, used = spool.load(folder, said.append)
    assert len(held) == (0 if damage == "header" else 2)
    assert used == [] and spool.files(folder) == []
    assert (folder / (written.name + ".bad")).exists()
    assert len(said) == 1 and "kept as" in said[0] and str(written) in said[0]


def test_a_spool_folder_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OtlintError, match=r"--spool .*cannot write there"):
        spool.prepare(str(blocker / "spool"))


def test_gunzip_reads_every_member_and_refuses_what_is_not_gzip() -> None:
    assert gunzip(gzip.compress(b"ab") + gzip.compress(b"cd"), 100) == b"abcd"
    assert gunzip(gzip.compress(b""), 100) == b""
    for body, why in (
        (gzip.compress(b"ab") + b"junk", "after the last gzip member"),
        (gzip.compress(b"ab")[:-3], "truncated"),
        (b"not gzip", "incorrect header"),
        (gzip.compress(b"\0" * 101), "inflates past the 100-byte limit"),
        (gzip.compress(b"\0" * 60) + gzip.compress(b"\0" * 60), "inflates past"),
    ):
        with pytest.raises(ValueError, match=why):
            gunzip(body, 100)
