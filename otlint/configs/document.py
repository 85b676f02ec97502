"""One configuration document with the position of every key and value.

A YAML file holds one or more documents (``---``); a ``.env`` file is one document
whose keys are its variable names. Readers see both through ``Document``, so every
fact they extract can say ``path:line:col`` — down to the column of one entry
inside a string such as ``OTEL_RESOURCE_ATTRIBUTES``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable
from dataclasses import dataclass, field

from otlint.core.finding import Location
from otlint.core.yamlpos import Budget, Marks, Origin, Position, YamlPath, load_all_with_marks

__all__ = [
    "Document",
    "dotenv_error",
    "looks_like_dotenv",
    "mapping",
    "parse_dotenv",
    "sequence",
    "string_documents",
]


def mapping(value: object) -> dict[Hashable, object]:
    """``value`` if it is a mapping, else an empty one: configs hold whatever people wrote."""
    return value if isinstance(value, dict) else {}


def sequence(value: object) -> list[object]:
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
    data: object  # as loaded: whatever the file holds, told apart with isinstance
    marks: Marks
    lines: tuple[str, ...]
    syntax: str = "yaml"  # or "dotenv"
    prefix: YamlPath = ()
    #: What loading YAML written in strings of the file may still cost (None: no bound
    #: shared with the file's own load); see ``otlint.core.yamlpos.Budget``.
    budget: Budget | None = field(default=None, compare=False, repr=False)

    def top(self) -> dict[Hashable, object]:
        """``data`` as the mapping it is when a reader reads it: every ``detect`` requires one."""
        assert isinstance(self.data, dict), "a reader reads only what its detect took"
        return self.data

    def sub(self, at: YamlPath) -> Document:
        """A view of the node at ``at``, positions still pointing into this file."""
        node = self.data
        for part in at:
            node = _child(node, part)
        return Document(
            self.path,
            self.index,
            node,
            self.marks,
            self.lines,
            self.syntax,
            (*self.prefix, *at),
            self.budget,
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
        # How much of ``raw`` is written as is: ``raw[:offset]`` must be. Asked once per
        # entry of a long value (100k ``OTEL_RESOURCE_ATTRIBUTES`` entries), so the
        # matching prefix is measured once per value, not sliced out per entry.
        want = len(range(len(raw))[:offset])
        if text[col : col + 1] in ("'", '"') and _written(text, col + 1, raw) >= want:
            return Location(self.path, self.index + 1, start.line, start.column + 1 + offset)
        if raw and _written(text, col, raw) >= want:
            return Location(self.path, self.index + 1, start.line, start.column + offset)
        return start

    def _location(self, pos: Position) -> Location:
        return Location(self.path, self.index + 1, pos.line, pos.column)


@functools.lru_cache(maxsize=16)
def _written(line: str, start: int, raw: str) -> int:
    """The length of the longest prefix of ``raw`` that ``line`` has at ``start``.

    Cached: ``Document.inside`` asks it for every entry of one value, with the same
    strings (their hashes are cached too, so a hit costs no pass over them).
    """
    if start > len(line):
        return 0
    if line.startswith(raw, start):
        return len(raw)
    matched, failed = 0, len(raw)  # raw[:matched] is there, raw[:failed] is not
    while failed - matched > 1:
        middle = (matched + failed) // 2
        if line.startswith(raw[:middle], start):
            matched = middle
        else:
            failed = middle
    return matched


def _child(node: object, part: Hashable) -> object:
    """The item ``part`` of a loaded mapping or list (KeyError, IndexError if absent)."""
    if isinstance(node, dict):
        return node[part]
    if isinstance(node, list) and isinstance(part, int):
        return node[part]
    raise TypeError(f"no item {part!r} in {type(node).__name__}")


def string_documents(doc: Document, at: YamlPath, text: str) -> list[Document]:
    """The YAML documents in the string ``text`` written at ``at``, as documents of ``doc``'s file.

    A collector configuration in a ConfigMap, or in an ``OpenTelemetryCollector``'s
    ``spec.config`` written as a string, is YAML inside YAML. Positions point into the
    file: exactly for a literal block scalar (``key: |``, how such configs are written),
    whose lines are the file's lines, indented; for a quoted, plain or folded string
    the file does not keep the string's lines one for one, so every position is the
    key's. Raises ``OtlintError`` (``PATH:LINE:COL: ...``, in the file) when the string
    is not YAML, ``LimitError`` when it is past the bounds of YAML otlint reads (the
    string's load draws on the file's ``budget``).
    """
    origin = _origin(doc, at, text)
    return [
        Document(doc.path, doc.index, data, marks, doc.lines, budget=doc.budget)
        for data, marks in load_all_with_marks(text, doc.path, origin, doc.budget)
    ]


#: A literal block scalar's header: ``|``, chomping (``-`` ``+``) and indentation
#: indicators in either order, then an optional comment.
_LITERAL = re.compile(r"\|(?:(?P<a>[1-9])[-+]?|[-+](?P<b>[1-9])?)?[ \t]*(?:#.*)?$")


def _origin(doc: Document, at: YamlPath, text: str) -> Origin:
    """Where a position in the string at ``at`` is written in ``doc``'s file."""
    key = doc.key(at)
    key_pos = Position(key.line or 1, key.column or 1)

    def at_key(line: int, column: int) -> Position:
        return key_pos

    start = doc.value(at)
    if start.line is None or start.column is None or not 0 < start.line <= len(doc.lines):
        return at_key
    header = doc.lines[start.line - 1]
    literal = _LITERAL.match(header, start.column - 1)
    if literal is None:
        # Quoted, plain or folded (``>``): the string's lines are not the file's.
        return at_key
    body = text.split("\n")
    while body and body[-1] == "":
        body.pop()
    explicit = literal["a"] or literal["b"]
    if explicit:
        indent = len(header) - len(header.lstrip(" ")) + int(explicit)
    else:
        first = next((ln for ln in doc.lines[start.line :] if ln.strip()), "")
        indent = len(first) - len(first.lstrip(" "))
    written = doc.lines[start.line : start.line + len(body)]
    if len(written) < len(body) or any(
        w[indent:] != b if b or len(w) > indent else w.strip()
        for w, b in zip(written, body, strict=True)
    ):
        return at_key  # not laid out as expected (tabs, an odd indicator): be safe
    base = start.line

    def in_block(line: int, column: int) -> Position:
        return Position(base + line, indent + column)

    return in_block


