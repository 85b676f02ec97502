"""Config loading: rule sets, extends, selectors, overrides, discovery, errors."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from otlint import settings as config
from otlint.core.errors import OtlintError
from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Rule, rule
from otlint.core.yamlpos import Position, load_all_with_marks, load_yaml_with_marks
from otlint.settings import Settings, find_config, load_settings, loader


def _check(ctx: Any, options: Mapping[str, Any]) -> Iterable[Hit]:
    return []


REGISTRY: dict[str, Rule] = {
    r.code: r
    for r in (
        rule("ID001", "service-name-missing", Join.IDENTITY, Level.ERROR)(_check),
        rule(
            "ID003",
            "identity-incomplete",
            Join.IDENTITY,
            Level.WARNING,
            required=["service.namespace", "service.instance.id"],
        )(_check),
        rule("TR004", "orphan-span", Join.TRACE, Level.WARNING)(_check),
        rule("TR006", "deep-trace", Join.TRACE, Level.INFO, max_depth=64)(_check),
        rule("LT001", "log-without-trace", Join.LOG_TRACE, Level.WARNING)(_check),
        rule("SC001", "key-pattern", Join.SCHEMA, Level.WARNING, pattern="")(_check),
        rule(
            "SC003",
            "key-drift",
            Join.SCHEMA,
            Level.INFO,
            ratio=0.5,
            strict=False,
            prefix=None,
        )(_check),
    )
}

BASE = """\
fail-on: warning
rules:
  ID001: error
  ID003: warning
  TR004: warning
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(fn: Callable[[], object]) -> str:
    """The OtlintError message ``fn`` raises; it must be one line."""
    with pytest.raises(OtlintError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    return message


def load(project: Path, **kwargs: Any) -> Settings:
    return load_settings(REGISTRY, cwd=project, **kwargs)


def levels(settings: Settings) -> dict[str, str]:
    return {code: rs.level.value for code, rs in settings.rules.items()}


@pytest.fixture(autouse=True)
def default_ruleset(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The shipped default is the lead's; tests use a small base over the fake registry."""
    path = write(tmp_path_factory.mktemp("shipped") / "base.yaml", BASE)
    monkeypatch.setattr(loader, "DEFAULT_RULESET", str(path))
    return path


# --------------------------------------------------------------------------- extends


def test_no_config_uses_default_ruleset(tmp_path: Path, default_ruleset: Path) -> None:
    settings = load(tmp_path)
    assert levels(settings) == {"ID001": "error", "ID003": "warning", "TR004": "warning"}
    assert settings.fail_on is Level.WARNING
    assert settings.sources == [str(default_ruleset)]
    # Rules not listed are off, but their options are still answerable.
    assert settings.level_for("TR006") is None
    assert settings.options_for("TR006") == {"max_depth": 64}


def test_project_config_without_extends_extends_default(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  LT001: info\n")
    settings = load(tmp_path)
    assert levels(settings) == {
        "ID001": "error",
        "ID003": "warning",
        "TR004": "warning",
        "LT001": "info",
    }
    assert settings.sources[-1] == ".otlint.yaml"


def test_extends_null_starts_from_nothing(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "extends:\nrules:\n  LT001: info\n")
    settings = load(tmp_path)
    assert levels(settings) == {"LT001": "info"}
    assert settings.fail_on is Level.WARNING  # the built-in default
    assert settings.sources == [".otlint.yaml"]


def test_extends_chain_child_wins_per_key_and_per_option(tmp_path: Path) -> None:
    write(
        tmp_path / "sets" / "root.yaml",
        """\
        extends:
        fail-on: info
        rules:
          ID001: error
          ID003: {level: warning, required: [a]}
          SC003: {ratio: 0.9, strict: true}
        """,
    )
    write(
        tmp_path / "sets" / "mid.yaml",
        """\
        extends: root.yaml
        rules:
          ID003: {level: info}
          SC003: {prefix: app.}
          TR004: warning
        """,
    )
    write(
        tmp_path / ".otlint.yaml",
        """\
        extends: sets/mid.yaml
        fail-on: never
        rules:
          ID003: {required: [b]}
          SC003: {ratio: 1}
        """,
    )
    settings = load(tmp_path)
    assert levels(settings) == {
        "ID001": "error",
        "ID003": "info",
        "TR004": "warning",
        "SC003": "info",
    }
    assert settings.options_for("ID003") == {"required": ["b"]}
    assert settings.options_for("SC003") == {"ratio": 1.0, "strict": True, "prefix": "app."}
    assert isinstance(settings.options_for("SC003")["ratio"], float)
    assert settings.fail_on is None
    assert settings.sources == ["sets/root.yaml", "sets/mid.yaml", ".otlint.yaml"]


def test_options_do_not_leak_into_registry_defaults(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  ID003: {required: [x]}\n")
    settings = load(tmp_path)
    assert settings.options_for("ID003") == {"required": ["x"]}
    assert REGISTRY["ID003"].options == {"required": ["service.namespace", "service.instance.id"]}
    with pytest.raises(TypeError):
        settings.options_for("ID003")["required"] = []  # type: ignore[index]


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "extends: a.yaml\n")
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "rules: {}\nextends: a.yaml\n")
    message = error_of(lambda: load(tmp_path))
    assert message == "b.yaml:2:10: extends cycle: .otlint.yaml -> a.yaml -> b.yaml -> a.yaml"


def test_extends_itself_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "extends: ./.otlint.yaml\n")
    message = error_of(lambda: load(tmp_path))
    assert message == ".otlint.yaml:1:10: extends cycle: .otlint.yaml -> .otlint.yaml"


def test_extends_missing_file_and_unknown_shipped_name(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "extends: nope/base.yaml\n")
    assert error_of(lambda: load(tmp_path)).startswith(
        ".otlint.yaml:1:10: extends 'nope/base.yaml': no such file ("
    )
    write(tmp_path / ".otlint.yaml", "extends: no-such-set\n")
    message = error_of(lambda: load(tmp_path))
    assert message.startswith(".otlint.yaml:1:10: unknown rule set 'no-such-set'")
    assert "(shipped:" in message


# --------------------------------------------------------------------------- select / ignore


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        (["ID001"], {"ID001": "error"}),
        (["ID"], {"ID001": "error", "ID003": "warning"}),
        (["TR00"], {"TR004": "warning", "TR006": "info"}),  # TR006 was off: registry default
        (["trace"], {"TR004": "warning", "TR006": "info"}),
        (["identity", "log-trace"], {"ID001": "error", "ID003": "warning", "LT001": "warning"}),
        (["ALL"], {c: r.level.value for c, r in REGISTRY.items()}),
        ([], {}),
    ],
)
def test_select(tmp_path: Path, selectors: list[str], expected: dict[str, str]) -> None:
    write(tmp_path / ".otlint.yaml", f"select: {selectors}\n")
    assert levels(load(tmp_path)) == expected


