"""Which rules a selector names, and which findings a services/paths glob covers.

A selector (in ``select``, ``ignore``, ``--select``, ``--extend-select``, ``--ignore``)
is ``ALL``, a join name (``trace``: every rule of that join), or a code prefix
(``ID``, ``TR00``, or a whole code). Join names are lower case and codes upper case,
so a lower-case word that would be a code prefix in upper case gets that hint.

Globs: a services glob is an ``fnmatch`` pattern on ``service.name`` (``<none>`` is
the missing name, and ``*`` matches it too). A path glob is compiled here: ``*`` and
``?`` stay within one path segment, ``**`` spans segments (``**/`` also matches no
directory at all), ``[...]`` is a class as in fnmatch (``[!...]`` negates). It is tried
against the input path as given, without a leading ``./``, and relative to the
directory of the config that declared it; a glob without ``/`` also matches the file
name alone.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from otlint.core.errors import OtlintError
from otlint.core.joins import Join
from otlint.core.rule import Rule
from otlint.settings.messages import hint

__all__ = [
    "NO_SERVICE",
    "cli_selectors",
    "expand",
    "glob_problem",
    "join_names",
    "path_matches",
    "service_matches",
]

#: What a services glob is matched against when a finding has no service.name.
NO_SERVICE = "<none>"


# --------------------------------------------------------------------------- selectors


def expand(selector: str, registry: Mapping[str, Rule]) -> tuple[frozenset[str], str | None]:
    """The codes ``selector`` names, or a message saying why it names none."""
    if selector == "ALL":
        return frozenset(registry), None
    if selector in join_names():
        return frozenset(
            code for code, rule in registry.items() if rule.join.value == selector
        ), None
    if selector:
        matched = frozenset(code for code in registry if code.startswith(selector))
        if matched:
            return matched, None
    return frozenset(), _unknown_selector(selector, registry)


def cli_selectors(flag: str, values: Iterable[str], registry: Mapping[str, Rule]) -> frozenset[str]:
    """The codes a command-line selector flag names (items may be comma-separated)."""
    codes: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            found, problem = expand(item, registry)
            if problem is not None:
                raise OtlintError(f"{flag}: {problem}")
            codes |= found
    return frozenset(codes)


def join_names() -> list[str]:
    """The join names a selector may use, in ``Join`` order."""
    return [join.value for join in Join]


def _unknown_selector(selector: str, registry: Mapping[str, Rule]) -> str:
    joins = join_names()
    if not selector.strip():
        return "empty selector"
    if any(ch.islower() for ch in selector):
        upper = selector.upper()
        if upper == "ALL" or any(code.startswith(upper) for code in registry):
            return (
                f"unknown join {selector!r}; did you mean {upper!r}? (codes and ALL are upper case)"
            )
        return f"unknown join {selector!r}{hint(selector, joins)} (joins: {', '.join(joins)})"
    return f"unknown rule or prefix {selector!r}{hint(selector, [*registry, 'ALL'])}"


# --------------------------------------------------------------------------- globs


def service_matches(glob: str, service: str | None) -> bool:
    """Whether a services glob covers ``service`` (None: the finding has no name)."""
    return fnmatch.fnmatchcase(NO_SERVICE if service is None else service, glob)


def path_matches(glob: str, path: str, base: Path | None, cwd: Path) -> bool:
    """Whether a path glob covers the input ``path``.

    ``base`` is the directory of the config that declared the glob (None for a shipped
    rule set); ``cwd`` is what a relative ``path`` is relative to.
    """
    pattern = _path_glob_regex(glob)
    for form in _path_forms(path, base, cwd):
        if pattern.fullmatch(form):
            return True
        if "/" not in glob and pattern.fullmatch(form.rsplit("/", 1)[-1]):
            return True
    return False


def glob_problem(glob: str) -> str | None:
    """Why ``glob`` is not a usable glob, or None.

    fnmatch would treat an unclosed ``[`` as a literal, which is never what a config
    author meant.
    """
    if not glob:
        return "empty glob"
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            end = _class_end(glob, i)
            if end < 0:
                return "unclosed '[' (write [[] for a literal '[')"
            i = end + 1
        else:
            i += 1
    return None


def _class_end(glob: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at ``start``, or -1."""
    i = start + 1
    if i < len(glob) and glob[i] in "!^":
        i += 1
    if i < len(glob) and glob[i] == "]":
        i += 1  # a leading ] is a literal member
    return glob.find("]", i)


@functools.lru_cache(maxsize=256)
def _path_glob_regex(glob: str) -> re.Pattern[str]:
    """A path glob as a regex: ``*``/``?`` within one segment, ``**`` across segments."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            if glob.startswith("**", i):
                i += 2
                if glob.startswith("/", i):
                    out.append("(?:.*/)?")  # "**/" also matches no directory at all
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = _class_end(glob, i)
            inner = glob[i + 1 : end].replace("\\", "\\\\")
            inner = re.sub(r"([&~|\[])", r"\\\1", inner).replace("--", "-\\-")
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            elif inner.startswith("^"):
                inner = "\\" + inner
            out.append(f"[{inner}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def _path_forms(path: str, base: Path | None, cwd: Path) -> list[str]:
    """The spellings of an input path a path glob is tried against."""
    posix = path.replace(os.sep, "/")
    forms = [posix]
    if posix.startswith("./"):
        forms.append(posix[2:])
    if base is not None:
        absolute = os.path.normpath(os.path.join(cwd, path))
        root = os.path.normpath(base)
        if absolute.startswith(root.rstrip(os.sep) + os.sep):
            forms.append(Path(os.path.relpath(absolute, root)).as_posix())
    return forms
