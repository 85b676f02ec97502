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
    return [p for folder in (root / "attributes", root / "_incubating" / "attributes") for p in sorted(folder.glob("*.py"))]


@cache
def deprecated_attributes() -> dict[str, str | None]:
    """Deprecated attribute key -> its replacement key (None when it was removed outright)."""
    out: dict[str, str | None] = {}
    for path in attribute_modules():
        for key, text in _DEPRECATED.findall(path.read_text(encoding="utf-8")):
            match = _REPLACED.search(text)
            out[key] = match.group(1) if match else None
    return out
