"""Where each key and value of a TOML table sits: positions for ``[tool.otlint]`` errors.

tomllib reads the values (and reports syntax errors) but keeps no positions. The
tree-sitter TOML grammar (``tree-sitter-toml``) gives the concrete syntax tree of the
same text, every node with its place; it is walked once, in document order, and
positions are recorded by key path, as ``otlint.core.yamlpos`` does for YAML:

- ``key(path)``: where the last key of ``path`` is first written: a part of a table
  header (``[tool.otlint.rules.ID003]``), of a dotted key (``rules.ID003.level = 1``),
  or a key of an inline table.
- ``value(path)``: where the value starts: after ``=``, an array item, an inline
  table's ``{``; for an element of an array of tables, its ``[[`` header.
- ``default``: the ``[`` of the table's own header (``[tool.otlint]``); without one,
  the start of the first header or key/value line that writes into the table.

Paths are relative to the table asked for and index arrays of tables by element, as
the loaded data does. Columns count characters, not bytes. The walk only runs on text
tomllib accepted; a part the grammar misreads (it marks it ERROR: of toml-test's valid
files, three multi-line strings with a line-ending backslash) is skipped, and its
paths fall back to the nearest recorded ancestor (``Marks.near``).
"""

from __future__ import annotations

import functools
import tomllib

import tree_sitter
import tree_sitter_toml

from otlint.core.marks import Marks, Position, YamlPath

__all__ = ["toml_marks"]

_KEYS = frozenset({"bare_key", "quoted_key", "dotted_key"})
_SECTIONS = frozenset({"table", "table_array_element"})


def toml_marks(text: str, table: tuple[str, ...]) -> Marks:
    """The marks of the keys and values under ``table`` (e.g. ``("tool", "otlint")``).

    ``text`` must be TOML that tomllib accepts.
    """
    raw = text.encode("utf-8")
    walk = _Walk(raw, table)
    for node in _parser().parse(raw).root_node.named_children:
        if node.type == "pair":
            walk.pair(node, ())
        elif node.type in _SECTIONS:
            walk.section(node)
    return Marks(walk.keys, walk.values, default=walk.header or walk.first or Position(1, 1))


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))


class _Walk:
    """One pass over the tree, document order: the first place a path is written wins."""

    def __init__(self, raw: bytes, table: tuple[str, ...]) -> None:
        self.raw = raw
        self.table = table
        self.keys: dict[YamlPath, Position] = {}
        self.values: dict[YamlPath, Position] = {}
        self.header: Position | None = None  # the table's own [header]
        self.first: Position | None = None  # the first statement that writes into it
        self.elements: dict[YamlPath, int] = {}  # array of tables -> elements so far

    def section(self, node: tree_sitter.Node) -> None:
        """A ``[table]`` or ``[[array.of.tables]]`` header and its key/value lines."""
        header = next((child for child in node.named_children if child.type in _KEYS), None)
        parts = None if header is None else self.key_parts(header)
        if not parts:
            return
        path: YamlPath = ()
        for index, (name, part) in enumerate(parts):
            path = (*path, name)
            self.mark(self.keys, path, part)
            if index < len(parts) - 1 and path in self.elements:
                path = (*path, self.elements[path] - 1)  # into the latest element
        if node.type == "table_array_element":
            self.elements[path] = self.elements.get(path, 0) + 1
            path = (*path, self.elements[path] - 1)
            self.mark(self.values, path, node)
        elif path == self.table:
            self.header = self.header or self.position(node)
        self.opens(path, node)
        for child in node.named_children:
            if child.type == "pair":
                self.pair(child, path)

    def pair(self, node: tree_sitter.Node, table: YamlPath) -> None:
        """``key = value`` inside ``table`` (a dotted key reaches further in)."""
        kids = [child for child in node.named_children if child.type != "comment"]
        parts = self.key_parts(kids[0]) if len(kids) == 2 else None
        if not parts:
            return
        path = table
        for name, part in parts:
            path = (*path, name)
            self.mark(self.keys, path, part)
            self.opens(path, node)
        self.item(kids[1], path)

    def item(self, node: tree_sitter.Node, path: YamlPath) -> None:
        """A value: inline tables and arrays are walked into."""
        self.mark(self.values, path, node)
        if node.type == "inline_table":
            for child in node.named_children:
                if child.type == "pair":
                    self.pair(child, path)
        elif node.type == "array":
            index = 0
            for child in node.named_children:
                if child.type == "comment":
                    continue
                if child.type == "ERROR":
                    return  # the items after it cannot be counted
                self.item(child, (*path, index))
                index += 1

    def key_parts(self, node: tree_sitter.Node) -> list[tuple[str, tree_sitter.Node]] | None:
        """(name, node) of each part of a bare, quoted or dotted key; None if unreadable."""
        if node.type == "dotted_key":
            out: list[tuple[str, tree_sitter.Node]] = []
            for child in node.named_children:
                parts = self.key_parts(child) if child.type in _KEYS else None
                if parts is None:
                    return None
                out.extend(parts)
            return out
        token = self.raw[node.start_byte : node.end_byte].decode("utf-8")
        if node.type == "bare_key":
            return [(token, node)]
        if node.type != "quoted_key" or node.has_error:
            return None
        try:
            # A quoted key is spelled as a one-line string: tomllib reads it as one.
            name = tomllib.loads(f"k = {token}")["k"]
        except tomllib.TOMLDecodeError:
            return None
        return [(name, node)] if isinstance(name, str) else None

    def mark(self, into: dict[YamlPath, Position], path: YamlPath, node: tree_sitter.Node) -> None:
        """Record where ``path`` is written, if it lies under the table and is new."""
        depth = len(self.table)
        if len(path) > depth and path[:depth] == self.table:
            into.setdefault(path[depth:], self.position(node))

    def opens(self, path: YamlPath, node: tree_sitter.Node) -> None:
        """Note ``node`` as the first statement writing into the table, if it is."""
        if self.first is None and path[: len(self.table)] == self.table:
            self.first = self.position(node)

    def position(self, node: tree_sitter.Node) -> Position:
        """The 1-based line and character column where ``node`` starts."""
        row, byte_column = node.start_point
        line_start = node.start_byte - byte_column
        column = len(self.raw[line_start : node.start_byte].decode("utf-8", "replace"))
        return Position(row + 1, column + 1)
