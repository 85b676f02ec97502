"""Settings: which rules run, at what level, with what options, and when otlint fails.

Sources, weakest first: a shipped rule set (``otlint.rulesets``, the repo's ``rules/``),
any rule sets it and the project config ``extends``, the project config
(``.otlint.yaml``, ``.otlint.yml`` or ``[tool.otlint]`` in ``pyproject.toml``, found
in the working directory or a parent), then the command line. Rule sets and project
configs share one schema::

    extends: own-the-joins     # shipped rule set name, or a path relative to this file
    fail-on: warning           # error | warning | info | never
    select: [ALL]              # codes, code prefixes (ID, TR00), join names (trace), ALL
    ignore: [SC003, schema]
    rules:
      ID003: {level: info, required: [service.namespace]}
      TR006: off               # shorthand for {level: off}
    services:                  # fnmatch globs on service.name; "<none>" = no name
      "legacy-*": {ignore: [ID003], rules: {SC001: info}}
    paths:                     # globs on the input path; same shape as services
      "fixtures/**": {ignore: [ALL]}

Semantics:

- A file enables exactly the rules listed under its ``rules``; any other rule is off.
  An entry's level is ``error``, ``warning``, ``info`` or ``off``; an entry without a
  level (only options, or empty) turns the rule on at the level it inherited, or at
  the rule's registry default if it was off.
- ``extends`` loads the parent first, then applies the file on top of the parent's
  result, in this order: ``select`` (if given) keeps only the selected rules and turns
  on a selected rule that was off at its registry default level (ruff: select picks
  from all rules); then the file's ``rules`` entries (per key, child wins; options
  are merged per option, child wins); then ``ignore`` turns rules off (it beats the
  file's own ``rules``). Chains are allowed, cycles are an error.
- A project config without an ``extends`` key extends ``own-the-joins``; write
  ``extends: null`` to start from nothing. Files reached through ``extends`` have no
  such default. ``fail-on`` is inherited, child wins; unset everywhere it is ``warning``.
- Options must be declared by the rule (``Rule.options``) and have the default's type
  (list of strings, string, int, float, bool; a ``None`` default takes a string).
  ``max-depth`` may be written for an option declared as ``max_depth``. Options are
  global: they cannot be set per service or path.
- ``services`` / ``paths`` overrides (``select``, ``ignore``, and ``rules`` with levels
  only) apply per finding, after the global result, parent file's first, in file
  order, later wins. They change the level of, or turn off, rules that are enabled;
  they cannot turn on a rule that is off everywhere (it never runs). ``*`` matches the
  missing service name too. Path globs: ``*`` and ``?`` stay within one path segment,
  ``**`` spans segments; they match the path as given and relative to the config
  file's directory, and a glob without ``/`` also matches the file name.
- Command line beats config: ``--select`` (as ``select`` above), ``--extend-select``
  (turns rules on at their default level), ``--ignore``, ``--fail-on``.

Every mistake (unknown key, rule, selector, option or rule set; wrong type; bad level
or glob; extends cycle; YAML error; duplicate key) is an ``OtlintError`` naming
``path:line:col`` and what to do, with a "did you mean" where a close name exists.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import os
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from otlint.core.errors import OtlintError
from otlint.core.finding import Level
from otlint.core.joins import Join
from otlint.core.marks import Marks, Position, YamlPath

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    # Only for annotations: the check modules will import config helpers, and the
    # registry imports the check modules.
    from otlint.core.rule import Rule

__all__ = [
    "CONFIG_NAMES",
    "DEFAULT_FAIL_ON",
    "DEFAULT_RULESET",
    "NO_SERVICE",
    "Override",
    "RuleSettings",
    "Settings",
    "find_config",
    "load_settings",
    "shipped_rulesets",
]

#: The rule set a project config extends when it names none, and ``--isolated`` uses.
DEFAULT_RULESET = "own-the-joins"
#: ``fail-on`` when no file and no flag sets it.
DEFAULT_FAIL_ON: Level | None = Level.WARNING
#: Project config file names, looked for in this order in each directory.
CONFIG_NAMES = (".otlint.yaml", ".otlint.yml")
#: What a services glob is matched against when a finding has no service.name.
NO_SERVICE = "<none>"

_TOP_KEYS = ("extends", "fail-on", "select", "ignore", "rules", "services", "paths")
_OVERRIDE_KEYS = ("select", "ignore", "rules")
_LEVEL_WORDS = "error, warning, info or off"
_FAIL_WORDS = "error, warning, info or never"
_PYPROJECT_TABLE = ("tool", "otlint")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RuleSettings:
    """How one enabled rule runs: its level and its options."""

    level: Level
    options: Mapping[str, Any]  # registry defaults overlaid with config values


@dataclass(frozen=True)
class Override:
    """Level changes for findings on services or paths matching ``glob``.

    ``select`` (if not None) keeps only those codes, ``levels`` sets a code's level
    (None = off), ``ignore`` turns codes off; applied in that order. ``base`` is the
    directory of the file that declared a path glob (None for shipped rule sets).
    """

    kind: str  # "service" or "path"
    glob: str
    select: frozenset[str] | None = None
    levels: Mapping[str, Level | None] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    base: Path | None = None
    origin: str = ""  # "file:line:col" of the glob, for explaining a level

    def matches(self, service: str | None, path: str | None, cwd: Path) -> bool:
        """Whether a finding on ``service`` / ``path`` falls under this override."""
        if self.kind == "service":
            return fnmatch.fnmatchcase(NO_SERVICE if service is None else service, self.glob)
        if path is None:
            return False
        pattern = _path_glob_regex(self.glob)
        for form in _path_forms(path, self.base, cwd):
            if pattern.fullmatch(form):
                return True
            if "/" not in self.glob and pattern.fullmatch(form.rsplit("/", 1)[-1]):
                return True
        return False

    def apply(self, code: str, level: Level | None, enabled: Level) -> Level | None:
        """The level of ``code`` after this override, given its level so far.

        ``enabled`` is the rule's global level: what ``select`` turns a rule back on at.
        """
        if self.select is not None:
            if code not in self.select:
                level = None
            elif level is None:
                level = enabled
        if code in self.levels:
            level = self.levels[code]
        if code in self.ignore:
            level = None
        return level


@dataclass
class Settings:
    """The resolved settings: enabled rules, per-scope overrides, the fail threshold."""

    rules: dict[str, RuleSettings]  # enabled rules only
    fail_on: Level | None  # None = never fail
    sources: list[str]  # config files read, child last
    overrides: list[Override] = field(default_factory=list)
    options: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # every registry rule
    cwd: Path = field(default_factory=Path.cwd)  # what relative input paths are relative to

    def level_for(
        self, code: str, service: str | None = None, path: str | None = None
    ) -> Level | None:
        """The level of rule `code` for a finding on `service` / `path` (overrides applied), None if off there."""
        enabled = self.rules.get(code)
        if enabled is None:
            return None
        level: Level | None = enabled.level
        for override in self.overrides:
            if override.matches(service, path, self.cwd):
                level = override.apply(code, level, enabled.level)
        return level

    def options_for(self, code: str) -> Mapping[str, Any]:
        """The options rule ``code`` runs with: registry defaults overlaid with config.

        Raises ``KeyError`` for a code that is not in the registry.
        """
        if code in self.rules:
            return self.rules[code].options
        return self.options[code]


# --------------------------------------------------------------------------- loading


def load_settings(
    registry: Mapping[str, Rule],
    *,
    config: Path | None = None,
    cwd: Path | None = None,
    select: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str | None = None,
    isolated: bool = False,
) -> Settings:
    """Resolve the settings for a run.

    ``config`` names the project config (a missing file is an error); otherwise it is
    discovered from ``cwd`` (default: the process's working directory) upwards, and
    without one the default rule set applies. ``isolated`` ignores config files: only
    the default rule set and the flags. ``select``, ``extend_select`` and ``ignore``
    are the command-line selectors (comma-separated items allowed); ``fail_on`` is
    ``error``, ``warning``, ``info`` or ``never``.
    """
    here = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    state = _State()
    if isolated:
        _apply(_open_extends(DEFAULT_RULESET, None, here), registry, state, [], None, here)
    else:
        project = _project_config(config, here)
        if project is None:
            _apply(_open_extends(DEFAULT_RULESET, None, here), registry, state, [], None, here)
        else:
            _apply(_open_file(project, here), registry, state, [], DEFAULT_RULESET, here)

    if select:
        chosen = _cli_selectors("--select", select, registry)
        state.levels = {code: state.levels.get(code, registry[code].level) for code in chosen}
    for code in _cli_selectors("--extend-select", extend_select, registry):
        state.levels.setdefault(code, registry[code].level)
    for code in _cli_selectors("--ignore", ignore, registry):
        state.levels.pop(code, None)
    if fail_on is not None:
        state.fail_on, state.fail_on_set = _fail_on(fail_on, "--fail-on"), True

    options: dict[str, Mapping[str, Any]] = {}
    for code, rule in registry.items():
        merged = copy.deepcopy(dict(rule.options))
        merged.update(copy.deepcopy(state.options.get(code, {})))
        options[code] = MappingProxyType(merged)
    return Settings(
        rules={
            code: RuleSettings(state.levels[code], options[code])
            for code in registry
            if code in state.levels
        },
        fail_on=state.fail_on if state.fail_on_set else DEFAULT_FAIL_ON,
        sources=state.sources,
        overrides=state.overrides,
        options=options,
        cwd=here,
    )


def find_config(start: Path) -> Path | None:
    """The project config for ``start``: the nearest ``.otlint.yaml`` / ``.otlint.yml``,
    or ``pyproject.toml`` with a ``[tool.otlint]`` table, in ``start`` or a parent.

    Within one directory the YAML file wins over ``pyproject.toml``; a
    ``pyproject.toml`` without the table is passed over. None if nothing is found
    before the filesystem root.
    """
    here = Path(os.path.abspath(start))
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        found = [directory / name for name in CONFIG_NAMES if (directory / name).is_file()]
        if len(found) > 1:
            raise OtlintError(
                f"{found[0]}: both {found[0].name} and {found[1].name} exist here: keep one"
            )
        if found:
            return found[0]
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_otlint_table(pyproject):
            return pyproject
    return None


def shipped_rulesets() -> list[str]:
    """Names of the rule sets shipped in ``otlint.rulesets``, sorted."""
    return sorted(
        item.name.removesuffix(".yaml")
        for item in _rulesets_dir().iterdir()
        if item.name.endswith(".yaml")
    )


# --------------------------------------------------------------------------- internals


@dataclass
class _Source:
    """One config file as read: data, positions, and how messages name it."""

    data: dict[Any, Any]
    marks: Marks
    shown: str  # the file as messages name it
    ident: str  # identity for cycle detection
    base: Path | None  # where relative extends and path globs resolve (None: shipped)
    table: tuple[str, ...] = ()  # where the settings sit in the file: ("tool", "otlint")

    def error(self, at: YamlPath, message: str, *, value: bool = False) -> OtlintError:
        """An error at ``at``'s key (or value): ``file:line:col: message``."""
        pos = self.marks.near(at, value=value)
        text = f"{self.shown}:{pos.line}:{pos.column}: {message}"
        if self.table:
            # TOML positions are only approximate: name the key, too.
            text += f" [{_dotted((*self.table, *at))}]"
        return OtlintError(text)


@dataclass
class _Entry:
    """One ``rules`` entry: a level (if given) and option values."""

    level: Level | None = None
    has_level: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Layer:
    """One file's settings, validated and with selectors expanded to codes."""

    has_extends: bool = False
    extends: str | None = None
    has_fail_on: bool = False
    fail_on: Level | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    rules: dict[str, _Entry] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)


