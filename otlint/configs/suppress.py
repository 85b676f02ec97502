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
    for number, line in enumerate(lines, start=1):
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
            target = next(
                (n for n in range(number + 1, len(lines) + 1) if not _SKIPPED.match(lines[n - 1])),
                number,
            )
        out.append(Suppression(path, at, target, codes))
    return out
