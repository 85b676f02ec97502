"""Config rules CF02x, propagation: the propagators each workload is configured with, and whether callers and callees share one."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from otlint.configs.names import NO_PROPAGATOR, NO_PROPAGATOR_NO_TRACES
from otlint.configs.rules.units import active
from otlint.configs.rules.wording import plural
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.rule import Options, rule

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import ConfigFacts, Unit


#: Propagators that carry trace context (``baggage`` carries none).
TRACE_PROPAGATORS = frozenset(
    {"tracecontext", "b3", "b3multi", "jaeger", "xray", "xray-lambda", "ottrace"}
)


#: Every propagator name an SDK knows (``OTEL_PROPAGATORS`` and the declarative config).
KNOWN_PROPAGATORS = frozenset({*TRACE_PROPAGATORS, "baggage", "none"})


#: Deprecated propagators: the specification no longer asks SDKs to ship them.
DEPRECATED_PROPAGATORS = {"jaeger": "Jaeger clients", "ottrace": "OpenTracing"}


def _trace_set(names: tuple[str, ...]) -> frozenset[str]:
    # b3 extractors read the single and the multi-header form alike.
    return frozenset("b3" if n == "b3multi" else n for n in names if n in TRACE_PROPAGATORS)


def _propagating(facts: ConfigFacts) -> list[tuple[Unit, frozenset[str]]]:
    """Units whose propagators are known and carry trace context, with their trace set."""
    out = []
    for unit in facts.units:
        names = unit.effective_propagators
        if (
            not active(unit)
            or names is None
            or unit.used
            or (not unit.deployable and unit.propagators is None)
        ):
            continue
        trace = _trace_set(names)
        if trace:
            out.append((unit, trace))
    return out


def _systems(
    units: list[tuple[Unit, frozenset[str]]], facts: ConfigFacts
) -> list[list[tuple[Unit, frozenset[str]]]]:
    """The propagating units grouped by the system they run in (see ``_system``)."""
    groups: dict[str, list[tuple[Unit, frozenset[str]]]] = defaultdict(list)
    for unit, trace in units:
        groups[_system(unit, facts)].append((unit, trace))
    return [groups[k] for k in sorted(groups)]


def _system(unit: Unit, facts: ConfigFacts) -> str:
    """The system a unit runs in, named by a folder: units call each other only within one.

    - A compose project: the compose files of one folder (the base file, its ``-f``
      overlays, the ``.env`` beside them) and the files their ``include:`` pulls in.
    - Kubernetes manifests: the folder that holds them, all namespaces in it (an
      Operator e2e test applies its folder into one namespace, and a test whose
      Instrumentation sits in another namespace is still one system); an
      ``Instrumentation`` with the workloads beside it. Namespaces do not join
      folders: rendered chart examples all say ``namespace: default``.
    - A rendered Helm release: the folder it was rendered into, with the sub-folders
      its subcharts were written to (``rendered/opentelemetry-collector/`` for
      ``# Source: demo/charts/opentelemetry-collector/templates/...``).
    - An SDK configuration file: its folder.

    A run over a whole repository holds many such systems (an e2e test per folder, a
    chart example per folder, a compose example per folder): they are not compared.
    """
    path = os.path.abspath(unit.at.path)
    included: dict[str, str] = facts.scratch.get("compose_included", {})
    if path in included:
        return included[path]
    folder = os.path.dirname(path)
    if unit.template:
        rendered = set(os.path.normpath(unit.template).split(os.sep)[:-1])
        while os.path.basename(folder) in rendered and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
    return folder


def _majority(units: list[tuple[Unit, frozenset[str]]]) -> frozenset[str]:
    """The trace propagator set most units use (ties: the one with tracecontext)."""
    counts: dict[frozenset[str], int] = defaultdict(int)
    for _, trace in units:
        counts[trace] += 1
    return max(counts, key=lambda s: (counts[s], "tracecontext" in s, sorted(s)))


def _where(unit: Unit) -> Location:
    return unit.propagators.at if unit.propagators is not None else unit.at


def _describe(unit: Unit) -> str:
    names = unit.effective_propagators or ()
    return ",".join(names) + ("" if unit.propagators is not None else " (the default)")


@rule("CF020", "propagators-disjoint", Join.TRACE, Level.ERROR, target="config")
def propagators_disjoint(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """Services configured with trace propagators that share none with the others.

    What it checks:
        Within each system of the run, each unit's trace propagators (from
        ``OTEL_PROPAGATORS``, ``propagator.composite``, an ``Instrumentation``'s
        ``spec.propagators``, or the default ``tracecontext,baggage``) have at least
        one in common with the propagators most of its units use. ``b3`` and
        ``b3multi`` count as one. A system is named by a folder: a compose project
        (the compose files of one folder, its overlays and the files its
        ``include:`` pulls in); a folder of Kubernetes manifests, whatever namespaces
        they name, with the ``Instrumentation`` beside them; a rendered Helm release
        with its subcharts' sub-folders; an SDK configuration's folder. The examples
        and test folders of one repository are not compared with each other.

    Why it breaks the join:
        A caller injects only its own headers and a callee extracts only its own.
        With nothing in common, every call between them starts a new trace: the
        client span has no server child and the server span has no parent.

    Example:
        ``OTEL_PROPAGATORS=b3`` on ``payments`` while every other service uses the
        default ``tracecontext,baggage``.

    Fix:
        Use one propagator everywhere (``tracecontext,baggage``); during a migration
        list both on the odd service (``tracecontext,baggage,b3``).
    """
    for units in _systems(_propagating(facts), facts):
        yield from _disjoint(units)


#: The services CF020 names in ``context.units`` and in ``peer`` (a name, shown whole up
#: to NAME_LIMIT); its ``count`` has them all.
_NAMED_PEERS = 50
_PEER_NAMES = 10


def _disjoint(units: list[tuple[Unit, frozenset[str]]]) -> Iterator[Hit]:
    if len(units) < 2:
        return
    common = _majority(units)
    others = [u for u, t in units if t == common]
    peers: list[str] | None = None  # the same for every unit: found once
    for unit, trace in units:
        if trace & common:
            continue
        if peers is None:
            peers = sorted({u.service or u.label for u in others})
            # Named in every such finding: past a few dozen, a count (a finding per
            # unit naming every other unit would make the output quadratic).
            named = peers[:_NAMED_PEERS]
            first = peers[:_PEER_NAMES]
            peer = ", ".join(first) + (
                f" and {len(peers) - len(first)} more" if len(peers) > len(first) else ""
            )
        yield Hit(
            message=f"{unit.label} propagates {_describe(unit)}, sharing no trace propagator with "
            f"{','.join(sorted(common))} used by {plural(peers)}: calls between them start new traces",
            service=unit.service,
            peer=peer or None,
            count=len(others),
            locations=[_where(unit)],
            context={"propagators": sorted(trace), "others": sorted(common), "units": named},
        )


@rule("CF021", "tracecontext-missing", Join.TRACE, Level.WARNING, target="config")
def tracecontext_missing(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """Propagators configured without W3C ``tracecontext``.

    What it checks:
        Every unit that propagates trace context at all includes ``tracecontext``.

    Why it breaks the join:
        W3C Trace Context is what everything else in the path speaks: the collector,
        service meshes, cloud load balancers, other teams' and vendors' SDKs. A unit
        that only speaks ``b3`` or ``xray`` loses the trace at the first hop that is
        not configured like it.

    Example:
        ``OTEL_PROPAGATORS=b3multi``.

    Fix:
        Put ``tracecontext`` first and keep the other one as long as callers need it:
        ``OTEL_PROPAGATORS=tracecontext,baggage,b3multi``.
    """
    for unit, _trace in _propagating(facts):
        names = unit.effective_propagators or ()
        if "tracecontext" not in names and unit.propagators is not None:
            yield Hit(
                message=f"{unit.propagators.source} has no tracecontext ({','.join(names)}): the trace is lost "
                "at every hop that speaks W3C Trace Context only",
                service=unit.service,
                locations=[unit.propagators.at],
                context={"propagators": list(names)},
            )


@rule("CF022", "propagators-differ", Join.TRACE, Level.INFO, target="config")
def propagators_differ(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """Services whose trace propagators differ from the others' but still overlap.

    What it checks:
        Within each system (a compose project, a folder of manifests, a rendered
        Helm release: as for CF020),
        each unit's trace propagators equal the set most of its units use. Units that
        share none at all are CF020's.

    Why it breaks the join:
        Today the calls still join through the propagator they share, but the
        configuration has drifted: whoever removes the shared one (or upgrades an SDK
        that drops it) breaks every call between the two groups.

    Example:
        ``tracecontext,b3`` on ``checkout`` while the rest use ``tracecontext``.

    Fix:
        Align the propagators; if a unit must keep an extra one for a legacy caller,
        silence this on that line with ``# otlint: disable=CF022``.
    """
    for units in _systems(_propagating(facts), facts):
        if len(units) < 2:
            continue
        common = _majority(units)
        yield from _differ(units, common)


def _differ(units: list[tuple[Unit, frozenset[str]]], common: frozenset[str]) -> Iterator[Hit]:
    for unit, trace in units:
        if trace != common and trace & common:
            yield Hit(
                message=f"{unit.label} propagates {_describe(unit)} while most units use {','.join(sorted(common))}",
                service=unit.service,
                locations=[_where(unit)],
                context={"propagators": sorted(trace), "others": sorted(common)},
            )


@rule("CF023", "propagator-deprecated", Join.TRACE, Level.WARNING, target="config")
def propagator_deprecated(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """Deprecated propagators: ``jaeger`` and ``ottrace``.

    What it checks:
        No unit configures the ``jaeger`` or ``ottrace`` propagator.

    Why it breaks the join:
        Both formats are deprecated: Jaeger and OpenTracing clients have moved to W3C
        Trace Context, and SDKs are dropping them. A unit that relies on them loses
        its traces when its SDK, or its callers', is upgraded.

    Example:
        ``OTEL_PROPAGATORS=jaeger``.

    Fix:
        Switch to ``tracecontext`` (keep the old one beside it only while callers
        still send it).
    """
    for unit in facts.units:
        if unit.propagators is None or not active(unit):
            continue
        for name in unit.propagators.names:
            if name in DEPRECATED_PROPAGATORS:
                yield Hit(
                    message=f"propagator {name} is deprecated ({DEPRECATED_PROPAGATORS[name]} have moved to "
                    "W3C Trace Context): use tracecontext",
                    service=unit.service,
                    locations=[unit.propagators.position(name)],
                    context={"propagator": name},
                )


@rule("CF024", "propagators-none", Join.TRACE, Level.ERROR, target="config")
def propagators_none(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A unit configured to propagate nothing.

    What it checks:
        No unit sets ``OTEL_PROPAGATORS=none``, and no declarative configuration
        omits ``propagator`` (which, unlike the environment variable, means no
        propagator at all) or leaves it empty. A declarative configuration that has no
        ``tracer_provider`` either makes no spans of its own: that one is said at
        info, since only a traced request passing through the unit loses its context
        (a metrics-only service, or a documentation snippet of one feature).

    Why it breaks the join:
        With no propagator the unit neither reads the caller's trace context nor
        sends its own: every request it serves starts a new trace, and every call it
        makes starts another.

    Example:
        ``OTEL_PROPAGATORS=none``; an SDK configuration file with a
        ``tracer_provider`` and no ``propagator``.

    Fix:
        ``OTEL_PROPAGATORS=tracecontext,baggage``; in the configuration file
        ``propagator: {composite: [{tracecontext: }, {baggage: }]}``.
    """
    for unit in facts.units:
        if unit.propagators is None or not active(unit) or "none" not in unit.propagators.names:
            continue
        source = unit.propagators.source
        level = None
        if source == NO_PROPAGATOR_NO_TRACES:
            # It makes no spans: only a traced request passing through it loses its trace.
            level = Level.INFO
            message = (
                "the configuration has no propagator section (which means none) and no "
                "tracer_provider: a traced request passing through the unit loses its trace "
                "context on the unit's outgoing calls"
            )
        else:
            what = (
                f"{source} is none"
                if source != NO_PROPAGATOR
                else "the configuration has no propagator section (which means none)"
            )
            message = f"{what}: the unit neither reads nor sends trace context, so every request starts a new trace"
        yield Hit(
            message=message,
            service=unit.service,
            locations=[unit.propagators.position("none")],
            context={"unit": unit.label},
            level=level,
        )


