"""The one-pass load (``_Walk.build``) against the walk-then-construct load it stands for.

``otlint.core.yamlpos`` constructs plain documents (standard tags, no alias of a
collection, no ``<<``) in the same pass that records their marks; anything else, and
every document here with ``build`` switched off, goes through ``walk`` and PyYAML's
constructor. Both must give the same data (types included), the same marks and the same
errors, with libyaml's composer and with PyYAML's, on the fixtures, on hostile and odd
documents, and on random YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import given
from test_config_properties import SETTINGS, _dump, shaped, values, yamlish

from otlint.core import yamlpos
from otlint.core.yamlpos import Budget, load_all_with_marks, load_yaml_with_marks

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = sorted(p for p in TESTS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())

ODD = [
    "a: 1\nb: true\nc: ~\nd: 1.5\ne: 2001-12-14\nf: !!binary aGVsbG8=\ng: 0x1f\nh: 1_000\n",
    "'1': a\n1: b\n",
    "1: a\ntrue: b\n",  # YAML's own key equality: a repeated key
    "a: 1\nb:\n  c: 2\n  c: 3\n",
    "base: &b {x: 1, y: [1, 2]}\nuse: *b\n",
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",
    "s: &s word\nt: *s\nu: [*s, *s]\n",
    "a: &a [*a]\n",
    "? [1, 2]\n: x\n",
    "a: !!set {x, y}\nb: !!omap [{x: 1}]\n",
    "a: !Ref x\n",
    "a: !!binary ###\nb: 1\nb: 2\n",
    "a: 2001-02-30\n",
    "a: 1\nb: 2001-02-30\nb: 3\n",
    "=: value\n",
    "a: .nan\nb: -.inf\nc: 0o17\nd: 190:20:30\n",
    "- a\n- [b, {c: d}]\n- {e: [f, g]}\n- ''\n- \n",
    "x: " + "[" * 200 + "]" * 200 + "\n",
    "x: " + "{a: " * 130 + "1" + "}" * 130 + "\n",
    "a: 1\n---\nb: 2\n---\n",
    '"quoted": "1"\nplain: 1\n',
    "a: [1, 2\n",
]


def _outcome(load: Callable[..., object], text: str) -> object:
    budget = Budget(len(text))
    try:
        result = load(text, "f.yaml", budget=budget)
    except Exception as exc:  # the two loads must fail alike
        return ("error", type(exc).__name__, str(exc), budget.left, budget.exhausted)
    docs = result if isinstance(result, list) else [result]
    marks = [(repr(data), m._keys, m._values, m.default) for data, m in docs]
    return (marks, budget.left, budget.exhausted)


@contextmanager
def _loader(fast: bool) -> Iterator[None]:
    with mock.patch.object(yamlpos, "_FAST", yamlpos._FAST if fast else yamlpos._SafeLoader):
        yield


def _same(text: str) -> bool:
    """Both loads alike on ``text`` (data, marks, errors, the budget left), with each
    composer; whether ``build`` was tried."""
    took = False
    for fast in (True, False):
        for load in (load_all_with_marks, load_yaml_with_marks):
            with _loader(fast):
                with mock.patch.object(
                    yamlpos._Walk, "build", autospec=True, side_effect=yamlpos._Walk.build
                ) as build:
                    one_pass = _outcome(load, text)
                took |= build.call_count > 0
                with mock.patch.object(yamlpos._Walk, "build", side_effect=yamlpos._Unplain):
                    walked = _outcome(load, text)
            assert one_pass == walked, (fast, load.__name__, text[:200])
    return took


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(TESTS)))
def test_fixtures_load_alike(path: Path) -> None:
    _same(path.read_text(encoding="utf-8", errors="replace"))


@pytest.mark.parametrize("text", ODD)
def test_odd_documents_load_alike(text: str) -> None:
    _same(text)


def test_plain_documents_take_the_one_pass() -> None:
    """``build`` is not bypassed for what it is for (the comparisons above are not vacuous)."""
    text = "receivers:\n  otlp:\n    protocols: {grpc: {endpoint: '0.0.0.0:4317'}}\nn: [1, 2.5, true, ~]\n"
    with mock.patch.object(yamlpos._Walk, "walk", side_effect=AssertionError("walked")):
        [(data, marks)] = load_all_with_marks(text, "f.yaml")
    assert data == {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
        "n": [1, 2.5, True, None],
    }
    assert str(marks.key(("receivers", "otlp", "protocols", "grpc"))) == "3:17"
    assert str(marks.value(("n", 3))) == "4:19"


def test_an_alias_of_a_collection_is_shared_as_pyyaml_shares_it() -> None:
    [(data, _)] = load_all_with_marks("a: &x [1]\nb: *x\n", "f.yaml")
    assert isinstance(data, dict) and data["a"] is data["b"]


def test_the_one_pass_spends_the_budget_as_the_walk_does() -> None:
    text = "a: [1, 2, {b: c}]\nd: e\n"
    spent = []
    for build in (yamlpos._Walk.build, mock.Mock(side_effect=yamlpos._Unplain)):
        budget = Budget(len(text))
        with mock.patch.object(yamlpos._Walk, "build", build):
            load_all_with_marks(text, "f.yaml", budget=budget)
        spent.append(budget.left)
    assert spent[0] == spent[1]


def test_scalar_tags_are_resolved_as_pyyaml_resolves_them() -> None:
    text = (
        "a: 1\nb: '1'\nc: yes\nd: 1e3\ne: 1.0e3\nf: null\ng: ''\nh: 2001-12-14t21:59:43.10-05:00\n"
    )
    mine = yamlpos._FAST(text).get_single_node()
    theirs = yaml.SafeLoader(text).get_single_node()
    assert [(k.tag, v.tag) for k, v in mine.value] == [(k.tag, v.tag) for k, v in theirs.value]


@SETTINGS
@given(yamlish)
def test_random_yaml_loads_alike(text: str) -> None:
    _same(text)


@SETTINGS
@given(values | shaped)
def test_dumped_documents_load_alike(doc: object) -> None:
    _same(_dump(doc))


def _lenient_alike(text: str) -> None:
    """libyaml's lenient reading is PyYAML's, but where the two parsers are known to differ
    (a tab after a plain scalar, byte order marks past the first: libyaml reads those as
    the strict loads, libyaml's first, always did)."""
    if "\t" in text or "\ufeff" in text:
        return
    both = []
    for loaders in (yamlpos._LENIENT, (yamlpos._Lenient,)):
        with mock.patch.object(yamlpos, "_LENIENT", loaders):
            both.append(repr(yamlpos.load_all_lenient(text)))
    assert both[0] == both[1], text[:200]


@pytest.mark.parametrize("text", ODD)
def test_the_lenient_reading_is_the_same_with_libyaml(text: str) -> None:
    _lenient_alike(text)


@SETTINGS
@given(yamlish)
def test_random_yaml_reads_leniently_alike(text: str) -> None:
    _lenient_alike(text)
