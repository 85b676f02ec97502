"""The schema of a config file: one file's raw data checked and turned into a ``Layer``.

Checked against the rule registry the caller passes (a ``Mapping[str, Rule]``): rule
codes, selectors, option names and option types (an option takes the type of the
default the rule declares: list of strings or integers, string, int, float, bool, a
mapping with string keys; a ``None`` default takes a string). Every mistake raises an
``OtlintError`` at ``file:line:col`` of the offending key or value, saying what to write
instead, with a "did you mean" where a close name exists.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from otlint.core.errors import OtlintError
from otlint.core.finding import Level
from otlint.core.marks import YamlPath
from otlint.core.rule import Rule
from otlint.settings.messages import dotted, hint, kind
from otlint.settings.model import Override, fail_on_threshold
from otlint.settings.selectors import expand, glob_problem, join_names
from otlint.settings.sources import TOP_KEYS, Raw, Source

__all__ = ["Entry", "Layer", "parse_layer"]

#: The keys a services/paths override may set.
OVERRIDE_KEYS = ("select", "ignore", "rules")
_LEVEL_WORDS = "error, warning, info or off"


@dataclass
class Entry:
    """One ``rules`` entry: a level (if given) and option values."""

    level: Level | None = None
    has_level: bool = False
    options: dict[str, object] = field(default_factory=dict)  # typed as the rule's defaults


@dataclass
class Layer:
    """One file's settings, validated and with selectors expanded to codes."""

    has_extends: bool = False
    extends: str | None = None
    has_fail_on: bool = False
    fail_on: Level | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    rules: dict[str, Entry] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)


def parse_layer(source: Source, registry: Mapping[str, Rule]) -> Layer:
    """Validate one file's settings against the registry."""
    data = source.data
    layer = Layer()
    for key in data:
        if key not in TOP_KEYS:
            raise source.error(
                (key,),
                f"unknown key {key!r}{hint(key, TOP_KEYS)} (keys: {', '.join(TOP_KEYS)})",
            )
    if "extends" in data:
        value = data["extends"]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise source.error(
                ("extends",),
                f"extends must be a rule set name or a path, not {kind(value)}",
                value=True,
            )
        layer.has_extends, layer.extends = True, value
    if "fail-on" in data:
        try:
            layer.fail_on, layer.has_fail_on = fail_on_threshold(data["fail-on"], "fail-on"), True
        except OtlintError as exc:
            raise source.error(("fail-on",), str(exc), value=True) from None
    if "select" in data:
        layer.select = _selectors(source, ("select",), data["select"], registry)
    if "ignore" in data:
        layer.ignore = _selectors(source, ("ignore",), data["ignore"], registry)
    if "rules" in data:
        rules = _mapping(
            source, ("rules",), data["rules"], "a mapping of rule codes to levels or settings"
        )
        for code, value in rules.items():
            rule = _rule(source, ("rules", code), code, registry)
            layer.rules[rule.code] = _entry(source, ("rules", code), rule, value)
    for kind_ in ("services", "paths"):
        if kind_ in data:
            layer.overrides.extend(_overrides(source, kind_, data[kind_], registry))
    return layer


# --------------------------------------------------------------------------- rules entries


def _entry(source: Source, at: YamlPath, rule: Rule, value: Raw) -> Entry:
    """One top-level ``rules`` entry: a level shorthand, or a mapping of level and options."""
    if value is None:
        return Entry()
    if isinstance(value, str | bool):
        return Entry(_level(source, at, value, rule.code), True)
    if not isinstance(value, dict):
        raise source.error(
            at,
            f"{rule.code} must be a level ({_LEVEL_WORDS}) or a mapping of level and options, "
            f"not {kind(value)}",
            value=True,
        )
    entry = Entry()
    for key, option_value in value.items():
        if key == "level":
            entry.level, entry.has_level = _level(source, (*at, key), option_value, rule.code), True
            continue
        name = _option_name(key, rule)
        if name is None:
            raise source.error((*at, key), _unknown_option(key, rule))
        if name in entry.options:
            raise source.error((*at, key), f"option {name!r} of {rule.code} is set twice")
        entry.options[name] = _option_value(source, (*at, key), rule, name, option_value)
    return entry