@dataclass
class _State:
    """The result so far, as files are applied root first."""

    levels: dict[str, Level] = field(default_factory=dict)  # enabled rules
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # config-set values
    fail_on: Level | None = None
    fail_on_set: bool = False
    overrides: list[Override] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _apply(
    source: _Source,
    registry: Mapping[str, Rule],
    state: _State,
    chain: list[tuple[str, str]],
    default_parent: str | None,
    cwd: Path,
) -> None:
    layer = _parse(source, registry)
    chain = [*chain, (source.ident, source.shown)]
    parent = layer.extends if layer.has_extends else default_parent
    if parent is not None:
        parent_source = _open_extends(parent, source, cwd)
        if any(ident == parent_source.ident for ident, _ in chain):
            names = " -> ".join([*(shown for _, shown in chain), parent_source.shown])
            raise source.error(("extends",), f"extends cycle: {names}", value=True)
        _apply(parent_source, registry, state, chain, None, cwd)

    inherited = dict(state.levels)
    if layer.select is not None:
        state.levels = {code: inherited.get(code, registry[code].level) for code in layer.select}
    for code, entry in layer.rules.items():
        if entry.options:
            state.options.setdefault(code, {}).update(entry.options)
        if entry.has_level:
            if entry.level is None:
                state.levels.pop(code, None)
            else:
                state.levels[code] = entry.level
        elif code not in state.levels:
            state.levels[code] = inherited.get(code, registry[code].level)
    for code in layer.ignore:
        state.levels.pop(code, None)
    if layer.has_fail_on:
        state.fail_on, state.fail_on_set = layer.fail_on, True
    state.overrides.extend(layer.overrides)
    state.sources.append(source.shown)


