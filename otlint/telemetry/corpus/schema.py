"""How a Corpus fact is declared, and what its declaration gives: merge, record shifting,
canonical comparison, the shard encoding and window splitting.

A fact is declared once, as an annotated field of a dataclass, and is one of:

* A **row table**: a field whose type is a ``Rows`` subclass, one row per span, log
  reference, exemplar reference or span link, kept as columns. A table is a
  ``@dataclass(slots=True, eq=False, init=False)`` whose fields are its columns, each
  ``Annotated`` with a ``column(...)``: fixed-width bytes (``Annotated[bytearray,
  column(24, trace=0)]``: 24 bytes a row, with a trace id at byte 0, which windows split
  on) or an ``array`` of ints (``column("i", ref=RES)``: an index into an interned table,
  renumbered on merge, -1 for none; ``column("i", record=True)``: a record number,
  shifted by ``shift_records``). Rows merge by concatenation.
* A **keyed fact**: a field ``Annotated`` with its ``Law``, which says how two shards'
  values combine: ``SUM``; ``EARLIEST``, the earliest location by (path, record);
  ``Each(...)``, a list whose items have laws of their own; ``Keyed(key, law)``, a dict
  whose key parts may be references to interned tables (renumbered) or bytes (latin-1
  text in a shard); ``Union(key)``, a set of such keys; ``Absorb(cls)``, values that
  merge themselves (``Absorbing``: a read problem adds counts and keeps the lowest
  record numbers as samples, a settled hit adds counts and context).

The interned tables themselves (paths, strings, resources: ``REFS``) are the Corpus'
own: a merge looks the other shard's entries up by value and hands every law and table
a ``Renumbering`` from the other's indexes to its own.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    NamedTuple,
    Protocol,
    Self,
    TypeVar,
    get_type_hints,
)

from otlint.telemetry.corpus.columns import (
    joined_int_runs,
    joined_runs,
    member_rows,
    picked,
    picked_ints,
    picked_runs,
    renumbered,
    rows,
    shifted,
)

#: A location inside the corpus: (path index, record number).
Loc = tuple[int, int]

#: A reference to an interned table of the Corpus.
Ref = Literal["resources", "paths", "strings"]
RES: Final = "resources"
FILE: Final = "paths"
STR: Final = "strings"
REFS: tuple[Ref, ...] = (RES, FILE, STR)
#: A key part kept as bytes (latin-1 text in a shard), and one that JSON holds as it is.
BYTES: Final = "bytes"
VALUE: Final = "value"
Part = Literal["resources", "paths", "strings", "bytes", "value"]
_AS_REF: dict[Part, Ref] = {RES: RES, FILE: FILE, STR: STR}

V = TypeVar("V")


class Renumbering:
    """How another shard's references map into this corpus', and how its locations compare."""

    __slots__ = ("identity", "maps", "paths", "remaps")

    def __init__(self, maps: Mapping[Ref, list[int]], paths: Sequence[str]) -> None:
        self.maps = maps
        #: Per key declaration: how to renumber its keys (``_Key.remap``).
        self.remaps: dict[_Key, Callable[[Any], Any] | None] = {}
        #: Per table: whether the other's indexes are this corpus' (nothing to renumber).
        self.identity = {ref: mapping == list(range(len(mapping))) for ref, mapping in maps.items()}
        self.paths = paths

    @classmethod
    def same(cls, paths: Sequence[str]) -> Renumbering:
        """The renumbering of facts that already use this corpus' indexes."""
        return cls({ref: [] for ref in REFS}, paths)

    def loc(self, loc: Loc) -> Loc:
        """``loc`` with its path renumbered."""
        return loc if self.identity[FILE] else (self.maps[FILE][loc[0]], loc[1])

    def earlier(self, a: Loc, b: Loc) -> bool:
        """Whether location ``a`` comes before ``b`` (by path, then record)."""
        paths = self.paths
        return (paths[a[0]], a[1]) < (paths[b[0]], b[1])


class Resolver:
    """References resolved to what they name, for a comparison that no numbering changes."""

    __slots__ = ("refs",)

    def __init__(self, refs: Mapping[Ref, Sequence[Hashable]]) -> None:
        self.refs = refs

    def loc(self, loc: Loc | None) -> tuple[Hashable, int] | None:
        """(path, record) of a location."""
        return None if loc is None else (self.refs[FILE][loc[0]], loc[1])