def test_select_keeps_inherited_levels_and_turns_on_at_registry_default(tmp_path: Path) -> None:
    write(tmp_path / "parent.yaml", "rules:\n  ID003: info\n  SC001: off\n")
    write(tmp_path / ".otlint.yaml", "extends: parent.yaml\nselect: [ID, SC]\n")
    # ID003 keeps the parent's info; ID001, SC001, SC003 were off and come on at default.
    assert levels(load(tmp_path)) == {
        "ID001": "error",
        "ID003": "info",
        "SC001": "warning",
        "SC003": "info",
    }


def test_same_file_rules_beat_select_and_ignore_beats_both(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        """\
        select: [ALL]
        ignore: [schema, LT001]
        rules:
          TR006: off
          TR004: error
          SC001: error
        """,
    )
    assert levels(load(tmp_path)) == {"ID001": "error", "ID003": "warning", "TR004": "error"}


def test_child_can_reenable_what_parent_ignored(tmp_path: Path) -> None:
    write(tmp_path / "parent.yaml", "rules: {ID001: error, TR004: warning}\nignore: [TR004]\n")
    write(tmp_path / ".otlint.yaml", "extends: parent.yaml\nrules:\n  TR004: {}\n")
    assert levels(load(tmp_path)) == {"ID001": "error", "TR004": "warning"}


def test_levels_and_off_shorthands(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        """\
        rules:
          ID001: info
          ID003: {level: off}
          TR004: off
          LT001: ERROR
          SC001: "off"
        """,
    )
    settings = load(tmp_path)
    assert levels(settings) == {"ID001": "info", "LT001": "error"}
    assert settings.level_for("TR004") is None


# --------------------------------------------------------------------------- validation


