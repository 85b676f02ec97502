"""The resolved settings of a run: which rules run, at what level, with what options.

``Settings`` is what the loader (``otlint.settings.loader``) builds from the rule
sets, the project config and the command line, and what the rest of otlint reads:
``level_for`` (a rule's level for one finding, services/paths overrides applied, None
if off there), ``options_for`` (the options a rule runs with) and ``fail_on`` (the
level from which findings fail the run; None never fails). Nothing here knows the
rule registry: the loader is handed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from otlint.core.errors import OtlintError
from otlint.core.finding import Level
from otlint.settings.messages import hint, kind
from otlint.settings.selectors import path_matches, service_matches

__all__ = [
    "DEFAULT_FAIL_ON",
    "FAIL_WORDS",
    "Options",
    "Override",
    "RuleSettings",
    "Settings",
    "fail_on_threshold",
]

#: ``fail-on`` when no file and no flag sets it.
DEFAULT_FAIL_ON: Level | None = Level.WARNING
#: The words ``fail-on`` takes, as messages list them.
FAIL_WORDS = "error, warning, info or never"

#: A rule's options by name. Each value has the type of the rule's declared default
#: (validation checks it), which differs per option; settings only copy them, and the
#: rule reads them as it declared them (``core.rule.CheckFn``).
Options: TypeAlias = Mapping[str, object]


@dataclass(frozen=True)
class RuleSettings:
    """How one enabled rule runs: its level and its options."""

    level: Level
    options: Options  # registry defaults overlaid with config values


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
            return service_matches(self.glob, service)
        if path is None:
            return False
        return path_matches(self.glob, path, self.base, cwd)

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
    options: dict[str, Options] = field(default_factory=dict)  # every registry rule
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

    def options_for(self, code: str) -> Options:
        """The options rule ``code`` runs with: registry defaults overlaid with config.

        Raises ``KeyError`` for a code that is not in the registry.
        """
        if code in self.rules:
            return self.rules[code].options
        return self.options[code]


def fail_on_threshold(value: object, flag: str) -> Level | None:
    """A ``fail-on`` value as a level; None is ``never``.

    Raises ``OtlintError`` prefixed with ``flag`` (``fail-on`` or ``--fail-on``).
    """
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "never":
            return None
        if word in {level.value for level in Level}:
            return Level(word)
        close = hint(word, [*(level.value for level in Level), "never"])
        raise OtlintError(f"{flag}: unknown threshold {value!r}: use {FAIL_WORDS}{close}")
    raise OtlintError(f"{flag} must be {FAIL_WORDS}, not {kind(value)}")