# -- laws ---------------------------------------------------------------------------


class Law(Generic[V]):
    """How the values of a keyed fact merge, shift, encode and compare."""

    #: Whether values hold record numbers (``shift`` then has work to do).
    shifts: bool = False
    #: Whether ``encode`` gives values as they are (JSON writes a tuple as a list) ...
    as_json: bool = False
    #: ... and whether ``decode`` does too.
    plain: bool = False

    def new(self) -> V:
        """The value of a fact nothing was observed for."""
        raise NotImplementedError

    def merge(self, mine: V | None, theirs: V, ren: Renumbering) -> V:
        """``mine`` (None: absent) combined with another shard's ``theirs``."""
        raise NotImplementedError

    def shift(self, value: V, delta: int) -> V:
        """``value`` with ``delta`` added to its record numbers."""
        return value

    def encode(self, value: V) -> object:
        """``value`` as JSON (references stay indexes)."""
        return value

    def decode(self, raw: Any) -> V:
        """The value ``encode`` wrote (``raw``: parsed JSON of a shard, checked by use)."""
        raise NotImplementedError

    def canonical(self, value: V, res: Resolver) -> object:
        """``value`` with its references resolved."""
        return value


class _Sum(Law[int]):
    """Counts add up."""

    as_json = plain = True

    def new(self) -> int:
        return 0

    def merge(self, mine: int | None, theirs: int, ren: Renumbering) -> int:
        return theirs if mine is None else mine + theirs

    def decode(self, raw: Any) -> int:
        return int(raw)


class _Earliest(Law[Loc | None]):
    """A first location: the earliest one, by path and then record."""

    shifts = True
    as_json = True

    def new(self) -> Loc | None:
        return None

    def merge(self, mine: Loc | None, theirs: Loc | None, ren: Renumbering) -> Loc | None:
        if theirs is None:
            return mine
        moved = ren.loc(theirs)
        return moved if mine is None or ren.earlier(moved, mine) else mine

    def shift(self, value: Loc | None, delta: int) -> Loc | None:
        return None if value is None else (value[0], value[1] + delta)

    def decode(self, raw: Any) -> Loc | None:
        return _loc(raw)

    def canonical(self, value: Loc | None, res: Resolver) -> object:
        return res.loc(value)


def _loc(raw: Any) -> Loc | None:
    """A location as JSON holds it: [path, record], or null."""
    if raw is None:
        return None
    f, r = raw
    if type(f) is not int or type(r) is not int:
        raise ValueError(f"not a location: {raw!r}")
    return (f, r)


SUM: Final = _Sum()
EARLIEST: Final = _Earliest()


