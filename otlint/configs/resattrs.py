"""``OTEL_RESOURCE_ATTRIBUTES`` as the OpenTelemetry specification defines it.

The value is a W3C-baggage-like list ``key1=value1,key2=value2`` (no ``;``
metadata). Whitespace around keys and values is trimmed; ``,`` and ``=`` inside keys
and values MUST be percent-encoded, other characters MAY be, and everything is
percent-decoded. On *any* error the specification has SDKs discard the whole value
and report it, so one bad entry silently takes ``service.namespace``,
``deployment.environment.name`` and every other attribute of the list with it —
which is why ``ResourceAttributes.error`` comes with every key that would have been
set. Empty list members (a trailing comma) are skipped, as SDKs do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from otlint.configs.subst import SENTINEL, Value

__all__ = ["ResourceAttributes", "ResourceEntry", "parse_resource_attributes"]

_OWS = " \t"
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class ResourceEntry:
    """One ``key=value`` member of the list."""

    key: str | None  # None when the key comes from an unresolved reference
    value: str | None  # percent-decoded; None when it cannot be known statically
    offset: int  # where the key starts in the raw (as written) value


@dataclass(frozen=True)
class ResourceAttributes:
    """The parsed list: its entries, the first error (if any) and where it is."""

    entries: tuple[ResourceEntry, ...] = ()
    error: str | None = None
    error_offset: int = 0
    #: An unresolved reference stands where whole entries go: it may add any key.
    opaque: bool = False
    unknown: tuple[str, ...] = field(default_factory=tuple)

    @property
    def keys(self) -> list[str]:
        """The keys the list sets (known ones), in order, without repeats."""
        return list(dict.fromkeys(e.key for e in self.entries if e.key))


def parse_resource_attributes(value: Value) -> ResourceAttributes:
    """Parse an ``OTEL_RESOURCE_ATTRIBUTES`` value, tolerating unresolved references.

    Offsets are into ``value.raw`` so that a finding can point at the column of the
    entry at fault.
    """
    flat, offsets = value.flat()
    entries: list[ResourceEntry] = []
    error: str | None = None
    error_at = 0
    opaque = False
    start = 0
    number = 0
    for piece_end in [*(i for i, ch in enumerate(flat) if ch == ","), len(flat)]:
        piece = flat[start:piece_end]
        lead = len(piece) - len(piece.lstrip(_OWS))
        where = start + lead
        start = piece_end + 1
        piece = piece.strip(_OWS)
        if not piece:
            continue
        number += 1
        at = offsets[where] if where < len(offsets) else len(value.raw)
        if "=" not in piece:
            if SENTINEL in piece:
                opaque = True
                continue
            error, error_at = error or f"entry {number} has no '='", error_at if error else at
            continue
        raw_key, _, raw_value = piece.partition("=")
        key = raw_key.strip(_OWS)
        val = raw_value.strip(_OWS)
        problem = _problem(key, val, number)
        if problem is not None and error is None:
            error, error_at = problem, at
        entries.append(
            ResourceEntry(
                key=None if SENTINEL in key else _decode(key),
                value=None if SENTINEL in val else _decode(val),
                offset=at,
            )
        )
    return ResourceAttributes(tuple(entries), error, error_at, opaque, value.unknown)


def _problem(key: str, val: str, number: int) -> str | None:
    """What makes one member malformed, or None."""
    if not key:
        return f"entry {number} has an empty key"
    name = "a key" if SENTINEL in key else repr(_decode(key))
    if "=" in val and SENTINEL not in val:
        return f"the value of {name} holds a '=' that is not percent-encoded (%3D)"
    if _PERCENT.search(key) and SENTINEL not in key:
        return f"key {name} has a '%' that starts no percent-encoding"
    if _PERCENT.search(val) and SENTINEL not in val:
        return f"the value of {name} has a '%' that starts no percent-encoding (write %25)"
    return None


def _decode(text: str) -> str:
    """Percent-decode (invalid UTF-8 becomes U+FFFD, as the baggage spec says)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        if (
            text[i] == "%"
            and i + 2 < len(text)
            and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1 : i + 3])
        ):
            out.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            out += text[i].encode("utf-8")
            i += 1
    return out.decode("utf-8", errors="replace")
