"""TOML positions (``otlint.settings.tomlpos``): every key and value under a table, exactly.

Each expectation is written as the text at the position, so a wrong column shows as
the wrong word.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator

import pytest

from otlint.core.marks import Marks, Position, YamlPath
from otlint.settings.tomlpos import toml_marks

TABLE = ("tool", "otlint")


def at(text: str, pos: Position | None) -> str:
    """The rest of the line from ``pos``."""
    assert pos is not None
    return text.splitlines()[pos.line - 1][pos.column - 1 :]


def marks_of(text: str) -> Marks:
    tomllib.loads(text)  # the walk only ever sees text tomllib accepted
    return toml_marks(text, TABLE)


def test_table_headers_name_each_part() -> None:
    text = textwrap.dedent(
        """\
        [project]
        name = "svc"

        [tool.otlint]
        select = ["ID"]

        [tool.otlint.rules.ID003]
        level = "info"
        requird = ["service.namespace"]
        """
    )
    marks = marks_of(text)
    assert marks.default == (4, 1)
    assert marks.key(("select",)) == (5, 1)
    assert at(text, marks.key(("rules",))) == "rules.ID003]"
    assert at(text, marks.key(("rules", "ID003"))) == "ID003]"
    assert marks.key(("rules", "ID003", "requird")) == (9, 1)
    assert at(text, marks.value(("rules", "ID003", "requird"))) == '["service.namespace"]'
    assert at(text, marks.value(("rules", "ID003", "requird", 0))) == '"service.namespace"]'
    assert marks.key(("name",)) is None  # [project] is not under the table


def test_dotted_keys_with_spaces_and_quotes() -> None:
    text = textwrap.dedent(
        """\
        [tool]
        otlint.fail-on = "info"
        otlint . rules . "TR006".max-depth = 3
        otlint.paths."fixtures/**".ignore = ["ALL"]
        """
    )
    marks = marks_of(text)
    assert marks.default == (2, 1)  # no [tool.otlint]: the first line writing into it
    assert at(text, marks.key(("fail-on",))) == 'fail-on = "info"'
    assert at(text, marks.value(("fail-on",))) == '"info"'
    assert at(text, marks.key(("rules",))) == 'rules . "TR006".max-depth = 3'
    assert at(text, marks.key(("rules", "TR006"))) == '"TR006".max-depth = 3'
    assert at(text, marks.key(("rules", "TR006", "max-depth"))) == "max-depth = 3"
    assert at(text, marks.value(("rules", "TR006", "max-depth"))) == "3"
    assert at(text, marks.key(("paths", "fixtures/**"))) == '"fixtures/**".ignore = ["ALL"]'
    assert at(text, marks.value(("paths", "fixtures/**", "ignore", 0))) == '"ALL"]'


def test_inline_tables_nested() -> None:
    text = '[tool]\notlint = {select = ["ID"], rules = {TR004 = {level = "off"}}}\n'
    marks = marks_of(text)
    assert marks.default == (2, 1)
    assert at(text, marks.key(("select",))).startswith('select = ["ID"]')
    assert at(text, marks.value(("rules",))).startswith("{TR004")
    assert at(text, marks.key(("rules", "TR004"))).startswith("TR004 =")
    assert at(text, marks.value(("rules", "TR004"))).startswith('{level = "off"}')
    assert at(text, marks.key(("rules", "TR004", "level"))).startswith('level = "off"')
    assert at(text, marks.value(("rules", "TR004", "level"))) == '"off"}}}'


def test_arrays_of_tables_index_their_elements() -> None:
    text = textwrap.dedent(
        """\
        [[tool.mypy.overrides]]
        module = ["a"]
        [[tool.otlint.x]]
        [[tool.otlint.x.y]]
        a = 1
        [[tool.otlint.x]]
        [tool.otlint.x.z]
        b = 2
        """
    )
    data = tomllib.loads(text)["tool"]["otlint"]
    assert data == {"x": [{"y": [{"a": 1}]}, {"z": {"b": 2}}]}
    marks = marks_of(text)
    assert marks.default == (3, 1)
    assert marks.key(("module",)) is None
    assert at(text, marks.key(("x",))) == "x]]"
    assert marks.value(("x", 0)) == (3, 1)
    assert marks.value(("x", 1)) == (6, 1)
    assert at(text, marks.key(("x", 0, "y"))) == "y]]"
    assert marks.key(("x", 0, "y", 0, "a")) == (5, 1)
    assert at(text, marks.key(("x", 1, "z"))) == "z]"
    assert marks.key(("x", 1, "z", "b")) == (8, 1)


def test_arrays_over_lines_with_comments() -> None:
    text = '[tool.otlint]\nselect = [ # codes\n  "ID",\n  # "XX",\n  "TR",  # c\n]\n'
    marks = marks_of(text)
    assert marks.value(("select", 0)) == (3, 3)
    assert marks.value(("select", 1)) == (5, 3)
    assert marks.value(("select", 2)) is None


def test_strings_that_look_like_headers_are_strings() -> None:
    text = textwrap.dedent(
        """\
        [tool.other]
        text = \"\"\"
        [tool.otlint]
        fail-on = "x"
        \"\"\"
        raw = '''
        [tool.otlint.rules]'''
        [tool.otlint]
        fail-on = 'never'
        """
    )
    marks = marks_of(text)
    assert marks.default == (8, 1)
    assert marks.key(("fail-on",)) == (9, 1)
    assert marks.key(("rules",)) is None


def test_out_of_order_tables_first_mention_wins() -> None:
    text = textwrap.dedent(
        """\
        [tool.otlint.rules.ID001]
        level = "error"
        [tool.x]
        a = 1
        [tool.otlint]
        select = ["ALL"]
        [tool.otlint.rules]
        ID003.level = "info"
        """
    )
    marks = marks_of(text)
    assert marks.default == (5, 1)  # the table's own header, though written later
    assert marks.key(("rules",)) == (1, 14)
    assert marks.key(("rules", "ID003")) == (8, 1)
    assert marks.key(("rules", "ID003", "level")) == (8, 7)
    assert marks.key(("a",)) is None


def test_columns_count_characters_and_crlf_tabs_indent() -> None:
    text = '[tool.otlint.services."ä.ß"]\nrules = {ID001 = "info"}\n'
    marks = marks_of(text)
    assert marks.key(("services", "ä.ß")) == (1, 23)
    assert at(text, marks.key(("services", "ä.ß"))) == '"ä.ß"]'
    text = '[tool.otlint]\r\n\tselect = [ "ID" ]\r\n\t[tool.otlint.rules]\r\n\tTR004 = "off"\r\n'
    marks = marks_of(text)
    assert marks.key(("select",)) == (2, 2)
    assert marks.value(("select", 0)) == (2, 13)
    assert marks.key(("rules",)) == (3, 15)
    assert marks.value(("rules", "TR004")) == (4, 10)


def test_empty_and_missing_table() -> None:
    assert marks_of("[tool.otlint]\n").default == (1, 1)
    marks = marks_of('[tool]\nname = "x"\n')
    assert marks.default == (1, 1)
    assert marks.near(("select",)) == (1, 1)


def test_what_the_grammar_misreads_leaves_the_rest_exact() -> None:
    # Valid TOML (toml-test's ends-in-whitespace-escape) that tree-sitter-toml 0.7 marks
    # as an ERROR inside the string: the keys around it keep their positions.
    text = '[tool.otlint]\nselect = ["ID"]\nnote = """\nx\\  \n\n  """\nfail-on = "info"\n'
    assert tomllib.loads(text)["tool"]["otlint"]["note"] == "x"
    marks = marks_of(text)
    assert marks.key(("select",)) == (2, 1)
    assert marks.value(("note",)) == (3, 8)
    assert marks.key(("fail-on",)) == (7, 1)
    assert marks.value(("fail-on",)) == (7, 11)


def _paths(data: object, path: YamlPath = ()) -> Iterator[tuple[bool, YamlPath]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield True, (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield False, (*path, index)
            yield from _paths(value, (*path, index))


@pytest.mark.parametrize(
    "text",
    [
        '[tool.otlint]\nselect = ["ID", "TR"]\n[tool.otlint.rules]\nID003 = {required = ["a"]}\n',
        '[tool]\notlint.paths."a/**" = {ignore = ["ALL"], rules = {TR004 = "info"}}\n',
        "[[tool.otlint.x]]\ny = [[1, 2], [3]]\n[[tool.otlint.x]]\nz = [{a = 1}, {b = [2]}]\n",
    ],
)
def test_every_key_and_item_has_a_position(text: str) -> None:
    marks = marks_of(text)
    for is_key, path in _paths(tomllib.loads(text)["tool"]["otlint"]):
        found = marks.key(path) if is_key else marks.value(path)
        assert found is not None, path
        if is_key:
            assert at(text, found).lstrip("\"'").startswith(str(path[-1])), path


def test_only_a_toml_config_loads_tree_sitter() -> None:
    code = (
        "import sys, pathlib, tempfile\n"
        "from otlint.registry import REGISTRY\n"
        "from otlint.settings import load_settings\n"
        "d = pathlib.Path(tempfile.mkdtemp())\n"
        "(d / '.otlint.yaml').write_text('rules: {}\\n')\n"
        "load_settings(REGISTRY, cwd=d)\n"
        "assert 'tree_sitter' not in sys.modules\n"
        "(d / '.otlint.yaml').unlink()\n"
        "(d / 'pyproject.toml').write_text('[tool.otlint]\\nselect = [\"ID\"]\\n')\n"
        "load_settings(REGISTRY, cwd=d)\n"
        "assert 'tree_sitter' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
