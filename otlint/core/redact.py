"""Attribute values never reach a report unless asked for, and secrets never do.

One list of credential shapes, ``SECRET_KINDS``, serves two ends: ``mask_secrets`` replaces
the secret *part* of any text otlint echoes (messages, peers, ``--show-values``, errors), and
``find_secrets`` names the kinds a value carries for the secret rules (SE, CF070). So
whatever a rule reports is also masked wherever it would be shown.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

from otlint.core.jsontypes import JSONObject, JSONValue

MASK = "****"

#: Key words naming a credential: the value of such a key is masked whole (``--show-values``).
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[-_.]?key|auth|credential|private[-_.]?key|session|cookie|bearer|signature)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SecretKind:
    """One shape of credential: its pattern (group ``s`` is the secret part) and how sure it is.

    ``random``: the secret part must look generated (a digit, a symbol or mixed case, six
    characters or more) before ``find_secrets`` names it, because words follow the same
    words in prose ("token: expired", "basic authentication"). ``needles``: lower-case
    literals, one of which every match contains: a text holding none of them is not
    searched with ``pattern`` (a substring test costs a fraction of a regex search).
    """

    name: str
    label: str
    pattern: re.Pattern[str]
    needles: tuple[str, ...]
    random: bool = False

    def may_match(self, lowered: str) -> bool:
        """False when the lower-cased text holds none of the needles (so no match)."""
        return any(map(lowered.__contains__, self.needles))


#: ``password=...``, ``token: "..."``, ``api_key='...'``, ``client_secret=...``: the words.
_ASSIGNED = (
    r"pass(?:word|wd)?|pwd|secret|token|api[-_.]?key|access[-_.]?key|auth(?:orization)?"
    r"|credentials?|private[-_.]?key"
)

SECRET_KINDS: tuple[SecretKind, ...] = (
    SecretKind(
        "private-key",
        "a private key block",
        re.compile(
            r"(?P<s>-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z))",
            re.S,
        ),
        ("private key-----",),
    ),
    SecretKind(
        "url-credentials",
        "a password in a URL",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:(?P<s>[^/\s@]+)@", re.I),
        ("@",),
    ),
    SecretKind(
        "http-credentials",
        "an HTTP Authorization credential (Bearer, Basic)",
        re.compile(r"\b(?:bearer|basic)\s+(?P<s>[A-Za-z0-9._~+/=-]{6,})", re.I),
        ("bearer", "basic"),
        random=True,
    ),
    SecretKind(
        "assignment",
        "a credential written as a key=value pair (password, token, api_key)",
        re.compile(
            r"(?:\b|(?<=[-_.]))(?:" + _ASSIGNED + r")[\"']?\s*[=:]\s*[\"']?"
            r"(?!(?:bearer|basic)\s|\*{4})(?P<s>[^\s\"'&;,(){}\[\]<>]+)(?![(\w])",
            re.I,
        ),
        ("pass", "pwd", "secret", "token", "key", "auth", "credential"),
        random=True,
    ),
    SecretKind(
        "jwt",
        # (not "Token" last: a finding's "...: purge" after it would read as "token: ****")
        "a JSON Web Token (JWT)",
        re.compile(r"\b(?P<s>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"),
        ("eyj",),
    ),
    SecretKind(
        "cloud-key",
        "a cloud access key (AWS, Google)",
        re.compile(r"\b(?P<s>(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])"),
        ("akia", "asia", "aiza"),
    ),
    SecretKind(
        "token",
        "a service token (GitHub, GitLab, Slack, Stripe and the like)",
        re.compile(
            r"\b(?P<s>(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}"
            r"|xox[abprs]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
            r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}))"
        ),
        (
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
            "glpat-",
            "xox",
            "sk_",
            "rk_",
            "sk-",
        ),
    ),
)

#: Any needle of any kind: one search of it rules most texts out at once.
_ANY_NEEDLE = re.compile(
    "|".join(sorted({re.escape(n) for kind in SECRET_KINDS for n in kind.needles}))
)

#: The same needles as bytes, for encoded values (attribute KeyValues, log bodies) before
#: they are decoded: with ``cookie`` (a key ``credential_key`` looks for that holds none),
#: and ``://`` for ``@``, which is also the length byte 64 of the encoding (``private
#: key-----`` holds ``key``). Each needle is one pass of ``bytes.find`` over the values.
_BYTE_NEEDLES: tuple[bytes, ...] = tuple(
    sorted(
        {n.encode() for kind in SECRET_KINDS for n in kind.needles} - {b"@", b"private key-----"}
        | {b"://", b"cookie"}
    )
)


_USERINFO = re.compile(rb"[^/\s@]*:[^/\s@]+@")


def carrying(raws: Sequence[bytes]) -> set[int]:
    """The indices of the encoded values in ``raws`` that may carry a credential (that hold a
    needle of some kind once lower-cased), found by one substring search per needle over them all, joined by a newline
    (which no needle holds): a scope's log bodies cost a few passes of ``bytes.find``."""
    blob = b"\n".join(raws).lower()
    present = [needle for needle in _BYTE_NEEDLES if needle in blob]
    if not present:
        return set()
    ends = list(accumulate(len(raw) + 1 for raw in raws))
    picked: set[int] = set()
    for needle in present:
        url = needle == b"://"  # (every URL has one: only those with user:password@ count)
        at = blob.find(needle)
        while at >= 0:
            if url and _USERINFO.match(blob, at + 3) is None:
                at = blob.find(needle, at + 3)
                continue
            i = bisect_right(ends, at)
            picked.add(i)
            at = blob.find(needle, ends[i])  # (the next value: this one is picked)
    return picked