class Each(Law[list[Any]]):
    """A list whose items follow laws of their own (a count and a first location, ...)."""

    def __init__(self, *laws: Law[Any]) -> None:
        self.laws = laws
        self.shifts = any(law.shifts for law in laws)
        self.as_json = all(law.as_json for law in laws)
        self.plain = all(law.plain for law in laws)
        blank = [law.new() for law in laws]
        #: A new value as a copy of one list, when its items are immutable.
        self._blank = blank if all(v is None or type(v) is int for v in blank) else None
        #: The law of every item, when they share one.
        self._one = laws[0] if laws and all(law is laws[0] for law in laws) else None

    @classmethod
    def of(cls, law: Law[Any], n: int) -> Each:
        """``n`` items under the same law."""
        return cls(*[law] * n)

    def new(self) -> list[Any]:
        if self._blank is not None:
            return self._blank.copy()
        return [law.new() for law in self.laws]

    def merge(self, mine: list[Any] | None, theirs: list[Any], ren: Renumbering) -> list[Any]:
        if self._one is SUM:  # (SUM.merge inlined: counters)
            if mine is None:
                return list(theirs)
            mine[:] = map(int.__add__, mine, theirs)
            return mine
        if self._one is EARLIEST:  # (EARLIEST.merge inlined: first locations)
            files = None if ren.identity[FILE] else ren.maps[FILE]
            paths = ren.paths
            out = [None] * len(theirs) if mine is None else mine
            for i, loc in enumerate(theirs):
                if loc is None:
                    continue
                if files is not None:
                    loc = (files[loc[0]], loc[1])
                cur = out[i]
                if cur is None or (paths[loc[0]], loc[1]) < (paths[cur[0]], cur[1]):
                    out[i] = loc
            return out
        out = self.new() if mine is None else mine
        for i, law in enumerate(self.laws):
            out[i] = law.merge(out[i], theirs[i], ren)
        return out

    def shift(self, value: list[Any], delta: int) -> list[Any]:
        if self._one is EARLIEST:  # (EARLIEST.shift inlined: first locations)
            value[:] = [None if v is None else (v[0], v[1] + delta) for v in value]
        elif self.shifts:
            value[:] = [law.shift(v, delta) for law, v in zip(self.laws, value, strict=True)]
        return value

    def encode(self, value: list[Any]) -> object:
        if self.as_json:
            return value
        return [law.encode(v) for law, v in zip(self.laws, value, strict=True)]

    def decode(self, raw: Any) -> list[Any]:
        if len(raw) != len(self.laws):
            raise ValueError(f"{len(raw)} items where {len(self.laws)} belong")
        return [law.decode(v) for law, v in zip(self.laws, raw, strict=True)]

    def canonical(self, value: list[Any], res: Resolver) -> object:
        return tuple(law.canonical(v, res) for law, v in zip(self.laws, value, strict=True))


class _Key:
    """The parts of a key: which are references (renumbered, resolved) and which bytes."""

    def __init__(self, key: Part | tuple[Part, ...]) -> None:
        self.scalar = not isinstance(key, tuple)
        self.parts: tuple[Part, ...] = (key,) if isinstance(key, str) else key
        self.refs = tuple((i, _AS_REF[p]) for i, p in enumerate(self.parts) if p in _AS_REF)
        self.binary = tuple(i for i, p in enumerate(self.parts) if p == BYTES)

    def remap(self, ren: Renumbering) -> Callable[[Any], Any] | None:
        """The key renumbered, or None when no part of it changes (made once per merge)."""
        if self in ren.remaps:
            return ren.remaps[self]
        moves = [(i, ren.maps[p]) for i, p in self.refs if not ren.identity[p]]
        found: Callable[[Any], Any] | None
        if not moves:
            found = None
        elif self.scalar:
            found = moves[0][1].__getitem__
        elif len(moves) == 1 and moves[0][0] == 0:
            mapping = moves[0][1]
            found = lambda k: (mapping[k[0]], *k[1:])  # noqa: E731
        else:

            def found(k: tuple[Any, ...]) -> tuple[Any, ...]:
                out = list(k)
                for i, mapping in moves:
                    out[i] = mapping[out[i]]
                return tuple(out)

        ren.remaps[self] = found
        return found

    def encode(self, key: Any) -> list[Any]:
        """The key as a JSON list."""
        if self.scalar:
            return [key.decode("latin-1") if self.binary else key]
        if not self.binary:
            return list(key)
        parts = list(key)
        for i in self.binary:
            parts[i] = parts[i].decode("latin-1")
        return parts

    def decode(self, parts: list[Any]) -> Any:
        """The key ``encode`` wrote."""
        if len(parts) != len(self.parts):
            raise ValueError(f"a key of {len(parts)} parts where {len(self.parts)} belong")
        for i in self.binary:
            parts[i] = parts[i].encode("latin-1")
        return parts[0] if self.scalar else tuple(parts)

    def resolve(self, key: Any, res: Resolver) -> Hashable:
        """The key with its references resolved."""
        if not self.refs:
            same: Hashable = key
            return same
        if self.scalar:
            name: Hashable = res.refs[self.refs[0][1]][key]
            return name
        parts = list(key)
        for i, p in self.refs:
            parts[i] = res.refs[p][parts[i]]
        return tuple(parts)


