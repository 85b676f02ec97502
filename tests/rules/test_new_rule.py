"""scripts/new_rule.py, run on a copy of the tree: the rule it scaffolds is registered,
documented and listed in the rule set, and its fixture cases are collected and run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for name in ("otlint", "scripts", "tests", "rules", "docs"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _run(tree: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [sys.executable, *argv], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tree with a telemetry rule and a config rule scaffolded in it."""
    copy = _copy(tmp_path_factory.mktemp("new_rule"))
    for argv in (
        ("TR099", "scaffolded-trace-rule", "trace"),
        ("CF099", "scaffolded-config-rule", "input", "--level", "info"),
    ):
        done = _run(copy, "scripts/new_rule.py", *argv)
        assert done.returncode == 0, done.stderr
    return copy


def test_the_rules_are_registered_in_their_family(tree: Path) -> None:
    code = (
        "import json; from otlint.registry import REGISTRY\n"
        "print(json.dumps({c: [r.name, r.join.value, r.level.value, r.target, "
        "r.check.__module__, r.summary] for c, r in REGISTRY.items() if c.endswith('099')}))"
    )
    done = _run(tree, "-c", code)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["TR099"][:5] == [
        "scaffolded-trace-rule",
        "trace",
        "warning",
        "telemetry",
        "otlint.telemetry.rules.trace",
    ]
    assert found["CF099"][:5] == [
        "scaffolded-config-rule",
        "input",
        "info",
        "config",
        "otlint.configs.rules.suppressions",
    ]


def test_the_rules_are_documented_and_in_the_rule_set(tree: Path) -> None:
    docs = (tree / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in ("TR099", "CF099"):
        section = docs.split(f"### {code}\n", 1)[1].split("\n### ", 1)[0]
        for title in ("What it checks", "Why it breaks the join", "Example", "Fix"):
            assert f"**{title}.**" in section, (code, title)
    rule_set = (tree / "rules" / "own-the-joins.yaml").read_text(encoding="utf-8")
    assert "  TR008:\n  TR099:\n" in rule_set
    assert "  CF090:\n  CF099:\n" in rule_set
    twin = json.loads((tree / "rules" / "own-the-joins.json").read_text(encoding="utf-8"))
    assert "TR099" in twin["rules"] and "CF099" in twin["rules"]


def test_the_scaffold_is_lint_clean_and_the_docs_current(tree: Path) -> None:
    touched = ["otlint/telemetry/rules/trace.py", "otlint/configs/rules/suppressions.py"]
    for argv in (("check", *touched), ("format", "--check", *touched)):
        done = _run(tree, "-m", "ruff", *argv)
        assert done.returncode == 0, done.stdout + done.stderr
    done = _run(tree, "scripts/gen_rules_doc.py", "--check")
    assert done.returncode == 0, done.stderr


def test_the_fixture_cases_are_collected_and_the_stub_is_silent(tree: Path) -> None:
    tests = {
        "TR099": "tests/rules/test_rule_fixtures.py",
        "CF099": "tests/configs/test_config_fixtures.py",
    }
    for code, test in tests.items():
        done = _run(tree, "-m", "pytest", test, "-k", code, "-p", "no:cacheprovider")
        # The stub reports nothing: its passing case passes, its failing case fails.
        assert "1 failed, 1 passed" in done.stdout, done.stdout
    done = _run(
        tree,
        "-m",
        "pytest",
        "tests/test_registry.py",
        "-p",
        "no:cacheprovider",
        "-k",
        "family or documents or unique or option or docs_rules_md",
    )
    assert done.returncode == 0, done.stdout


def test_it_refuses_a_code_that_exists_and_a_prefix_no_family_owns(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    taken = _run(copy, "scripts/new_rule.py", "TR001", "another-rule", "trace")
    assert taken.returncode == 2 and "TR001 exists already" in taken.stderr
    orphan = _run(copy, "scripts/new_rule.py", "ZZ001", "another-rule", "trace")
    assert orphan.returncode == 2 and "no family module owns" in orphan.stderr
    unchanged = (copy / "otlint" / "telemetry" / "rules" / "trace.py").read_text(encoding="utf-8")
    assert unchanged == (ROOT / "otlint" / "telemetry" / "rules" / "trace.py").read_text(
        encoding="utf-8"
    )
