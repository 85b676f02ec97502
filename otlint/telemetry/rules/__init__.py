"""The telemetry rules, one module per rule family (its code prefix)."""
