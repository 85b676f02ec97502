"""Configuration files nobody vetted (issue 13, items 4 and 10, and the smaller ones).

A "billion laughs", merges that double, nesting thousands of levels deep, UTF-16,
FIFOs and symbolic links that lead nowhere: each is a finding (CF001) or a note for
that file, or for otlint's own config one line and exit 2, and never a hang, a
traceback or "internal error". The hangs are run in a subprocess with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from otlint.configs.facts import ConfigFacts
from otlint.core.errors import OtlintError
from otlint.core.yamlpos import (
    MAX_DEPTH,
    LimitError,
    load_all_lenient,
    load_all_with_marks,
    load_yaml_with_marks,
)
from otlint.run.check_config import read_configs

import conftest

#: 342 bytes that expand to 9^9 nodes.
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)
#: Mappings whose keys double at every level: 2^24 paths.
DOUBLING = "a0: &a0 {x: 1, y: 1}\n" + "".join(
    f"a{i}: &a{i} {{x: *a{i - 1}, y: *a{i - 1}}}\n" for i in range(1, 25)
)
#: ``<<`` merges of the same mapping twice: PyYAML's constructor keeps every repeat,
#: so the last mapping would be flattened into 2^24 pairs.
MERGES = "m0: &m0 {k: 1}\n" + "".join(
    f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}\n" for i in range(1, 25)
)
COMPOSE = """\
services:
  checkout:
    image: shop/checkout:1
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_PROPAGATORS: b3
"""


def otlint(*argv: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; a hang fails the test at ``timeout``."""
    return conftest.otlint(*argv, cwd=cwd, timeout=timeout)


def problems(facts: ConfigFacts) -> list[str]:
    """The CF001 problems as ``path:line:col: message``."""
    return [f"{p.at.path}:{p.at.line}:{p.at.column}: {p.message}" for p in facts.problems]


# --------------------------------------------------------------------------- item 4: aliases


def test_billion_laughs_is_a_finding_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "laughs.yaml").write_text(LAUGHS, encoding="utf-8")
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    start = time.monotonic()
    run = otlint("check-config", "laughs.yaml", "compose.yaml", cwd=tmp_path)
    assert time.monotonic() - start < 10
    assert run.returncode == 1, run.stderr
    assert (
        run.stdout.startswith("compose.yaml:6:25: CF021")
        or "compose.yaml:6:25: CF021" in run.stdout
    )
    assert (
        'laughs.yaml:6:1: CF001 [error] cannot read this file: aliases and << merges expand this file past 101,584 nodes (a "billion laughs"?)'
        in run.stdout
    )
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr


@pytest.mark.parametrize("text", [LAUGHS, DOUBLING, MERGES], ids=["lists", "mappings", "merges"])
def test_expansion_is_bounded_by_the_text(tmp_path: Path, text: str) -> None:
    (tmp_path / "bomb.yaml").write_text(text, encoding="utf-8")
    start = time.monotonic()
    facts = read_configs([str(tmp_path / "bomb.yaml")])
    assert time.monotonic() - start < 5
    [problem] = problems(facts)
    assert "aliases and << merges expand this file past" in problem
    with pytest.raises(LimitError):
        load_all_with_marks(text, "bomb.yaml")
    assert load_all_lenient(text) is None  # what tells the kind of a broken file is bounded too


