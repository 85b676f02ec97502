"""YAML loading that remembers where every key and value came from.

Config errors must point at ``path:line:col``, but ``yaml.safe_load`` throws the
positions away. Here the document is composed into nodes first (which carry marks),
walked once to record the 1-based position of every mapping key and every value by
its *path* (the tuple of keys and sequence indexes leading to it), and only then
constructed into plain Python data with PyYAML's ``SafeLoader``.

The walk also rejects duplicate keys: YAML parsers keep the last one silently, which
in a linter config means a rule setting that quietly does nothing.

YAML held in a string of another YAML file (a collector config in a ConfigMap) is
loaded with an ``origin``: a function from a position in the string to the position
in the file that holds it, so that marks and errors point into that file.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from otlint.core.errors import OtlintError
from otlint.core.marks import Marks, Position, YamlPath

__all__ = [
    "Marks",
    "Origin",
    "Position",
    "YamlPath",
    "load_all_lenient",
    "load_all_with_marks",
    "load_yaml_with_marks",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"


#: libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python
#: one. A document libyaml rejects is read again by the pure-Python parser, whose
#: messages are the ones otlint reports (and documents).
_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_T = TypeVar("_T")

#: Maps a 1-based (line, column) of the text being loaded to where it is written.
Origin = Callable[[int, int], Position]


def _same(line: int, column: int) -> Position:
    return Position(line, column)


def load_yaml_with_marks(text: str, path: str, origin: Origin = _same) -> tuple[object, Marks]:
    """Safe-load one YAML document; return the data and the marks of its keys and values.

    An empty document loads as ``None``. Syntax errors, more than one document and
    duplicate mapping keys raise ``OtlintError("PATH:LINE:COL: ...")``; ``path`` is
    only used in those messages. ``origin`` maps positions in ``text`` to those reported.
    """
    return _fast_then_worded(_load_one, text, path, origin)


def _fast_then_worded(
    load: Callable[[type[yaml.SafeLoader], str, str, Origin], _T],
    text: str,
    path: str,
    origin: Origin,
) -> _T:
    """``load`` with libyaml; what libyaml rejects, again with PyYAML for its error message."""
    if _FAST is not yaml.SafeLoader:
        try:
            return load(_FAST, text, path, origin)
        except yaml.YAMLError:
            pass
    try:
        return load(yaml.SafeLoader, text, path, origin)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, path, origin) from None


def _load_one(
    kind: type[yaml.SafeLoader], text: str, path: str, origin: Origin
) -> tuple[object, Marks]:
    # The pure-Python reader rejects unprintable characters already when the loader is built.
    loader = kind(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Marks()
        return _construct(loader, node, path, origin)
    finally:
        loader.dispose()


def load_all_with_marks(text: str, path: str, origin: Origin = _same) -> list[tuple[object, Marks]]:
    """Safe-load every document of a multi-document YAML stream, each with its marks.

    Empty documents (``---`` followed by nothing) load as ``(None, Marks())`` so that
    document numbers stay aligned with the source. Errors and ``origin`` as
    ``load_yaml_with_marks``.
    """
    return _fast_then_worded(_load_all, text, path, origin)


def _load_all(
    kind: type[yaml.SafeLoader], text: str, path: str, origin: Origin
) -> list[tuple[object, Marks]]:
    loader = kind(text)
    out: list[tuple[object, Marks]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            out.append(
                (None, Marks(default=origin(1, 1)))
                if node is None
                else _construct(loader, node, path, origin)
            )
        return out
    finally:
        loader.dispose()


def _construct(
    loader: yaml.SafeLoader, node: Node, path: str, origin: Origin
) -> tuple[object, Marks]:
    keys: dict[YamlPath, Position] = {}
    values: dict[YamlPath, Position] = {}
    # Walk before constructing: the constructor flattens ``<<`` merges into the node
    # in place, after which explicit and merged keys can no longer be told apart.
    _walk(loader, node, (), keys, values, path, set(), origin)
    data = loader.construct_document(node)
    return data, Marks(keys, values, default=_pos(node, origin))


def _walk(
    loader: yaml.SafeLoader,
    node: Node,
    at: YamlPath,
    keys: dict[YamlPath, Position],
    values: dict[YamlPath, Position],
    path: str,
    active: set[int],
    origin: Origin,
) -> None:
    values.setdefault(at, _pos(node, origin))
    # Aliases share node objects, and ``&a [*a]`` is a cycle: don't walk into a node
    # that is already being walked.
    if id(node) in active:
        return
    active.add(id(node))
    try:
        if isinstance(node, MappingNode):
            first: dict[Hashable, Node] = {}
            merged: list[Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    # Merged keys may legitimately repeat (later wins); their positions
                    # (in the anchored mapping) are recorded after the explicit keys.
                    merged += (
                        value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                    )
                    continue
                key = loader.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:
                    line, col = _pos(key_node, origin)
                    raise OtlintError(
                        f"{path}:{line}:{col}: invalid YAML: a mapping key must be a scalar"
                    ) from None
                if seen is not None:
                    line, col = _pos(key_node, origin)
                    raise OtlintError(
                        f"{path}:{line}:{col}: duplicate key {key!r} (first at line "
                        f"{_pos(seen, origin).line}): YAML would silently keep only the last; merge them"
                    )
                first[key] = key_node
                keys[(*at, key)] = _pos(key_node, origin)
                _walk(loader, value_node, (*at, key), keys, values, path, active, origin)
            for source in merged:
                for key_node, value_node in source.value if isinstance(source, MappingNode) else []:
                    try:
                        key = loader.construct_object(key_node, deep=True)
                        if key in first or (*at, key) in keys:
                            continue
                    except TypeError:
                        continue
                    keys[(*at, key)] = _pos(key_node, origin)
                    _walk(loader, value_node, (*at, key), keys, values, path, active, origin)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                _walk(loader, item, (*at, index), keys, values, path, active, origin)
    finally:
        active.discard(id(node))


def _pos(node: Node, origin: Origin) -> Position:
    return origin(node.start_mark.line + 1, node.start_mark.column + 1)


def _syntax_error(exc: yaml.YAMLError, text: str, path: str, origin: Origin) -> OtlintError:
    line, col, problem = 1, 1, str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
        if exc.context and "single document" in exc.context:
            problem = "expected a single document, but found another ('---')"
        else:
            problem = exc.problem or exc.context or problem
    elif isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
    line, col = origin(line, col)
    return OtlintError(f"{path}:{line}:{col}: invalid YAML: {_one_line(problem)}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Lenient(yaml.SafeLoader):
    """A loader that reads what it can: repeated keys (the last wins, as PyYAML does)
    and tags it does not know (``!!python/name:``, ``!Ref``) as their plain node."""


def _untagged(loader: yaml.SafeLoader, node: Node) -> object:
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Lenient.add_constructor(None, _untagged)


def load_all_lenient(text: str) -> list[object] | None:
    """What the documents of ``text`` say, read leniently (see ``_Lenient``): only to tell
    what kind of file an unreadable one is. None when even this cannot read it."""
    try:
        return list(yaml.load_all(text, Loader=_Lenient))  # a SafeLoader subclass
    except (yaml.YAMLError, ValueError, TypeError):
        return None