#: Shapes masked but never reported: broader than the ``token`` kind, so a key of an
#: unlisted service is still not echoed (``sk-...``, ``rk-...``).
_MASK_ONLY: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"\b(?P<s>(?:gh[pousr]|glpat|xox[abpr]|sk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{16,})"
    ),
)
_MASK_ONLY_NEEDLES = ("gh", "glpat", "xox", "sk-", "sk_", "rk-", "rk_")
#: Every needle ``mask_secrets`` tests, as one search.
_ANY_MASK_NEEDLE = re.compile(
    "|".join(
        sorted(
            {re.escape(n) for kind in SECRET_KINDS for n in kind.needles} | set(_MASK_ONLY_NEEDLES)
        )
    )
)

#: A secret part that stands in for the value rather than being it: a bind parameter, a
#: template, a variable's name (``%TOKEN%``, ``API_KEY``, ``REPLACE-ME``: capitals with no
#: digit), a mask of some tool's own, a file path (``token=/var/run/secrets/token``, and
#: ``PWD=/home/app``, the shell's working directory).
_PLACEHOLDER = re.compile(
    r"\?+|\$\d+|%[sd]|%\(\w+\)s|:\w+|@\w+|\$\{.*\}|\$\(.*\)|\$\w+|<.*>|\{\{.*\}\}|\{\w*\}|"
    r"%\w+%|(?-i:[A-Z]+(?:[-_][A-Z]+)+)|"
    r"[*xX#.•-]+|\[?(?:redacted|masked|filtered|hidden|removed|omitted|secret|password|none|null"
    r"|nil|undefined|changeme|placeholder|value|xxx+|your[-_\w]*)\]?|\S*example\S*|(?:~|\.{0,2})/[\w./-]*",
    re.I,
)


def looks_generated(text: str) -> bool:
    """True when ``text`` looks generated rather than a word: six characters or more with a
    digit, a symbol or mixed case, and not only digits."""
    if len(text) < 6 or text.isdigit():
        return False
    if text.isalpha():
        return not (text.islower() or text.isupper() or text.istitle())
    return True


def _masked(match: re.Match[str]) -> str:
    """The match with its secret part (group ``s``) replaced by ``MASK``."""
    whole = match.group(0)
    start, end = match.span("s")
    base = match.start()
    return whole[: start - base] + MASK + whole[end - base :]


def mask_secrets(text: str) -> str:
    """``text`` with every part that has the shape of a credential replaced by ``MASK``.

    This is the one masking function: findings' messages, peers and context, values
    shown with ``--show-values``, and error lines all go through it, so a credential
    that reaches otlint inside telemetry or configuration (``postgres://admin:pw@db``,
    ``?token=ghp_...``, ``password='...'``) never leaves it, whatever the output.
    """
    if len(text) < 6:
        return text
    lowered = text.lower()
    if _ANY_MASK_NEEDLE.search(lowered) is None:  # (most names and messages: one search)
        return text
    for kind in SECRET_KINDS:
        if kind.may_match(lowered):
            text = kind.pattern.sub(_masked, text)
    if any(needle in lowered for needle in _MASK_ONLY_NEEDLES):
        for pattern in _MASK_ONLY:
            text = pattern.sub(_masked, text)
    return text


