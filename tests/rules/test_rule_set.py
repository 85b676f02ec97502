"""The shipped rule set lists codes and overrides only, and resolves as it always has.

A rule's level and options are declared once, in its ``@rule``; ``rules/own-the-joins.yaml``
names the codes it turns on and writes a level or an option only where it differs
from that declaration (or where ``JUSTIFIED`` says why it repeats it).
``own-the-joins.resolved.json`` is the set's resolved settings as they were when the
defaults still were written twice, taken before the rule set was cut down: the set must
resolve to exactly that, and a rule added since to exactly its own declaration.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from otlint.core.finding import Level
from otlint.registry import REGISTRY
from otlint.settings import load_settings

RULE_SET = Path(__file__).resolve().parents[2] / "rules" / "own-the-joins.yaml"
RESOLVED = Path(__file__).parent / "own-the-joins.resolved.json"

#: Values the rule set writes although they equal the rule's declaration: (code, key) -> why.
JUSTIFIED: dict[tuple[str, str], str] = {}


def _entries() -> dict[str, object]:
    data = yaml.safe_load(RULE_SET.read_text(encoding="utf-8"))
    rules = data["rules"]
    assert isinstance(rules, dict)
    return {str(code): entry for code, entry in rules.items()}


def test_every_listed_code_is_a_rule() -> None:
    unknown = sorted(set(_entries()) - set(REGISTRY))
    assert not unknown, f"the rule set lists codes no rule has: {unknown}"


def test_every_value_written_is_an_override() -> None:
    repeated = []
    for code, entry in _entries().items():
        rule = REGISTRY[code]
        if entry is None:
            continue
        written = {"level": entry} if not isinstance(entry, dict) else entry
        for key, value in written.items():
            if key == "level":
                off = value is False or str(value).lower() == "off"  # turning a rule off changes it
                same = not off and Level.parse(str(value)) is rule.level
            else:
                name = str(key).replace("-", "_")
                assert name in rule.options, f"{code} has no option {key!r}"
                same = value == rule.options[name]
            if same and (code, str(key)) not in JUSTIFIED:
                repeated.append(f"{code}.{key}: {value!r}")
    assert not repeated, (
        "the rule set repeats the rule's own declaration (drop it, or say why in JUSTIFIED): "
        + ", ".join(repeated)
    )


def test_the_rule_set_resolves_as_it_always_has(tmp_path: Path) -> None:
    before = json.loads(RESOLVED.read_text(encoding="utf-8"))
    settings = load_settings(REGISTRY, cwd=tmp_path, isolated=True)
    assert settings.sources[-1].endswith("own-the-joins.yaml")
    assert (settings.fail_on.value if settings.fail_on else "never") == before["fail-on"]
    assert len(settings.overrides) == before["overrides"]
    now = {
        code: {"level": one.level.value, "options": dict(one.options)}
        for code, one in settings.rules.items()
    }
    assert {code: now.get(code) for code in before["rules"]} == before["rules"]
    for code in sorted(set(now) - set(before["rules"])):  # rules added since
        rule = REGISTRY[code]
        assert now[code] == {"level": rule.level.value, "options": dict(rule.options)}, code
