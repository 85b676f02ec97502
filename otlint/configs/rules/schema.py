"""Config rules CF04x, schema: attribute keys and environment values written in configuration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.configs.rules.pipelines import exported_processors
from otlint.configs.rules.units import ENV_KEYS
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.rule import Option, Options, rule, strings_option
from otlint.core.semconv import Deprecation, deprecations

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import Attr, ConfigFacts


#: Spellings of the same environment, to their common name.
_SYNONYMS = {
    "prod": "production",
    "prd": "production",
    "live": "production",
    "stage": "staging",
    "stg": "staging",
    "dev": "development",
    "develop": "development",
    "qa": "test",
    "testing": "test",
    "tst": "test",
}


def _all_attributes(facts: ConfigFacts) -> Iterator[tuple[Attr, str | None]]:
    """Every resource attribute a unit or a collector writes (once per place it is
    written), with the service of the first unit that uses it."""
    seen: set[tuple[str, Location]] = set()
    for unit in facts.units:
        if not unit.disabled:
            for attr in unit.attributes.values():
                if attr.source != "operator" and (attr.key, attr.at) not in seen:
                    seen.add((attr.key, attr.at))
                    yield attr, unit.service
    for processor, _ in exported_processors(facts):
        for attr in processor.sets:
            if (attr.key, attr.at) not in seen:
                seen.add((attr.key, attr.at))
                yield attr, None


@rule("CF040", "config-deprecated-attribute", Join.SCHEMA, Level.WARNING, target="config")
def deprecated_attribute(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """Resource attribute keys the semantic conventions have deprecated.

    What it checks:
        Keys set in ``OTEL_RESOURCE_ATTRIBUTES``, ``resource.attributes``, an
        ``Instrumentation``'s ``spec.resource`` or a collector ``resource`` processor,
        against the deprecations of the installed
        ``opentelemetry-semantic-conventions`` package.

    Why it breaks the join:
        When some services move to the new key and others keep the old one, the same
        fact lives under two keys: a query on ``deployment.environment.name`` misses
        every service that still sends ``deployment.environment``.

    Example:
        ``OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod``.

    Fix:
        Rename to the replacement the finding names.
    """
    deprecated: dict[str, Deprecation] | None = None  # read at the first key (a few ms)
    for attr, service in _all_attributes(facts):
        if deprecated is None:
            deprecated = deprecations()
        found = deprecated.get(attr.key)
        if found is not None:
            yield Hit(
                message=f"{attr.key} is deprecated: {found.advice()}",
                service=service,
                locations=[attr.at],
                context={
                    "key": attr.key,
                    "replacement": found.replacements[0] if len(found.replacements) == 1 else None,
                    "replacements": list(found.replacements),
                    "how": found.kind,
                },
            )


def _environment(value: str) -> str:
    word = value.strip().lower()
    return _SYNONYMS.get(word, word)


@rule("CF041", "environment-spelling", Join.SCHEMA, Level.WARNING, target="config")
def environment_spelling(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """One deployment environment spelled more than one way across the files.

    What it checks:
        Across every file of the run, the values of ``deployment.environment.name``
        (and the deprecated ``deployment.environment``) that name the same
        environment (``prod``, ``production``, ``Production``, ``prd``, ``live``;
        ``stage``/``staging``/``stg``; ``dev``/``development``) are spelled the same
        way. The spelling most places use wins; the others are reported.

    Why it breaks the join:
        To every query, dashboard and alert, ``prod`` and ``production`` are two
        environments: one environment's traces stop joining its own metrics, and a
        filter on one spelling silently misses the services using the other.

    Example:
        ``deployment.environment.name=prod`` on ``checkout`` and ``production`` on
        ``payments``.

    Fix:
        Pick one spelling (set it once, in a shared ``.env``, ConfigMap or collector
        ``resource`` processor with ``action: insert``) and use it everywhere.
    """
    groups: dict[str, list[tuple[Attr, str | None]]] = defaultdict(list)
    for attr, service in _all_attributes(facts):
        if attr.key in ENV_KEYS and attr.value:
            groups[_environment(attr.value)].append((attr, service))
    for entries in groups.values():
        spellings: dict[str, int] = defaultdict(int)
        for attr, _ in entries:
            spellings[str(attr.value)] += 1
        if len(spellings) < 2:
            continue
        usual = max(spellings, key=lambda s: (spellings[s], s == s.lower(), s))
        for attr, service in entries:
            if attr.value != usual:
                yield Hit(
                    message=f"{attr.key} spells this environment differently from {spellings[usual]} other "
                    f"{'place' if spellings[usual] == 1 else 'places'} ({len(spellings)} spellings in all)",
                    service=service,
                    locations=[attr.at],
                    context={"key": attr.key, "spellings": len(spellings)},
                    values={attr.key: attr.value, "usual": usual},
                )


@rule(
    "CF042",
    "config-environment-not-allowed",
    Join.IDENTITY,
    Level.WARNING,
    allowed=Option.strings([]),
    target="config",
)
def environment_not_allowed(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A deployment environment that is not one of the allowed ones.

    What it checks:
        With the ``allowed`` option set (e.g. ``[production, staging]``), every
        ``deployment.environment.name`` (or ``deployment.environment``) value
        written in the files is in it. With no list the rule is silent.

    Why it breaks the join:
        An environment outside the agreed list is one no dashboard, alert or
        retention policy filters on: its telemetry joins nothing the team looks at.

    Example:
        ``allowed: [production, staging]`` and ``deployment.environment.name=prod``.

    Fix:
        Use one of the allowed spellings.
    """
    allowed = set(strings_option(opts, "allowed"))
    if not allowed:
        return
    for attr, service in _all_attributes(facts):
        if attr.key in ENV_KEYS and attr.value is not None and attr.value not in allowed:
            yield Hit(
                message=f"{attr.key} is not one of: {', '.join(sorted(allowed))}",
                service=service,
                locations=[attr.at],
                context={"key": attr.key, "allowed": sorted(allowed)},
                values={attr.key: attr.value},
            )


RULES = (
    deprecated_attribute,
    environment_spelling,
    environment_not_allowed,
)