def test_unknown_option_points_at_the_key(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        """\
        fail-on: warning
        select: [ALL]
        ignore: [SC003]
        rules:
          ID001: error
          ID003:
            requird: [service.namespace]
        """,
    )
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:7:5: unknown option 'requird' for ID003 (options: required); "
        "did you mean 'required'?"
    )


def test_option_on_rule_without_options(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  TR004: {depth: 3}\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:2:11: unknown option 'depth' for TR004 (TR004 has no options, only level)"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "ID003: {required: service.namespace}",
            "2:21: option 'required' of ID003 must be a list of strings, not a string",
        ),
        (
            "ID003: {required: [a, 3]}",
            "2:21: option 'required' of ID003 must be a list of strings, not a list",
        ),
        (
            "TR006: {max_depth: deep}",
            "2:22: option 'max_depth' of TR006 must be an integer, not a string",
        ),
        (
            "TR006: {max_depth: true}",
            "2:22: option 'max_depth' of TR006 must be an integer, not a boolean",
        ),
        (
            "SC003: {ratio: half}",
            "2:18: option 'ratio' of SC003 must be a number, not a string",
        ),
        (
            "SC003: {strict: 1}",
            "2:19: option 'strict' of SC003 must be true or false, not an integer",
        ),
        (
            "SC003: {prefix: 3}",
            "2:19: option 'prefix' of SC003 must be a string, not an integer",
        ),
        (
            "SC001: {pattern: off}",
            "2:20: option 'pattern' of SC001 must be a string, not a boolean "
            "(YAML reads yes/no/on/off as booleans: quote the word)",
        ),
    ],
)
def test_option_types(tmp_path: Path, entry: str, message: str) -> None:
    write(tmp_path / ".otlint.yaml", f"rules:\n  {entry}\n")
    assert error_of(lambda: load(tmp_path)) == f".otlint.yaml:{message}"


def test_option_spelling_with_hyphen_and_none_default(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  TR006: {max-depth: 5}\n  SC003: {prefix: app.}\n")
    settings = load(tmp_path)
    assert settings.options_for("TR006") == {"max_depth": 5}
    assert settings.options_for("SC003")["prefix"] == "app."


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "select: [ALL]\nfail_on: warning\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:2:1: unknown key 'fail_on'; did you mean 'fail-on'? "
        "(keys: extends, fail-on, select, ignore, rules, services, paths)"
    )


def test_unknown_rule_code_suggests(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  ID0003: info\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:2:3: unknown rule 'ID0003'; did you mean 'ID003'?"
    )
    write(tmp_path / ".otlint.yaml", "rules:\n  TR: info\n")
    assert "rules takes exact codes" in error_of(lambda: load(tmp_path))
    write(tmp_path / ".otlint.yaml", "rules:\n  orphan-span: info\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:2:3: rules are keyed by code: write 'TR004' for 'orphan-span'"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select: [ID, XX9]\n", "1:14: unknown rule or prefix 'XX9' in select"),
        (
            "ignore:\n  - TR\n  - traces\n",
            "3:5: unknown join 'traces'; did you mean 'trace'? (joins: ",
        ),
        (
            "select: [id]\n",
            "1:10: unknown join 'id'; did you mean 'ID'? (codes and ALL are upper case)",
        ),
        ("select: ID\n", "1:9: select must be a list of rule codes, prefixes or join names"),
    ],
)
def test_unknown_selectors(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / ".otlint.yaml", text)
    assert error_of(lambda: load(tmp_path)).startswith(f".otlint.yaml:{message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  ID001: critical\n",
            "2:10: unknown level 'critical' for ID001: use error, warning, info or off",
        ),
        (
            "rules:\n  ID001: {level: warn}\n",
            "2:18: unknown level 'warn' for ID001: use error, warning, info or off; did you mean 'warning'?",
        ),
        (
            "rules:\n  ID001: on\n",
            "2:10: the level of ID001 must be error, warning, info or off, not a boolean",
        ),
        (
            "fail-on: sometimes\n",
            "1:10: fail-on: unknown threshold 'sometimes': use error, warning, info or never",
        ),
        ("fail-on: off\n", "1:10: fail-on must be error, warning, info or never, not a boolean"),
        (
            "rules: [ID001]\n",
            "1:8: rules must be a mapping of rule codes to levels or settings, not a list",
        ),
        ("extends: 3\n", "1:10: extends must be a rule set name or a path, not an integer"),
        ("- ID001\n", "1:1: a config must be a mapping of settings"),
    ],
)
def test_bad_values(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / ".otlint.yaml", text)
    assert error_of(lambda: load(tmp_path)).startswith(f".otlint.yaml:{message}")


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  ID003: info\n  TR004: off\n  ID003: error\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:4:3: duplicate key 'ID003' (first at line 2): "
        "YAML would silently keep only the last; merge them"
    )


