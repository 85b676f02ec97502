"""Rule sets shipped with otlint (YAML)."""
