"""Which folders a walk of a folder given on the command line does not enter.

Both ``check`` (OTLP dumps) and ``check-config`` walk folders; neither enters version
control, virtual environments, caches, or the third-party code a repository vendors
(Go's ``vendor/``, ``third_party/``, ``node_modules/``): what is there is another
project's, and neither its configuration nor its test data is this one's. A folder
named on the command line is walked whatever its name.

What a walk finds that is not a regular file (a dangling or looping symbolic link, a
named pipe, a socket, a device) is skipped with a note (``not_a_file``), and so is a
sub-folder it cannot list (``walk_error``): reading a pipe nobody writes to would wait
forever, and a walk must not end on one bad entry.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["SKIP_DIRS", "enter", "not_a_file", "walk_error"]

#: Folders never entered below a folder that is walked.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".venv",
        "venv",
        "__pycache__",
        "node_modules",
        "vendor",
        "third_party",
        "third-party",
    }
)


def enter(name: str) -> bool:
    """Whether a walk goes into the sub-folder ``name``."""
    return name not in SKIP_DIRS and not name.startswith(".")


#: What ``stat`` says a file that is no regular file is, for the note.
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def not_a_file(path: str) -> str | None:
    """Why a name found in a folder walk is not read, or None for a regular file.

    Symbolic links are followed (one to a regular file is read); the reason reads as a
    note: ``a dangling symbolic link ...``.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (it leads back to itself)"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
            return f"a dangling symbolic link (to {os.readlink(path)!r}, which does not exist)"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(st.st_mode):
        return None
    kind = next((what for test, what in _KINDS if test(st.st_mode)), "not a regular file")
    return f"{kind}, not a regular file: name it on the command line to read it as a stream"


def walk_error(exc: OSError) -> tuple[str, str]:
    """(path, reason) for a sub-folder a walk could not list (``os.walk``'s ``onerror``)."""
    path = exc.filename if isinstance(exc.filename, str) else "?"
    return path, f"a folder that cannot be listed ({exc.strerror}): nothing in it was read"
