"""Secret (SE): telemetry must not carry credentials.

A record that carries a password, a token or a key has to be purged from every backend
that stored it, or locked away from the people who would join it: either way it joins
nothing any more, and the credential has to be rotated. The observe pass searches the
values of the keys where credentials end up (URLs, queries, headers, messages, command
lines: ``redact.scanned_key``), every log body and every resource attribute (once per
resource), with the kinds of ``redact.SECRET_KINDS``; the fact keeps which key held
which kind, how often and where first, never the value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from weakref import WeakKeyDictionary

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.redact import CREDENTIAL_KEY, KIND_LABELS
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import LOGS, POINTS, SPANS, AttrLevel, Loc

_RESOURCE = int(AttrLevel.RESOURCE)


class _Entry:
    """The records of one service holding one kind of credential under one key, and where."""

    __slots__ = ("count", "locs")

    def __init__(self) -> None:
        self.count = 0
        self.locs: list[Loc] = []


_Found = dict[tuple[str | None, int, str, str], _Entry]
#: ``_found`` of each Context, computed once for the three rules.
_FOUND: WeakKeyDictionary[Context, _Found] = WeakKeyDictionary()


def _found(ctx: Context) -> _Found:
    """Every credential the input carries, by (service, attribute level, key, kind): the
    observed attribute values and log bodies, and the resource attributes searched here."""
    known = _FOUND.get(ctx)
    if known is None:
        known = _FOUND[ctx] = _gather(ctx)
    return known


def _gather(ctx: Context) -> _Found:
    """``_found``, computed."""
    per: defaultdict[tuple[str | None, int, str, str], _Entry] = defaultdict(_Entry)
    resources = ctx.corpus.resources
    for (ri, level, key, kind), (count, loc) in ctx.corpus.secrets.items():
        entry = per[(ctx.service_of(ri), level, key, kind)]
        if level == _RESOURCE:  # (observe notes the resource once: its records count here)
            res = resources[ri]
            entry.count += res.counts[SPANS] + res.counts[LOGS] + res.counts[POINTS]
            entry.locs.extend(first for first in res.first if first is not None)
        else:
            entry.count += count
            entry.locs.append(loc)
    return per


def _hits(ctx: Context, kinds: frozenset[str] | None, what: str) -> Iterator[Hit]:
    """One hit per (service, level, key, kind) of ``kinds`` (None: the kinds SE001 and SE002
    do not own); ``what`` says what the key holds, ``{label}`` the kind."""
    found = _found(ctx)
    for (svc, level, key, kind), entry in sorted(
        found.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2], kv[0][3])
    ):
        if (kind not in kinds) if kinds is not None else (kind in _OWNED):
            continue
        lvl = AttrLevel(level)
        if lvl is AttrLevel.BODY:
            where = "log body" if key == "body" else f"log body key {key[len('body.') :]}"
        else:
            where = f"{lvl.label} attribute {key}"
        yield Hit(
            message=f"{where} {what.format(label=KIND_LABELS.get(kind, kind))}: purge those "
            "records and rotate the credential",
            service=svc,
            count=entry.count,
            locations=ctx.locations(entry.locs),
            context={"level": lvl.label, "key": key, "kind": kind},
        )


_OWNED = frozenset({CREDENTIAL_KEY, "url-credentials"})
_CREDENTIAL_KEY = frozenset({CREDENTIAL_KEY})
_URL = frozenset({"url-credentials"})


@rule("SE001", "credential-attribute", Join.TRUST, Level.ERROR)
def credential_attribute(ctx: Context, opts: Options) -> Iterator[Hit]:
    """An attribute whose key names a credential carries one, unredacted.

    What it checks:
        Captured ``http.request.header.authorization``, ``cookie``, ``set-cookie``,
        ``x-api-key`` (and the same as ``http.response.header.*`` or RPC metadata), and
        attributes whose key ends in ``password``, ``client_secret``, ``api_key``,
        ``access_token`` and the like, on any record or resource (``redact.credential_key``).
        A value that is empty or a placeholder (``REDACTED``, ``****``, ``${TOKEN}``) passes.

    Why it breaks the join:
        Every backend that stored those records now holds a live credential: they have to
        be purged or locked away from the people who would join them, and the credential
        rotated. Header capture is opt-in in every SDK (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*``),
        so one configuration line puts every request's token in the traces.

    Example:
        ``checkout`` spans with ``http.request.header.authorization=["Bearer eyJ..."]``.

    Fix:
        Stop capturing the header (drop it from the capture list), or delete or hash it
        in the collector (``attributes`` / ``redaction`` processor) before any exporter.
    """
    yield from _hits(ctx, _CREDENTIAL_KEY, "holds {label} unredacted")


@rule("SE002", "url-credentials", Join.TRUST, Level.ERROR)
def url_credentials(ctx: Context, opts: Options) -> Iterator[Hit]:
    """A URL in telemetry carries a password (``scheme://user:password@host``).

    What it checks:
        String values of URL-like keys (``url.full``, ``http.url``, ``peer.service``,
        ``server.address``, ``net.peer.name``, ``db.connection_string``,
        ...), log bodies and resource attributes, for
        ``user:password@`` after a scheme. A placeholder password (``${DB_PASSWORD}``,
        ``?``, ``****``) passes.

    Why it breaks the join:
        The password is in every backend that stored the records, readable by whoever
        reads the traces: they have to be purged and the password rotated. When it sits in
        ``peer.service`` it also names no service, so the client edge joins nothing.

    Example:
        ``peer.service=postgres://admin:hunter22@db:5432/orders`` on ``checkout`` spans.

    Fix:
        Build the attribute from the host and port only (``server.address``,
        ``server.port``); strip the user info in the instrumentation or with the
        collector's ``redaction`` / ``transform`` processor.
    """
    yield from _hits(ctx, _URL, "holds {label}")


@rule("SE003", "secret-in-value", Join.TRUST, Level.ERROR)
def secret_in_value(ctx: Context, opts: Options) -> Iterator[Hit]:
    """A value in telemetry has the shape of a credential: a token, a key or a password.

    What it checks:
        String values of the keys where credentials end up (URLs, queries and statements,
        headers, messages and stack traces, command lines: ``redact.scanned_key``), every
        log body and every resource attribute, for ``Bearer``/``Basic`` credentials,
        JSON Web Tokens, AWS and Google access keys, private-key blocks, GitHub, GitLab,
        Slack and Stripe tokens, and ``password=...`` / ``token: ...`` assignments. Bind
        parameters and placeholders (``?``, ``$1``, ``%s``, ``:name``, ``${X}``,
        ``REDACTED``) pass, and so do words after ``token:`` (``token: expired``):
        only generated-looking text counts.

    Why it breaks the join:
        The records have to be purged from every backend that stored them, and the
        credential rotated: until then they cannot be shared with anyone who would join them.

    Example:
        ``db.query.text="UPDATE users SET password='hunter22' WHERE id=7"``, or a log body
        ``login with token ghp_...``.

    Fix:
        Log and record bind parameters, not literals (``db.query.text`` is meant to be
        sanitized); keep credentials out of log messages; drop or mask them in the
        collector (``redaction`` processor, ``transform`` with ``replace_pattern``).
    """
    yield from _hits(ctx, None, "holds {label}")


RULES = (credential_attribute, url_credentials, secret_in_value)