def _rule(source: Source, at: YamlPath, key: Raw, registry: Mapping[str, Rule]) -> Rule:
    """The rule an exact ``rules`` key names."""
    if isinstance(key, str) and key in registry:
        return registry[key]
    message = f"unknown rule {key!r}"
    if isinstance(key, str):
        by_name = {rule.name: code for code, rule in registry.items()}
        if key in by_name:
            message = f"rules are keyed by code: write {by_name[key]!r} for {key!r}"
        elif (
            key == "ALL"
            or key in join_names()
            or (key and any(c.startswith(key) for c in registry))
        ):
            message += (
                ": rules takes exact codes; put prefixes, join names and ALL in select or ignore"
            )
        else:
            message += hint(key, list(registry))
    raise source.error(at, message)


def _selectors(
    source: Source, at: YamlPath, value: Raw, registry: Mapping[str, Rule]
) -> frozenset[str]:
    """A select/ignore list, expanded to the codes it names."""
    name = str(at[-1])
    if not isinstance(value, list):
        raise source.error(
            at,
            f"{name} must be a list of rule codes, prefixes or join names (e.g. [ID, trace]), "
            f"not {kind(value)}",
            value=True,
        )
    codes: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise source.error(
                (*at, index), f"{name} items must be strings, not {kind(item)}", value=True
            )
        found, problem = expand(item, registry)
        if problem is not None:
            raise source.error((*at, index), f"{problem} in {name}", value=True)
        codes |= found
    return frozenset(codes)


# --------------------------------------------------------------------------- overrides


def _overrides(
    source: Source, kind_: str, value: Raw, registry: Mapping[str, Rule]
) -> list[Override]:
    """The ``services`` or ``paths`` overrides of one file, in file order."""
    one = kind_.removesuffix("s")
    what = "service-name globs" if one == "service" else "input-path globs"
    blocks = _mapping(source, (kind_,), value, f"a mapping of {what} to overrides")
    out: list[Override] = []
    for glob, block in blocks.items():
        at: YamlPath = (kind_, glob)
        if not isinstance(glob, str):
            raise source.error(at, f"{one} glob must be a string, not {kind(glob)}: quote it")
        problem = glob_problem(glob)
        if problem is not None:
            raise source.error(at, f"bad {one} glob {glob!r}: {problem}")
        settings = _mapping(
            source, at, {} if block is None else block, "a mapping with select, ignore or rules"
        )
        for key in settings:
            if key in OVERRIDE_KEYS:
                continue
            if key in TOP_KEYS:
                raise source.error(
                    (*at, key),
                    f"{key!r} can't be set per {one}: only {', '.join(OVERRIDE_KEYS)} can",
                )
            raise source.error(
                (*at, key),
                f"unknown key {key!r}{hint(key, OVERRIDE_KEYS)} "
                f"(per-{one} keys: {', '.join(OVERRIDE_KEYS)})",
            )
        select = (
            _selectors(source, (*at, "select"), settings["select"], registry)
            if "select" in settings
            else None
        )
        ignore = (
            _selectors(source, (*at, "ignore"), settings["ignore"], registry)
            if "ignore" in settings
            else frozenset()
        )
        levels: dict[str, Level | None] = {}
        if "rules" in settings:
            rules_at: YamlPath = (*at, "rules")
            rules = _mapping(
                source, rules_at, settings["rules"], "a mapping of rule codes to levels"
            )
            for code, entry in rules.items():
                rule = _rule(source, (*rules_at, code), code, registry)
                levels[rule.code] = _override_level(source, (*rules_at, code), rule, entry, one)
        pos = source.marks.near(at)
        out.append(
            Override(
                kind=one,
                glob=glob,
                select=select,
                levels=levels,
                ignore=ignore,
                base=source.base,
                origin=f"{source.shown}:{pos.line}:{pos.column}",
            )
        )
    return out


def _override_level(source: Source, at: YamlPath, rule: Rule, value: Raw, one: str) -> Level | None:
    """A per-service or per-path rule entry: a level, nothing else."""
    if isinstance(value, str | bool):
        return _level(source, at, value, rule.code)
    if isinstance(value, dict):
        for key in value:
            if key != "level":
                raise source.error(
                    (*at, key),
                    f"options can't be set per {one}: set {key!r} in the top-level rules.{rule.code}",
                )
        if "level" in value:
            return _level(source, (*at, "level"), value["level"], rule.code)
    raise source.error(at, f"give {rule.code} a level here ({_LEVEL_WORDS})", value=True)


