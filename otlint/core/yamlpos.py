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

Files nobody vetted are read too, so the walk keeps two bounds (``LimitError`` past
either): documents nest at most ``MAX_DEPTH`` levels, and aliases and ``<<`` merges
may not expand a file much past what its text holds (a ``Budget``: a 400-byte
"billion laughs" would otherwise walk 10^9 nodes). Aliases are not expanded in the
data itself: PyYAML shares the aliased object, and a cycle (``&a [*a]``) stays one.

Speed (the pre-commit hook reads whole repositories): libyaml composes the nodes (its
marks carry every line and column otlint reports), scalar tags are resolved once per
distinct plain scalar, and a document whose nodes are all plain mappings, sequences and
scalars of the standard tags (nearly every configuration) is walked and constructed in
one pass (``_Walk.build``). A document with anything else (an alias of a collection, a
``<<`` merge, another tag, a key that is no scalar, a scalar its constructor refuses) is
walked and then constructed by PyYAML as before, and so is one the single pass finds an
error in (a repeated key, too deep, past the budget): the data, the marks, every error and
the budget spent stay what the walk gives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from otlint.core.errors import OtlintError
from otlint.core.marks import Marks, Position, YamlPath

__all__ = [
    "ALIAS_ALLOWANCE",
    "MAX_DEPTH",
    "Budget",
    "LimitError",
    "Marks",
    "Origin",
    "Position",
    "YamlPath",
    "load_all_lenient",
    "load_all_with_marks",
    "load_yaml_with_marks",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"

#: How deep mappings and sequences may nest (``<<`` merges of merges count as levels):
#: configurations stay far below it; every walk over loaded data may recurse this deep.
MAX_DEPTH = 128
#: What aliases and merges may add to a file beyond its own length, in nodes walked.
ALIAS_ALLOWANCE = 100_000


class LimitError(OtlintError):
    """A document past a bound kept against hostile input: nested deeper than
    ``MAX_DEPTH``, or expanded by aliases and merges past its ``Budget``. The message
    is ``PATH:LINE:COL: ...`` like any other YAML error."""


class Budget:
    """What the loads of one file may cost: characters read plus nodes walked, aliases
    and ``<<`` merges expanded as PyYAML's constructor and every reader of the data
    expand them.

    A file may cost ``ALIAS_ALLOWANCE`` plus four times its length; a file without
    aliases costs about twice its length, its YAML in strings (a collector config in a
    ConfigMap) as much again. Share one budget between a file and the strings in it
    that are loaded as YAML: an alias of one such string is loaded once per alias.
    """

    def __init__(self, length: int) -> None:
        self.allowed = ALIAS_ALLOWANCE + 4 * length
        self.left = self.allowed
        self.exhausted = False  # a load asked for more than was left

    def spend(self, cost: int) -> bool:
        """Take ``cost`` from what is left; False (and nothing left) when it was not there."""
        self.left -= cost
        if self.left >= 0:
            return True
        self.left = 0
        self.exhausted = True
        return False


_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
#: Resolved tags of plain scalars (a plain scalar's tag depends on its text alone when
#: the loader has no path resolvers, as PyYAML's safe loaders have none), shared by every
#: load; emptied when it grows past ``_RESOLVED_MAX`` entries.
_resolved: dict[str, str] = {}
_RESOLVED_MAX = 100_000


#: PyYAML's own (untyped) resolution, which ``_Resolving`` stands in front of.
_resolve = cast(Callable[..., str], yaml.resolver.Resolver.resolve)
_descend = cast(Callable[..., None], yaml.resolver.BaseResolver.descend_resolver)
_ascend = cast(Callable[..., None], yaml.resolver.BaseResolver.ascend_resolver)


class _Resolving:
    """A safe loader's tag resolution, remembered per plain scalar text.

    Both composers (libyaml's and PyYAML's) ask ``resolve`` for the tag of every node,
    and ``descend_resolver``/``ascend_resolver`` around each, in Python: that was a
    fifth of a load. Without path resolvers the answer for a plain scalar is a function
    of its text, a quoted one or a collection always gets the default tag, and the
    descents do nothing.
    """

    yaml_path_resolvers: dict[object, object]

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if self.yaml_path_resolvers:
            return _resolve(self, kind, value, implicit)
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR_TAG
            tag = _resolved.get(value)
            if tag is None:
                tag = _resolve(self, kind, value, implicit)
                if len(_resolved) >= _RESOLVED_MAX:
                    _resolved.clear()
                _resolved[value] = tag
            return tag
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        if self.yaml_path_resolvers:
            _descend(self, current_node, current_index)

    def ascend_resolver(self) -> None:
        if self.yaml_path_resolvers:
            _ascend(self)


class _SafeLoader(_Resolving, yaml.SafeLoader):
    """PyYAML's own safe loader (its parser words the errors otlint reports)."""


#: libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python
#: one. A document libyaml rejects is read again by the pure-Python parser, whose
#: messages are the ones otlint reports (and documents).
_FAST: type[yaml.SafeLoader] = _SafeLoader
if getattr(yaml, "__with_libyaml__", False):

    class _CSafeLoader(_Resolving, yaml.CSafeLoader):
        """libyaml's parser and composer, PyYAML's safe constructor."""

    _FAST = _CSafeLoader  # type: ignore[assignment]
_T = TypeVar("_T")

#: Maps a 1-based (line, column) of the text being loaded to where it is written.
Origin = Callable[[int, int], Position]


def _same(line: int, column: int) -> Position:
    return Position(line, column)


def load_yaml_with_marks(
    text: str, path: str, origin: Origin = _same, budget: Budget | None = None
) -> tuple[object, Marks]:
    """Safe-load one YAML document; return the data and the marks of its keys and values.

    An empty document loads as ``None``. Syntax errors, more than one document and
    duplicate mapping keys raise ``OtlintError("PATH:LINE:COL: ...")``; ``path`` is
    only used in those messages. ``origin`` maps positions in ``text`` to those reported.
    A document nested too deep or expanded past ``budget`` (by default, one for
    ``text`` alone) raises ``LimitError``, an ``OtlintError``.
    """
    return _fast_then_worded(_load_one, text, path, origin, budget)


def _fast_then_worded(
    load: Callable[[type[yaml.SafeLoader], str, _Walk], _T],
    text: str,
    path: str,
    origin: Origin,
    budget: Budget | None,
) -> _T:
    """``load`` with libyaml; what libyaml rejects, again with PyYAML for its error message."""
    budget = Budget(len(text)) if budget is None else budget
    if not budget.spend(len(text)):
        raise _Walk(path, origin, budget).too_large(None, ())
    if _FAST is not _SafeLoader:
        left = budget.left
        try:
            return load(_FAST, text, _Walk(path, origin, budget))
        except yaml.YAMLError as exc:
            if _too_deep(exc):
                # Read again by PyYAML's own parser, it would recurse until Python stops it.
                line, col = _mark(exc)
                raise _Walk(path, origin, budget).too_deep(line, col) from None
        budget.left = left  # the text is read again only for the words of its error
    try:
        return load(_SafeLoader, text, _Walk(path, origin, budget))
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, path, origin) from None
    except RecursionError:
        raise _Walk(path, origin, budget).too_deep(1, 1) from None


