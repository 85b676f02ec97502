"""Deprecated attribute keys, read from the installed opentelemetry-semantic-conventions.

The package documents each attribute constant with a docstring; deprecated ones say
``Deprecated: Replaced by `new.key`.`` (or ``Deprecated: Removed ...``). Reading them
with ``ast`` keeps otlint in step with whatever semconv release is installed, with no
hand-kept list and no network.
"""

from __future__ import annotations

import ast
import itertools
import re
from functools import cache
from pathlib import Path

# "Replaced by `x`", "Use `x` instead", "Replaced by one of `x`, ...", "included in `x`".
_REPLACED = re.compile(r"`([^`]+)`")


@cache
def deprecated_attributes() -> dict[str, str | None]:
    """Deprecated attribute key -> its replacement key (None when it was removed outright)."""
    import opentelemetry.semconv as semconv

    root = Path(semconv.__file__).parent
    out: dict[str, str | None] = {}
    for folder in (root / "attributes", root / "_incubating" / "attributes"):
        for path in sorted(folder.glob("*.py")):
            _scan(path, out)
    return out


def _scan(path: Path, out: dict[str, str | None]) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    for node, doc in itertools.pairwise(body):
        if not (isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Constant)):
            continue
        if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)):
            continue
        key, text = node.value.value, doc.value.value.strip()
        if not isinstance(key, str) or not text.startswith("Deprecated:"):
            continue
        match = _REPLACED.search(text)
        out[key] = match.group(1) if match else None