# --------------------------------------------------------------------------- values


def _level(source: Source, at: YamlPath, value: Raw, code: str) -> Level | None:
    """A rule level; None is off. YAML 1.1 reads a bare ``off`` (and ``no``) as false."""
    if value is False:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "off":
            return None
        if word in {level.value for level in Level}:
            return Level(word)
        close = hint(word, [*(level.value for level in Level), "off"])
        raise source.error(
            at, f"unknown level {value!r} for {code}: use {_LEVEL_WORDS}{close}", value=True
        )
    raise source.error(
        at, f"the level of {code} must be {_LEVEL_WORDS}, not {kind(value)}", value=True
    )


def _option_name(key: Raw, rule: Rule) -> str | None:
    """The declared option ``key`` names (``max-depth`` names ``max_depth``), if any."""
    if not isinstance(key, str):
        return None
    for name in (key, key.replace("-", "_")):
        if name in rule.options:
            return name
    return None


def _unknown_option(key: Raw, rule: Rule) -> str:
    if not rule.options:
        return f"unknown option {key!r} for {rule.code} ({rule.code} has no options, only level)"
    names = list(rule.options)
    close = hint(str(key).replace("-", "_"), names) if isinstance(key, str) else ""
    return f"unknown option {key!r} for {rule.code} (options: {', '.join(names)}){close}"


def _option_value(source: Source, at: YamlPath, rule: Rule, name: str, value: Raw) -> object:
    """``value`` checked against the type of the option's default, and copied."""
    default = rule.options[name]
    expected, coerced = _typed(value, default)
    if expected is None:
        return coerced
    got = kind(value)
    if isinstance(value, bool) and "string" in expected:
        got += " (YAML reads yes/no/on/off as booleans: quote the word)"
    raise source.error(
        at, f"option {name!r} of {rule.code} must be {expected}, not {got}", value=True
    )


def _typed(value: Raw, default: object) -> tuple[str | None, object]:
    """(None, value as the default's type) if ``value`` fits, else (what was expected, None).

    The default's type decides, bool before int (a bool is an int to Python, not to a
    config author); an int fits a float option and is stored as a float.
    """
    if default is None:
        return _fits(value is None or isinstance(value, str), value, "a string")
    if isinstance(default, bool):
        return _fits(isinstance(value, bool), value, "true or false")
    if isinstance(default, int):
        return _fits(_is_int(value), value, "an integer")
    if isinstance(default, float):
        number = _is_int(value) or isinstance(value, float)
        return _fits(number, float(value) if number else None, "a number")
    if isinstance(default, str):
        return _fits(isinstance(value, str), value, "a string")
    if isinstance(default, list | tuple | set | frozenset):
        what, fits = _list_fits(value, list(default))
        # Keep the container the rule declared (a tuple default stays a tuple).
        return _fits(fits, type(default)(copy.deepcopy(value)) if fits else None, what)
    if isinstance(default, Mapping):
        ok = isinstance(value, dict) and all(isinstance(key, str) for key in value)
        return _fits(ok, copy.deepcopy(value) if ok else None, "a mapping with string keys")
    ok = isinstance(value, type(default))
    return _fits(ok, copy.deepcopy(value) if ok else None, f"a {type(default).__name__}")


def _list_fits(value: Raw, items: list[object]) -> tuple[str, bool]:
    """What a list option takes, judged by its default's items, and whether ``value`` is one."""
    if all(isinstance(item, str) for item in items):
        return "a list of strings", isinstance(value, list) and all(
            isinstance(v, str) for v in value
        )
    if all(_is_int(item) for item in items):
        return "a list of integers", isinstance(value, list) and all(_is_int(v) for v in value)
    return "a list", isinstance(value, list)


def _fits(ok: bool, value: object, what: str) -> tuple[str | None, object]:
    return (None, value) if ok else (what, None)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(source: Source, at: YamlPath, value: Raw, what: str) -> dict[Raw, Raw]:
    if not isinstance(value, dict):
        raise source.error(at, f"{dotted(at)} must be {what}, not {kind(value)}", value=True)
    return value
