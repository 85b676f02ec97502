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


def code(text: str) -> str:
    """``text`` as an inline code span that is safe in a table cell.

    The fence is one backtick longer than the longest run inside; ``|`` is still
    escaped, since GitHub splits table rows before it reads code spans.
    """
    text = one_line(text).replace("|", "\\|")
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
    be cut from the end to fit (a table); an uncuttable block (a chart) is ``whole``."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    whole: bool = False
    what: str = "rows"  # what the rows are, for the note that says some were cut

    def text(self) -> str:
        """The block as it is, uncut."""
        return "\n".join([*self.head, *self.rows])


def fit(blocks: Sequence[Block], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The blocks as one document of at most ``limit`` characters, blank lines between.

    Blocks are kept in order while they fit. A table that does not fit keeps its head
    and as many rows as fit, and says how many were cut; a block that cannot be cut (a
    chart) is replaced by a line that says it was left out.
    """
    reserve = 200  # room for the notes that say what was cut
    budget = limit - reserve
    parts: list[str] = []
    used = 0
    cut_any = False
    for block in blocks:
        text = block.text()
        cost = len(text) + 2
        if used + cost <= budget:
            parts.append(text)
            used += cost
            continue
        cut_any = True
        if block.whole or used + len("\n".join(block.head)) + 2 > budget:
            note = f"*{block.what} left out ({len(text):,} characters) to fit the size limit.*"
            if used + len(note) + 2 <= limit:
                parts.append(note)
                used += len(note) + 2
            continue
        lines = list(block.head)
        size = len("\n".join(lines)) + 2
        kept = 0
        for row in block.rows:
            if used + size + len(row) + 1 > budget:
                break
            lines.append(row)
            size += len(row) + 1
            kept += 1
        lines += ["", f"*{len(block.rows) - kept} more {block.what} cut to fit the size limit.*"]
        part = "\n".join(lines)
        parts.append(part)
        used += len(part) + 2
    doc = "\n\n".join(parts) + "\n"
    if cut_any and len(doc) + 120 <= limit:
        doc += (
            f"\n*Cut to fit GitHub's {limit:,}-character limit: "
            "`--format json` has the whole report.*\n"
        )
    return doc
