"""Fuzz the framed reader: `python tests/fuzz/fuzz_framed.py CORPUS -max_total_time=S` (or bench/fuzz.py)."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["otlint"]):
    import harness


def main() -> None:
    """Run libFuzzer over ``harness.read_framed``."""
    atheris.Setup(sys.argv, harness.read_framed)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
