"""Attribute values never reach a report unless asked for, and secrets never do."""

from __future__ import annotations

import re

from otlint.core.jsontypes import JSONObject

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


def looks_secret(key: str, value: object) -> bool:
    """True when the key names a credential or the value has the shape of one."""
    if _SECRET_KEY.search(key):
        return True
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value.strip()))


def redact_values(values: JSONObject) -> JSONObject:
    """A copy of ``values`` with every secret-looking value masked."""
    out: JSONObject = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = redact_values(value)
        elif isinstance(value, list):
            out[key] = [MASK if looks_secret(key, v) else v for v in value]
        else:
            out[key] = MASK if looks_secret(key, value) else value
    return out
