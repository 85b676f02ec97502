"""Config rules CF00x, reading: files that could not be read as configuration at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts


@rule("CF001", "config-unreadable", Join.INPUT, Level.ERROR, target="config")
def config_unreadable(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A configuration file (or document) that cannot be read.

    What it checks:
        Every ``.yaml`` / ``.yml`` file given is valid YAML (no syntax errors, no
        duplicate keys) and every document a reader recognises has a shape it can
        read.

    Why it breaks the join:
        A file otlint cannot read is one nobody can check: the service it configures
        may set no name or the wrong propagator, and the collector or the SDK will
        often refuse it outright, so the unit emits nothing at all. Duplicate keys
        are worse: YAML keeps the last one silently.

    Example:
        ``OTEL_SERVICE_NAME: checkout`` twice under one compose ``environment:``, or a
        tab used for indentation.

    Fix:
        Fix the syntax at the line and column given; merge duplicate keys.
    """
    for problem in facts.problems:
        yield Hit(message=f"cannot read this file: {problem.message}", locations=[problem.at])


RULES = (config_unreadable,)
