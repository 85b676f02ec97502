"""The names of the SDK environment variables that decide identity and propagation.

A module of its own, with no imports, so that the rules can name them without
loading the config readers.
"""

SERVICE_NAME = "OTEL_SERVICE_NAME"
"""The service name; beats ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``."""
RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"
"""Resource attributes as ``key=value,key=value``, percent-encoded."""
PROPAGATORS = "OTEL_PROPAGATORS"
"""Comma-separated propagator names; unset means ``tracecontext,baggage``."""
CONFIG_FILE = "OTEL_CONFIG_FILE"
"""A declarative configuration file that replaces the other variables."""

#: ``Propagators.source`` of a configuration that leaves ``propagator`` out.
NO_PROPAGATOR = "a configuration with no propagator section"
#: The same, in a configuration that makes no spans either (no ``tracer_provider``).
NO_PROPAGATOR_NO_TRACES = "a configuration with no propagator section and no tracer_provider"

#: The variables whose value is a list of headers every OTLP export sends
#: (``key=value,key=value``, values percent-encoded): where a token ends up.
EXPORTER_HEADERS = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
)

#: ``Setting.source`` of a compose variable listed with no value and passed through
#: from the project's ``.env``: its value is written there, not where the setting is.
PROJECT_ENV = "the project .env"