def test_yaml_syntax_error(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules:\n  ID001: error\n   TR004: off\n")
    assert error_of(lambda: load(tmp_path)) == (
        ".otlint.yaml:3:9: invalid YAML: mapping values are not allowed here"
    )


def test_errors_in_parent_name_the_parent(tmp_path: Path) -> None:
    write(tmp_path / "sets" / "parent.yaml", "rules:\n  ID003:\n    level: info\n    requird: []\n")
    write(tmp_path / ".otlint.yaml", "extends: sets/parent.yaml\n")
    assert error_of(lambda: load(tmp_path)).startswith(
        "sets/parent.yaml:4:5: unknown option 'requird' for ID003"
    )


# --------------------------------------------------------------------------- overrides


def test_per_service_overrides(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        """\
        rules:
          SC001: warning
        services:
          "legacy-*":
            ignore: [ID003]
            rules: {SC001: info}
          "<none>":
            select: [ID001]
          "legacy-billing":
            rules: {ID003: error}
        """,
    )
    settings = load(tmp_path)
    assert settings.level_for("ID003", "checkout") is Level.WARNING
    assert settings.level_for("ID003", "legacy-orders") is None
    assert settings.level_for("SC001", "legacy-orders") is Level.INFO
    assert settings.level_for("SC001", "checkout") is Level.WARNING
    # Later overrides win: legacy-billing turns ID003 back on at its own level.
    assert settings.level_for("ID003", "legacy-billing") is Level.ERROR
    # "<none>" is the missing service name.
    assert settings.level_for("ID001", None) is Level.ERROR
    assert settings.level_for("TR004", None) is None
    assert settings.level_for("TR004", "<none>-ish") is Level.WARNING
    # An override cannot turn on a rule that is off everywhere.
    assert settings.level_for("TR006", "legacy-billing") is None


def test_per_path_overrides(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(
        project / ".otlint.yaml",
        """\
        paths:
          "fixtures/**": {ignore: [ALL]}
          "fixtures/keep/*.json": {select: [ID]}
          "*.pb": {rules: {TR004: info}}
          "**/gen/?.json": {ignore: [identity]}
        """,
    )
    settings = load(project)
    assert settings.level_for("ID001", path="fixtures/a/b.json") is None
    assert settings.level_for("ID001", path="./fixtures/b.json") is None
    # Relative to the config's directory, also when run from elsewhere or absolute.
    assert settings.level_for("ID001", path=str(project / "fixtures" / "x.json")) is None
    assert settings.level_for("ID001", path="data/x.json") is Level.ERROR
    assert settings.level_for("ID001", path="fixtures/keep/x.json") is Level.ERROR
    assert settings.level_for("TR004", path="fixtures/keep/x.json") is None
    assert (
        settings.level_for("TR004", path="fixtures/keep/sub/x.json") is None
    )  # * stays in a segment
    # A glob without "/" matches the file name anywhere.
    assert settings.level_for("TR004", path="dumps/2024/a.pb") is Level.INFO
    assert settings.level_for("ID001", path="gen/a.json") is None
    assert settings.level_for("ID001", path="x/y/gen/a.json") is None
    assert settings.level_for("ID001", path="x/y/gen/ab.json") is Level.ERROR
    assert settings.level_for("ID001") is Level.ERROR  # no path: path overrides don't apply

    nested = load_settings(REGISTRY, config=project / ".otlint.yaml", cwd=project / "fixtures")
    assert nested.level_for("ID001", path="a.json") is None  # fixtures/a.json


def test_services_and_paths_combine(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        'services:\n  "api": {rules: {TR004: error}}\npaths:\n  "old/*": {ignore: [trace]}\n',
    )
    settings = load(tmp_path)
    assert settings.level_for("TR004", "api", "new/x.json") is Level.ERROR
    assert settings.level_for("TR004", "api", "old/x.json") is None
    assert settings.level_for("TR004", "web", "new/x.json") is Level.WARNING


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'services:\n  "legacy-*":\n    rules:\n      ID003: {required: []}\n',
            "4:15: options can't be set per service: set 'required' in the top-level rules.ID003",
        ),
        (
            'paths:\n  "data/[ab":\n    ignore: [ALL]\n',
            "2:3: bad path glob 'data/[ab': unclosed '['",
        ),
        ('services:\n  "":\n    ignore: [ALL]\n', "2:3: bad service glob '': empty glob"),
        (
            'services:\n  "x":\n    fail-on: never\n',
            "3:5: 'fail-on' can't be set per service: only select, ignore, rules can",
        ),
        (
            'services:\n  "x":\n    ignroe: [ID]\n',
            "3:5: unknown key 'ignroe'; did you mean 'ignore'?",
        ),
        ('services:\n  "x":\n    ignore: [ID9]\n', "3:14: unknown rule or prefix 'ID9' in ignore"),
        ('services:\n  "x":\n    rules: {ID001: loud}\n', "3:20: unknown level 'loud' for ID001"),
    ],
)
def test_override_errors(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / ".otlint.yaml", text)
    assert error_of(lambda: load(tmp_path)).startswith(f".otlint.yaml:{message}")