class Keyed(Law[dict[Any, Any]]):
    """A dict of ``law``-valued facts; ``key`` names what each part of a key is."""

    def __init__(self, key: Part | tuple[Part, ...], law: Law[Any]) -> None:
        self.key = _Key(key)
        self.law = law
        self.shifts = law.shifts

    def new(self) -> dict[Any, Any]:
        return {}

    def merge(
        self, mine: dict[Any, Any] | None, theirs: dict[Any, Any], ren: Renumbering
    ) -> dict[Any, Any]:
        out: dict[Any, Any] = {} if mine is None else mine
        remap = self.key.remap(ren)
        law = self.law
        get = out.get
        if law is SUM:  # (the common case, without a call per entry)
            if remap is None:
                for k, v in theirs.items():
                    out[k] = get(k, 0) + v
            else:
                for k, v in theirs.items():
                    k = remap(k)
                    out[k] = get(k, 0) + v
            return out
        if law is EARLIEST:  # (the same: EARLIEST.merge inlined)
            files = None if ren.identity[FILE] else ren.maps[FILE]
            paths = ren.paths
            for k, loc in theirs.items():
                if remap is not None:
                    k = remap(k)
                mine_loc = get(k)
                if loc is None:
                    out[k] = mine_loc
                    continue
                if files is not None:
                    loc = (files[loc[0]], loc[1])
                if mine_loc is None or (paths[loc[0]], loc[1]) < (
                    paths[mine_loc[0]],
                    mine_loc[1],
                ):
                    out[k] = loc
            return out
        for k, v in theirs.items():
            if remap is not None:
                k = remap(k)
            out[k] = law.merge(get(k), v, ren)
        return out

    def shift(self, value: dict[Any, Any], delta: int) -> dict[Any, Any]:
        law = self.law
        if law is EARLIEST:  # (EARLIEST.shift inlined)
            for k, loc in value.items():
                if loc is not None:
                    value[k] = (loc[0], loc[1] + delta)
        elif self.shifts:
            for k, v in value.items():
                value[k] = law.shift(v, delta)
        return value

    def encode(self, value: dict[Any, Any]) -> object:
        key, law = self.key, self.law
        items = value.items() if law.as_json else ((k, law.encode(v)) for k, v in value.items())
        if key.parts == (BYTES, VALUE):  # (attribute keys: the common case, inlined)
            return [[k.decode("latin-1"), t, v] for (k, t), v in items]
        if key.scalar or key.binary:
            return [[*key.encode(k), v] for k, v in items]
        return [[*k, v] for k, v in items]

    def decode(self, raw: Any) -> dict[Any, Any]:
        key, law = self.key, self.law
        if key.parts == (BYTES, VALUE):  # (attribute keys: the common case, inlined)
            if law.plain:
                return {(k.encode("latin-1"), t): v for k, t, v in raw}
            if law is EARLIEST:
                return {(k.encode("latin-1"), t): _loc(v) for k, t, v in raw}
            return {(k.encode("latin-1"), t): law.decode(v) for k, t, v in raw}
        n = len(key.parts)
        binary = key.binary
        out: dict[Any, Any] = {}
        for entry in raw:
            if len(entry) != n + 1:
                raise ValueError(f"an entry of {len(entry)} items where {n + 1} belong")
            for i in binary:
                entry[i] = entry[i].encode("latin-1")
            value = entry[n] if law.plain else law.decode(entry[n])
            out[entry[0] if key.scalar else tuple(entry[:n])] = value
        return out

    def canonical(self, value: dict[Any, Any], res: Resolver) -> object:
        key, law = self.key, self.law
        return {key.resolve(k, res): law.canonical(v, res) for k, v in value.items()}


class Union(Law[set[Any]]):
    """A set of keys (``key`` as for ``Keyed``): the union of the shards' sets."""

    def __init__(self, key: Part | tuple[Part, ...]) -> None:
        self.key = _Key(key)

    def new(self) -> set[Any]:
        return set()

    def merge(self, mine: set[Any] | None, theirs: set[Any], ren: Renumbering) -> set[Any]:
        out: set[Any] = set() if mine is None else mine
        remap = self.key.remap(ren)
        out.update(theirs if remap is None else map(remap, theirs))
        return out

    def encode(self, value: set[Any]) -> object:
        return [self.key.encode(k) for k in value]

    def decode(self, raw: Any) -> set[Any]:
        return {self.key.decode(list(k)) for k in raw}

    def canonical(self, value: set[Any], res: Resolver) -> object:
        return {self.key.resolve(k, res) for k in value}


