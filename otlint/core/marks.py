"""Where each key and value of a loaded config sits in its source text.

Kept apart from ``otlint.core.yamlpos`` so that reading a config that is not YAML (the shipped
rule set's JSON twin, ``pyproject.toml``) does not load PyYAML.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import NamedTuple

__all__ = ["Marks", "Position", "YamlPath"]

#: A key path into loaded data: mapping keys and sequence indexes, outermost first.
YamlPath = tuple[Hashable, ...]


class Position(NamedTuple):
    """A 1-based line and column in the source text."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


_START = Position(1, 1)


class Marks:
    """Where each key and value of one loaded document sits in the source.

    ``key(path)`` is the position of the mapping key that ends ``path``;
    ``value(path)`` that of the value (for sequence items, the item). Both return
    ``None`` for a path the document does not contain, e.g. a key that came in through
    a ``<<`` merge or from a source without positions. ``near(path)`` always answers,
    falling back to the closest ancestor that has a position, then to ``default``.
    """

    def __init__(
        self,
        keys: Mapping[YamlPath, Position] | None = None,
        values: Mapping[YamlPath, Position] | None = None,
        default: Position = _START,
    ) -> None:
        self._keys: dict[YamlPath, Position] = dict(keys or {})
        self._values: dict[YamlPath, Position] = dict(values or {})
        self.default = default

    def key(self, path: YamlPath) -> Position | None:
        """The position of the key that ends ``path``, if there is one."""
        return self._keys.get(tuple(path))

    def value(self, path: YamlPath) -> Position | None:
        """The position of the value at ``path``, if there is one."""
        return self._values.get(tuple(path))

    def near(self, path: YamlPath, *, value: bool = False) -> Position:
        """The best position for ``path``: its key (or value), else the nearest ancestor's."""
        path = tuple(path)
        while True:
            first, second = (self._values, self._keys) if value else (self._keys, self._values)
            found = first.get(path) or second.get(path)
            if found is not None:
                return found
            if not path:
                return self.default
            # An ancestor's *key* is where a reader looks for a section, not its value.
            path, value = path[:-1], False

    def __repr__(self) -> str:
        return f"Marks({len(self._keys)} keys, {len(self._values)} values)"