def test_billion_laughs_in_the_project_config_is_one_error(tmp_path: Path) -> None:
    (tmp_path / ".otlint.yaml").write_text(LAUGHS, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    dump = Path(__file__).resolve().parents[2] / "sample_traces" / "healthy"
    start = time.monotonic()
    run = otlint("check", str(dump), cwd=tmp_path / "sub")
    assert time.monotonic() - start < 10
    assert run.returncode == 2
    assert run.stderr.startswith(f"otlint: error: {tmp_path / '.otlint.yaml'}:6:1: aliases")
    assert len(run.stderr.splitlines()) == 1


def test_an_aliased_collector_string_is_not_loaded_once_per_alias(tmp_path: Path) -> None:
    """An alias of one string is one node to walk, but one load of it per alias."""
    collector = (
        "receivers: {otlp: {protocols: {grpc: {}}}}\nexporters: {otlp: {endpoint: x}}\n"
        "service: {pipelines: {traces: {receivers: [otlp], exporters: [otlp]}}}\n"
    )
    body = "".join(f"    {line}\n" for line in collector.splitlines())
    aliases = "".join(f"  k{i}: *config\n" for i in range(20_000))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  a: &config |\n{body}{aliases}"
    (tmp_path / "cm.yaml").write_text(text, encoding="utf-8")
    start = time.monotonic()
    facts = read_configs([str(tmp_path / "cm.yaml")])
    assert time.monotonic() - start < 10
    [problem] = problems(facts)  # once, not once per string past the bound
    assert "the collector config in ConfigMap c key k" in problem and "expand this file" in problem


def test_aliases_and_merges_that_configs_use_still_load() -> None:
    text = (
        "x-defaults: &defaults {restart: always, environment: {OTEL_PROPAGATORS: b3}}\n"
        "x-more: &more {<<: *defaults, init: true}\n"
        "services:\n" + "".join(f"  s{i}: {{<<: *more, image: shop/s{i}}}\n" for i in range(2_000))
    )
    [(data, marks)] = load_all_with_marks(text, "compose.yaml")
    assert isinstance(data, dict)
    assert data["services"]["s7"] == {
        "restart": "always",
        "environment": {"OTEL_PROPAGATORS": "b3"},
        "init": True,
        "image": "shop/s7",
    }
    # A merge of a merge: its keys are where the anchored mapping writes them.
    assert marks.key(("services", "s7", "init")) == (2, 31)
    assert marks.key(("services", "s7", "restart")) == (1, 24)
    # Before, a merge of a merge was "could not determine a constructor for the tag merge".
    data, _ = load_yaml_with_marks("c: {<<: {<<: {x: 1}, y: 2}, z: 3}\n", "f.yaml")
    assert data == {"c": {"x": 1, "y": 2, "z": 3}}
    data, _ = load_yaml_with_marks("c: {<<: [{x: 1}, {x: 2, y: 3}], y: 4}\n", "f.yaml")
    assert data == {"c": {"x": 1, "y": 4}}  # the first source wins, explicit keys over all


def test_a_merge_of_itself_is_refused() -> None:
    with pytest.raises(LimitError, match=r"^f.yaml:1:4: a << merge takes in the mapping"):
        load_yaml_with_marks("a: &a {<<: *a, x: 1}\n", "f.yaml")


# --------------------------------------------------------------------------- item 10: depth


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("flow.yaml", "receivers: " + "[" * 5_000 + "]" * 5_000 + "\n"),
        ("block.yaml", "".join(" " * i + f"k{i}:\n" for i in range(2_000)) + "\n"),
        ("libyaml-reads-it.yaml", "receivers: " + "[" * 600 + "]" * 600 + "\n"),
        ("deep.json", '{"receivers": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
    ],
)
def test_deep_nesting_is_a_finding_and_the_run_goes_on(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    facts = read_configs([str(tmp_path / name), str(tmp_path / "compose.yaml")])
    [problem] = problems(facts)
    assert f"nested more than {MAX_DEPTH} levels deep" in problem
    assert problem.startswith(str(tmp_path / name))
    assert [u.name for u in facts.units] == ["checkout"]


def test_the_deepest_nesting_allowed_loads() -> None:
    depth = MAX_DEPTH - 1
    data, _ = load_yaml_with_marks("a: " + "[" * depth + "]" * depth + "\n", "f.yaml")
    assert isinstance(data, dict)
    with pytest.raises(LimitError):
        load_yaml_with_marks("a: " + "[" * (depth + 1) + "]" * (depth + 1) + "\n", "f.yaml")


def test_a_deep_key_is_refused_without_recursion() -> None:
    text = "? " + "[" * 900 + "]" * 900 + "\n: 1\n"
    with pytest.raises(OtlintError, match="a mapping key must be a scalar"):
        load_yaml_with_marks(text, "f.yaml")
    merged = "a: {<<: {? " + "[" * 900 + "]" * 900 + " : 1}}\n"
    with pytest.raises(OtlintError):
        load_yaml_with_marks(merged, "f.yaml")


def test_deep_project_config_is_one_error(tmp_path: Path) -> None:
    dump = Path(__file__).resolve().parents[2] / "sample_traces" / "healthy"
    (tmp_path / "pyproject.toml").write_text(
        "[tool.otlint]\nselect = " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8"
    )
    run = otlint("check", str(dump), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == (
        "otlint: error: pyproject.toml: invalid TOML: arrays or inline tables "
        "nested hundreds of levels deep; otlint reads no such file\n"
    )
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / ".otlint.yaml").write_text("select: " + "[" * 5_000 + "]" * 5_000 + "\n")
    run = otlint("check", str(dump), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("otlint: error: .otlint.yaml:1:")
    assert "nested more than" in run.stderr and len(run.stderr.splitlines()) == 1


def test_a_chainsaw_test_with_an_alias_cycle(tmp_path: Path) -> None:
    (tmp_path / "chainsaw-test.yaml").write_text(
        "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nx: &a [*a]\n"
        "spec:\n  steps:\n  - try:\n    - assert: {file: 00-assert.yaml}\n",
        encoding="utf-8",
    )
    (tmp_path / "00-assert.yaml").write_text(COMPOSE, encoding="utf-8")
    facts = read_configs([str(tmp_path)])
    assert (str(tmp_path / "00-assert.yaml"), facts.skipped[0][1]) in facts.skipped
    assert "test assertion" in dict(facts.skipped)[str(tmp_path / "00-assert.yaml")]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_config_files_are_decoded_by_their_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    data = COMPOSE.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # Python writes no mark for an explicit byte order
    (tmp_path / "compose.yaml").write_bytes(data)
    facts = read_configs([str(tmp_path)])
    assert not facts.skipped
    [unit] = facts.units
    assert unit.service == "checkout"
    assert unit.propagators is not None and unit.propagators.at.line == 6


def test_text_that_breaks_its_byte_order_mark_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_bytes(b"\xff\xfe" + COMPOSE.encode("utf-16-le")[:-1])
    facts = read_configs([str(tmp_path)])
    assert dict(facts.skipped) == {
        str(tmp_path / "compose.yaml"): "not UTF-16 text, though it starts with its byte order mark"
    }


def test_a_utf16_project_config_is_read(tmp_path: Path) -> None:
    dump = Path(__file__).resolve().parents[2] / "sample_traces" / "healthy"
    (tmp_path / ".otlint.yaml").write_bytes("select: [NOPE1]\n".encode("utf-16"))
    run = otlint("check", str(dump), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("otlint: error: .otlint.yaml:1:10: unknown rule or prefix 'NOPE1'")


# --------------------------------------------------------------------------- FIFOs, links


def test_a_fifo_in_a_folder_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")
    os.mkfifo(tmp_path / ".env")  # beside the compose file: its project variables
    run = otlint("check-config", ".", cwd=tmp_path, timeout=20)
    assert run.returncode == 1, run.stderr
    assert "compose.yaml:6:25: CF021" in run.stdout
    assert (
        "otlint: note: pipe.yaml: skipped: a FIFO (named pipe): only regular files are read "
        "in a folder (name it to read it as a stream)"
    ) in run.stderr
    assert "otlint: note: .env: skipped: a FIFO" in run.stderr


def test_a_named_fifo_is_read_as_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "compose.yaml"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w", encoding="utf-8") as handle:
            handle.write(COMPOSE)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    facts = read_configs([str(fifo)])
    writer.join(5)
    assert [u.service for u in facts.units] == ["checkout"]


def test_links_to_nothing_are_notes(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "ok.yaml").symlink_to(tmp_path / "compose.yaml")
    facts = read_configs([str(tmp_path)])
    skipped = dict(facts.skipped)
    assert skipped[str(tmp_path / "gone.yaml")] == (
        f"a symbolic link to nothing ({tmp_path / 'missing.yaml'} does not exist)"
    )
    assert skipped[str(tmp_path / "loop.yaml")] == (
        "a symbolic link that loops (following it never reaches a file)"
    )
    assert len(facts.units) == 2  # compose.yaml, and through ok.yaml
    # Named (the pre-commit hook names staged links too): a note, not an error.
    named = otlint("check-config", "gone.yaml", "compose.yaml", cwd=tmp_path)
    assert named.returncode == 1
    assert "otlint: note: gone.yaml: skipped: a symbolic link to nothing" in named.stderr
