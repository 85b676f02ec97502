"""What a rule is: code, name, join, default level, typed options, docs, and a check function.

A rule is declared once, by its ``@rule``: the code, name and join, the level it runs
at by default, each option with its type and default (``Option``), and the docstring
that docs/rules.md is built from. A rule set (``rules/own-the-joins.yaml``) lists the
codes it turns on and only what it changes; settings check a config's option values
against the declared types before a check ever sees them, so a check reads its options
with the typed readers below (``string_option(opts, "pattern")``, ...), which only
narrow.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join

#: What a check receives as its options: each declared option by name, with the value
#: settings resolved (the default, or the config's value once checked against its type).
Options = Mapping[str, object]

#: A rule's check: (what it reads, its options) -> hits. What it reads is the telemetry
#: pipeline's ``analysis.Context`` for telemetry rules and ``configs.facts.ConfigFacts``
#: for config rules; this layer knows neither, so it is ``Any`` here.
CheckFn = Callable[[Any, Options], Iterable[Hit]]

#: Sections every rule docstring has, in this order (docs/rules.md is built from them).
DOC_SECTIONS = ("What it checks", "Why it breaks the join", "Example", "Fix")


class OptionType(Enum):
    """The types an option can be declared with."""

    STRING = "string"
    OPTIONAL_STRING = "optional string"  # a string, or null (a ``None`` default)
    NUMBER = "number"  # an integer is taken, and read as a float
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRINGS = "list of strings"
    MAPPING = "mapping"  # string keys; the rule checks the values

    @property
    def what(self) -> str:
        """How a message names a value of this type: ``must be a list of strings``."""
        return _WHAT[self]

    def fits(self, value: object) -> bool:
        """Whether ``value`` is a value of this type."""
        if self is OptionType.STRING:
            return isinstance(value, str)
        if self is OptionType.OPTIONAL_STRING:
            return value is None or isinstance(value, str)
        if self is OptionType.BOOLEAN:
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if self is OptionType.NUMBER:
            return isinstance(value, int | float)
        if self is OptionType.INTEGER:
            return isinstance(value, int)
        if self is OptionType.STRINGS:
            return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)

    @classmethod
    def of(cls, default: object) -> OptionType:
        """The type a bare default declares: ``max_depth=64`` is an integer option."""
        if default is None:
            return cls.OPTIONAL_STRING
        for kind in (cls.BOOLEAN, cls.INTEGER, cls.NUMBER, cls.STRING, cls.STRINGS, cls.MAPPING):
            if kind.fits(default):
                return kind
        raise TypeError(f"no option type has the default {default!r}")


_WHAT = {
    OptionType.STRING: "a string",
    OptionType.OPTIONAL_STRING: "a string",
    OptionType.NUMBER: "a number",
    OptionType.INTEGER: "an integer",
    OptionType.BOOLEAN: "true or false",
    OptionType.STRINGS: "a list of strings",
    OptionType.MAPPING: "a mapping with string keys",
}


class Option:
    """One option of a rule: its type and its default (``min_share=Option.number(0.5)``).

    (A plain class, not a dataclass: every command imports the registry, and a
    dataclass costs its start-up more to build.)
    """

    __slots__ = ("default", "type")

    def __init__(self, kind: OptionType, default: object) -> None:
        if not kind.fits(default):
            raise TypeError(f"default {default!r} is not {kind.what}")
        self.type = kind
        self.default = default

    def __repr__(self) -> str:
        return f"Option({self.type}, {self.default!r})"

    @classmethod
    def string(cls, default: str) -> Option:
        """A string option."""
        return cls(OptionType.STRING, default)

    @classmethod
    def number(cls, default: float) -> Option:
        """A number option (an integer in a config is taken)."""
        return cls(OptionType.NUMBER, default)

    @classmethod
    def integer(cls, default: int) -> Option:
        """An integer option."""
        return cls(OptionType.INTEGER, default)

    @classmethod
    def boolean(cls, default: bool) -> Option:
        """A true-or-false option."""
        return cls(OptionType.BOOLEAN, default)

    @classmethod
    def strings(cls, default: list[str]) -> Option:
        """A list-of-strings option."""
        return cls(OptionType.STRINGS, default)

    @classmethod
    def mapping(cls, default: dict[str, str]) -> Option:
        """A mapping option: string keys, values the rule checks (e.g. level words)."""
        return cls(OptionType.MAPPING, default)


@dataclass(frozen=True)
class Rule:
    """A registered rule. Config decides whether it runs and at what level."""

    code: str
    name: str
    join: Join
    level: Level
    check: CheckFn
    #: Each option's default, in declaration order (what settings overlay config on).
    options: Mapping[str, object] = field(default_factory=dict)
    target: str = "telemetry"  # or "config" for rules over configuration files
    # Judged per trace over the span graph: the sidecar evaluates it on traces once
    # they are idle and then frees them, so its hits add up across windows.
    windowed: bool = False
    #: Each option's declared type, by name (the same names as ``options``).
    option_types: Mapping[str, OptionType] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        """The rule's docstring, dedented."""
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        """The first paragraph of the docstring."""
        return self.doc.split("\n\n", 1)[0].replace("\n", " ").strip()

    def section(self, title: str) -> str:
        """The text of one docstring section (``What it checks:`` ... up to the next)."""
        lines = self.doc.splitlines()
        out: list[str] = []
        inside = False
        for line in lines:
            head = line.rstrip(":").strip()
            if head in DOC_SECTIONS and line.rstrip().endswith(":"):
                inside = head == title
                continue
            if inside:
                out.append(line)
        return "\n".join(out).strip()


