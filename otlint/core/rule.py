"""What a rule is: code, name, join, default level, options, docs, and a check function."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join

#: A rule's check: (what it reads, its options) -> hits. What it reads is the telemetry
#: pipeline's ``analysis.Context`` for telemetry rules and ``configs.facts.ConfigFacts``
#: for config rules; this layer knows neither.
CheckFn = Callable[[Any, Mapping[str, Any]], Iterable[Hit]]

#: Sections every rule docstring has, in this order (docs/rules.md is built from them).
DOC_SECTIONS = ("What it checks", "Why it breaks the join", "Example", "Fix")


@dataclass(frozen=True)
class Rule:
    """A registered rule. Config decides whether it runs and at what level."""

    code: str
    name: str
    join: Join
    level: Level
    check: CheckFn
    options: Mapping[str, Any] = field(default_factory=dict)
    target: str = "telemetry"  # or "config" for rules over configuration files
    # Judged per trace over the span graph: the sidecar evaluates it on traces once
    # they are idle and then frees them, so its hits add up across windows.
    windowed: bool = False

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
    **options: Any,
) -> Callable[[CheckFn], Rule]:
    """Declare a rule: ``@rule("ID001", "service-name-missing", Join.IDENTITY, Level.ERROR)``.

    Keyword arguments are the rule's options and their defaults; config may override
    them, and an option config names that is not declared here is an error.
    """

    def wrap(fn: CheckFn) -> Rule:
        return Rule(
            code=code,
            name=name,
            join=join,
            level=level,
            check=fn,
            options=dict(options),
            target=target,
            windowed=windowed,
        )

    return wrap
