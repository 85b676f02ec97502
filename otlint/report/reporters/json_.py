"""The machine-readable report: ``Report.to_json`` (schema version 1), pretty-printed.

The module is ``json_`` so that it does not shadow the standard library's ``json``;
it is registered as the ``json`` format.
"""

from __future__ import annotations

import json
from typing import TextIO

from otlint.report.report import Report


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write the report as indented JSON; values appear only with ``show_values``, masked.

    ``color`` is ignored: JSON is read by programs, and escape codes would break them.
    """
    json.dump(report.to_json(), out, indent=2)
    out.write("\n")
