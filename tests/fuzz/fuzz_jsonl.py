"""Fuzz the jsonl reader: `python tests/fuzz/fuzz_jsonl.py CORPUS -max_total_time=S` (or bench/fuzz.py)."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["otlint"]):
    import harness


def main() -> None:
    """Run libFuzzer over ``harness.read_jsonl``."""
    atheris.Setup(sys.argv, harness.read_jsonl)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
