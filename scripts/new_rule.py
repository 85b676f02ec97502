#!/usr/bin/env python3
"""Scaffold a new rule: ``python scripts/new_rule.py CODE name join [--level LEVEL]``.

Writes, in the tree this script is in (ruff's ``scripts/add_rule.py`` is the model):

1. the rule function, with its ``@rule`` and the four docstring sections (What it
   checks / Why it breaks the join / Example / Fix), into the family module of CODE's
   prefix (``TR009`` -> ``otlint/telemetry/rules/trace.py``, ``CF026`` ->
   ``otlint/configs/rules/propagation.py``: ``otlint.registry`` lists them), and the
   function's name at the end of that module's ``RULES``: that is its registration;
2. the fixture file the rule-fixture test reads (``tests/rules/fixtures/CODE.yaml``
   for a telemetry rule, ``tests/configs/fixtures/CODE.yaml`` for a config rule), with
   one case the rule must report and one it must leave alone;
3. the code's line in the shipped rule set ``rules/own-the-joins.yaml``, beside the
   codes of its family;

then regenerates docs/rules.md and the rule set's JSON twin (``make docs``).

The stub reports nothing, so every other test stays green; its fixture's failing case
fails until the check is written. Next: the docstring, the check, real fixture cases,
``make docs`` again, ``make test``.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This script edits the tree it is in, so it reads that tree's registry.
sys.path.insert(0, str(ROOT))

from otlint.core.finding import Level  # noqa: E402
from otlint.core.joins import Join  # noqa: E402
from otlint.registry import (  # noqa: E402
    FAMILIES,
    REGISTRY,
    TELEMETRY_FAMILIES,
    family_of,
)

RULE_SET = ROOT / "rules" / "own-the-joins.yaml"
CODE = re.compile(r"[A-Z]{2}\d{3}")
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
WIDTH = 100  # ruff's line-length: a longer decorator is written one argument a line

TELEMETRY_FIXTURE = """\
rule: {code}
cases:
  - name: TODO the shape that breaks the join
    input:
      traces:
        - resource: {{service.name: checkout}}
          spans:
            - {{trace: 1, id: 1, kind: server}}
    expect:
      - {{service: checkout, count: 1}}
  - name: TODO the healthy shape it leaves alone
    input:
      traces:
        - resource: {{service.name: checkout}}
          spans:
            - {{trace: 1, id: 1, kind: server}}
    expect: []
"""

CONFIG_FIXTURE = """\
rule: {code}
cases:
  - name: TODO the configuration that breaks the join
    files:
      docker-compose.yaml: |
        services:
          checkout:
            image: shop/checkout:1.0.0
            environment:
              OTEL_SERVICE_NAME: checkout
    expect:
      - {{path: docker-compose.yaml, line: 5, column: 15}}
  - name: TODO the configuration it leaves alone
    files:
      docker-compose.yaml: |
        services:
          checkout:
            image: shop/checkout:1.0.0
            environment:
              OTEL_SERVICE_NAME: checkout
    expect: []
"""

FUNCTION = '''\
{decorator}
def {function}({subject}, opts: Options) -> Iterator[Hit]:
    """TODO: in one line, what is wrong (this paragraph is the rule's summary).

    What it checks:
        TODO: which records or files, which fields, and what must hold of them.

    Why it breaks the join:
        TODO: how it breaks the {join} join: {join_text}.

    Example:
        TODO: a record or a configuration that breaks it.

    Fix:
        TODO: what to change, and where.
    """
    yield from ()  # TODO: the check
'''


class Refused(Exception):
    """Why the rule cannot be scaffolded as asked."""


def _decorator(args: list[str]) -> str:
    one_line = f"@rule({', '.join(args)})"
    if len(one_line) <= WIDTH:
        return one_line
    return "@rule(\n" + "".join(f"    {arg},\n" for arg in args) + ")"


def _join(text: str) -> Join:
    for join in Join:
        if text in (join.value, join.name, join.name.lower()):
            return join
    raise Refused(f"unknown join {text!r}: use one of {', '.join(j.value for j in Join)}")


def _check_new(code: str, name: str) -> str:
    """The rule's family prefix, once CODE and NAME are checked to be new and well formed."""
    if not CODE.fullmatch(code):
        raise Refused(f"{code!r} is not a rule code (two capital letters and three digits)")
    if code in REGISTRY:
        raise Refused(f"{code} exists already: {REGISTRY[code].name}")
    if not NAME.fullmatch(name):
        raise Refused(f"{name!r} is not a rule name (lower-case words joined by -)")
    taken = next((r.code for r in REGISTRY.values() if r.name == name), None)
    if taken:
        raise Refused(f"the name {name!r} is {taken}'s")
    try:
        return family_of(code)
    except StopIteration:
        known = ", ".join(FAMILIES)
        raise Refused(
            f"no family module owns {code}'s prefix (families: {known}); a new family starts "
            "with its module, listed in otlint/registry.py"
        ) from None


def _add_function(path: Path, text: str, function: str, needs: tuple[str, ...]) -> None:
    """Insert the rule before the module's ``RULES`` tuple and list it at the tuple's end."""
    source = path.read_text(encoding="utf-8")
    found = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["RULES"]
        and isinstance(node.value, ast.Tuple)
    ]
    if not found:
        raise Refused(f"{path.relative_to(ROOT)} has no `RULES = (...)` tuple to register in")
    assert isinstance(found[0].value, ast.Tuple)
    names = [ast.unparse(item) for item in found[0].value.elts]
    lines = source.splitlines(keepends=True)
    head = "".join(lines[: found[0].lineno - 1])
    missing = [n for n in needs if not re.search(rf"\b{n}\b", head)]
    if missing:
        raise Refused(f"{path.relative_to(ROOT)} does not import {', '.join(missing)}")
    listed = "RULES = (\n" + "".join(f"    {name},\n" for name in [*names, function]) + ")\n"
    rest = "".join(lines[found[0].end_lineno or found[0].lineno :])
    path.write_text(head.rstrip("\n") + "\n\n\n" + text + "\n\n" + listed + rest, encoding="utf-8")


