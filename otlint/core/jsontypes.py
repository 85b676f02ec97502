"""Names for JSON-ready data: what a report writes, and what a rule puts in a finding.

``JSONValue`` is what ``json.dumps`` writes without a ``default``: strings, numbers,
booleans, null, and sequences and string-keyed mappings of those. The containers are
the read-only ``Sequence`` and ``Mapping`` (covariant), so a rule's ``list[str]`` or
``Counter[str]`` is one as it is, with no copy; JSON writes a tuple as an array too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JSONValue: TypeAlias = (
    "str | int | float | bool | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
#: A JSON object being built or held: a finding's ``context`` and ``values``, a report's parts.
JSONObject: TypeAlias = "dict[str, JSONValue]"


def as_json(value: object) -> JSONValue:
    """``value`` as JSON-ready data: JSON's own types as they are (the same object),
    sequences and mappings element by element, bytes as hex, anything else as its text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [as_json(v) for v in value]
    return str(value)


__all__ = ["JSONObject", "JSONValue", "as_json"]
