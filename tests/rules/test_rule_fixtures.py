"""Every rule's fixture cases (tests/rules/fixtures/CODE.yaml), run through the real engine.

A fixture file holds named cases; each has an ``input`` (telemetry in the small YAML
language of ``otlp_builder``, written to real files), optional rule ``options``, and
``expect``: the findings of that rule, each matched on the keys it gives (service,
peer, count, message substring ``message``, a ``context`` subset). ``expect: []``
asserts the rule is silent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otlint.registry import REGISTRY
from otlint.run.check import evaluate, scan
from otlint.settings import RuleSettings, Settings

from conftest import fixture_cases, fixture_docs
from otlp_builder import write_input

FIXTURES = Path(__file__).parent / "fixtures"


def _cases() -> list[Any]:
    return fixture_cases(FIXTURES)


def _matches(finding: Any, want: dict[str, Any]) -> bool:
    data = finding.to_json()
    for key, value in want.items():
        if key == "message":
            if value not in data["message"]:
                return False
        elif key == "context":
            if any(data["context"].get(k) != v for k, v in value.items()):
                return False
        elif data.get(key) != value:
            return False
    return True


@pytest.mark.parametrize(("code", "case"), _cases())
def test_fixture_case(code: str, case: dict[str, Any], tmp_path: Path) -> None:
    rule = REGISTRY[code]
    paths = write_input(case["input"], tmp_path)
    corpus, _ = scan(paths)
    options = {**rule.options, **(case.get("options") or {})}
    settings = Settings(rules={code: RuleSettings(rule.level, options)}, fail_on=None, sources=[])
    findings = [f for f in evaluate(corpus, settings) if f.code == code]
    expected = case.get("expect") or []
    assert len(findings) == len(expected), [f.to_json() for f in findings]
    unmatched = list(findings)
    for want in expected:
        match = next((f for f in unmatched if _matches(f, want)), None)
        assert match is not None, (want, [f.to_json() for f in unmatched])
        unmatched.remove(match)


def test_every_rule_has_passing_and_failing_cases() -> None:
    fixture_docs(FIXTURES, [code for code, rule in REGISTRY.items() if rule.target == "telemetry"])
