"""Bad input: a finding with its place, or one line on stderr and exit 2 — never a traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from otlint.run.check import scan

from sdkworld import build_world, write_world


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    write_world(
        build_world(healthy=True, requests=6, latency_scale=0, batch_every=1),
        folder,
        formats=("jsonl", "proto"),
    )
    return folder


def _unreadable(path: Path) -> list[tuple[str, int]]:
    corpus, _ = scan([str(path)])
    return [
        (p.message, p.first[1])
        for (kind, _, _), p in corpus.problems.items()
        if kind == "unreadable"
    ]


def test_cut_gzip_stream_keeps_what_came_before(dumps: Path, tmp_path: Path) -> None:
    data = gzip.compress((dumps / "traces.jsonl").read_bytes())
    cut = tmp_path / "traces.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    corpus, _ = scan([str(cut)])
    assert len(corpus.spans) > 0
    [(message, record)] = _unreadable(cut)
    assert "gzip stream is cut short" in message and record > 1


def test_cut_proto_frame_is_reported_with_its_number(dumps: Path, tmp_path: Path) -> None:
    data = (dumps / "traces.binpb").read_bytes()
    cut = tmp_path / "traces.binpb"
    cut.write_bytes(data[:-10])
    [(message, record)] = _unreadable(cut)
    assert "truncated message" in message and record == 6


def test_cut_zstd_frames(dumps: Path, tmp_path: Path) -> None:
    data = zstandard.ZstdCompressor().compress((dumps / "logs.jsonl").read_bytes())
    cut = tmp_path / "logs.jsonl.zst"
    cut.write_bytes(data[: len(data) // 2])
    assert _unreadable(cut), "a cut zstd stream must be reported"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        # The envelope of an OTLP request, with a leaf record no signal has.
        ("shaped.pb", b"\x0a\x04\x12\x02\x12\x00", "cannot tell whether"),
        ("broken.json", b'{"resourceSpans": [', "not valid JSON"),
        ("wrapped.json", b'[{"resourceSpans": []}]', "write one document per line"),
    ],
)
def test_broken_otlp_is_a_finding(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [(message, _record)] = _unreadable(path)
    assert expected in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("random.bin", bytes(range(256)), "not OTLP (binary"),
        ("garbage.pb", b"\x0a\x05hello\x12\xff", "not OTLP (protobuf"),
        ("list.json", b"[1, 2]", "not OTLP (JSON"),
        ("README.md", b"\n# Captures\n\nTaken on staging.\n", "not OTLP (text"),
        ("app.log.gz", gzip.compress(b"INFO started\nINFO ready\n"), "not OTLP (text"),
        ("empty.jsonl", b"", "empty"),
        ("blank.jsonl", b"\n\n  \n", "empty"),
    ],
)
def test_what_is_not_otlp_is_skipped(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    corpus, stats = scan([str(path)])
    assert not corpus.problems and not corpus.paths and stats.inputs == []
    [(skipped, why)] = stats.skipped
    assert skipped == str(path) and why.startswith(expected), why


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "/nonexistent/dump"], "no such file or folder"),
        (["check", "{empty}"], "no telemetry read: the folder holds no files"),
        (["check", "{cut}", "--strict"], "truncated message"),
        (["merge", "{cut}"], "not an otlint state file"),
        (["rules", "XX999"], "unknown rule"),
        (["check", "{cut}", "--config", "/nonexistent.yaml"], "config file not found"),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    dumps: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    (tmp_path / "empty").mkdir()
    cut = tmp_path / "cut.binpb"
    cut.write_bytes((dumps / "traces.binpb").read_bytes()[:-10])
    argv = [a.format(empty=tmp_path / "empty", cut=cut) for a in args]
    run = subprocess.run(
        [sys.executable, "-m", "otlint", *argv], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("otlint: error: "), run.stderr
    assert expected in lines[0]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("name", ["traces.jsonl", "traces.binpb"])
def test_stdin_reads_like_a_file(dumps: Path, name: str) -> None:
    data = (dumps / name).read_bytes()
    for payload in (data, gzip.compress(data)):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "otlint",
                "check",
                "-",
                "--isolated",
                "-f",
                "json",
                "--exit-zero",
            ],
            input=payload,
            capture_output=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["summary"]["spans"] > 0


@pytest.mark.parametrize(
    "text",
    [
        # The second line is a whole JSON value, indented: still one pretty document.
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [\n'
        '  {"name": "m", "gauge": {"dataPoints": [{"asInt": "1"}]}}\n]}]}]}\n',
        # Not indented, but the first line leaves a bracket open.
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [\n'
        '{"name": "m", "gauge": {"dataPoints": [{"asInt": "1"}]}}\n]}]}]}\n',
    ],
)
def test_pretty_document_with_a_json_second_line_is_one_document(tmp_path: Path, text: str) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(text)
    corpus, _ = scan([str(path)])
    assert corpus.totals()["data_points"] == 1
    assert not corpus.problems, corpus.problems


def test_cut_gzip_of_text_is_not_otlp_and_skipped(tmp_path: Path) -> None:
    whole = gzip.compress(b"hello world\n" * 2000)
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    corpus, stats = scan([str(path)])
    assert not corpus.problems
    assert [why for _, why in stats.skipped] and stats.skipped[0][1].startswith("not OTLP (text")


def test_protobuf_of_another_program_is_not_otlp_and_skipped(tmp_path: Path) -> None:
    from google.protobuf import descriptor_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    proto = descriptor_pb2.FileDescriptorProto()
    trace_pb2.DESCRIPTOR.CopyToProto(proto)  # a real protobuf message, of another schema
    path = tmp_path / "schema.binpb"
    path.write_bytes(proto.SerializeToString())
    corpus, stats = scan([str(path)])
    assert not corpus.problems, corpus.problems
    assert stats.skipped and "without the shape of an OTLP request" in stats.skipped[0][1]


def test_otlp_protobuf_without_a_name_hint_is_still_read(dumps: Path, tmp_path: Path) -> None:
    from otlint.telemetry.readers.otlp_json import convert

    first = next(
        line for line in (dumps / "traces.jsonl").read_bytes().splitlines() if line.strip()
    )
    _signal, payload, _ = convert(json.loads(first))
    path = tmp_path / "capture.bin"  # a name that says nothing of the signal
    path.write_bytes(payload)
    corpus, stats = scan([str(path)])
    assert len(corpus.spans) > 0 and not stats.skipped


def test_cut_otlp_protobuf_is_reported_not_skipped(dumps: Path, tmp_path: Path) -> None:
    from otlint.telemetry.readers.otlp_json import convert

    first = next(
        line for line in (dumps / "traces.jsonl").read_bytes().splitlines() if line.strip()
    )
    _signal, payload, _ = convert(json.loads(first))
    path = tmp_path / "capture.bin"
    path.write_bytes(payload[: len(payload) * 2 // 3])
    _, stats = scan([str(path)])
    assert not stats.skipped and _unreadable(path)
