"""Attribute values never reach a report unless asked for, and secrets never do."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from otlint.core.jsontypes import JSONObject, JSONValue

_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[-_.]?key|auth|credential|private[-_.]?key|session|cookie|bearer|signature)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(^(bearer|basic)\s+\S+$)"  # HTTP credentials
    r"|(^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.)"  # JWT
    r"|(^(AKIA|ASIA)[A-Z0-9]{16}$)"  # AWS access key id
    r"|(^(ghp|gho|ghs|ghu|glpat|xox[abpr]|sk)[-_][A-Za-z0-9_-]{16,}$)"  # common token prefixes
    r"|(-----BEGIN [A-Z ]*PRIVATE KEY-----)"
    r"|(://[^/\s:@]+:[^/\s@]+@)",  # credentials in a URL
    re.IGNORECASE,
)
MASK = "****"

#: The secret *parts* of a longer text, each pattern with the groups kept around the mask.
#: (A value is scanned whole: ``token=ghp_...`` inside a query string is found too.)
_SECRET_PARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    # -----BEGIN ... PRIVATE KEY----- up to its END line (or the end of the text)
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.S,
        ),
        MASK,
    ),
    # scheme://user:password@host -> scheme://user:****@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(@)", re.I), r"\1" + MASK + r"\2"),
    # Authorization: Bearer xxx, Basic xxx
    (re.compile(r"(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1" + MASK),
    # password=..., token: "...", api_key='...', client_secret=... (value up to a separator)
    (
        re.compile(
            r"(\b(?:[a-z0-9]+[-_.])*(?:pass(?:word|wd)?|pwd|secret|token|api[-_.]?key|access[-_.]?key"
            r"|auth(?:orization)?|credentials?|private[-_.]?key)"
            r"[\"']?\s*[=:]\s*[\"']?)(?!(?:bearer|basic)\s|\*{4})([^\s\"'&;,)}\]]+)",
            re.I,
        ),
        r"\1" + MASK,
    ),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MASK),
    # cloud access key ids
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
    # well-known token prefixes: GitHub, GitLab, Slack, Stripe/OpenAI-style keys
    (
        re.compile(
            r"\b(?:gh[pousr]|glpat|xox[abpr]|sk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{16,}"
        ),
        MASK,
    ),
)


def mask_secrets(text: str) -> str:
    """``text`` with every part that has the shape of a credential replaced by ``MASK``.

    This is the one masking function: findings' messages, peers and context, values
    shown with ``--show-values``, and error lines all go through it, so a credential
    that reaches otlint inside telemetry or configuration (``postgres://admin:pw@db``,
    ``?token=ghp_...``, ``password='...'``) never leaves it, whatever the output.
    """
    if len(text) < 6:
        return text
    for pattern, replacement in _SECRET_PARTS:
        text = pattern.sub(replacement, text)
    return text


#: The longest name (service, peer) and message a report echoes; past it, the text is cut
#: and says how much was left out (a 200 MB ``service.name`` makes a report of kilobytes).
NAME_LIMIT = 256
MESSAGE_LIMIT = 4096


def clipped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...(+{len(text) - limit:,} characters)"


def shown(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` as a report may echo it: cut to ``limit``, then its secret parts masked."""
    return mask_secrets(clipped(text, limit))


def shown_name(name: str | None) -> str | None:
    """A service or peer name as a report echoes it (``shown`` at ``NAME_LIMIT``); the same
    function names a finding's service and its row of the join matrix, so they still meet."""
    return None if name is None else shown(name, NAME_LIMIT)


def mask_json(value: JSONValue) -> JSONValue:
    """A copy of a JSON value with ``mask_secrets`` applied to every string in it."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, Mapping):
        return {key: mask_json(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [mask_json(item) for item in value]
    return value


def looks_secret(key: str, value: object) -> bool:
    """True when the key names a credential or the value has the shape of one."""
    if _SECRET_KEY.search(key):
        return True
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value.strip()))


def redact_values(values: JSONObject) -> JSONObject:
    """A copy of ``values`` for ``--show-values``: the value of a key that names a credential
    masked whole, the secret parts of every other value masked (``mask_secrets``)."""
    out: JSONObject = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = redact_values(value)
        elif _SECRET_KEY.search(key):
            out[key] = MASK if not isinstance(value, list) else [MASK for _ in value]
        else:
            out[key] = mask_json(value)
    return out
