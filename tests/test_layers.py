"""Imports only run down the layers, and no module imports itself back through others.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import``
of an otlint module counts, at module level, inside functions and under
``TYPE_CHECKING`` alike (a type-only import still ties two modules together for whoever
reads them). There is no list of exceptions: a new edge that breaks a rule fails here
with the path it takes.

The layers, bottom first::

    core        errors, joins, marks, redact, finding, rule, wire, semconv, fs, yamlpos
    settings    otlint's own settings (which rules run, at what level)
    telemetry | configs   the two pipelines, side by side, never importing each other
    registry    every rule, telemetry and config
    report      the ranked report and its formats
    run         orchestration: scan, parallel, check, check_config
    distributed ``check --dask``: run's units read on a Dask cluster
    serve       the sidecar
    cli         the command line

Inside ``telemetry`` the stages have an order of their own: ``corpus`` (the data model)
< ``readers``, ``observe`` and its JSON sibling ``observe_structs`` < ``analysis`` < ``rules``. Inside ``configs``, ``rules``
is on top of the readers and facts.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "otlint"

#: Layers, bottom first; each is a tuple of package prefixes. Prefixes in one layer are
#: siblings: they may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("otlint.core",),
    ("otlint.settings",),
    ("otlint.telemetry", "otlint.configs"),
    ("otlint.registry",),
    ("otlint.report",),
    ("otlint.run",),
    ("otlint.distributed",),
    ("otlint.serve",),
    ("otlint.cli",),
    ("otlint.__main__",),
)

#: Stages inside a package, bottom first; a module of the package in no stage is in
#: the first one.
STAGES: dict[str, tuple[tuple[str, ...], ...]] = {
    "otlint.telemetry": (
        ("corpus",),
        ("readers", "observe", "observe_structs"),
        ("analysis",),
        ("rules",),
    ),
    "otlint.configs": ((), ("rules",)),
    "otlint.report": ((), ("reporters",)),
}


def modules() -> dict[str, Path]:
    """Every otlint module by dotted name."""
    out: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The otlint module ``name`` refers to (a name inside a module: that module)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(known: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported otlint module: line of the first such import}."""
    graph: dict[str, dict[str, int]] = defaultdict(dict)
    for mod, path in known.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                targets = [f"{source}.{alias.name}" for alias in node.names] or [source]
            for target in targets:
                if not target.startswith("otlint") or target.startswith("otlint.rulesets"):
                    continue  # (otlint.rulesets is data: the shipped rule sets)
                found = _resolve(target, known)
                if found is not None and found != mod:
                    graph[mod].setdefault(found, node.lineno)
    return graph


def layer_of(mod: str) -> tuple[int, str]:
    """(layer index, the sibling prefix it belongs to) of a module."""
    if mod == "otlint":
        return 0, "otlint"  # the package root re-exports core names only
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if mod == prefix or mod.startswith(prefix + "."):
                return index, prefix
    raise AssertionError(f"{mod} is in no layer: add it to LAYERS in {__file__}")


def stage_of(mod: str, prefix: str) -> int:
    """The stage of ``mod`` inside the package ``prefix`` (0 when it has no stages)."""
    stages = STAGES.get(prefix)
    if not stages or mod == prefix:
        return 0
    first = mod[len(prefix) + 1 :].split(".")[0]
    for index, names in enumerate(stages):
        if first in names:
            return index
    return 0


def _cycles(graph: dict[str, dict[str, int]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    nodes = sorted(set(graph) | {t for deps in graph.values() for t in deps})
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        yield sorted(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, {})))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])


KNOWN = modules()
GRAPH = imports(KNOWN)


def test_the_graph_is_read() -> None:
    """The reader of the graph sees the imports it must (else every test below is empty)."""
    assert "otlint.core.finding" in GRAPH["otlint.report.report"]
    assert "otlint.telemetry.corpus.corpus" in GRAPH["otlint.telemetry.observe"]
    assert len(KNOWN) > 60


def test_no_import_cycle() -> None:
    """No module reaches itself through the modules it imports."""
    found = list(_cycles(GRAPH))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("mod", sorted(KNOWN))
def test_imports_only_run_down(mod: str) -> None:
    """Each import goes to a lower layer, or down (or across) the stages of its own package."""
    layer, prefix = layer_of(mod)
    wrong = []
    for target, line in sorted(GRAPH.get(mod, {}).items()):
        t_layer, t_prefix = layer_of(target)
        where = f"{KNOWN[mod].relative_to(ROOT.parent)}:{line}: {mod} imports {target}"
        if t_layer > layer:
            wrong.append(f"{where}, a higher layer")
        elif t_layer == layer and t_prefix != prefix and mod != "otlint":
            wrong.append(f"{where}, a sibling that must stay independent")
        elif t_prefix == prefix and stage_of(target, prefix) > stage_of(mod, prefix):
            wrong.append(f"{where}, a later stage of {prefix}")
    assert not wrong, "\n".join(wrong)
