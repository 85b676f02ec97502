"""What rules of several decades ask of a workload unit.

Whether it runs instrumented (``active``), and the resource keys that name its
environment (``ENV_KEYS``: the current key first, then the deprecated one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import Unit

ENV_KEYS = ("deployment.environment.name", "deployment.environment")


def active(unit: Unit) -> bool:
    """Whether the unit runs with OpenTelemetry instrumentation that is not disabled."""
    return unit.instrumented and not unit.disabled
