"""Fixed-width columns: the C-speed moves the Corpus and its readers make on them.

A row table keeps each column as ``bytes`` (fixed-width rows, such as the 24 bytes of a
trace id + span id) or as an ``array`` of ints. These helpers cut, test, join, pick,
renumber and shift whole columns with strided copies, ``struct``, ``bytes.translate`` and
big-int arithmetic, so that Python never touches a row.
"""

from __future__ import annotations

import re
import struct
import sys
from array import array
from functools import lru_cache
from itertools import compress
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    Ints: TypeAlias = array[int]
else:
    Ints = array  # (``array[int]`` is an error at run time before Python 3.12)

#: Rows unpacked per ``struct`` call: a format of n fields costs n entries while it lives.
_CHUNK = 1 << 14


@lru_cache(maxsize=8)
def _rows_of(width: int, n: int) -> struct.Struct:
    return struct.Struct(f"{width}s" * n)


def rows(data: bytes | bytearray, width: int) -> list[bytes]:
    """Cut fixed-width rows out of a column (twice as fast as ``re.findall``, in C)."""
    n, tail = divmod(len(data), width)
    if tail:
        raise ValueError(f"a column of {len(data)} bytes does not hold {width}-byte rows")
    out: list[bytes] = []
    whole = _rows_of(width, _CHUNK)
    step = width * _CHUNK
    end = (n // _CHUNK) * step
    for offset in range(0, end, step):
        out += whole.unpack_from(data, offset)
    if n % _CHUNK:
        out += _rows_of(width, n % _CHUNK).unpack_from(data, end)
    return out


@lru_cache(maxsize=16)
def _fields_of(width: int, start: int, length: int, n: int) -> struct.Struct:
    return struct.Struct(f"{start}x{length}s{width - start - length}x" * n)


def fields(column: bytes | bytearray, width: int, start: int, length: int) -> list[bytes]:
    """Bytes ``start`` to ``start + length`` of each fixed-width row of ``column`` (the
    trace ids of the id rows, say): one ``struct`` call per chunk that skips the other
    bytes, a third cheaper than copying them out with ``gather`` and cutting ``rows``."""
    n, tail = divmod(len(column), width)
    if tail:
        raise ValueError(f"a column of {len(column)} bytes does not hold {width}-byte rows")
    if start == 0 and length == width:
        return rows(column, width)
    out: list[bytes] = []
    whole = _fields_of(width, start, length, _CHUNK)
    step = width * _CHUNK
    end = (n // _CHUNK) * step
    for offset in range(0, end, step):
        out += whole.unpack_from(column, offset)
    if n % _CHUNK:
        out += _fields_of(width, start, length, n % _CHUNK).unpack_from(column, end)
    return out


#: bytes.translate table: 1 for a zero byte, 0 for any other.
_IS_ZERO = bytes([1]) + bytes(255)


def zero_rows(column: bytes | bytearray, width: int) -> bytes:
    """One byte per fixed-width row of ``column``: 1 where every byte of the row is zero.

    Byte j of every row, taken by one strided copy, is read as one big little-endian
    integer; OR-ing the ``width`` integers leaves byte i zero exactly when row i is.
    All in C, ten times faster than comparing each row's bytes.
    """
    n, tail = divmod(len(column), width)
    if tail:
        raise ValueError(f"a column of {len(column)} bytes does not hold {width}-byte rows")
    acc = 0
    for j in range(width):
        acc |= int.from_bytes(column[j::width], "little")
    return acc.to_bytes(n, "little").translate(_IS_ZERO)


def gather(n: int, *parts: tuple[bytes | bytearray, int, int, int]) -> bytearray:
    """``n`` rows, each the concatenation of byte ranges of other fixed-width columns.

    A part is (column, its row width, start, length): bytes ``start`` to
    ``start + length`` of each of the column's ``n`` rows. The copies are strided
    slice assignments, one per byte position, in C: far cheaper than a slice and a
    concatenation per row.
    """
    width = sum(length for _, _, _, length in parts)
    out = bytearray(width * n)
    at = 0
    for column, w, start, length in parts:
        if len(column) != w * n:
            raise ValueError(f"a column of {len(column)} bytes does not hold {n} rows of {w}")
        for j in range(length):
            out[at + j :: width] = column[start + j :: w]
        at += length
    return out


def renumbered(column: array[int], mapping: list[int]) -> array[int]:
    """``column`` with each index ``i`` replaced by ``mapping[i]``, and -1 (none) kept.

    When every index and its replacement fits in a byte below 255 (a shard's resources,
    files and strings usually do), the low byte of each little-endian 32-bit row is
    translated by one strided copy in C: ~40 times faster than a map over the rows.
    """
    if not mapping or mapping == list(range(len(mapping))):
        return column
    if (
        len(mapping) < 255
        and max(mapping) < 255
        and column.itemsize == 4
        and sys.byteorder == "little"
    ):
        table = bytearray(range(256))
        table[: len(mapping)] = bytes(mapping)  # -1's low byte (255) is left as it is
        raw = bytearray(column.tobytes())
        raw[0::4] = raw[0::4].translate(table)
        out = array(column.typecode)
        out.frombytes(raw)
        return out
    # -1 indexes the appended -1.
    return array(column.typecode, map([*mapping, -1].__getitem__, column))


def shifted(column: array[int], delta: int) -> array[int]:
    """``column`` with ``delta`` added to every row (``struct`` converts the ints in C)."""
    out = array(column.typecode)
    out.frombytes(struct.pack(f"{len(column)}{column.typecode}", *map(delta.__add__, column)))
    return out


def picked(column: bytes | bytearray, width: int, mask: bytes) -> bytearray:
    """The rows of a fixed-width bytes column whose byte in ``mask`` (one a row) is not zero
    (rows past the end of a shorter mask are not picked)."""
    if width == 1:
        return bytearray(compress(column, mask))
    if len(mask) * width < len(column):
        column = column[: len(mask) * width]
    return bytearray(b"".join(compress(rows(column, width), mask)))


#: A run of rows a mask picks.
_PICKED_RUN = re.compile(rb"[^\x00]+")


def picked_runs(mask: bytes) -> list[tuple[int, int]] | None:
    """The runs of rows ``mask`` picks, as (start, end), when they are long enough (six rows
    on average) for copying them whole to beat testing each row; else None.

    The sidecar's masks pick whole stretches (the rows of old traces arrived together):
    a slice per run and column is several times cheaper than ``compress`` per row.
    """
    starts = mask.count(b"\x00\x01") + (1 if mask[:1] not in (b"", b"\x00") else 0)
    if starts * 6 > len(mask):
        return None
    return [m.span() for m in _PICKED_RUN.finditer(mask)]


def joined_runs(column: bytes | bytearray, width: int, runs: list[tuple[int, int]]) -> bytearray:
    """The rows of a fixed-width bytes column in ``runs`` (from ``picked_runs``), in order:
    copied once, from views of the column (a run can be half the rows held)."""
    with memoryview(column) as view:
        return bytearray().join([view[a * width : b * width] for a, b in runs])


def joined_int_runs(column: array[int], runs: list[tuple[int, int]]) -> array[int]:
    """The rows of an int column in ``runs`` (from ``picked_runs``), in order, copied once."""
    out = array(column.typecode)
    size = column.itemsize
    with memoryview(column) as ints, ints.cast("B") as view:
        for a, b in runs:
            out.frombytes(view[a * size : b * size])
    return out


def picked_ints(column: array[int], mask: bytes) -> array[int]:
    """The rows of an int column whose byte in ``mask`` (one a row) is not zero (rows past
    the end of a shorter mask are not picked)."""
    return array(column.typecode, compress(column, mask))


def member_rows(
    column: bytes | bytearray, width: int, start: int, length: int, keys: set[bytes]
) -> bytes:
    """One byte per row: 1 where bytes ``start`` to ``start + length`` of the row are in ``keys``."""
    return bytes(map(keys.__contains__, fields(column, width, start, length)))


#: bytes.translate table: 1 for a zero byte, 0 for any other (a mask's complement).
NOT = _IS_ZERO