def rule(
    code: str,
    name: str,
    join: Join,
    level: Level,
    target: str = "telemetry",
    windowed: bool = False,
    **options: object,
) -> Callable[[CheckFn], Rule]:
    """Declare a rule: ``@rule("ID001", "service-name-missing", Join.IDENTITY, Level.ERROR)``.

    Keyword arguments are the rule's options: an ``Option`` (its type and default), or a
    bare default whose type is the option's (``max_depth=64``: an integer). Config may
    override them with values of that type; an option config names that is not
    declared here is an error.
    """
    declared = {
        key: value if isinstance(value, Option) else Option(OptionType.of(value), value)
        for key, value in options.items()
    }

    def wrap(fn: CheckFn) -> Rule:
        return Rule(
            code=code,
            name=name,
            join=join,
            level=level,
            check=fn,
            options={key: option.default for key, option in declared.items()},
            target=target,
            windowed=windowed,
            option_types={key: option.type for key, option in declared.items()},
        )

    return wrap


# ---------------------------------------------------------------- reading options


def _wrong(name: str, value: object, kind: OptionType) -> TypeError:
    # Settings checked the value against the declaration: reaching this is a bug.
    return TypeError(f"option {name!r} is {value!r}, not {kind.what}")


def string_option(opts: Options, name: str) -> str:
    """A string option's value."""
    value = opts[name]
    if not isinstance(value, str):
        raise _wrong(name, value, OptionType.STRING)
    return value


def number_option(opts: Options, name: str) -> float:
    """A number option's value, as a float."""
    value = opts[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(name, value, OptionType.NUMBER)
    return float(value)


def strings_option(opts: Options, name: str) -> list[str]:
    """A list-of-strings option's value, as a new list."""
    value = opts[name]
    if not OptionType.STRINGS.fits(value) or not isinstance(value, list | tuple):
        raise _wrong(name, value, OptionType.STRINGS)
    return [str(v) for v in value]


def mapping_option(opts: Options, name: str) -> dict[str, object]:
    """A mapping option's value (string keys; the rule checks the values), as a new dict."""
    value = opts[name]
    if not OptionType.MAPPING.fits(value) or not isinstance(value, dict):
        raise _wrong(name, value, OptionType.MAPPING)
    return {str(k): v for k, v in value.items()}
