"""Every config rule's fixture cases (tests/configs/fixtures/CODE.yaml), run through the real engine.

A fixture file holds named cases; each has ``files`` (path -> text of real-shaped
configuration files, written to a temporary folder that becomes the working
directory), optional rule ``options``, optional ``also`` (more codes to enable, for
rules that need others to run, such as the unused-suppression rule), optional
``inputs`` (what is passed on the command line; default: every file, in order) and
``expect``: the findings of that rule, each matched on the keys it gives — ``path``,
``line`` and ``column`` of the first location, ``service``, ``count``, a ``message``
substring and a ``context`` subset. ``expect: []`` asserts the rule is silent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otlint.core.finding import Finding
from otlint.registry import REGISTRY
from otlint.run.check_config import evaluate_configs, read_configs
from otlint.settings import RuleSettings, Settings

from conftest import fixture_cases, fixture_docs

FIXTURES = Path(__file__).parent / "fixtures"


def _cases() -> list[Any]:
    return fixture_cases(FIXTURES)


def _matches(finding: Finding, want: dict[str, Any]) -> bool:
    data = finding.to_json()
    first = data["locations"][0] if data["locations"] else {}
    for key, value in want.items():
        if key == "message":
            if value not in data["message"]:
                return False
        elif key == "context":
            if any(data["context"].get(k) != v for k, v in value.items()):
                return False
        elif key in ("path", "line", "column"):
            if first.get(key) != value:
                return False
        elif data.get(key) != value:
            return False
    return True


def run_case(
    code: str, case: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> list[Finding]:
    """Write the case's files under ``folder``, check them from there, return ``code``'s findings."""
    for name, text in case["files"].items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    rules = {}
    for enabled in [code, *case.get("also", [])]:
        rule = REGISTRY[enabled]
        options = (
            {**rule.options, **(case.get("options") or {})}
            if enabled == code
            else dict(rule.options)
        )
        rules[enabled] = RuleSettings(rule.level, options)
    settings = Settings(rules=rules, fail_on=None, sources=[], cwd=folder)
    facts = read_configs(case.get("inputs") or list(case["files"]))
    return [f for f in evaluate_configs(facts, settings) if f.code == code]


@pytest.mark.parametrize(("code", "case"), _cases())
def test_fixture_case(
    code: str, case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = run_case(code, case, tmp_path, monkeypatch)
    expected = case.get("expect") or []
    shown = "\n".join(f"{f.locations[0] if f.locations else '-'}: {f.message}" for f in findings)
    assert len(findings) == len(expected), shown
    unmatched = list(findings)
    for want in expected:
        match = next((f for f in unmatched if _matches(f, want)), None)
        assert match is not None, f"{want}\nnot among:\n{shown}"
        unmatched.remove(match)


def test_every_config_rule_has_passing_and_failing_cases() -> None:
    docs = fixture_docs(
        FIXTURES, [code for code, rule in REGISTRY.items() if rule.target == "config"]
    )
    for code, doc in docs.items():
        for case in doc["cases"]:
            for want in case.get("expect") or []:
                assert {"path", "line", "column"} <= set(want), (
                    f"{code}: {case['name']}: give path, line and column"
                )


def test_no_fixture_file_without_a_rule() -> None:
    for path in FIXTURES.glob("*.yaml"):
        assert path.stem in REGISTRY and REGISTRY[path.stem].target == "config", path.name
