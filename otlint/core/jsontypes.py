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

__all__ = ["JSONObject", "JSONValue"]
