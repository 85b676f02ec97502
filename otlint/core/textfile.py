"""Configuration files as text: decoded by their byte order mark, and only files that end.

YAML may be written in UTF-8, UTF-16 or UTF-32 (YAML 1.2, 5.2), and editors on
Windows save UTF-16 with a byte order mark; a ``.env`` or ``pyproject.toml`` saved so
is the same text. Without a mark, text is UTF-8.

A file a walk comes across may be a FIFO, a socket or a device: opening a FIFO waits
for a writer that never comes. Only regular files are read unless a file is named
(``check-config <(generate)`` names a pipe on purpose).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat

__all__ = ["decode", "not_readable", "read_text"]

#: Byte order marks, longest first (UTF-32 LE starts with UTF-16 LE's), and their codecs
#: (which drop the mark).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def decode(data: bytes) -> str:
    """``data`` as text: UTF-8, or UTF-16 / UTF-32 when a byte order mark says so.

    Raises ``UnicodeDecodeError`` for bytes that are not text in that encoding; its
    ``encoding`` is the one the mark (or its absence) named: ``UTF-8``, ``UTF-16``,
    ``UTF-32``.
    """
    for mark, codec, name in _BOMS:
        if data.startswith(mark):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnicodeDecodeError(name, exc.object, exc.start, exc.end, exc.reason) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnicodeDecodeError("UTF-8", exc.object, exc.start, exc.end, exc.reason) from None


def not_readable(path: str) -> str | None:
    """Why a file a walk found is not one to read, or None for a regular file (or a
    symbolic link to one): a link to nothing, a link that loops, a FIFO, a socket, a
    device. ``OSError`` for what ``stat`` itself cannot say (a permission)."""
    try:
        mode = os.stat(path).st_mode
    except ValueError:  # a NUL byte: a configured path that cannot name a file
        return "not a path (it holds a NUL byte)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (following it never reaches a file)"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
            return f"a symbolic link to nothing ({os.readlink(path)} does not exist)"
        raise
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        what = "a FIFO (named pipe)"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "not a regular file"
    return f"{what}: only regular files are read in a folder (name it to read it as a stream)"


def read_text(path: str) -> str:
    """The text of the file at ``path`` (see ``decode``); a FIFO is read to its end.

    Raises ``OSError`` and ``UnicodeDecodeError``.
    """
    with open(path, "rb") as handle:
        return decode(handle.read())