@rule("CF025", "propagator-unknown", Join.TRACE, Level.ERROR, target="config")
def propagator_unknown(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A propagator name no SDK knows.

    What it checks:
        Every configured propagator is one of ``tracecontext``, ``baggage``, ``b3``,
        ``b3multi``, ``jaeger``, ``xray``, ``xray-lambda``, ``ottrace`` or ``none``.

    Why it breaks the join:
        SDKs skip a name they do not know (with a warning nobody reads), or refuse to
        start. A typo such as ``tracecontex`` or ``w3c`` leaves the unit without the
        propagator everyone else uses.

    Example:
        ``OTEL_PROPAGATORS=w3c,baggage``.

    Fix:
        Use the registered name: ``tracecontext``.
    """
    for unit in facts.units:
        if unit.propagators is None or not active(unit):
            continue
        for name in unit.propagators.names:
            if name not in KNOWN_PROPAGATORS:
                import difflib

                close = difflib.get_close_matches(name, sorted(KNOWN_PROPAGATORS), n=1)
                hint = (
                    f" (did you mean {close[0]}?)"
                    if close
                    else " (W3C Trace Context is tracecontext)"
                )
                yield Hit(
                    message=f"propagator {name!r} is not one SDKs know{hint}: they skip it or fail to start",
                    service=unit.service,
                    locations=[unit.propagators.position(name)],
                    context={"propagator": name},
                )


RULES = (
    propagators_disjoint,
    tracecontext_missing,
    propagators_differ,
    propagator_deprecated,
    propagators_none,
    propagator_unknown,
)