def test_overrides_from_parent_apply_before_child(tmp_path: Path) -> None:
    write(
        tmp_path / "parent.yaml",
        'rules: {ID001: error}\nservices:\n  "*": {rules: {ID001: info}}\n',
    )
    write(
        tmp_path / ".otlint.yaml",
        'extends: parent.yaml\nservices:\n  "api": {rules: {ID001: warning}}\n',
    )
    settings = load(tmp_path)
    assert settings.level_for("ID001", "web") is Level.INFO
    assert settings.level_for("ID001", "api") is Level.WARNING
    assert settings.rules["ID001"].level is Level.ERROR


# --------------------------------------------------------------------------- discovery


def test_find_config_walks_up(tmp_path: Path) -> None:
    found = write(tmp_path / ".otlint.yml", "rules: {}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == found
    settings = load(deep)
    assert settings.sources[-1] == str(found)


def test_find_config_prefers_nearest_and_yaml_over_pyproject(tmp_path: Path) -> None:
    top = write(tmp_path / ".otlint.yaml", "rules: {}\n")
    sub = tmp_path / "sub"
    write(sub / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.otlint]: passed over
    assert find_config(sub) == top
    write(sub / "pyproject.toml", '[tool.otlint]\nselect = ["ID"]\n')
    assert find_config(sub) == sub / "pyproject.toml"
    write(sub / ".otlint.yaml", "rules: {}\n")
    assert find_config(sub) == sub / ".otlint.yaml"
    write(sub / ".otlint.yml", "rules: {}\n")
    assert "keep one" in error_of(lambda: find_config(sub))


def test_find_config_from_a_file_and_nothing_found(tmp_path: Path) -> None:
    if find_config(tmp_path.parent) is not None:
        pytest.skip("a config above the temporary directory")
    assert find_config(tmp_path) is None
    write(tmp_path / ".otlint.yaml", "rules: {}\n")
    assert find_config(write(tmp_path / "data" / "dump.json", "{}")) == tmp_path / ".otlint.yaml"


def test_pyproject_tool_otlint(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "svc"

        [tool.otlint]
        fail-on = "info"
        select = ["ID", "TR004"]

        [tool.otlint.rules.ID003]
        level = "info"
        required = ["service.namespace"]

        [tool.otlint.services."legacy-*"]
        ignore = ["ID001"]
        """,
    )
    (tmp_path / "pkg").mkdir()
    settings = load(tmp_path / "pkg")
    assert levels(settings) == {"ID001": "error", "ID003": "info", "TR004": "warning"}
    assert settings.options_for("ID003") == {"required": ["service.namespace"]}
    assert settings.fail_on is Level.INFO
    assert settings.level_for("ID001", "legacy-x") is None
    assert settings.sources[-1].endswith("pyproject.toml")


def test_pyproject_errors_name_line_and_key(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "svc"

        [tool.otlint]
        select = ["ID"]

        [tool.otlint.rules.ID003]
        level = "info"
        requird = ["service.namespace"]
        """,
    )
    assert error_of(lambda: load(tmp_path)) == (
        "pyproject.toml:9:1: unknown option 'requird' for ID003 (options: required); "
        "did you mean 'required'? [tool.otlint.rules.ID003.requird]"
    )
    write(tmp_path / "pyproject.toml", '[tool.otlint]\nfail_on = "x"\n')
    assert error_of(lambda: load(tmp_path)).startswith(
        "pyproject.toml:2:1: unknown key 'fail_on'; did you mean 'fail-on'?"
    )
    write(tmp_path / "pyproject.toml", "[tool.otlint]\nselect = [\n")
    assert error_of(lambda: load(tmp_path)).startswith("pyproject.toml:3:1: invalid TOML:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A key in a table header: the part that names it.
        (
            '[tool.otlint.rules.ID0003]\nlevel = "info"\n',
            "1:20: unknown rule 'ID0003'; did you mean 'ID003'? [tool.otlint.rules.ID0003]",
        ),
        (
            '[tool.otlint.services."data/[ab"]\nignore = ["ALL"]\n',
            "1:23: bad service glob 'data/[ab': unclosed '[' (write [[] for a literal '[') "
            '[tool.otlint.services."data/[ab"]',
        ),
        # Dotted keys: each part where it is written, the value after "=".
        (
            '[tool.otlint]\nrules.ID003.requird = ["a"]\n',
            "2:13: unknown option 'requird' for ID003 (options: required); "
            "did you mean 'required'? [tool.otlint.rules.ID003.requird]",
        ),
        (
            '[tool]\notlint . rules . "TR006".max-depth = "deep"\n',
            "2:38: option 'max_depth' of TR006 must be an integer, not a string "
            "[tool.otlint.rules.TR006.max-depth]",
        ),
        # Inline tables, nested.
        (
            '[tool.otlint]\nrules = {ID003 = {requird = ["a"]}}\n',
            "2:19: unknown option 'requird' for ID003 (options: required); "
            "did you mean 'required'? [tool.otlint.rules.ID003.requird]",
        ),
        (
            '[tool]\notlint = {select = ["ID"], rules = {ID001 = {level = "loud"}}}\n',
            "2:54: unknown level 'loud' for ID001: use error, warning, info or off "
            "[tool.otlint.rules.ID001.level]",
        ),
        # Array items, also over several lines.
        (
            '[tool.otlint]\nselect = [\n  "ID",  # identity\n  "XX9",\n]\n',
            "4:3: unknown rule or prefix 'XX9' in select [tool.otlint.select[1]]",
        ),
        # An array of tables where a table belongs; one elsewhere changes nothing.
        (
            '[[tool.mypy.overrides]]\nmodule = ["a"]\n[[tool.otlint.rules]]\nID003 = "info"\n',
            "3:15: rules must be a mapping of rule codes to levels or settings, not a list "
            "[tool.otlint.rules]",
        ),
        (
            '[[tool.otlint.paths."x/*".rules]]\nID001 = "off"\n',
            '1:27: paths."x/*".rules must be a mapping of rule codes to levels, not a list '
            '[tool.otlint.paths."x/*".rules]',
        ),
        ("[tool]\notlint = 3\n", "2:1: tool.otlint must be a table, not an integer"),
    ],
)
def test_pyproject_error_positions(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", text)
    assert error_of(lambda: load(tmp_path)) == f"pyproject.toml:{message}"


def test_explicit_config_and_missing_config(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules: {LT001: info}\n")
    other = write(tmp_path / "ci" / "strict.yaml", "extends:\nrules: {TR004: error}\n")
    settings = load(tmp_path, config=Path("ci/strict.yaml"))
    assert levels(settings) == {"TR004": "error"}
    assert settings.sources == [str(other.relative_to(tmp_path))]
    assert error_of(lambda: load(tmp_path, config=Path("nope.yaml"))) == (
        "nope.yaml: config file not found"
    )


def test_isolated_ignores_config_files(tmp_path: Path, default_ruleset: Path) -> None:
    write(tmp_path / ".otlint.yaml", "rules: {LT001: info}\n")
    settings = load(tmp_path, isolated=True, extend_select=["LT001"])
    assert levels(settings) == {
        "ID001": "error",
        "ID003": "warning",
        "TR004": "warning",
        "LT001": "warning",
    }
    assert settings.sources == [str(default_ruleset)]


# --------------------------------------------------------------------------- command line


def test_cli_overrides_beat_config(tmp_path: Path) -> None:
    write(
        tmp_path / ".otlint.yaml",
        "fail-on: info\nrules: {ID003: info, TR004: off}\nignore: [SC001]\n",
    )
    settings = load(
        tmp_path, select=["ID,TR004"], extend_select=["SC001"], ignore=["ID001"], fail_on="never"
    )
    # --select picks TR004 (off in config) at its default; ID003 keeps the config level.
    assert levels(settings) == {"ID003": "info", "TR004": "warning", "SC001": "warning"}
    assert settings.fail_on is None
    assert load(tmp_path, fail_on="ERROR").fail_on is Level.ERROR


def test_cli_selector_errors_have_no_position(tmp_path: Path) -> None:
    assert (
        error_of(lambda: load(tmp_path, select=["XX9"])) == "--select: unknown rule or prefix 'XX9'"
    )
    assert error_of(lambda: load(tmp_path, ignore=["TR004,tracee"])).startswith(
        "--ignore: unknown join 'tracee'; did you mean 'trace'?"
    )
    assert error_of(lambda: load(tmp_path, fail_on="sometimes")) == (
        "--fail-on: unknown threshold 'sometimes': use error, warning, info or never"
    )


def test_fail_on_never_and_default(tmp_path: Path) -> None:
    write(tmp_path / ".otlint.yaml", "fail-on: never\n")
    assert load(tmp_path).fail_on is None
    write(tmp_path / ".otlint.yaml", "extends:\n")
    assert load(tmp_path).fail_on is config.DEFAULT_FAIL_ON


# --------------------------------------------------------------------------- _yaml


def test_marks_give_key_and_value_positions() -> None:
    data, marks = load_yaml_with_marks(
        "rules:\n  ID003:\n    required: [a, b]\nselect:\n  - ID\n  - TR\n  - SC\n", "x.yaml"
    )
    assert data == {"rules": {"ID003": {"required": ["a", "b"]}}, "select": ["ID", "TR", "SC"]}
    assert marks.key(("rules", "ID003", "required")) == Position(3, 5)
    assert marks.value(("rules", "ID003", "required")) == Position(3, 15)
    assert marks.value(("rules", "ID003", "required", 1)) == (3, 19)
    assert marks.value(("select", 2)) == (7, 5)
    assert marks.key(("select", 2)) is None
    assert marks.key(("nope",)) is None
    assert marks.near(("rules", "ID003", "nope")) == (2, 3)


def test_load_all_with_marks_gives_each_document() -> None:
    docs = load_all_with_marks("a: 1\n---\n---\nb:\n  c: [x]\n", "multi.yaml")
    assert [data for data, _ in docs] == [{"a": 1}, None, {"b": {"c": ["x"]}}]
    assert docs[2][1].key(("b", "c")) == (5, 3)
    assert error_of(
        lambda: load_all_with_marks("a: 1\n---\nb: 2\nb: 3\n", "multi.yaml")
    ).startswith("multi.yaml:4:1: duplicate key 'b'")


def test_yaml_helpers_errors() -> None:
    assert error_of(lambda: load_yaml_with_marks("a: 1\n---\nb: 2\n", "f.yaml")).startswith(
        "f.yaml:2:1: invalid YAML: expected a single document"
    )
    assert error_of(lambda: load_yaml_with_marks("a: [1\n", "f.yaml")).startswith(
        "f.yaml:2:1: invalid YAML:"
    )
    assert error_of(lambda: load_yaml_with_marks("a: b\x00\n", "f.yaml")) == (
        "f.yaml:1:5: invalid YAML: unacceptable character #x0000: special characters are not allowed"
    )
    assert load_yaml_with_marks("", "f.yaml")[0] is None
    # Merge keys may repeat what they merge; an alias cycle does not hang.
    data, _ = load_yaml_with_marks("base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n", "f.yaml")
    assert data["use"] == {"x": 2}
    data, _ = load_yaml_with_marks("a: &a [*a]\n", "f.yaml")
    assert data["a"][0] is data["a"]


# --------------------------------------------------------------------------- the shipped default


def test_shipped_default_validates_against_the_real_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Runs once the lead's rules/own-the-joins.yaml and the real registry exist."""
    monkeypatch.undo()
    if "own-the-joins" not in config.shipped_rulesets():
        pytest.skip("rules/own-the-joins.yaml not written yet")
    checks = pytest.importorskip("otlint.registry")
    registry = getattr(checks, "REGISTRY", None)
    if not registry:
        pytest.skip("otlint.registry.REGISTRY not written yet")
    settings = load_settings(registry, isolated=True)
    assert settings.rules
    assert settings.sources[0].endswith("own-the-joins.yaml")
