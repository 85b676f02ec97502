"""The rule registry: every rule otlint has, by code.

Rules are listed explicitly, module by module; asking for a code that is not here is
an error. Config decides which rules run and at what level.
"""

from __future__ import annotations

from otlint.configs.rules import configfiles
from otlint.core.rule import DOC_SECTIONS, Rule, rule
from otlint.telemetry.rules import identity, log_trace, resource, schema, trace

_MODULES = (identity, trace, log_trace, resource, schema, configfiles)

REGISTRY: dict[str, Rule] = {}
for _module in _MODULES:
    for _rule in _module.RULES:
        if _rule.code in REGISTRY:
            raise RuntimeError(f"duplicate rule code {_rule.code}")
        REGISTRY[_rule.code] = _rule

__all__ = ["DOC_SECTIONS", "REGISTRY", "Rule", "rule"]
