"""otlint: finds the broken joins between OpenTelemetry traces, logs and metrics."""

from __future__ import annotations

from otlint.core.errors import OtlintError
from otlint.core.finding import Finding, Level, Location
from otlint.core.joins import Join

__version__ = "0.1.0"

__all__ = ["Finding", "Join", "Level", "Location", "OtlintError", "__version__"]
