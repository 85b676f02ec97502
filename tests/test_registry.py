"""The rule registry is consistent: codes, docs, rule sets and generated docs agree."""

from __future__ import annotations

import re
from importlib import resources

import yaml
from gen_rules_doc import OUT, render

from otlint.checks import DOC_SECTIONS, REGISTRY
from otlint.joins import Join

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