if TYPE_CHECKING:  # (a Protocol class costs ~1 ms to make at import)

    class Absorbing(Protocol):
        """A value that merges itself (``Absorb``)."""

        def moved(self, ren: Renumbering) -> Self:
            """A copy whose references are renumbered by ``ren``."""
            ...

        def absorb(self, other: Self) -> None:
            """Fold in ``other``, whose references are already this corpus'."""
            ...

        def shift(self, delta: int) -> None:
            """Add ``delta`` to the record numbers it holds."""
            ...

        def encode(self) -> object:
            """As JSON."""
            ...

        @classmethod
        def decode(cls, raw: Any) -> Self:
            """The value ``encode`` wrote."""
            ...

        def canonical(self, res: Resolver) -> object:
            """What a comparison of two corpora compares."""
            ...


A = TypeVar("A", bound="Absorbing")


class Absorb(Law[A]):
    """Values of a class that merges itself (``Absorbing``)."""

    def __init__(self, cls: type[A], shifts: bool = True) -> None:
        self.cls = cls
        self.shifts = shifts

    def new(self) -> A:
        raise TypeError(f"{self.cls.__name__} facts exist only under a key")

    def merge(self, mine: A | None, theirs: A, ren: Renumbering) -> A:
        moved = theirs.moved(ren)
        if mine is None:
            return moved
        mine.absorb(moved)
        return mine

    def shift(self, value: A, delta: int) -> A:
        if self.shifts:
            value.shift(delta)
        return value

    def encode(self, value: A) -> object:
        return value.encode()

    def decode(self, raw: Any) -> A:
        return self.cls.decode(raw)

    def canonical(self, value: A, res: Resolver) -> object:
        return value.canonical(res)


# -- declaring facts ----------------------------------------------------------------------


class Column(NamedTuple):
    """What a row-table column holds (``column`` makes one).

    ``width``: bytes per row of a bytes column (0 for an int column). ``typecode``: the
    ``array`` typecode of an int column. ``ref``: the interned table an int column points
    into (renumbered on merge; -1 is none). ``record``: the column holds record numbers
    (shifted by ``shift_records``). ``trace``: the offset of a trace id (16 bytes) in a
    bytes row, which windows split on. ``name``: the field's, filled in by ``declared``.
    """

    width: int = 0
    typecode: str = ""
    ref: Ref | None = None
    record: bool = False
    trace: int | None = None
    name: str = ""

    def empty(self) -> bytearray | array[int]:
        """A column with no rows."""
        return bytearray() if self.width else array(self.typecode)


def column(
    layout: int | str,
    *,
    trace: int | None = None,
    ref: Ref | None = None,
    record: bool = False,
) -> Column:
    """A row-table column: ``layout`` is a row's width in bytes, or an ``array`` typecode."""
    if isinstance(layout, int):
        if ref is not None or record:
            raise TypeError("a bytes column holds no references or record numbers")
        return Column(width=layout, trace=trace)
    if trace is not None:
        raise TypeError("a trace id sits in a bytes column")
    return Column(typecode=layout, ref=ref, record=record)


class Declared(NamedTuple):
    """What a class declares in its annotations (``Annotated[type, declaration]``)."""

    columns: tuple[Column, ...]  # Annotated[bytearray | array[int], column(...)]
    tables: tuple[tuple[str, type[Rows]], ...]  # a field whose type is a Rows subclass
    facts: tuple[tuple[str, Law[Any]], ...]  # Annotated[type, law]
    laws: Mapping[str, Law[Any]]  # the facts' laws by name


_DECLARED: dict[type, Declared] = {}


def declared(cls: type) -> Declared:
    """The columns, row tables and keyed facts ``cls`` declares, in declaration order."""
    found = _DECLARED.get(cls)
    if found is None:
        columns: list[Column] = []
        tables: list[tuple[str, type[Rows]]] = []
        facts: list[tuple[str, Law[Any]]] = []
        for name, hint in get_type_hints(cls, include_extras=True).items():
            if isinstance(hint, type) and issubclass(hint, Rows):
                tables.append((name, hint))
            for meta in getattr(hint, "__metadata__", ()):
                if isinstance(meta, Column):
                    columns.append(meta._replace(name=name))
                elif isinstance(meta, Law):
                    facts.append((name, meta))
        found = _DECLARED[cls] = Declared(tuple(columns), tuple(tables), tuple(facts), dict(facts))
    return found


