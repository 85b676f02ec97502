"""Markdown pieces for the reports people paste: safe cells, tables, fences, the size limit.

Shared by ``--format markdown`` of ``check`` and ``check-config`` (``markdown.py``) and
meant for any other report that lands in a GitHub step summary or pull-request comment.
Everything that came from the telemetry or the files under check (service names,
messages, paths) goes through :func:`cell` or :func:`code`: a ``|`` would end a table
cell, markup would render (a link, an image that calls out, an HTML tag), ``$`` would
start GitHub's math and ``@name`` would notify a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from otlint.report.reporters._common import one_line

#: GitHub's limit on a comment body (and an issue or pull request's), in characters.
GITHUB_COMMENT_LIMIT = 65_536

# ASCII punctuation CommonMark and GitHub read as markup inside a table cell. A backslash
# before any ASCII punctuation is a literal, so escaping one that needs none is harmless.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~$&])")
_BACKTICKS = re.compile(r"`+")
_ZWSP = "&#8203;"  # between "@" and a name: no mention, and nothing visible


def cell(text: str) -> str:
    """``text`` as literal text inside a table cell: one line, markup and ``|`` escaped."""
    return _MARKUP.sub(r"\\\1", one_line(text)).replace("@", "@" + _ZWSP)


def code(text: str, in_table: bool = True) -> str:
    """``text`` as an inline code span (markup inside a code span is literal, and no
    ``@name`` in one notifies anybody).

    The fence is one backtick longer than the longest run inside. In a table ``|`` is
    still escaped, since GitHub splits a table's rows before it reads code spans (and
    shows ``\\|`` there as ``|``); outside one the backslash would show.
    """
    text = one_line(text)
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table; cells must already be escaped (:func:`cell`, :func:`code`)."""
    width = len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * width]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} cells in a table of {width} columns")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block; its fence is longer than any run of backticks in ``lines``."""
    longest = max((len(m) for line in lines for m in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, *lines, fence]


@dataclass
class Block:
    """A part of a document. ``head`` lines always go together; the ``rows`` after them may
    be cut from the end to fit (a table), within ``share`` of the whole document when set;
    a block that cannot be cut (a chart) is ``whole``: kept entire or left out."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    whole: bool = False
    what: str = "rows"  # what the rows are, for the note that says some were cut
    share: float | None = None

    def text(self) -> str:
        """The block as it is, uncut."""
        return "\n".join([*self.head, *self.rows])


#: Characters kept back for each note that says what was cut, and for the closing one.
_NOTE = 120


def fit(blocks: Sequence[Block], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The blocks as one document of at most ``limit`` characters, blank lines between.

    Blocks are kept in order while they fit. A table that does not fit (or would take
    more than its ``share``) keeps its head and as many rows as fit, and says how many
    were cut; a block that cannot be cut is replaced by a line that says it was left
    out. Room for those lines is kept back from the start, so they always fit.
    """
    budget = limit - _NOTE * (len(blocks) + 1)
    parts: list[str] = []
    used = 0
    cut_any = False
    for block in blocks:
        text = block.text()
        room = budget - used
        if block.share is not None:
            room = min(room, int(budget * block.share))
        if len(text) + 2 <= room:
            parts.append(text)
            used += len(text) + 2
            continue
        cut_any = True
        head = "\n".join(block.head)
        if block.whole or len(head) + 2 > room:
            parts.append(
                f"*{block.what} left out ({len(text):,} characters) to fit the size limit.*"
            )
            continue
        lines = list(block.head)
        size = len(head) + 2
        for row in block.rows:
            if size + len(row) + 1 > room:
                break
            lines.append(row)
            size += len(row) + 1
        cut = len(block.rows) - (len(lines) - len(block.head))
        lines += ["", f"*{cut} more {block.what} cut to fit the size limit.*"]
        part = "\n".join(lines)
        parts.append(part)
        used += len(part) + 2
    if cut_any:
        parts.append(
            f"*Cut to fit GitHub's {limit:,}-character limit: "
            "`--format json` has the whole report.*"
        )
    return "\n\n".join(parts) + "\n"
