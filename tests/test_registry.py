"""The rule registry is consistent: codes, docs, rule sets and generated docs agree."""

from __future__ import annotations

import ast
import inspect
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
from otlint.core.rule import OptionType
from otlint.registry import (
    CONFIG_FAMILIES,
    DOC_SECTIONS,
    FAMILIES,
    REGISTRY,
    TELEMETRY_FAMILIES,
    family_of,
)
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


def test_telemetry_families_are_named_for_their_prefix() -> None:
    named = {prefix: module.__name__ for prefix, module in TELEMETRY_FAMILIES.items()}
    assert named == {
        prefix: f"otlint.telemetry.rules.{name}"
        for prefix, name in {
            "ID": "identity",
            "SE": "secret",
            "TR": "trace",
            "LT": "log_trace",
            "MT": "metric_trace",
            "SR": "signal_resource",
            "DP": "deploy",
            "IN": "infra",
            "PE": "peer",
            "SC": "schema",
            "RD": "reader",
        }.items()
    }
    assert all(m.__name__.startswith("otlint.configs.rules.") for m in CONFIG_FAMILIES.values())


def test_each_family_module_holds_the_rules_of_its_prefix_and_nothing_else() -> None:
    for prefix, module in FAMILIES.items():
        codes = [r.code for r in module.RULES]
        assert codes, f"{module.__name__} lists no rules"
        assert all(family_of(code) == prefix for code in codes), (module.__name__, codes)
    for code, rule in REGISTRY.items():
        home = FAMILIES[family_of(code)]
        assert inspect.getmodule(rule.check) is home, f"{code} is not defined in {home.__name__}"
        assert rule in home.RULES
        assert rule.target == ("telemetry" if family_of(code) in TELEMETRY_FAMILIES else "config")


def test_no_family_imports_another() -> None:
    families = {module.__name__ for module in FAMILIES.values()}
    for module in FAMILIES.values():
        path = inspect.getfile(module)
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                named = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
                others = (named & families) - {module.__name__}
                assert not others, (
                    f"{module.__name__} imports the family {others}: "
                    "move what both need into a helper module named for what it does"
                )


def test_every_option_is_declared_with_a_type_its_default_has() -> None:
    for code, rule in REGISTRY.items():
        assert set(rule.option_types) == set(rule.options), code
        for name, default in rule.options.items():
            kind = rule.option_types[name]
            assert isinstance(kind, OptionType) and kind.fits(default), (code, name)


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
