'''Deprecated attribute keys, read from the installed opentelemetry-semantic-conventions.

The package documents each attribute constant with a docstring; deprecated ones say
``Deprecated: Replaced by `new.key`.`` (or ``Deprecated: Removed ...``). Reading them
keeps otlint in step with whatever semconv release is installed, with no hand-kept
list and no network.

The modules are generated, one constant a block::

    HTTP_METHOD: Final = "http.method"
    """
    Deprecated: Replaced by `http.request.method`.
    """

so one regular expression over each file's text finds them (about 3 ms for the ~100
files, where parsing them with ``ast`` took 25 ms of every run's start-up); a test
checks it against ``ast`` on the installed package.
'''

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# "Replaced by `x`", "Use `x` instead", "Replaced by one of `x`, ...", "included in `x`".
_REPLACED = re.compile(r"`([^`]+)`")
# A module-level constant whose docstring, right below it, starts with "Deprecated:".
_DEPRECATED = re.compile(
    r'^[A-Za-z_][A-Za-z0-9_]*(?:: *[A-Za-z_.\[\]]+)? *= *"([^"\\\n]+)"\n"""\s*(Deprecated:.*?)"""',
    re.MULTILINE | re.DOTALL,
)


def attribute_modules() -> list[Path]:
    """The semconv modules that define attribute keys, stable and incubating."""
    import opentelemetry.semconv as semconv

    root = Path(semconv.__file__).parent
    return [
        p
        for folder in (root / "attributes", root / "_incubating" / "attributes")
        for p in sorted(folder.glob("*.py"))
    ]


def deprecation_notes() -> Iterator[tuple[str, str]]:
    """Every (key, ``Deprecated: ...`` docstring) pair of the installed semconv package."""
    for path in attribute_modules():
        yield from _DEPRECATED.findall(path.read_text(encoding="utf-8"))


#: Span kinds as the deprecation notes name them ("on client spans").
_ON_KIND = re.compile(
    r"`([^`]+)`\s+on\s+(?:the\s+)?(client|server|producer|consumer)\s+spans", re.IGNORECASE
)
_NONE_ON_KIND = re.compile(
    r"no replacement for (client|server|producer|consumer) spans", re.IGNORECASE
)


@dataclass(frozen=True)
class Deprecation:
    """What the semantic conventions say about one deprecated attribute key.

    ``kind`` is how the key was replaced:

    * ``renamed`` — by one key (``http.method`` → ``http.request.method``);
    * ``split`` — by several keys together (``http.flavor`` → ``network.protocol.name``
      and ``network.protocol.version``);
    * ``one-of`` — by one of several, depending on the usage (``http.host``);
    * ``by-span-kind`` — by a key that depends on the span's kind (``net.peer.name``
      → ``server.address`` on CLIENT spans, ``client.address`` on SERVER spans):
      ``by_kind`` maps the kind (``client``, ``server``, ...) to it, or to None;
    * ``event-name`` — by the LogRecord's EventName field (``event.name``);
    * ``removed`` — with no replacement;
    * ``note`` — by something the note describes in words (``note``).

    ``moved`` is the same key kept in another registry (the GenAI conventions moved
    to a repository of their own): not a deprecation of the key at all.
    """

    key: str
    kind: str
    note: str
    replacements: tuple[str, ...] = ()
    by_kind: tuple[tuple[str, str | None], ...] = ()

    def advice(self, span_kinds: Iterable[str] = ()) -> str:
        """What to do instead, for spans of ``span_kinds`` (all kinds the note names when empty)."""
        if self.kind == "renamed":
            return f"use {self.replacements[0]}"
        if self.kind == "split":
            return f"it was split into {_and(self.replacements)}: set each"
        if self.kind == "one-of":
            return f"use one of {_or(self.replacements)}, depending on the usage"
        if self.kind == "by-span-kind":
            table = dict(self.by_kind)
            kinds = [k for k in span_kinds if k in table] or list(table)
            return "; ".join(
                f"on {k.upper()} spans use {table[k]}"
                if table[k]
                else f"on {k.upper()} spans drop it (no replacement)"
                for k in kinds
            )
        if self.kind == "event-name":
            return "use the LogRecord EventName field (the event's name) instead of an attribute"
        if self.kind == "removed":
            return "it was removed without a replacement"
        return f"the semantic conventions say: {self.note}"


def _and(keys: Sequence[str]) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]


def _or(keys: Sequence[str]) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " or " + keys[-1]


def parse_deprecation(key: str, text: str) -> Deprecation:
    """Read one ``Deprecated: ...`` docstring of the semconv package."""
    note = " ".join(text.split())
    note = note.removeprefix("Deprecated:").strip()
    keys = tuple(dict.fromkeys(k for k in _REPLACED.findall(note) if "." in k or "_" in k))
    lower = note.lower()
    if lower.startswith("moved to"):
        return Deprecation(key, "moved", note)
    if "eventname" in lower.replace(" ", "") and "logrecord" in lower.replace(" ", ""):
        return Deprecation(key, "event-name", note)
    on_kind = _ON_KIND.findall(note)
    if on_kind:
        by_kind: dict[str, str | None] = {kind.lower(): target for target, kind in on_kind}
        for kind in _NONE_ON_KIND.findall(note):
            by_kind.setdefault(kind.lower(), None)
        return Deprecation(
            key,
            "by-span-kind",
            note,
            tuple(dict.fromkeys(t for t in by_kind.values() if t)),
            tuple(by_kind.items()),
        )
    if not keys:
        return Deprecation(
            key,
            "removed" if "no replacement" in lower or lower.startswith("removed") else "note",
            note,
        )
    if (
        lower.startswith(("split", "replaced by `"))
        and len(keys) > 1
        and " and " in lower
        and "one of" not in lower
    ):
        return Deprecation(key, "split", note, keys)
    if "one of" in lower or (len(keys) > 1 and " or " in lower):
        return Deprecation(key, "one-of", note, keys)
    if len(keys) == 1 and (
        lower.startswith("replaced by `") or (lower.startswith("use `") and "instead" in lower)
    ):
        return Deprecation(key, "renamed", note, keys)
    return Deprecation(key, "note", note, keys)


@cache
def deprecations() -> dict[str, Deprecation]:
    """Deprecated attribute key -> what replaced it, read from the installed semconv package.

    Keys that only moved to another registry (``moved``) are left out: they are not
    deprecated where they are used.
    """
    out: dict[str, Deprecation] = {}
    for key, text in deprecation_notes():
        found = parse_deprecation(key, text)
        if found.kind != "moved":
            out[key] = found
    return out
