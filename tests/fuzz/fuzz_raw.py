"""Fuzz the raw reader: `python tests/fuzz/fuzz_raw.py CORPUS -max_total_time=S` (or bench/fuzz.py)."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["otlint"]):
    import harness


def main() -> None:
    """Run libFuzzer over ``harness.read_raw``."""
    atheris.Setup(sys.argv, harness.read_raw)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
