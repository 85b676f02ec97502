"""Resolving a run's settings: which rules run, at what level, with what options, when to fail.

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
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from otlint.core.finding import Level
from otlint.core.rule import Rule
from otlint.settings.model import (
    DEFAULT_FAIL_ON,
    Options,
    Override,
    RuleSettings,
    Settings,
    fail_on_threshold,
)
from otlint.settings.selectors import cli_selectors
from otlint.settings.sources import Source, open_extends, open_file, project_config
from otlint.settings.validation import parse_layer

__all__ = ["DEFAULT_RULESET", "load_settings"]

#: The rule set a project config extends when it names none, and ``--isolated`` uses.
DEFAULT_RULESET = "own-the-joins"


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
    project = None if isolated else project_config(config, here)
    if project is None:
        _apply(open_extends(DEFAULT_RULESET, None, here), registry, state, [], None, here)
    else:
        _apply(open_file(project, here), registry, state, [], DEFAULT_RULESET, here)

    if select:
        chosen = cli_selectors("--select", select, registry)
        state.levels = {code: state.levels.get(code, registry[code].level) for code in chosen}
    for code in cli_selectors("--extend-select", extend_select, registry):
        state.levels.setdefault(code, registry[code].level)
    for code in cli_selectors("--ignore", ignore, registry):
        state.levels.pop(code, None)
    if fail_on is not None:
        state.fail_on, state.fail_on_set = fail_on_threshold(fail_on, "--fail-on"), True

    options: dict[str, Options] = {}
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


@dataclass
class _State:
    """The result so far, as files are applied root first."""

    levels: dict[str, Level] = field(default_factory=dict)  # enabled rules
    options: dict[str, dict[str, object]] = field(default_factory=dict)  # config-set values
    fail_on: Level | None = None
    fail_on_set: bool = False
    overrides: list[Override] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _apply(
    source: Source,
    registry: Mapping[str, Rule],
    state: _State,
    chain: list[tuple[str, str]],
    default_parent: str | None,
    cwd: Path,
) -> None:
    """Apply ``source`` on top of ``state``: its parent chain first, then the file.

    ``chain`` holds the (identity, name) of the files that extend this one, child
    first, for cycle detection; ``default_parent`` is what a file without ``extends``
    extends (the project config only).
    """
    layer = parse_layer(source, registry)
    chain = [*chain, (source.ident, source.shown)]
    parent = layer.extends if layer.has_extends else default_parent
    if parent is not None:
        parent_source = open_extends(parent, source, cwd)
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