def _add_to_rule_set(code: str, prefix: str) -> None:
    """``  CODE:`` in the rule set, after the highest lower code of its family (else first)."""
    lines = RULE_SET.read_text(encoding="utf-8").splitlines(keepends=True)
    listed = [
        (i, m.group(1))
        for i, line in enumerate(lines)
        if (m := re.match(r"  ([A-Z]{2}\d{3}):", line)) and m.group(1).startswith(prefix)
    ]
    lower = [i for i, c in listed if c < code]
    if lower:
        at = lower[-1] + 1
    elif listed:
        at = listed[0][0]
    else:
        at = len(lines)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    lines.insert(at, f"  {code}:\n")
    RULE_SET.write_text("".join(lines), encoding="utf-8")


def scaffold(code: str, name: str, join_text: str, level_text: str) -> list[Path]:
    """Write the rule, its fixture and its rule-set line; return the files written."""
    join = _join(join_text)
    try:
        level = Level.parse(level_text)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    prefix = _check_new(code, name)
    module = FAMILIES[prefix]
    path = Path(inspect.getfile(module))
    function = name.replace("-", "_")
    if hasattr(module, function):
        raise Refused(f"{module.__name__} has a {function} already: choose another name")
    telemetry = prefix in TELEMETRY_FAMILIES
    args = [f'"{code}"', f'"{name}"', f"Join.{join.name}", f"Level.{level.name}"]
    if not telemetry:
        args.append('target="config"')
    subject = "ctx: Context" if telemetry else "facts: ConfigFacts"
    text = FUNCTION.format(
        decorator=_decorator(args),
        function=function,
        subject=subject,
        join=join.value,
        join_text=join.description,
    )
    needs = ("rule", "Options", "Hit", "Level", "Join", "Iterator", subject.split(": ")[1])
    folder = ROOT / "tests" / ("rules" if telemetry else "configs") / "fixtures"
    fixture = folder / f"{code}.yaml"
    if fixture.exists():
        raise Refused(f"{fixture.relative_to(ROOT)} exists already")
    _add_function(path, text, function, needs)
    if importlib.util.find_spec("ruff") is not None:  # as `make test` will want it
        subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(path)], check=True)
    fixture.write_text(
        (TELEMETRY_FIXTURE if telemetry else CONFIG_FIXTURE).format(code=code), encoding="utf-8"
    )
    _add_to_rule_set(code, prefix if telemetry else "CF")
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rules_doc.py")], check=True, env=env, cwd=ROOT
    )
    return [path, fixture, RULE_SET, RULE_SET.with_suffix(".json"), ROOT / "docs" / "rules.md"]


def main() -> int:
    """Scaffold the rule named on the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("code", help="the new code, e.g. TR009 (its prefix picks the family)")
    parser.add_argument("name", help="the rule's name, e.g. span-end-before-start")
    parser.add_argument("join", help=f"the join it breaks: {', '.join(j.value for j in Join)}")
    parser.add_argument("--level", default="warning", help="default level (default: warning)")
    args = parser.parse_args()
    try:
        written = scaffold(args.code, args.name, args.join, args.level)
    except Refused as exc:
        print(f"new_rule.py: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    print(
        f"next: write {args.code}'s docstring and check, make its fixture cases real, "
        "then `make docs` and `make test`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