#: ``[export ]NAME=value`` as docker compose (compose-go) and python-dotenv both read it.
_ASSIGNMENT = re.compile(
    r"^(?P<indent>[ \t]*)(?P<export>export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(?P<rest>.*)$"
)
#: What compose also accepts in a ``.env`` file: names of letters, digits and ``_.-[]``,
#: a YAML-style ``NAME: value``, and a bare ``NAME`` (taken from compose's own
#: environment). Only used for files named as ``.env`` files.
_LENIENT = re.compile(
    r"^(?P<indent>[ \t]*)(?P<export>export[ \t]+)?(?P<name>[\w.\-\[\]]+)[ \t]*(?:[=:][ \t]*(?P<rest>.*))?$"
)
_BLANK_OR_COMMENT = re.compile(r"^[ \t]*(#.*)?$")


def looks_like_dotenv(text: str) -> bool:
    """Whether every line of ``text`` is blank, a comment or ``[export ]NAME=value``.

    Quoted values spanning lines are allowed; a file of nothing but comments is not
    a ``.env`` by its content alone (but is when it is named as one).
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
        end = _value_end(lines, i, match.group("rest"))
        if end < 0:
            return False
        i = end + 1
    return assignments > 0


def dotenv_error(text: str) -> str | None:
    """Why docker compose would refuse ``text`` as a ``.env`` file, or None if it reads it.

    Blank lines, comments, ``export``, quoted values (spanning lines too), ``NAME:
    value`` and a bare ``NAME`` are all accepted, as compose accepts them; a file of
    nothing but comments is an empty ``.env``.
    """
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if _BLANK_OR_COMMENT.match(line):
            i += 1
            continue
        match = _LENIENT.match(line)
        if match is None:
            return f"line {i + 1} is not NAME=value"
        rest = match.group("rest") or ""
        end = _value_end(lines, i, rest)
        if end < 0:
            return f"line {i + 1}: the quoted value is not closed"
        i = end + 1
    return None


def parse_dotenv(text: str, path: str) -> Document:
    """A ``.env`` file as a document: ``{NAME: value}`` with the position of each.

    Follows docker compose's rules: ``export`` is allowed, values may be single-quoted
    (literal), double-quoted (escapes, may span lines) or bare (a ``#`` after
    whitespace starts a comment); ``NAME: value`` is ``NAME=value``, and a bare
    ``NAME`` takes its value from the environment compose runs in, unknown here
    (``None``). A repeated name keeps its last value.
    """
    lines = text.splitlines()
    data: dict[str, str | None] = {}
    keys: dict[YamlPath, Position] = {}
    values: dict[YamlPath, Position] = {}
    i = 0
    while i < len(lines):
        match = _LENIENT.match(lines[i])
        if match is None or _BLANK_OR_COMMENT.match(lines[i]):
            i += 1
            continue
        name = match.group("name")
        rest = match.group("rest")
        keys[(name,)] = Position(i + 1, match.start("name") + 1)
        if rest is None:
            data[name] = None
            values[(name,)] = keys[(name,)]
            i += 1
            continue
        end = max(_value_end(lines, i, rest), i)
        raw = "\n".join([rest, *lines[i + 1 : end + 1]])
        data[name] = _unquote(raw)
        values[(name,)] = Position(i + 1, match.start("rest") + 1)
        i = end + 1
    return Document(path, 0, data, Marks(keys, values), tuple(lines), syntax="dotenv")


def _value_end(lines: list[str], i: int, rest: str) -> int:
    """The index of the line where the value starting with ``rest`` on line ``i`` ends
    (-1: its quote is never closed)."""
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
            return -1  # unterminated
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
