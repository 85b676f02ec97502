"""In-file suppressions: ``# otlint: disable=CODE[,CODE]`` and ``# otlint: disable-file=CODE``.

``disable`` at the end of a line silences findings on that line; on a line of its
own it silences the next line that is not blank or a comment (where YAML keys sit).
``disable-file`` anywhere silences the codes in the whole file. ``ALL`` stands for
every code. A suppression that silences nothing is reported itself (CF090), so
stale ones do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from otlint.configs.facts import Suppression
from otlint.core.finding import Location

__all__ = ["scan_suppressions"]

_COMMENT = re.compile(
    r"(?:^|(?<=\s))#\s*otlint:\s*(?P<kind>disable-file|disable)\s*=\s*(?P<codes>[A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)"
)
_SKIPPED = re.compile(r"^\s*(#.*)?$")


def scan_suppressions(lines: Sequence[str], path: str) -> list[Suppression]:
    """Every suppression comment in ``lines`` (a file's text, split)."""
    out: list[Suppression] = []
    following: list[int] | None = None  # per line number, the next one that holds code
    for number, line in enumerate(lines, start=1):
        if "otlint" not in line:
            continue
        match = _COMMENT.search(line)
        if match is None:
            continue
        codes = tuple(c.strip().upper() for c in match.group("codes").split(","))
        at = Location(path, line=number, column=match.start() + 1)
        if match.group("kind") == "disable-file":
            out.append(Suppression(path, at, None, codes))
            continue
        target = number
        if not line[: match.start()].strip():
            if following is None:
                following = _next_code_lines(lines)
            target = following[number] or number
        out.append(Suppression(path, at, target, codes))
    return out


def _next_code_lines(lines: Sequence[str]) -> list[int]:
    """For each 1-based line number, the first line after it that is not blank or a
    comment (0: none), found in one pass from the end: a file of nothing but comment
    lines must not be walked once per comment."""
    out = [0] * (len(lines) + 2)
    upcoming = 0
    for number in range(len(lines), 0, -1):
        out[number] = upcoming
        if not _SKIPPED.match(lines[number - 1]):
            upcoming = number
    return out
