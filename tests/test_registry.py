"""The rule registry is consistent: codes, docs, rule sets and generated docs agree."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from gen_rules_doc import OUT, render, twins

from otlint import settings as config
from otlint.core.joins import Join
from otlint.registry import DOC_SECTIONS, REGISTRY
from otlint.settings import sources

CODE = re.compile(r"^[A-Z]{2}\d{3}$")


def test_codes_and_names_are_unique_and_well_formed() -> None:
    names = [r.name for r in REGISTRY.values()]
    assert len(names) == len(set(names))
    for code, rule in REGISTRY.items():
        assert CODE.match(code), code
        assert rule.code == code
        assert isinstance(rule.join, Join)
        assert re.fullmatch(r"[a-z0-9-]+", rule.name), rule.name


def test_every_rule_documents_what_why_example_fix() -> None:
    for code, rule in REGISTRY.items():
        assert rule.summary, code
        for section in DOC_SECTIONS:
            assert rule.section(section), f"{code} docstring lacks a '{section}:' section"


def test_default_rule_set_lists_every_rule_and_nothing_else() -> None:
    text = (resources.files("otlint.rulesets") / "own-the-joins.yaml").read_text(encoding="utf-8")
    listed = set(yaml.safe_load(text)["rules"])
    assert listed == set(REGISTRY)


def test_docs_rules_md_is_generated_and_current() -> None:
    assert OUT.read_text(encoding="utf-8") == render(), "run `make docs`"


def test_shipped_rule_set_twins_are_current() -> None:
    for path, text in twins().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make docs`"


def test_settings_from_the_twin_equal_those_from_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_twin = config.load_settings(REGISTRY, cwd=tmp_path, isolated=True)
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for path in twins():
        yaml_path = path.with_suffix(".yaml")
        (shipped / yaml_path.name).write_text(
            yaml_path.read_text(encoding="utf-8"), encoding="utf-8"
        )
    monkeypatch.setattr(sources, "_rulesets_dir", lambda: shipped)
    from_yaml = config.load_settings(REGISTRY, cwd=tmp_path, isolated=True)
    assert from_yaml.rules == from_twin.rules
    assert from_yaml.options == from_twin.options
    assert from_yaml.fail_on == from_twin.fail_on


def test_a_run_without_a_yaml_config_does_not_load_pyyaml(tmp_path: Path) -> None:
    code = (
        "import sys; from otlint.cli.main import main\n"
        "try:\n    main(['check', '/dev/null', '--isolated', '-o', '/dev/null', '--exit-zero'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'yaml' not in sys.modules, 'PyYAML was loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