def find_secrets(text: str) -> list[SecretKind]:
    """The kinds of credential ``text`` carries, in ``SECRET_KINDS`` order (each once).

    A match counts only when its secret part is not a placeholder (``?``, ``$1``,
    ``${DB_PASSWORD}``, ``REDACTED``, ``****``) and, for the kinds that follow words
    (``random``), looks generated: ``password=hunter2`` is found, ``token: expired`` is not.
    """
    found: list[SecretKind] = []
    if len(text) < 6:
        return found
    lowered = text.lower()
    if _ANY_NEEDLE.search(lowered) is None:
        return found
    for kind in SECRET_KINDS:
        if not kind.may_match(lowered):
            continue
        for match in kind.pattern.finditer(text):
            secret = match.group("s")
            if _PLACEHOLDER.fullmatch(secret) or (kind.random and not looks_generated(secret)):
                continue
            found.append(kind)
            break
    return found


#: The scheme word before a credential in an ``Authorization`` value (``Bearer ****``).
_SCHEME = re.compile(r"(?:bearer|basic|token|digest|negotiate|api-?key)(?:\s+|$)", re.I)


def is_placeholder(value: str) -> bool:
    """True when a credential-named value stands in for one (empty, ``REDACTED``, ``****``,
    ``${X}``, ``Bearer ****``)."""
    value = value.strip().strip("\"'")
    scheme = _SCHEME.match(value)
    if scheme is not None:
        value = value[scheme.end() :]
    return not value or bool(_PLACEHOLDER.fullmatch(value))


#: Captured HTTP headers and RPC metadata whose value is a credential.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-amz-security-token",
        "x-goog-api-key",
        "x-csrf-token",
        "x-xsrf-token",
        "x-honeycomb-team",
    }
)
#: Last components of an attribute key that name a credential.
CREDENTIAL_NAMES = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "api-key",
        "access_token",
        "auth_token",
        "client_secret",
        "private_key",
        "refresh_token",
        "secret_key",
        "secret_access_key",
        "session_token",
    }
)
#: Endings of a captured header's name that make it a credential (``openai-api-key``,
#: ``x-vault-token``, ``x-client-secret``).
_CREDENTIAL_HEADER_ENDS = (
    "-api-key",
    "-apikey",
    "-token",
    "-secret",
    "-password",
    "-authorization",
)
_HEADER_PREFIXES = (
    "http.request.header.",
    "http.response.header.",
    "rpc.grpc.request.metadata.",
    "rpc.grpc.response.metadata.",
    "rpc.request.metadata.",
    "rpc.response.metadata.",
)


def credential_key(key: str) -> bool:
    """True when an attribute key names a credential: a captured ``authorization`` /
    ``cookie`` / ``x-api-key`` header or metadata entry, or a key ending ``.password``,
    ``.client_secret``, ``.api_key`` and the like."""
    lowered = key.lower()
    for prefix in _HEADER_PREFIXES:
        if lowered.startswith(prefix):
            header = lowered[len(prefix) :].replace("_", "-")
            return header in CREDENTIAL_HEADERS or header.endswith(_CREDENTIAL_HEADER_ENDS)
    return lowered.rsplit(".", 1)[-1] in CREDENTIAL_NAMES


#: What a header (or RPC metadata key) an exporter sends is named when it holds a
#: credential, besides ``CREDENTIAL_HEADERS``: ``lightstep-access-token``, ``dd-api-key``,
#: ``signoz-ingestion-key``, ``x-sf-token`` ...
_CREDENTIAL_HEADER = re.compile(r"token|key|auth|secret|passw(?:or)?d|credential")


def credential_header(name: str) -> bool:
    """True when a header an exporter sends (``OTEL_EXPORTER_OTLP_HEADERS``, a collector
    exporter's ``headers``) names a credential: one of ``CREDENTIAL_HEADERS``, or a name
    with ``token``, ``key``, ``auth``, ``secret`` or ``password`` in it."""
    lowered = name.strip().lower()
    return lowered in CREDENTIAL_HEADERS or bool(_CREDENTIAL_HEADER.search(lowered))


#: Last words of a setting's name that name a credential, besides ``CREDENTIAL_NAMES``.
_SETTING_NAMES = frozenset(
    {"token", "tokens", "access_key", "license_key", "ingest_key", "ingestion_key"}
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def credential_setting(name: str) -> bool:
    """True when the name of an environment variable or a configuration key names a
    credential: its last words are one of ``CREDENTIAL_NAMES`` or a token or key of a
    service (``HONEYCOMB_API_KEY``, ``SPLUNK_ACCESS_TOKEN``, ``client_secret``,
    ``clientSecret``, ``password``). A name that goes on past them (``TOKEN_FILE``,
    ``PASSWORD_PATH``, ``SECRET_NAME``, ``api_key_id``) names something else."""
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]
    return any(
        "_".join(words[-n:]) in CREDENTIAL_NAMES or "_".join(words[-n:]) in _SETTING_NAMES
        for n in range(1, min(3, len(words)) + 1)
    )


