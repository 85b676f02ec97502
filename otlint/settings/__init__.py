"""otlint's own settings: which rules run, at what level, with what options.

One job per module, bottom first:

- ``messages``: how errors read (a value's kind, "did you mean", dotted key paths).
- ``selectors``: which codes ``ALL``, a join name or a code prefix names; the
  services/paths glob matching and the path-glob compiler.
- ``model``: ``Settings``, ``RuleSettings``, ``Override``: what the rest of otlint reads.
- ``tomlpos``: key and value positions in ``pyproject.toml`` (tree-sitter).
- ``sources``: finding the project config and reading one file (YAML, ``[tool.otlint]``,
  a shipped rule set) with the positions of its keys and values.
- ``validation``: the schema of a config file, checked against the rule registry.
- ``loader``: ``load_settings``: ``extends`` chains, layering and the command line; its
  docstring has the schema and the semantics.

This package only re-exports; the rule registry is passed in, never imported.
"""

from otlint.settings.loader import DEFAULT_RULESET, load_settings
from otlint.settings.model import DEFAULT_FAIL_ON, Override, RuleSettings, Settings
from otlint.settings.selectors import NO_SERVICE
from otlint.settings.sources import CONFIG_NAMES, find_config, shipped_rulesets

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
