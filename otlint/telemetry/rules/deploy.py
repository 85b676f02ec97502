"""Deploy (DP): telemetry must say which release produced it."""

from __future__ import annotations

from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.telemetry.analysis import Context


@rule("DP001", "service-version-missing", Join.DEPLOY, Level.WARNING)
def service_version_missing(ctx: Context, opts: Options) -> Iterator[Hit]:
    """A service reports no ``service.version``.

    What it checks:
        Every resource of a named service has a non-empty ``service.version``.

    Why it breaks the join:
        The version is how telemetry joins to the deploy that produced it: "did the
        error rate change with 1.4.2?" needs the version on every span, metric and
        log. Without it a regression cannot be tied to a release.

    Example:
        ``payments`` with ``service.name`` and ``service.instance.id`` but no version.

    Fix:
        Set ``service.version`` from the build (the image tag or git SHA) in
        ``OTEL_RESOURCE_ATTRIBUTES``.
    """
    for name in sorted(ctx.services, key=lambda s: s or ""):
        if name is None:
            continue
        lacking = [r for r in ctx.resources_of(name) if r.value("service.version") in (None, "")]
        if lacking:
            yield Hit(
                message="no service.version: this service's telemetry cannot be tied to a release",
                service=name,
                count=sum(sum(r.counts[:3]) for r in lacking),
                locations=ctx.locations(ctx.first_location(r) for r in lacking),
            )


RULES = (service_version_missing,)
