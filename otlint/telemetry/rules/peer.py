"""Peer (PE): a caller must name its callee as the callee names itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import compress, count

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.core.wire import CLIENT, PRODUCER
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import Loc

#: Whether a span's interned peer.service is set (-1: none).
_SET = (-1).__lt__


@rule("PE001", "peer-service-unknown", Join.PEER, Level.INFO, windowed=True)
def peer_service_unknown(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Client spans name a ``peer.service`` that is no service in the input.

    What it checks:
        Every ``peer.service`` on CLIENT/PRODUCER spans is the ``service.name`` of a
        service seen in the input.

    Why it breaks the join:
        ``peer.service`` is how a caller names its callee on the service map, also
        for callees that are not traced. A value that matches no ``service.name``
        (``payment`` vs ``payments``) draws a phantom node and leaves the real
        service's inbound edge empty.

    Example:
        ``checkout`` CLIENT spans with ``peer.service=payment-svc``; the service is
        ``payments``.

    Fix:
        Use the callee's ``service.name`` exactly as ``peer.service``.
    """
    spans = ctx.corpus.spans
    strings = ctx.corpus.strings
    known = set(ctx.services)
    per: dict[tuple[str | None, str], list[Loc]] = defaultdict(list)
    if spans.peer.count(-1) == len(spans.peer):  # (in C) no span names a peer.service
        return
    # Only the rows with a peer.service are looked at (found in C).
    for i in compress(count(), map(_SET, spans.peer)):
        p = spans.peer[i]
        if spans.kind[i] in (CLIENT, PRODUCER) and strings[p] not in known:
            per[(ctx.service_of(spans.res[i]), strings[p])].append((spans.file[i], spans.rec[i]))
    for (svc, peer), locs in sorted(per.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        yield Hit(
            message=f"peer.service {peer!r} names no service in the input",
            service=svc,
            peer=peer,
            count=len(locs),
            locations=ctx.locations(locs),
        )


RULES = (peer_service_unknown,)
