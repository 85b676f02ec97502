"""How settings errors read: a value's kind, a "did you mean", a key path in dotted form."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence

__all__ = ["dotted", "hint", "kind"]


def kind(value: object) -> str:
    """How a value's type reads in a message: ``a string``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def hint(word: object, candidates: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the candidate closest to ``word``, or ``""``."""
    if not isinstance(word, str):
        return ""
    import difflib  # only when a message is written

    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def dotted(path: Sequence[Hashable]) -> str:
    """A key path as TOML-ish dotted text: rules.ID003, paths."fixtures/**", select[2]."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = str(part)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out