def _too_deep(exc: yaml.YAMLError) -> bool:
    """Whether libyaml refused the text for nesting past its own bound (1000 levels)."""
    return isinstance(exc, yaml.MarkedYAMLError) and "maximum nesting depth" in (exc.problem or "")


def _mark(exc: yaml.YAMLError) -> tuple[int, int]:
    """The 1-based line and column a YAML error names (1:1 when it names none)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return mark.line + 1, mark.column + 1
    return 1, 1


def _load_one(kind: type[yaml.SafeLoader], text: str, walk: _Walk) -> tuple[object, Marks]:
    # The pure-Python reader rejects unprintable characters already when the loader is built.
    loader = kind(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Marks()
        return walk.construct(loader, node)
    finally:
        loader.dispose()


def load_all_with_marks(
    text: str, path: str, origin: Origin = _same, budget: Budget | None = None
) -> list[tuple[object, Marks]]:
    """Safe-load every document of a multi-document YAML stream, each with its marks.

    Empty documents (``---`` followed by nothing) load as ``(None, Marks())`` so that
    document numbers stay aligned with the source. Errors, ``origin`` and ``budget``
    as ``load_yaml_with_marks``; the documents of the stream share the budget.
    """
    return _fast_then_worded(_load_all, text, path, origin, budget)


def _load_all(kind: type[yaml.SafeLoader], text: str, walk: _Walk) -> list[tuple[object, Marks]]:
    loader = kind(text)
    out: list[tuple[object, Marks]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            out.append(
                (None, Marks(default=walk.origin(1, 1)))
                if node is None
                else walk.construct(loader, node)
            )
        return out
    finally:
        loader.dispose()


class _Walk:
    """One walk over the nodes of a document before it is constructed: the positions of
    its keys and values, duplicate keys refused, depth and expansion bounded."""

    def __init__(self, path: str, origin: Origin, budget: Budget, *, strict: bool = True) -> None:
        self.path = path
        self.origin = origin
        self.budget = budget
        self.strict = strict  # False: repeated keys are let through (the lenient reading)
        self.keys: dict[YamlPath, Position] = {}
        self.values: dict[YamlPath, Position] = {}
        self.loader: yaml.SafeLoader | None = None
        self.active: set[int] = set()  # the nodes being walked (aliases may make cycles)
        self.merging: set[int] = set()  # the mappings whose merges are being counted
        #: Per mapping node with ``<<`` keys: what it merges, the pair that wins first.
        self.merges: dict[int, list[tuple[Hashable, Node, Node]]] = {}
        #: Per mapping node: how many pairs PyYAML's flattening gives it (it keeps repeats).
        self.flat: dict[int, int] = {}
        #: The collections ``build`` has constructed (a second sight is an alias).
        self.built: set[int] = set()

    def construct(self, loader: yaml.SafeLoader, node: Node) -> tuple[object, Marks]:
        """Walk ``node`` (a document's root), then construct it: the data and its marks."""
        self.loader = loader
        # Per document: the nodes of an earlier one may be gone, and their ids reused.
        self.keys, self.values, self.merges, self.flat = {}, {}, {}, {}
        if self.strict and type(loader).yaml_constructors is SafeConstructor.yaml_constructors:
            left, exhausted = self.budget.left, self.budget.exhausted
            self.built = set()
            try:
                self.prepay(1)
                data = self.build(node, ())
            except (_Unplain, OtlintError):
                # Walked and constructed again, by PyYAML, from the start of the document;
                # an error (a repeated key, too deep) is raised again by the walk, which
                # leaves the budget as it spends it (``build`` paid ahead), for the loads
                # of the file that share it.
                self.budget.left, self.budget.exhausted = left, exhausted
                self.keys, self.values = {}, {}
            else:
                return data, Marks(self.keys, self.values, default=self.pos(node))
            finally:
                self.built = set()
        # Walk before constructing: the constructor flattens ``<<`` merges into the node
        # in place, after which explicit and merged keys can no longer be told apart.
        self.walk(node, ())
        data = loader.construct_document(node)
        return data, Marks(self.keys, self.values, default=self.pos(node))

    def pos(self, node: Node) -> Position:
        """Where ``node`` is written, as reported."""
        return _pos(node, self.origin)

    def build(self, node: Node, at: YamlPath) -> object:
        """Construct ``node`` (which sits at ``at``) as PyYAML's safe constructor would,
        recording the positions and refusing repeated keys as ``walk`` does, in one pass;
        ``_Unplain`` for what only PyYAML constructs right.

        The budget is spent as ``walk`` spends it, one per node, but ahead: a collection
        pays for all its children when it is reached (the caller paid for ``node``). When
        what is left does not cover them, ``_Unplain``: the walk finds where it runs out.
        Scalars inside a collection are handled in its loop, not by a call each: they
        are most of the nodes of a configuration.
        """
        values, keys, origin = self.values, self.keys, self.origin
        plain = origin is _same
        mark = node.start_mark
        values[at] = (
            _position((mark.line + 1, mark.column + 1))
            if plain
            else origin(mark.line + 1, mark.column + 1)
        )
        kind = type(node)
        if kind is ScalarNode:
            return self.scalar(node)
        if len(at) >= MAX_DEPTH:
            raise self.too_deep(*values[at])
        if id(node) in self.built:
            raise _Unplain  # an alias of a collection: PyYAML shares the object, maybe a cycle
        self.built.add(id(node))
        self.prepay(len(node.value))
        if kind is MappingNode and node.tag == _MAP_TAG:
            mapping: dict[object, object] = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode:
                    raise _Unplain  # refused (strict), with the walk's message
                key = key_node.value if key_node.tag == _STR_TAG else self.scalar(key_node)
                where = (*at, key)
                mark = key_node.start_mark
                place = (
                    _position((mark.line + 1, mark.column + 1))
                    if plain
                    else origin(mark.line + 1, mark.column + 1)
                )
                if key in mapping:
                    raise OtlintError(
                        f"{self.path}:{place.line}:{place.column}: duplicate key {key!r} (first "
                        f"at line {keys[where].line}): YAML would silently keep only the last; "
                        "merge them"
                    )
                keys[where] = place
                if type(value_node) is ScalarNode:
                    mark = value_node.start_mark
                    values[where] = (
                        _position((mark.line + 1, mark.column + 1))
                        if plain
                        else origin(mark.line + 1, mark.column + 1)
                    )
                    mapping[key] = (
                        value_node.value if value_node.tag == _STR_TAG else self.scalar(value_node)
                    )
                else:
                    mapping[key] = self.build(value_node, where)
            return mapping
        if kind is SequenceNode and node.tag == _SEQ_TAG:
            sequence: list[object] = []
            for index, item in enumerate(node.value):
                where = (*at, index)
                if type(item) is ScalarNode:
                    mark = item.start_mark
                    values[where] = (
                        _position((mark.line + 1, mark.column + 1))
                        if plain
                        else origin(mark.line + 1, mark.column + 1)
                    )
                    sequence.append(item.value if item.tag == _STR_TAG else self.scalar(item))
                else:
                    sequence.append(self.build(item, where))
            return sequence
        raise _Unplain  # another tag (a set, an omap, a custom one)

    def prepay(self, nodes: int) -> None:
        """Spend ``nodes`` of the budget ahead (``build``); ``_Unplain`` when they are not left."""
        if self.budget.left < nodes:
            raise _Unplain
        self.budget.left -= nodes

    def scalar(self, node: Node) -> object:
        """The value of a scalar node of a standard tag, as the safe constructor gives it;
        ``_Unplain`` for a merge key, another tag, or a value the constructor refuses."""
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag == _NULL_TAG:
            return None
        construct = _SCALARS.get(tag)
        if construct is None:
            raise _Unplain
        try:
            return construct(cast(yaml.SafeLoader, self.loader), node)
        except Exception:  # PyYAML's own construction (after the walk) raises it, in order
            raise _Unplain from None

    def walk(self, node: Node, at: YamlPath) -> None:
        """Record the positions under ``node``, which sits at ``at``."""
        self.values.setdefault(at, self.pos(node))
        # Aliases share node objects, and ``&a [*a]`` is a cycle: don't walk into a node
        # that is already being walked.
        if id(node) in self.active:
            return
        if len(at) >= MAX_DEPTH and not isinstance(node, ScalarNode):
            raise self.too_deep(*self.pos(node))
        if not self.budget.spend(1):
            raise self.too_large(node, at)
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                self.mapping(node, at)
            elif isinstance(node, SequenceNode):
                for index, item in enumerate(node.value):
                    self.walk(item, (*at, index))
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, at: YamlPath) -> None:
        first: dict[Hashable, Node] = {}
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                # Merged keys may legitimately repeat (the first source wins); their
                # positions (in the anchored mapping) are recorded after the explicit keys.
                sources += (
                    value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                )
                continue
            key = self.key(key_node)
            if key is _NOT_A_KEY:
                continue
            seen = first.get(key)
            if seen is not None and self.strict:
                line, col = self.pos(key_node)
                raise OtlintError(
                    f"{self.path}:{line}:{col}: duplicate key {key!r} (first at line "
                    f"{self.pos(seen).line}): YAML would silently keep only the last; merge them"
                )
            first[key] = key_node
            self.keys[(*at, key)] = self.pos(key_node)
            self.walk(value_node, (*at, key))
        if not sources:
            return
        self.flattened(node, len(at))
        for key, key_node, value_node in self.merged(node, sources):
            if key in first or (*at, key) in self.keys:
                continue
            self.keys[(*at, key)] = self.pos(key_node)
            self.walk(value_node, (*at, key))

    def key(self, key_node: Node) -> Hashable:
        """The key ``key_node`` constructs to (``_NOT_A_KEY`` for a collection, refused
        when strict). Never a collection: one nested a thousand levels deep would be
        constructed by recursion, and none is hashable anyway."""
        assert self.loader is not None
        if isinstance(key_node, ScalarNode):
            key = self.loader.construct_object(key_node, deep=True)
            try:
                hash(key)
                return key  # type: ignore[no-any-return]  # PyYAML's constructors are untyped
            except TypeError:
                pass
        if not self.strict:
            return _NOT_A_KEY
        line, col = self.pos(key_node)
        raise OtlintError(f"{self.path}:{line}:{col}: invalid YAML: a mapping key must be a scalar")

    def merged(self, node: MappingNode, sources: list[Node]) -> list[tuple[Hashable, Node, Node]]:
        """The pairs ``<<`` merges into ``node`` from ``sources``, each key once, the one
        that wins first: a source's own keys before what it merges in turn, earlier
        sources before later ones (as PyYAML constructs them). ``flattened`` has already
        refused merges that loop or nest past ``MAX_DEPTH``."""
        if id(node) in self.merges:
            return self.merges[id(node)]
        out: list[tuple[Hashable, Node, Node]] = []
        taken: set[Hashable] = set()
        for source in sources:
            if not isinstance(source, MappingNode):
                continue  # the constructor refuses it, with its own message
            inner: list[Node] = []
            for key_node, value_node in source.value:
                if key_node.tag == _MERGE_TAG:
                    inner += (
                        value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                    )
                    continue
                key = self.key(key_node) if isinstance(key_node, ScalarNode) else _NOT_A_KEY
                if key is not _NOT_A_KEY and key not in taken:
                    taken.add(key)
                    out.append((key, key_node, value_node))
            if inner:
                for key, key_node, value_node in self.merged(source, inner):
                    if key not in taken:
                        taken.add(key)
                        out.append((key, key_node, value_node))
        self.merges[id(node)] = out
        return out

    def flattened(self, node: MappingNode, depth: int) -> int:
        """How many pairs PyYAML's constructor gives ``node`` once its merges are flattened
        in place (it keeps every repeat: ``<<: [*a, *a]`` doubles ``a``), charged to the
        budget once per mapping; merges of merges are levels of ``MAX_DEPTH``."""
        if id(node) in self.flat:
            return self.flat[id(node)]
        if depth >= MAX_DEPTH or id(node) in self.merging:
            line, col = self.pos(node)
            if depth >= MAX_DEPTH:
                raise self.too_deep(line, col)
            raise LimitError(
                f"{self.path}:{line}:{col}: a << merge takes in the mapping it is part of: "
                "merge another mapping"
            )
        self.merging.add(id(node))
        try:
            count = 0
            for key_node, value_node in node.value:
                if key_node.tag != _MERGE_TAG:
                    count += 1
                    continue
                for source in (
                    value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                ):
                    if isinstance(source, MappingNode):
                        count += self.flattened(source, depth + 1)
        finally:
            self.merging.discard(id(node))
        self.flat[id(node)] = count
        if not self.budget.spend(count):
            raise self.too_large(node, ())
        return count

    def too_deep(self, line: int, col: int) -> LimitError:
        """The error for a document nested past ``MAX_DEPTH`` at ``line:col`` (of the text)."""
        line, col = self.origin(line, col)
        return LimitError(
            f"{self.path}:{line}:{col}: nested more than {MAX_DEPTH} levels deep: otlint reads no "
            "deeper (no configuration nests like this; if the file is generated, flatten it)"
        )

    def too_large(self, node: Node | None, at: YamlPath) -> LimitError:
        """The error for a file whose aliases and merges expand past its budget, at the
        top-level entry being walked (where the expansion is used)."""
        pos = self.keys.get(at[:1]) if at else None
        if pos is None:
            pos = self.pos(node) if node is not None else self.origin(1, 1)
        return LimitError(
            f"{self.path}:{pos.line}:{pos.column}: aliases and << merges expand this file past "
            f'{self.budget.allowed:,} nodes (a "billion laughs"?): otlint reads no further; '
            "write the repeated parts out, or alias less"
        )


