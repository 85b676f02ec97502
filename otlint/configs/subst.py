"""Variable references in configuration values, resolved only as far as is statically known.

Each file kind has its own reference syntax:

===============  ==========================================================  =================
syntax           references                                                  written in
===============  ==========================================================  =================
``collector``    ``${env:VAR}``, ``${env:VAR:-default}``, ``${VAR}``, other   collector YAML
                 schemes (``${file:...}``) unknown; ``$$`` is a ``$``
``sdk``          ``${VAR}``, ``${env:VAR}``, ``${VAR:-default}``; ``$$``       SDK declarative
                                                                             configuration
``compose``      ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``,            docker-compose,
                 ``${VAR:?err}``, ``${VAR:+alt}``; ``$$``                      ``.env`` files
``kubernetes``   ``$(VAR)`` naming an earlier variable of the container;     container ``env``
                 ``$$(`` is a literal ``$(``
===============  ==========================================================  =================

A reference resolves to a value only when the environment it reads is known here
(the container's earlier variables, the compose project's ``.env``) or it has a
default; otherwise its segment is *unknown* and stays so: otlint never guesses what
a deploy pipeline will substitute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["SENTINEL", "SYNTAXES", "Env", "Segment", "Value", "literal", "resolve"]

#: Stands for an unknown segment in ``Value.flat()``: a character no configuration holds.
SENTINEL = "\x00"

#: Variables a reference may read: name -> value, or None for "defined, value unknown"
#: (a Kubernetes ``valueFrom``, a compose variable with no value). A name that is absent
#: is not defined at all.
Env = Mapping[str, "str | None"]


@dataclass(frozen=True)
class Segment:
    """A piece of a value: literal text, a resolved reference, or an unknown one."""

    text: str  # the resolved text ("" when unknown)
    start: int  # where the piece's source starts in the raw value
    end: int
    literal: bool = True  # text is raw[start:end] character for character
    unknown: str | None = None  # the reference as written, when it cannot be resolved
    #: The reference as written, when its text is the default it gives for an unset
    #: variable (``${VAR:-default}``): what the variable is at deploy time may differ.
    defaulted: str | None = None


@dataclass(frozen=True)
class Value:
    """A configured string as written (``raw``) and as far as it resolves."""

    raw: str
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str | None:
        """The resolved text, or None when any part of it is unknown."""
        if self.unknown:
            return None
        return "".join(s.text for s in self.segments)

    @property
    def defaulted(self) -> tuple[str, ...]:
        """The references whose default was used because the variable is unset here."""
        return tuple(s.defaulted for s in self.segments if s.defaulted is not None)

    @property
    def unknown(self) -> tuple[str, ...]:
        """The references that could not be resolved, as written."""
        return tuple(s.unknown for s in self.segments if s.unknown is not None)

    def flat(self) -> tuple[str, list[int]]:
        """The resolved text with ``SENTINEL`` for each unknown segment, and for every
        character the offset in ``raw`` it came from (a substituted value maps to the
        start of its reference)."""
        chars: list[str] = []
        offsets: list[int] = []
        for seg in self.segments:
            if seg.unknown is not None:
                chars.append(SENTINEL)
                offsets.append(seg.start)
            elif seg.literal:
                chars.append(seg.text)
                offsets.extend(range(seg.start, seg.start + len(seg.text)))
            else:
                chars.append(seg.text)
                offsets.extend([seg.start] * len(seg.text))
        return "".join(chars), offsets


def literal(raw: str) -> Value:
    """A value with no references (a Kubernetes ``value`` with no ``$(``, a YAML number)."""
    return Value(raw, (Segment(raw, 0, len(raw)),) if raw else ())


_BRACED = r"\$\{(?P<braced>[^}]*)\}"
_PATTERNS = {
    "collector": re.compile(r"\$\$|" + _BRACED),
    "sdk": re.compile(r"\$\$|" + _BRACED),
    "compose": re.compile(r"\$\$|" + _BRACED + r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"),
    "kubernetes": re.compile(r"\$\$\(|\$\((?P<paren>[A-Za-z_][A-Za-z0-9_.-]*)\)"),
}
_ESCAPES = {"$$": "$", "$$(": "$("}
_COMPOSE_OPS = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>.*))?", re.DOTALL
)

#: The reference syntaxes this module knows, by name.
SYNTAXES = tuple(_PATTERNS)


def resolve(raw: str, syntax: str, env: Env | None = None) -> Value:
    """``raw`` with its references resolved against ``env`` where that is possible.

    ``syntax`` is one of ``SYNTAXES``. ``env`` None means nothing is known about the
    environment: only defaults resolve.
    """
    pattern = _PATTERNS[syntax]
    known: Env = env or {}
    segments: list[Segment] = []
    pos = 0
    for match in pattern.finditer(raw):
        if match.start() > pos:
            segments.append(Segment(raw[pos : match.start()], pos, match.start()))
        token = match.group(0)
        if token in _ESCAPES:
            segments.append(Segment(_ESCAPES[token], match.start(), match.end(), literal=False))
        else:
            segments.append(_REFERENCE[syntax](match, known))
        pos = match.end()
    if pos < len(raw):
        segments.append(Segment(raw[pos:], pos, len(raw)))
    return Value(raw, tuple(segments))


def _lookup(
    name: str, env: Env, match: re.Match[str], default: str | None, empty_is_unset: bool = True
) -> Segment:
    """The segment for a reference to ``name``; ``default`` applies when it is unset
    (or empty, for the ``:-`` forms)."""
    if name in env:
        value = env[name]
        if value is None:
            return Segment("", match.start(), match.end(), unknown=match.group(0))
        if default is not None and empty_is_unset and value == "":
            return Segment(default, match.start(), match.end(), literal=False)
        return Segment(value, match.start(), match.end(), literal=False)
    if default is not None:
        return Segment(default, match.start(), match.end(), literal=False, defaulted=match.group(0))
    return Segment("", match.start(), match.end(), unknown=match.group(0))


_BRACED_INNER = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?!-))?(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?::-(?P<default>.*))?",
    re.DOTALL,
)


def _braced(match: re.Match[str], env: Env) -> Segment:
    """``${env:VAR:-default}`` / ``${VAR}`` (collector and SDK declarative configuration).

    Another provider (``${file:...}``, ``${http:...}``) is never known here.
    """
    parsed = _BRACED_INNER.fullmatch(match.group("braced"))
    if parsed is None or parsed.group("scheme") not in (None, "env"):
        return Segment("", match.start(), match.end(), unknown=match.group(0))
    return _lookup(parsed.group("name"), env, match, parsed.group("default"))


def _compose(match: re.Match[str], env: Env) -> Segment:
    """Compose interpolation: ``$VAR``, ``${VAR}``, and the ``-`` / ``?`` / ``+`` operators."""
    bare = match.group("bare")
    if bare is not None:
        return _lookup(bare, env, match, None)
    parsed = _COMPOSE_OPS.fullmatch(match.group("braced"))
    if parsed is None:
        return Segment("", match.start(), match.end(), unknown=match.group(0))
    name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
    if op in ("+", ":+"):
        value = env.get(name)
        if value is None:
            # Unset here, but the shell that runs compose may set it.
            return Segment("", match.start(), match.end(), unknown=match.group(0))
        use = op == "+" or value != ""
        return Segment(arg if use else "", match.start(), match.end(), literal=False)
    if op in ("-", ":-"):
        return _lookup(name, env, match, arg, empty_is_unset=op == ":-")
    return _lookup(name, env, match, None)


def _paren(match: re.Match[str], env: Env) -> Segment:
    """Kubernetes ``$(VAR)``: an earlier variable of the container, else left as written."""
    name = match.group("paren")
    if name not in env:
        # Kubernetes leaves a reference to an undefined variable unchanged.
        return Segment(match.group(0), match.start(), match.end())
    value = env[name]
    if value is None:
        return Segment("", match.start(), match.end(), unknown=match.group(0))
    return Segment(value, match.start(), match.end(), literal=False)


_REFERENCE: dict[str, Callable[[re.Match[str], Env], Segment]] = {
    "collector": _braced,
    "sdk": _braced,
    "compose": _compose,
    "kubernetes": _paren,
}