def _parse(source: _Source, registry: Mapping[str, Rule]) -> _Layer:
    """Validate one file's settings against the registry."""
    data = source.data
    layer = _Layer()
    for key in data:
        if key not in _TOP_KEYS:
            raise source.error(
                (key,),
                f"unknown key {key!r}{_hint(key, _TOP_KEYS)} (keys: {', '.join(_TOP_KEYS)})",
            )
    if "extends" in data:
        value = data["extends"]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise source.error(
                ("extends",),
                f"extends must be a rule set name or a path, not {_kind(value)}",
                value=True,
            )
        layer.has_extends, layer.extends = True, value
    if "fail-on" in data:
        try:
            layer.fail_on, layer.has_fail_on = _fail_on(data["fail-on"], "fail-on"), True
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
    for kind in ("services", "paths"):
        if kind in data:
            layer.overrides.extend(_overrides(source, kind, data[kind], registry))
    return layer


def _entry(source: _Source, at: YamlPath, rule: Rule, value: Any) -> _Entry:
    """One top-level ``rules`` entry: a level shorthand, or a mapping of level and options."""
    if value is None:
        return _Entry()
    if isinstance(value, str | bool):
        return _Entry(_level(source, at, value, rule.code), True)
    if not isinstance(value, dict):
        raise source.error(
            at,
            f"{rule.code} must be a level ({_LEVEL_WORDS}) or a mapping of level and options, "
            f"not {_kind(value)}",
            value=True,
        )
    entry = _Entry()
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