class _Unplain(Exception):  # a signal between two methods, never raised out of the module
    """``_Walk.build`` met a node only PyYAML's constructor (after ``walk``) gets right."""


#: The safe constructor's functions for the standard scalar tags (their values are
#: immutable and they read nothing but the node); ``str`` and ``null`` are built inline.
_SCALARS: dict[str, Callable[[yaml.SafeLoader, Node], object]] = {
    f"tag:yaml.org,2002:{name}": SafeConstructor.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("bool", "int", "float", "binary", "timestamp")
}

#: What ``_Walk.key`` returns for a key that is no scalar (when that is let through).
_NOT_A_KEY: Hashable = object()


def _pos(node: Node, origin: Origin) -> Position:
    mark = node.start_mark
    if origin is _same:
        return _position((mark.line + 1, mark.column + 1))
    return origin(mark.line + 1, mark.column + 1)


#: ``Position`` from a (line, column) pair in one C call (``Position(l, c)`` is a Python one).
_position: Callable[[tuple[int, int]], Position] = functools.partial(tuple.__new__, Position)


def _syntax_error(exc: yaml.YAMLError, text: str, path: str, origin: Origin) -> OtlintError:
    line, col, problem = 1, 1, str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        line, col = _mark(exc)
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


class _Lenient(_Resolving, yaml.SafeLoader):
    """A loader that reads what it can: repeated keys (the last wins, as PyYAML does)
    and tags it does not know (``!!python/name:``, ``!Ref``) as their plain node."""


