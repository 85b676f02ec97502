"""The rule registry: every rule otlint has, by code.

Rules are listed explicitly, module by module; asking for a code that is not here is
an error. Config decides which rules run and at what level.
"""

from __future__ import annotations

from otlint.checks import configfiles, identity, log_trace, resource, schema, trace
from otlint.checks._base import DOC_SECTIONS, Rule, rule

_MODULES = (identity, trace, log_trace, resource, schema, configfiles)

REGISTRY: dict[str, Rule] = {}
for _module in _MODULES:
    for _rule in _module.RULES:
        if _rule.code in REGISTRY:
            raise RuntimeError(f"duplicate rule code {_rule.code}")
        REGISTRY[_rule.code] = _rule

__all__ = ["DOC_SECTIONS", "REGISTRY", "Rule", "rule"]