_EMAIL = re.compile(r"[^@\s]+@[\w-]+(?:\.[\w-]+)+")
#: Schemes an ``authorization``-style value names before the credential itself.
_SCHEMES = frozenset({"bearer", "basic", "token", "apikey", "api-key", "digest"})


def credential_value(value: str) -> bool:
    """True when a value written under a name that names a credential is one.

    Not a placeholder (empty, ``REDACTED``, ``<your-key>``, ``xxxx``, ``${TOKEN}``,
    ``changeme``), not a path, an address or an e-mail address, and its last word (the
    credential after a scheme such as ``Bearer`` or ``ApiKey``) looks generated and
    holds a letter and a digit or both cases: ``test``, ``otel-demo`` and ``1234`` are
    words and numbers a configuration writes where it means no credential.
    """
    text = value.strip().strip("\"'")
    if is_placeholder(text):
        return False
    secret = text.rsplit(None, 1)[-1]
    if (
        is_placeholder(secret)
        or secret.lower() in _SCHEMES
        or "://" in secret
        or secret.startswith(("/", "./", "../", "~/"))
        or _EMAIL.fullmatch(secret)
        or not looks_generated(secret)
    ):
        return False
    letter = any(c.isalpha() for c in secret)
    digit = any(c.isdigit() for c in secret)
    mixed = any(c.islower() for c in secret) and any(c.isupper() for c in secret)
    return (letter and digit) or mixed


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
    return isinstance(value, str) and bool(find_secrets(value.strip()))


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


#: The kind name of a value held under a key that names a credential (``credential_key``).
CREDENTIAL_KEY = "credential-key"

#: Attribute keys whose string values otlint scans for credentials in telemetry: where a
#: URL, a query, a header, a command line or an error message is kept. (Ids, counters and
#: enums are never scanned: they are most of a capture's bytes and hold no credential.)
_CARRIER_KEY = re.compile(
    r"(^|\.)(url|uri|href|dsn|target|query(\.text)?|statement|connection_string|peer\.service"
    r"|service\.peer\.name|message|stacktrace|command(_line|_args)?|args|argv|body|env|cmd)$"
    r"|^url\.(full|query|original)$|^(server|destination)\.address$|^net\.peer\.name$|header\.|metadata\.|^exception\.|credential|password|passwd"
    r"|secret|token|api[-_.]?key|auth|cookie|session|private[-_.]?key",
    re.I,
)


def scanned_key(key: str) -> bool:
    """True when otlint scans the values of attribute ``key`` for credentials."""
    return bool(_CARRIER_KEY.search(key))


def _texts(key: str, value: object, depth: int = 0) -> list[tuple[str, str]]:
    """(key, text) of every string in a decoded value: a list's items under its key, a
    kvlist's under ``key.subkey`` (so a structured log body's ``password`` is its own key)."""
    if isinstance(value, str):
        return [(key, value)]
    if depth > 8:
        return []
    if isinstance(value, list):
        return [kt for item in value for kt in _texts(key, item, depth + 1)]
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for sub, item in value.items():
            text = item[1] if isinstance(item, tuple) else item  # (type, value) pairs
            out.extend(_texts(f"{key}.{sub}" if key else str(sub), text, depth + 1))
        return out
    return []


def secrets_in(key: str, value: object) -> list[tuple[str, str]]:
    """(key, kind name) of every credential a decoded attribute value (or log body) carries.

    A value under a key that names a credential (``credential_key``) is ``CREDENTIAL_KEY``
    unless it is a placeholder (``REDACTED``, ``****``, empty): its key, not its shape,
    makes it one. Any other string is searched for ``SECRET_KINDS`` (``find_secrets``).
    A kvlist's entries are judged under their own keys. Each (key, kind) once.
    """
    out: list[tuple[str, str]] = []
    for sub, text in _texts(key, value):
        if credential_key(sub):
            found = [] if is_placeholder(text) else [CREDENTIAL_KEY]
        else:
            found = [kind.name for kind in find_secrets(text)]
        for name in found:
            if (sub, name) not in out:
                out.append((sub, name))
    return out


#: Kind name -> what a finding calls it.
KIND_LABELS: dict[str, str] = {kind.name: kind.label for kind in SECRET_KINDS} | {
    CREDENTIAL_KEY: "a credential (the key names one)"
}
