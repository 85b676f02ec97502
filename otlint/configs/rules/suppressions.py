"""Config rules CF09x, suppressions: ``# otlint: ignore`` comments that suppress nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts


@rule("CF090", "unused-suppression", Join.INPUT, Level.WARNING, target="config")
def unused_suppression(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """An ``# otlint: disable=CODE`` comment that silences nothing.

    What it checks:
        Every code in a ``disable`` / ``disable-file`` comment names a rule and
        silenced a finding in this run. Codes of rules that are turned off are not
        reported (another configuration may turn them on).

    Why it breaks the join:
        A stale suppression is a hole waiting for the next break: the line it sits on
        is silenced for that rule forever, including when someone later writes the
        very break it was meant to excuse somewhere else on the line.

    Example:
        ``OTEL_PROPAGATORS: tracecontext  # otlint: disable=CF020`` after the service
        was moved off ``b3``.

    Fix:
        Remove the comment (or the codes in it that are no longer needed).
    """
    enabled = facts.enabled or frozenset()
    for suppression in facts.suppressions:
        for code in suppression.codes:
            if code in suppression.used or (code == "ALL" and suppression.used):
                continue
            if code != "ALL" and code not in facts.known_codes:
                why = f"{code} names no rule"
            elif code == "ALL" or code in enabled:
                why = f"nothing here triggers {code}"
            else:
                continue
            yield Hit(
                message=f"unused suppression: {why}",
                locations=[suppression.at],
                context={"code": code},
            )


RULES = (unused_suppression,)