def _untagged(loader: yaml.SafeLoader, node: Node) -> object:
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Lenient.add_constructor(None, _untagged)
#: The lenient loaders to try, libyaml's first: what it rejects is tried by PyYAML's.
#: (Where the two parsers differ, a tab after a plain scalar or a byte order mark past
#: the first character, the lenient reading follows libyaml, as the strict loads do.)
_LENIENT: tuple[type[yaml.SafeLoader], ...] = (_Lenient,)
if _FAST is not _SafeLoader:

    class _CLenient(_Resolving, yaml.CSafeLoader):
        """``_Lenient`` on libyaml's parser and composer."""

    _CLenient.add_constructor(None, _untagged)
    _LENIENT = (_CLenient, _Lenient)  # type: ignore[assignment]


def load_all_lenient(text: str) -> list[object] | None:
    """What the documents of ``text`` say, read leniently (see ``_Lenient``): only to tell
    what kind of file an unreadable one is. None when even this cannot read it, or when
    it is nested or expanded past the bounds of ``load_all_with_marks``."""
    for kind in _LENIENT:
        walk = _Walk("", _same, Budget(len(text)), strict=False)
        out: list[object] = []
        try:
            loader = kind(text)
            try:
                while loader.check_node():
                    node = loader.get_node()
                    out.append(None if node is None else walk.construct(loader, node)[0])
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            if kind is not _Lenient and not _too_deep(exc):
                continue  # libyaml's refusal: PyYAML's parser may yet read it
            return None
        except (ValueError, TypeError, RecursionError, OtlintError):
            return None
        return out
    return None
