"""The deprecation table read from the installed semconv package."""

from __future__ import annotations

import ast
import itertools
import re

from otlint.semconv import attribute_modules, deprecated_attributes


def _with_ast() -> dict[str, str | None]:
    """The same table the slow, sure way: every module-level string constant followed by a docstring."""
    out: dict[str, str | None] = {}
    for path in attribute_modules():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node, doc in itertools.pairwise(body):
            if not (isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Constant)):
                continue
            if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)):
                continue
            key, text = node.value.value, doc.value.value
            if isinstance(key, str) and isinstance(text, str) and text.strip().startswith("Deprecated:"):
                match = re.search(r"`([^`]+)`", text)
                out[key] = match.group(1) if match else None
    return out


def test_regex_reads_what_ast_reads() -> None:
    table = deprecated_attributes()
    assert table == _with_ast()
    assert table["http.method"] == "http.request.method"
    assert len(table) > 100
