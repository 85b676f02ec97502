"""One configuration document with the position of every key and value.

A YAML file holds one or more documents (``---``); a ``.env`` file is one document
whose keys are its variable names. Readers see both through ``Document``, so every
fact they extract can say ``path:line:col`` — down to the column of one entry
inside a string such as ``OTEL_RESOURCE_ATTRIBUTES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from otlint._yaml import Marks, Position, YamlPath
from otlint.finding import Location

__all__ = ["Document", "looks_like_dotenv", "mapping", "parse_dotenv", "sequence"]


def mapping(value: Any) -> dict[Any, Any]:
    """``value`` if it is a mapping, else an empty one: configs hold whatever people wrote."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Document:
    """A loaded document: its data, where each key/value sits, and the source lines.

    ``prefix`` is where ``data`` sits inside the document as the file has it (an
    item of a Kubernetes ``List``): positions are looked up under it.
    """

    path: str  # the file as findings name it
    index: int  # 0-based document number within the file
    data: Any
    marks: Marks
    lines: tuple[str, ...]
    syntax: str = "yaml"  # or "dotenv"
    prefix: YamlPath = ()

    def sub(self, at: YamlPath) -> Document:
        """A view of the node at ``at``, positions still pointing into this file."""
        node: Any = self.data
        for part in at:
            node = node[part]
        return Document(
            self.path, self.index, node, self.marks, self.lines, self.syntax, (*self.prefix, *at)
        )

    def key(self, at: YamlPath) -> Location:
        """Where the key ending ``at`` is written (or its nearest written ancestor)."""
        return self._location(self.marks.near((*self.prefix, *at)))

    def value(self, at: YamlPath) -> Location:
        """Where the value at ``at`` is written (or its nearest written ancestor)."""
        return self._location(self.marks.near((*self.prefix, *at), value=True))

    def inside(self, at: YamlPath, raw: str, offset: int) -> Location:
        """Where character ``offset`` of the string ``raw`` at ``at`` is written.

        Exact for strings written on one line (plain, or quoted without escapes before
        ``offset``); otherwise the start of the value.
        """
        start = self.value(at)
        if start.line is None or start.column is None or not 0 < start.line <= len(self.lines):
            return start
        text = self.lines[start.line - 1]
        col = start.column - 1
        if text[col : col + 1] in ("'", '"') and text[col + 1 :].startswith(raw[:offset]):
            return Location(self.path, self.index + 1, start.line, start.column + 1 + offset)
        if text[col:].startswith(raw[:offset]) and raw:
            return Location(self.path, self.index + 1, start.line, start.column + offset)
        return start

    def _location(self, pos: Position) -> Location:
        return Location(self.path, self.index + 1, pos.line, pos.column)


_ASSIGNMENT = re.compile(
    r"^(?P<indent>[ \t]*)(?P<export>export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(?P<rest>.*)$"
)
_BLANK_OR_COMMENT = re.compile(r"^[ \t]*(#.*)?$")


def looks_like_dotenv(text: str) -> bool:
    """Whether every line of ``text`` is blank, a comment or ``[export ]NAME=value``.

    Quoted values spanning lines are allowed; a file of nothing but comments is not
    a ``.env`` by its content alone.
    """
    lines = text.splitlines()
    assignments = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if _BLANK_OR_COMMENT.match(line):
            i += 1
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            return False
        assignments += 1
        i = _value_end(lines, i, match.group("rest")) + 1
    return assignments > 0


def parse_dotenv(text: str, path: str) -> Document:
    """A ``.env`` file as a document: ``{NAME: value}`` with the position of each.

    Follows docker compose's rules: ``export`` is allowed, values may be single-quoted
    (literal), double-quoted (escapes, may span lines) or bare (a ``#`` after
    whitespace starts a comment). A repeated name keeps its last value.
    """
    lines = text.splitlines()
    data: dict[str, str] = {}
    keys: dict[YamlPath, Position] = {}
    values: dict[YamlPath, Position] = {}
    i = 0
    while i < len(lines):
        match = _ASSIGNMENT.match(lines[i])
        if match is None or _BLANK_OR_COMMENT.match(lines[i]):
            i += 1
            continue
        name = match.group("name")
        rest = match.group("rest")
        end = _value_end(lines, i, rest)
        raw = "\n".join([rest, *lines[i + 1 : end + 1]])
        data[name] = _unquote(raw)
        keys[(name,)] = Position(i + 1, match.start("name") + 1)
        values[(name,)] = Position(i + 1, match.start("rest") + 1)
        i = end + 1
    return Document(path, 0, data, Marks(keys, values), tuple(lines), syntax="dotenv")


def _value_end(lines: list[str], i: int, rest: str) -> int:
    """The index of the line where the value starting with ``rest`` on line ``i`` ends."""
    if rest[:1] not in ("'", '"'):
        return i
    quote = rest[0]
    body = rest[1:]
    j = i
    while True:
        if _closes(body, quote):
            return j
        j += 1
        if j >= len(lines):
            return i  # unterminated: read it as one line rather than swallow the file
        body = lines[j]


def _closes(body: str, quote: str) -> bool:
    escaped = False
    for ch in body:
        if quote == '"' and ch == "\\" and not escaped:
            escaped = True
            continue
        if ch == quote and not escaped:
            return True
        escaped = False
    return False


def _unquote(raw: str) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        return raw[1:end] if end > 0 else raw[1:]
    if raw[:1] == '"':
        out: list[str] = []
        i = 1
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                i += 2
                continue
            if ch == '"':
                break
            out.append(ch)
            i += 1
        return "".join(out)
    return re.split(r"[ \t]+#", raw, maxsplit=1)[0].rstrip(" \t")
