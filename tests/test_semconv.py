"""The deprecation table read from the installed semconv package."""

from __future__ import annotations

import ast
import itertools
import re

from otlint.core.semconv import (
    attribute_modules,
    deprecation_notes,
    deprecations,
    parse_deprecation,
)


def _with_ast() -> dict[str, str | None]:
    """The same table the slow, sure way: every module-level string constant followed by a docstring."""
    out: dict[str, str | None] = {}
    for path in attribute_modules():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node, doc in itertools.pairwise(body):
            if not (
                isinstance(node, ast.AnnAssign | ast.Assign)
                and isinstance(node.value, ast.Constant)
            ):
                continue
            if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)):
                continue
            key, text = node.value.value, doc.value.value
            if (
                isinstance(key, str)
                and isinstance(text, str)
                and text.strip().startswith("Deprecated:")
            ):
                match = re.search(r"`([^`]+)`", text)
                out[key] = match.group(1) if match else None
    return out


def test_regex_reads_what_ast_reads() -> None:
    notes = dict(deprecation_notes())
    assert set(notes) == set(_with_ast())
    assert len(notes) > 100
    # Every key is deprecated but those that only moved to another registry.
    table = deprecations()
    assert {k for k in notes if k not in table} == {
        k for k, t in notes.items() if parse_deprecation(k, t).kind == "moved"
    }


def test_deprecation_notes_are_read_into_what_replaced_each_key() -> None:
    table = deprecations()
    assert table["http.flavor"].kind == "split"
    assert table["http.flavor"].replacements == (
        "network.protocol.name",
        "network.protocol.version",
    )
    assert dict(table["net.peer.name"].by_kind) == {
        "client": "server.address",
        "server": "client.address",
    }
    assert table["net.peer.name"].advice(["server"]) == "on SERVER spans use client.address"
    assert table["event.name"].kind == "event-name"
    assert table["http.method"].advice() == "use http.request.method"
    assert table["http.host"].kind == "one-of"
    # The GenAI keys moved to a registry of their own: the keys live on there.
    assert "gen_ai.request.model" not in table
    assert table["gen_ai.system"].advice() == "use gen_ai.provider.name"
    assert {k for k, d in table.items() if d.kind == "removed"} >= {"db.user"}


def test_every_address_key_replaced_by_span_kind_has_its_kinds_counted() -> None:
    """observe counts span kinds only for wire.KIND_KEYS: the address keys whose replacement depends on the kind."""
    from otlint.core.wire import ADDRESS_KEYS, KIND_KEYS

    by_kind = {k.encode() for k, d in deprecations().items() if d.kind == "by-span-kind"}
    assert by_kind & ADDRESS_KEYS == KIND_KEYS