def init_declared(obj: object) -> None:
    """Give ``obj`` an empty value for every column, row table and keyed fact its class declares."""
    decl = declared(type(obj))
    for spec in decl.columns:
        setattr(obj, spec.name, spec.empty())
    for name, cls in decl.tables:
        setattr(obj, name, cls())
    for name, law in decl.facts:
        setattr(obj, name, law.new())


class Rows:
    """A row table: its columns are the fields annotated ``Annotated[..., column(...)]``.

    A table is a ``@dataclass(slots=True, eq=False, init=False)``; everything below is
    derived from its column declarations.
    """

    __slots__ = ()

    def __init__(self) -> None:
        init_declared(self)
        if not declared(type(self)).columns:
            raise TypeError(f"{type(self).__name__} declares no column")

    def columns(self) -> Iterator[tuple[Column, bytearray | array[int]]]:
        """Each column's declaration and data."""
        for spec in declared(type(self)).columns:
            yield spec, getattr(self, spec.name)

    def __len__(self) -> int:
        spec = declared(type(self)).columns[0]
        data = getattr(self, spec.name)
        return len(data) // spec.width if spec.width else len(data)

    def extend(self, other: Self, ren: Renumbering) -> None:
        """Append ``other``'s rows, renumbering its references."""
        for spec, mine in self.columns():
            theirs = getattr(other, spec.name)
            if spec.ref is not None and not ren.identity[spec.ref]:
                theirs = renumbered(theirs, ren.maps[spec.ref])
            mine += theirs

    def shift(self, delta: int) -> None:
        """Add ``delta`` to every record number."""
        for spec, data in self.columns():
            if spec.record:
                assert isinstance(data, array)
                setattr(self, spec.name, shifted(data, delta))

    def canonical(self, res: Resolver) -> Counter[tuple[Hashable, ...]]:
        """The rows, references resolved, as a multiset."""
        cols: list[list[Hashable]] = []
        for spec, data in self.columns():
            if not isinstance(data, array):
                cols.append(list(rows(data, spec.width)))
            elif spec.ref is not None:
                names = res.refs[spec.ref]
                cols.append([names[i] if i >= 0 else None for i in data])
            else:
                cols.append(list(data))
        return Counter(zip(*cols, strict=True))

    def trace_column(self) -> Column | None:
        """The column whose rows carry a trace id, if any."""
        return next((spec for spec in declared(type(self)).columns if spec.trace is not None), None)

    def members(self, trace_ids: set[bytes], upto: int | None = None) -> bytes | None:
        """One byte per row: 1 for a row of one of ``trace_ids``; None when rows carry no trace id.

        With ``upto``, only the first ``upto`` rows are looked at (the mask is that long).
        """
        spec = self.trace_column()
        if spec is None or spec.trace is None:
            return None
        column = getattr(self, spec.name)
        if upto is not None and upto * spec.width < len(column):
            column = column[: upto * spec.width]
        return member_rows(column, spec.width, spec.trace, 16, trace_ids)

    def select(self, mask: bytes, keep_after: bool = False) -> Self:
        """A table of the rows whose byte in ``mask`` is not zero.

        A mask shorter than the table leaves the rows after it out, or, with
        ``keep_after``, keeps them all (appended in order).
        """
        out = type(self)()
        n = len(mask)
        runs = picked_runs(mask)
        if runs is not None and keep_after and n < len(self):
            runs.append((n, len(self)))
        for spec, data in self.columns():
            if isinstance(data, array):
                if runs is not None:
                    ints = joined_int_runs(data, runs)
                else:
                    ints = picked_ints(data, mask)
                    if keep_after and n < len(data):
                        ints += data[n:]
                setattr(out, spec.name, ints)
            else:
                if runs is not None:
                    raw = joined_runs(data, spec.width or 1, runs)
                else:
                    raw = picked(data, spec.width, mask)
                    if keep_after and n * spec.width < len(data):
                        raw += data[n * spec.width :]
                setattr(out, spec.name, raw)
        return out
