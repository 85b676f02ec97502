"""The rule registry: every rule otlint has, by code.

Rules live one family to a module, and the modules are listed here explicitly, each
under the code prefix it owns: a telemetry family under its two letters (``TR`` ->
``otlint/telemetry/rules/trace.py``), a config decade under ``CF`` and its tens digit
(``CF02`` -> ``otlint/configs/rules/propagation.py``). A module holds the rules of its
prefix and nothing else; helpers several families share live in modules named for
what they do. Asking for a code that is not here is an error; config decides which
rules run and at what level.

The order below is the order of ``REGISTRY`` (and so of ``docs/rules.md`` within a
join and of ``otlint rules``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otlint.configs.rules import (
    boundaries,
    processors,
    propagation,
    reading,
    secrets,
    suppressions,
    values,
)
from otlint.configs.rules import identity as config_identity
from otlint.configs.rules import schema as config_schema
from otlint.core.rule import DOC_SECTIONS, Rule, rule
from otlint.telemetry.rules import (
    deploy,
    identity,
    infra,
    log_trace,
    metric_trace,
    peer,
    reader,
    schema,
    secret,
    signal_resource,
    trace,
)

if TYPE_CHECKING:  # (a Protocol class costs every command's start-up to build)
    from typing import Protocol

    class Family(Protocol):
        """A rule family module: its rules, in the order it lists them."""

        @property
        def RULES(self) -> tuple[Rule, ...]:
            """The family's rules."""


#: Telemetry rule families: code prefix -> the module that holds them.
TELEMETRY_FAMILIES: dict[str, Family] = {
    "ID": identity,
    "SE": secret,
    "TR": trace,
    "LT": log_trace,
    "MT": metric_trace,
    "SR": signal_resource,
    "DP": deploy,
    "IN": infra,
    "PE": peer,
    "SC": schema,
    "RD": reader,
}

#: Config rule decades: code prefix -> the module that holds them.
CONFIG_FAMILIES: dict[str, Family] = {
    "CF00": reading,
    "CF01": config_identity,
    "CF02": propagation,
    "CF03": processors,
    "CF04": config_schema,
    "CF05": boundaries,
    "CF06": values,
    "CF07": secrets,
    "CF09": suppressions,
}

#: Every family, telemetry first: code prefix -> module.
FAMILIES: dict[str, Family] = {**TELEMETRY_FAMILIES, **CONFIG_FAMILIES}


def family_of(code: str) -> str:
    """The prefix of the family ``code`` belongs to (``TR`` for TR003, ``CF02`` for CF021)."""
    return next(prefix for prefix in FAMILIES if code.startswith(prefix))


def _registry() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for module in FAMILIES.values():
        for one in module.RULES:
            if one.code in found:
                raise RuntimeError(f"duplicate rule code {one.code}")
            found[one.code] = one
    return found


REGISTRY: dict[str, Rule] = _registry()

__all__ = [
    "CONFIG_FAMILIES",
    "DOC_SECTIONS",
    "FAMILIES",
    "REGISTRY",
    "TELEMETRY_FAMILIES",
    "Rule",
    "family_of",
    "rule",
]