def _overrides(
    source: _Source, kind: str, value: Any, registry: Mapping[str, Rule]
) -> list[Override]:
    """The ``services`` or ``paths`` overrides of one file, in file order."""
    one = kind.removesuffix("s")
    what = "service-name globs" if one == "service" else "input-path globs"
    blocks = _mapping(source, (kind,), value, f"a mapping of {what} to overrides")
    out: list[Override] = []
    for glob, block in blocks.items():
        at: YamlPath = (kind, glob)
        if not isinstance(glob, str):
            raise source.error(at, f"{one} glob must be a string, not {_kind(glob)}: quote it")
        problem = _glob_problem(glob)
        if problem is not None:
            raise source.error(at, f"bad {one} glob {glob!r}: {problem}")
        settings = _mapping(
            source, at, {} if block is None else block, "a mapping with select, ignore or rules"
        )
        for key in settings:
            if key in _OVERRIDE_KEYS:
                continue
            if key in _TOP_KEYS:
                raise source.error(
                    (*at, key),
                    f"{key!r} can't be set per {one}: only {', '.join(_OVERRIDE_KEYS)} can",
                )
            raise source.error(
                (*at, key),
                f"unknown key {key!r}{_hint(key, _OVERRIDE_KEYS)} "
                f"(per-{one} keys: {', '.join(_OVERRIDE_KEYS)})",
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


def _override_level(
    source: _Source, at: YamlPath, rule: Rule, value: Any, one: str
) -> Level | None:
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


def _level(source: _Source, at: YamlPath, value: Any, code: str) -> Level | None:
    """A rule level; None is off. YAML 1.1 reads a bare ``off`` (and ``no``) as false."""
    if value is False:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "off":
            return None
        if word in {level.value for level in Level}:
            return Level(word)
        hint = _hint(word, [*(level.value for level in Level), "off"])
        raise source.error(
            at, f"unknown level {value!r} for {code}: use {_LEVEL_WORDS}{hint}", value=True
        )
    raise source.error(
        at, f"the level of {code} must be {_LEVEL_WORDS}, not {_kind(value)}", value=True
    )


def _fail_on(value: Any, flag: str) -> Level | None:
    """A fail-on threshold; None is never. Raises OtlintError prefixed with ``flag``."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "never":
            return None
        if word in {level.value for level in Level}:
            return Level(word)
        hint = _hint(word, [*(level.value for level in Level), "never"])
        raise OtlintError(f"{flag}: unknown threshold {value!r}: use {_FAIL_WORDS}{hint}")
    raise OtlintError(f"{flag} must be {_FAIL_WORDS}, not {_kind(value)}")


def _option_name(key: Any, rule: Rule) -> str | None:
    """The declared option ``key`` names (``max-depth`` names ``max_depth``), if any."""
    if not isinstance(key, str):
        return None
    for name in (key, key.replace("-", "_")):
        if name in rule.options:
            return name
    return None


def _unknown_option(key: Any, rule: Rule) -> str:
    if not rule.options:
        return f"unknown option {key!r} for {rule.code} ({rule.code} has no options, only level)"
    names = list(rule.options)
    hint = _hint(str(key).replace("-", "_"), names) if isinstance(key, str) else ""
    return f"unknown option {key!r} for {rule.code} (options: {', '.join(names)}){hint}"


def _option_value(source: _Source, at: YamlPath, rule: Rule, name: str, value: Any) -> Any:
    """``value`` checked against the type of the option's default, and copied."""
    default = rule.options[name]
    expected, coerced = _typed(value, default)
    if expected is None:
        return coerced
    got = _kind(value)
    if isinstance(value, bool) and "string" in expected:
        got += " (YAML reads yes/no/on/off as booleans: quote the word)"
    raise source.error(
        at, f"option {name!r} of {rule.code} must be {expected}, not {got}", value=True
    )


def _typed(value: Any, default: Any) -> tuple[str | None, Any]:
    """(None, value as the default's type) if ``value`` fits, else (what was expected, None)."""
    if default is None:
        ok = value is None or isinstance(value, str)
        return (None, value) if ok else ("a string", None)
    if isinstance(default, bool):
        return (None, value) if isinstance(value, bool) else ("true or false", None)
    if isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (None, value) if ok else ("an integer", None)
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return (None, float(value)) if ok else ("a number", None)
    if isinstance(default, str):
        return (None, value) if isinstance(value, str) else ("a string", None)
    if isinstance(default, list | tuple | set | frozenset):
        items = list(default)
        if all(isinstance(item, str) for item in items):
            what = "a list of strings"
            fits = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif all(_is_int(item) for item in items):
            what = "a list of integers"
            fits = isinstance(value, list) and all(_is_int(v) for v in value)
        else:
            what, fits = "a list", isinstance(value, list)
        if not fits:
            return what, None
        # Keep the container the rule declared (a tuple default stays a tuple).
        return None, type(default)(copy.deepcopy(value))
    if isinstance(default, Mapping):
        ok = isinstance(value, dict) and all(isinstance(key, str) for key in value)
        return (None, copy.deepcopy(value)) if ok else ("a mapping with string keys", None)
    if isinstance(value, type(default)):
        return None, copy.deepcopy(value)
    return f"a {type(default).__name__}", None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(source: _Source, at: YamlPath, value: Any, what: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise source.error(at, f"{_dotted(at)} must be {what}, not {_kind(value)}", value=True)
    return value


def _kind(value: Any) -> str:
    """How a value's type reads in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------- selectors


def _rule(source: _Source, at: YamlPath, key: Any, registry: Mapping[str, Rule]) -> Rule:
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
            or key in _join_names()
            or (key and any(c.startswith(key) for c in registry))
        ):
            message += (
                ": rules takes exact codes; put prefixes, join names and ALL in select or ignore"
            )
        else:
            message += _hint(key, list(registry))
    raise source.error(at, message)


def _selectors(
    source: _Source, at: YamlPath, value: Any, registry: Mapping[str, Rule]
) -> frozenset[str]:
    """A select/ignore list, expanded to the codes it names."""
    name = str(at[-1])
    if not isinstance(value, list):
        raise source.error(
            at,
            f"{name} must be a list of rule codes, prefixes or join names (e.g. [ID, trace]), "
            f"not {_kind(value)}",
            value=True,
        )
    codes: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise source.error(
                (*at, index), f"{name} items must be strings, not {_kind(item)}", value=True
            )
        found, problem = _expand(item, registry)
        if problem is not None:
            raise source.error((*at, index), f"{problem} in {name}", value=True)
        codes |= found
    return frozenset(codes)


def _cli_selectors(
    flag: str, values: Iterable[str], registry: Mapping[str, Rule]
) -> frozenset[str]:
    codes: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            found, problem = _expand(item, registry)
            if problem is not None:
                raise OtlintError(f"{flag}: {problem}")
            codes |= found
    return frozenset(codes)


def _expand(selector: str, registry: Mapping[str, Rule]) -> tuple[frozenset[str], str | None]:
    """The codes ``selector`` names, or a message saying why it names none."""
    if selector == "ALL":
        return frozenset(registry), None
    if selector in _join_names():
        return frozenset(
            code for code, rule in registry.items() if rule.join.value == selector
        ), None
    if selector:
        matched = frozenset(code for code in registry if code.startswith(selector))
        if matched:
            return matched, None
    return frozenset(), _unknown_selector(selector, registry)


def _unknown_selector(selector: str, registry: Mapping[str, Rule]) -> str:
    joins = _join_names()
    if not selector.strip():
        return "empty selector"
    if any(ch.islower() for ch in selector):
        upper = selector.upper()
        if upper == "ALL" or any(code.startswith(upper) for code in registry):
            return (
                f"unknown join {selector!r}; did you mean {upper!r}? (codes and ALL are upper case)"
            )
        return f"unknown join {selector!r}{_hint(selector, joins)} (joins: {', '.join(joins)})"
    return f"unknown rule or prefix {selector!r}{_hint(selector, [*registry, 'ALL'])}"


def _join_names() -> list[str]:
    return [join.value for join in Join]


def _hint(word: Any, candidates: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- globs


def _class_end(glob: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at ``start``, or -1."""
    i = start + 1
    if i < len(glob) and glob[i] in "!^":
        i += 1
    if i < len(glob) and glob[i] == "]":
        i += 1  # a leading ] is a literal member
    return glob.find("]", i)


def _glob_problem(glob: str) -> str | None:
    """Why ``glob`` is not a usable glob, or None.

    fnmatch would treat an unclosed ``[`` as a literal, which is never what a config
    author meant.
    """
    if not glob:
        return "empty glob"
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            end = _class_end(glob, i)
            if end < 0:
                return "unclosed '[' (write [[] for a literal '[')"
            i = end + 1
        else:
            i += 1
    return None


@functools.lru_cache(maxsize=256)
def _path_glob_regex(glob: str) -> re.Pattern[str]:
    """A path glob as a regex: ``*``/``?`` within one segment, ``**`` across segments."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            if glob.startswith("**", i):
                i += 2
                if glob.startswith("/", i):
                    out.append("(?:.*/)?")  # "**/" also matches no directory at all
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = _class_end(glob, i)
            inner = glob[i + 1 : end].replace("\\", "\\\\")
            inner = re.sub(r"([&~|\[])", r"\\\1", inner).replace("--", "-\\-")
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            elif inner.startswith("^"):
                inner = "\\" + inner
            out.append(f"[{inner}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def _path_forms(path: str, base: Path | None, cwd: Path) -> list[str]:
    """The spellings of an input path a path glob is tried against."""
    posix = path.replace(os.sep, "/")
    forms = [posix]
    if posix.startswith("./"):
        forms.append(posix[2:])
    if base is not None:
        absolute = os.path.normpath(os.path.join(cwd, path))
        root = os.path.normpath(base)
        if absolute.startswith(root.rstrip(os.sep) + os.sep):
            forms.append(Path(os.path.relpath(absolute, root)).as_posix())
    return forms


# --------------------------------------------------------------------------- files


def _project_config(config: Path | None, cwd: Path) -> Path | None:
    if config is None:
        return find_config(cwd)
    path = config if config.is_absolute() else cwd / config
    if not path.is_file():
        raise OtlintError(f"{config}: config file not found")
    return path


def _shown(path: Path, cwd: Path) -> str:
    """A path as messages name it: relative to the working directory when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(cwd))
    except ValueError:
        return str(absolute)


def _open_file(path: Path, cwd: Path) -> _Source:
    """Read a YAML config, or the ``[tool.otlint]`` table of a TOML file."""
    shown = _shown(path, cwd)
    text = _read(path, shown)
    ident = str(path.resolve())
    if path.suffix == ".toml":
        return _toml_source(text, shown, ident, path.parent)
    return _yaml_source(text, shown, ident, Path(os.path.abspath(path)).parent)


def _yaml_source(text: str, shown: str, ident: str, base: Path | None) -> _Source:
    from otlint.core.yamlpos import load_yaml_with_marks  # PyYAML: only when a YAML config is read

    data, marks = load_yaml_with_marks(text, shown)
    if data is None:
        data = {}  # an empty file is a valid config that changes nothing
    if not isinstance(data, dict):
        pos = marks.default
        raise OtlintError(
            f"{shown}:{pos.line}:{pos.column}: a config must be a mapping of settings "
            f"({', '.join(_TOP_KEYS)}), not {_kind(data)}"
        )
    return _Source(data, marks, shown, ident, base)


def _read(path: Path | Traversable, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OtlintError(f"{shown}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise OtlintError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise OtlintError(f"{shown}: cannot read: {exc.strerror or exc}") from None


def _rulesets_dir() -> Path | Traversable:
    try:
        import otlint.rulesets as shipped  # type: ignore[import-not-found]  # rules/, by package-dir
    except ModuleNotFoundError:
        raise OtlintError(
            "the shipped rule sets (otlint.rulesets) are not installed: reinstall otlint"
        ) from None
    if shipped.__file__ is not None:
        return Path(shipped.__file__).parent
    from importlib import resources  # a package without files (a zip import)

    return resources.files(shipped)


def _looks_like_path(name: str) -> bool:
    return (
        "/" in name
        or os.sep in name
        or name.startswith(".")
        or name.endswith((".yaml", ".yml", ".toml"))
    )


def _open_extends(name: str, source: _Source | None, cwd: Path) -> _Source:
    """The rule set ``name`` (shipped name or path) that ``source`` extends.

    ``source`` None means the default rule set, resolved against ``cwd``.
    """

    def fail(message: str) -> OtlintError:
        if source is None:
            return OtlintError(f"default rule set: {message}")
        return source.error(("extends",), message, value=True)

    if _looks_like_path(name):
        base = cwd if source is None else source.base
        if base is None and not os.path.isabs(name):
            raise fail(
                f"a shipped rule set can only extend shipped rule sets by name, not {name!r}"
            )
        path = Path(os.path.normpath(os.path.join(base or cwd, os.path.expanduser(name))))
        if not path.is_file():
            raise fail(f"extends {name!r}: no such file ({path})")
        return _open_file(path, cwd)

    item = _rulesets_dir() / f"{name}.yaml"
    twin = _rulesets_dir() / f"{name}.json"
    if twin.is_file():
        # The YAML read ahead of time (``make docs``; a test holds them equal): no PyYAML.
        return _Source(
            json.loads(_read(twin, str(twin))), Marks(), str(item), f"otlint.rulesets:{name}", None
        )
    if not item.is_file():
        names = shipped_rulesets()
        raise fail(
            f"unknown rule set {name!r}{_hint(name, names)} (shipped: {', '.join(names) or 'none'}; "
            "a path needs a '/' or a .yaml suffix)"
        )
    return _yaml_source(_read(item, str(item)), str(item), f"otlint.rulesets:{name}", None)


# pyproject.toml: tomllib gives no positions, so a light line scan finds the table
# headers and ``key =`` lines under [tool.otlint]; good enough to point at a line.
_TOML_HEADER = re.compile(r"^\s*\[(?!\[)\s*(?P<keys>[^\]]+?)\s*\]\s*(?:#.*)?$")
_TOML_ARRAY_HEADER = re.compile(r"^\s*\[\[")
_TOML_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_TOML_KEY = re.compile(
    rf"^(?P<indent>\s*)(?P<keys>{_TOML_KEY_PART}(?:\s*\.\s*{_TOML_KEY_PART})*)\s*=\s*"
)


def _toml_keys(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.findall(rf"{_TOML_KEY_PART}", dotted))


def _toml_marks(text: str) -> Marks:
    keys: dict[YamlPath, Position] = {}
    values: dict[YamlPath, Position] = {}
    default: Position | None = None
    table: tuple[str, ...] | None = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        if quotes % 2 == 1:
            in_string = True
        if _TOML_ARRAY_HEADER.match(line):
            table = None
            continue
        header = _TOML_HEADER.match(line)
        if header:
            table = _toml_keys(header.group("keys"))
            if table[:2] == _PYPROJECT_TABLE:
                pos = Position(number, line.index("[") + 1)
                if len(table) == 2:
                    default = pos
                else:
                    keys.setdefault(table[2:], pos)
                    default = default or pos
            continue
        key = _TOML_KEY.match(line)
        if key and table is not None:
            full = (*table, *_toml_keys(key.group("keys")))
            if full[:2] == _PYPROJECT_TABLE and len(full) > 2:
                keys.setdefault(full[2:], Position(number, len(key.group("indent")) + 1))
                values.setdefault(full[2:], Position(number, key.end() + 1))
                default = default or Position(number, 1)
    return Marks(keys, values, default=default or Position(1, 1))


def _toml_load(text: str, shown: str) -> dict[str, Any]:
    import tomllib  # only for TOML configs

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has the position only inside its message.
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", message)
        if where is None:
            raise OtlintError(f"{shown}: invalid TOML: {message}") from None
        if where[1] is not None:
            line, col = int(where[1]), int(where[2])
        else:
            line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
        message = message[: where.start()].strip()
        raise OtlintError(f"{shown}:{line}:{col}: invalid TOML: {message}") from None


def _toml_source(text: str, shown: str, ident: str, base: Path) -> _Source:
    document = _toml_load(text, shown)
    table: Any = document.get("tool", {})
    table = table.get("otlint") if isinstance(table, dict) else None
    if table is None:
        raise OtlintError(f"{shown}: no [tool.otlint] table")
    marks = _toml_marks(text)
    if not isinstance(table, dict):
        pos = marks.default
        raise OtlintError(
            f"{shown}:{pos.line}:{pos.column}: tool.otlint must be a table, not {_kind(table)}"
        )
    return _Source(table, marks, shown, ident, base, table=_PYPROJECT_TABLE)


def _has_otlint_table(pyproject: Path) -> bool:
    text = _read(pyproject, str(pyproject))
    if "otlint" not in text:
        return False  # skip parsing every pyproject.toml on the way up
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        # Broken, but ours if it has the header: loading it then reports where.
        return re.search(r"^\s*\[\s*tool\s*\.\s*otlint\b", text, re.MULTILINE) is not None
    return isinstance(tool, dict) and "otlint" in tool


def _dotted(path: Sequence[Hashable]) -> str:
    """A key path as TOML-ish dotted text: rules.ID003, paths."fixtures/**", select[2]."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = str(part)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out
