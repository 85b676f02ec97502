"""``--spool DIR``: requests acknowledged to clients but not forwarded by shutdown, kept on
disk and replayed to the upstream on the next start.

A spool file holds requests in arrival order, each as ``signal`` (1 byte), ``records``
(4 bytes), ``length`` (8 bytes, big-endian), the request bytes and their CRC-32 (4 bytes),
after a header line. It is written to a temporary name, synced, then renamed, so a file
with the final name is whole. A file cut short or damaged anyway is replayed up to the
damage and kept as ``NAME.bad``, with a warning. Replayed files are removed once every
request in them was forwarded or refused by the upstream, or was written into a new spool
file at the next shutdown; a crash before that replays them again (at least once, as
OTLP's retries are).
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from otlint.core.errors import OtlintError
from otlint.serve.forward import Held
from otlint.telemetry.corpus.corpus import Signal

MAGIC = b"OTLINT-SPOOL 1\n"
PREFIX = "otlint-spool-"
SUFFIX = ".bin"
_HEAD = 13  # signal, records, length


def prepare(folder: str) -> Path:
    """The spool folder, created if need be; OtlintError if it cannot be written."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".{PREFIX}probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OtlintError(
            f"--spool {folder}: cannot write there ({exc.strerror or exc}): give a folder otlint may write"
        ) from None
    return path


def files(folder: Path) -> list[Path]:
    """Spool files in ``folder``, oldest first."""
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def write(folder: Path, held: Iterable[Held]) -> tuple[Path | None, list[int]]:
    """Write ``held`` to a new spool file; returns it (None if nothing was held) and the
    records per signal it holds. OSError if it cannot be written whole."""
    items = list(held)
    counts = [0, 0, 0]
    if not items:
        return None, counts
    name = f"{PREFIX}{time.time_ns()}-{os.getpid()}{SUFFIX}"
    final = folder / name
    tmp = folder / f".{name}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(MAGIC)
            for item in items:
                out.write(
                    bytes([int(item.signal)])
                    + item.records.to_bytes(4, "big")
                    + len(item.payload).to_bytes(8, "big")
                )
                out.write(item.payload)
                out.write(zlib.crc32(item.payload).to_bytes(4, "big"))
                counts[item.signal] += item.records
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
        _sync_folder(folder)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return final, counts


def read(path: Path) -> tuple[list[Held], str | None]:
    """The requests of one spool file, and what is wrong with it (None if it is whole)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], f"cannot read ({exc.strerror or exc})"
    if not data.startswith(MAGIC):
        return [], "not an otlint spool file (its first line is not the spool header)"
    out: list[Held] = []
    pos = len(MAGIC)
    while pos < len(data):
        number = len(out) + 1
        if pos + _HEAD > len(data):
            return out, f"record {number} is cut short (the file ends inside its header)"
        kind = data[pos]
        records = int.from_bytes(data[pos + 1 : pos + 5], "big")
        length = int.from_bytes(data[pos + 5 : pos + 13], "big")
        start = pos + _HEAD
        end = start + length
        if kind > 2:
            return out, f"record {number} has signal {kind}, not 0, 1 or 2 (the file is damaged)"
        if end + 4 > len(data):
            return out, f"record {number} is cut short (the file ends inside it)"
        payload = data[start:end]
        if zlib.crc32(payload).to_bytes(4, "big") != data[end : end + 4]:
            return out, f"record {number} does not match its checksum (the file is damaged)"
        out.append(Held(Signal(kind), payload, records, replayed=True))
        pos = end + 4
    return out, None


def load(folder: Path, say: Callable[[str], None]) -> tuple[list[Held], list[Path]]:
    """Every request of every spool file in ``folder``, oldest first, and the files read.
    A damaged file gives what precedes the damage and is renamed ``NAME.bad``, with a warning."""
    held: list[Held] = []
    used: list[Path] = []
    for path in files(folder):
        items, problem = read(path)
        held += items
        if problem is None:
            used.append(path)
            continue
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
        except OSError as exc:
            raise OtlintError(
                f"{path}: {problem}, and it cannot be moved aside ({exc.strerror}): move it away and start again"
            ) from None
        say(
            f"otlint serve: warning: {path}: {problem}; replaying the {len(items)} requests before it, "
            f"the file is kept as {bad.name}"
        )
    return held, used


def remove(paths: Iterable[Path]) -> None:
    """Remove replayed spool files (their requests are forwarded, refused or spooled anew)."""
    folders = set()
    for path in paths:
        path.unlink(missing_ok=True)
        folders.add(path.parent)
    for folder in folders:
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
