"""Peer (PE): a caller must name its callee as the callee names itself."""

from __future__ import annotations

from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context


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
    for (svc, peer), ex in sorted(
        ctx.unknown_peers.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        yield Hit(
            message=f"peer.service {peer!r} names no service in the input",
            service=svc,
            peer=peer,
            count=ex.count,
            locations=ctx.locations(ex.locs),
        )


RULES = (peer_service_unknown,)
