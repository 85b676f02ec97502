"""Config rules CF06x, values: settings whose value otlint could not resolve, so it could not check them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.configs.names import PROPAGATORS, SERVICE_NAME
from otlint.configs.rules.units import active
from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts


@rule("CF060", "value-unresolved", Join.INPUT, Level.INFO, target="config")
def value_unresolved(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A service name or propagator list that is only known at deploy time, so not checked.

    What it checks:
        Notes each instrumented unit whose service name or propagators come from a
        variable that cannot be resolved statically (``$(VAR)`` from a ``fieldRef``,
        ``${VAR}`` with no default), a Secret, an ``env_file`` or ConfigMap that is
        not in the run, or an ``OTEL_CONFIG_FILE``. Names the Operator injects are
        not noted.

    Why it breaks the join:
        It may not: otlint does not guess what a deploy pipeline substitutes. The
        note says which joins were not checked, so a gap is a known gap.

    Example:
        ``OTEL_SERVICE_NAME: ${SERVICE_NAME}`` in a compose file with no ``.env``
        beside it.

    Fix:
        Nothing to fix if the value is set at deploy time; run ``otlint check-config``
        on the rendered manifests (``helm template``, ``kustomize build``) to check it.
    """
    for unit in facts.units:
        if not (unit.deployable and active(unit)):
            continue
        if unit.service_name is None and unit.service_name_unknown and unit.injected is None:
            setting = unit.env.get(SERVICE_NAME) or unit.config_file
            yield Hit(
                message=f"{unit.label}: the service name is not checked: {unit.service_name_unknown}",
                locations=[setting.value_at if setting is not None else unit.name_at or unit.at],
                context={"unit": unit.label, "what": "service name"},
            )
        if (
            unit.propagators is not None
            and unit.propagators.unknown is not None
            and unit.config_file is None
        ):
            setting = unit.env.get(PROPAGATORS)
            yield Hit(
                message=f"{unit.label}: the propagators are not checked: {unit.propagators.source} is "
                f"{unit.propagators.unknown}",
                service=unit.service,
                locations=[setting.value_at if setting is not None else unit.propagators.at],
                context={"unit": unit.label, "what": "propagators"},
            )


RULES = (value_unresolved,)
