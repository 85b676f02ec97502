"""``otlint check`` on what real capture folders hold: app logs, package.json, stdout captures, nothing.

Everything here runs ``python -m otlint`` in a subprocess over real files: OTLP written
by the real SDK (``scripts/sdkworld.py``, and a real app process whose stdout the SDK's
OTLP/JSON exporter writes to), next to the files a capture folder also holds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from otlint.registry import REGISTRY
from otlint.run import parallel
from otlint.run.check import evaluate, scan
from otlint.settings import load_settings

from sdkworld import build_world, write_world

#: The app's own lines in a capture folder, next to the dumps: none of them is OTLP.
NOT_OTLP = {
    "app.jsonl": '{"level":"info","msg":"hello"}\n{"level":"warn","msg":"slow request","ms":812}\n',
    "package.json": json.dumps(
        {"name": "shop", "version": "1.0.0", "scripts": {"start": "node ."}}, indent=2
    )
    + "\n",
    "values.yaml": "collector:\n  image: otel/opentelemetry-collector-contrib\n",
    "README.md": "\n# Captures\n\nTaken on staging, 2026-11-27.\n",
    "app.log": "2026-11-27T10:00:00Z INFO started\n[main] WARN slow\n",
}

#: A real app process: a banner, plain log lines and JSON log lines on the stdout the SDK's
#: OTLP/JSON exporter (FileSpanExporter, which writes to stdout by default) writes its spans to.
APP = textwrap.dedent(
    """
    import json
    import sys

    print("Starting checkout v1.4.2 on :8080", flush=True)

    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    resource = Resource.create({"service.name": "checkout", "service.version": "1.4.2"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter()))
    tracer = provider.get_tracer("shop")
    for i in range(int(sys.argv[1])):
        with tracer.start_as_current_span("GET /cart"):
            print(f"INFO handled request {i}", flush=True)
            print(json.dumps({"level": "info", "msg": "order placed", "n": i}), flush=True)
    provider.shutdown()
    print("bye", flush=True)
    """
)


def otlint(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "otlint", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def report(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def codes(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [f["code"] for f in report(run)["findings"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    write_world(
        build_world(healthy=True, requests=6, latency_scale=0, batch_every=2),
        folder,
        formats=("jsonl", "proto"),
    )
    return folder


@pytest.fixture(scope="module")
def stdout_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stdout")
    (folder / "app.py").write_text(APP, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(folder / "app.py"), "4"], capture_output=True, check=True
    ).stdout
    path = folder / "checkout.stdout"
    path.write_bytes(out)
    return path


def capture_folder(world: Path, folder: Path) -> Path:
    """The world's dumps with the files a real capture folder also holds."""
    folder.mkdir()
    for dump in world.iterdir():
        (folder / dump.name).write_bytes(dump.read_bytes())
    for name, text in NOT_OTLP.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


NOTE = re.compile(r"^otlint: note: (?P<path>.+?): skipped: (?P<why>.+)$")


# -- 1. what is not OTLP is skipped with a note ---------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_capture_folder_with_app_logs_reads_like_the_dumps_alone(
    world: Path, tmp_path: Path, jobs: str
) -> None:
    folder = capture_folder(world, tmp_path / "capture")
    alone = otlint("check", str(world), "--isolated", "-f", "json", "--jobs", jobs)
    mixed = otlint("check", str(folder), "--isolated", "-f", "json", "--jobs", jobs)
    assert mixed.returncode == alone.returncode, mixed.stdout + mixed.stderr
    assert "RD001" not in codes(mixed)
    assert report(mixed)["summary"] == report(alone)["summary"]
    assert [(f["code"], f["count"]) for f in report(mixed)["findings"]] == [
        (f["code"], f["count"]) for f in report(alone)["findings"]
    ]
    notes = [NOTE.match(line) for line in mixed.stderr.splitlines()]
    assert all(notes), mixed.stderr
    # Five named (sorted, as the folder is walked), then one line for the rest.
    assert [Path(m["path"]).name for m in notes[:5] if m] == sorted(NOT_OTLP)
    assert all(m["why"].startswith("not OTLP (") for m in notes[:5] if m)
    assert len(mixed.stderr.splitlines()) == 5


def test_past_five_skipped_files_one_line_says_how_many_more(world: Path, tmp_path: Path) -> None:
    folder = capture_folder(world, tmp_path / "capture")
    for n in range(3):
        (folder / f"more-{n}.md").write_text("# notes\n", encoding="utf-8")
    run = otlint("check", str(folder), "--isolated", "--exit-zero")
    lines = run.stderr.splitlines()
    assert (
        len(lines) == 6 and lines[-1] == "otlint: note: skipped 3 more files that are not OTLP"
    ), run.stderr


def test_the_bug_report_folder_is_no_longer_two_errors(tmp_path: Path, world: Path) -> None:
    """The issue's case: app.jsonl and package.json beside a dump gave two RD001 errors."""
    (tmp_path / "app.jsonl").write_text('{"level":"info","msg":"hello"}\n', encoding="utf-8")
    (tmp_path / "package.json").write_text(
        '{"name": "shop", "version": "1.0.0"}\n', encoding="utf-8"
    )
    (tmp_path / "traces.jsonl").write_bytes((world / "traces.jsonl").read_bytes())
    run = otlint("check", str(tmp_path), "--isolated", "-f", "json", "--select", "RD")
    assert run.returncode == 0, run.stdout + run.stderr
    assert codes(run) == []
    assert "app.jsonl: skipped: not OTLP (JSON that is no OTLP/JSON document)" in run.stderr
    assert "package.json: skipped: not OTLP (JSON that is no OTLP/JSON document)" in run.stderr


def test_a_path_given_explicitly_that_is_not_otlp_is_skipped_too(
    world: Path, tmp_path: Path
) -> None:
    (tmp_path / "package.json").write_text(NOT_OTLP["package.json"], encoding="utf-8")
    run = otlint(
        "check",
        str(tmp_path / "package.json"),
        str(world / "traces.jsonl"),
        "--isolated",
        "-f",
        "json",
        "--select",
        "RD",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert codes(run) == [] and report(run)["summary"]["spans"] > 0
    [line] = run.stderr.splitlines()
    assert line == (
        f"otlint: note: {tmp_path / 'package.json'}: skipped: not OTLP "
        "(JSON, an object with top-level keys 'name', 'version', 'scripts')"
    )


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_otlp_that_is_broken_is_reported(world: Path, tmp_path: Path, jobs: str) -> None:
    """A JSON Lines file whose first lines read and whose last was cut; a framed file with a bad frame."""
    lines = (world / "traces.jsonl").read_bytes()
    (tmp_path / "traces.jsonl").write_bytes(lines[: len(lines) - 40])
    framed = (world / "logs.binpb").read_bytes()
    (tmp_path / "logs.binpb").write_bytes(framed[:-10])
    (tmp_path / "app.jsonl").write_text(NOT_OTLP["app.jsonl"], encoding="utf-8")
    run = otlint(
        "check", str(tmp_path), "--isolated", "-f", "json", "--jobs", jobs, "--select", "RD"
    )
    assert run.returncode == 1, run.stdout + run.stderr
    unreadable = [f for f in report(run)["findings"] if f["code"] == "RD001"]
    where = sorted(
        (Path(f["locations"][0]["path"]).name, f["context"]["detail"]) for f in unreadable
    )
    assert [name for name, _ in where] == ["logs.binpb", "traces.jsonl"], where
    assert where[0][1].startswith("truncated message") and where[1][1] == "not valid JSON", where
    cut = next(f for f in unreadable if f["locations"][0]["path"].endswith("traces.jsonl"))
    assert cut["locations"][0]["line"] == lines.count(b"\n")  # the last line, cut
    assert report(run)["summary"]["spans"] > 0
    assert "app.jsonl: skipped" in run.stderr


# -- 2. a process's stdout: OTLP/JSON lines among the app's own output ------------------


def test_a_stdout_capture_is_read_and_the_other_lines_counted_once(stdout_capture: Path) -> None:
    run = otlint("check", str(stdout_capture), "--isolated", "-f", "json", "--select", "RD,TR")
    assert run.returncode == 0, run.stdout + run.stderr
    data = report(run)
    assert data["summary"]["spans"] == 4
    [finding] = data["findings"]
    assert finding["code"] == "RD003" and finding["level"] == "info"
    # banner, 4 plain log lines and "bye" are not JSON; the 4 JSON log lines are JSON, not OTLP.
    assert finding["count"] == 10
    assert finding["context"]["not_json"] == 6 and finding["context"]["other_json"] == 4
    assert finding["context"]["lines"] == [
        1,
        2,
        3,
        5,
        6,
        8,
        9,
        11,
        12,
    ]  # the first five of each kind
    assert (
        "6 not JSON (lines 1, 2, 5, 8, 11, ...); 4 JSON but no OTLP document (lines 3, 6, 9, 12)"
        in finding["message"]
    )
    assert finding["locations"] == [{"path": str(stdout_capture), "record": 1, "line": 1}]


def test_a_stdout_capture_on_stdin_and_gzipped(stdout_capture: Path) -> None:
    import gzip

    data = stdout_capture.read_bytes()
    for payload, args in ((data, ["-"]), (gzip.compress(data), ["-"])):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "otlint",
                "check",
                *args,
                "--isolated",
                "-f",
                "json",
                "--select",
                "RD",
            ],
            input=payload,
            capture_output=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        assert out["summary"]["spans"] == 4 and [f["code"] for f in out["findings"]] == ["RD003"]


def test_pieces_of_a_large_stdout_capture_equal_one_read(
    stdout_capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut in pieces by --jobs, a stretch of the app's own lines is no file of its own to skip."""
    own = b"".join(f"INFO noise {n}\n".encode() for n in range(4000))
    big = tmp_path / "big.stdout"
    big.write_bytes(stdout_capture.read_bytes() + own + stdout_capture.read_bytes())
    monkeypatch.setattr(parallel, "MIN_PIECE", 5_000)
    monkeypatch.setattr(parallel, "SMALL_INPUT", 0)
    monkeypatch.setattr(parallel, "PIECES_PER_JOB", 10)
    # The first line is the banner: the file is read whole, as --jobs 1 reads it.
    assert [u.fmt for u in parallel.plan([str(big)], jobs=2)] == [None]
    # Starting with an OTLP line, it is cut; the pieces in the middle hold no OTLP line.
    starts = tmp_path / "starts.jsonl"
    lines = stdout_capture.read_bytes().splitlines(keepends=True)
    starts.write_bytes(lines[3] + own + b"".join(lines))
    assert sum(1 for u in parallel.plan([str(starts)], jobs=2) if u.fmt == "jsonl") > 3
    settings = load_settings(REGISTRY, isolated=True)
    for path, foreign in ((big, 10 + 4000 + 10), (starts, 4000 + 10)):
        one, stats1 = scan([str(path)], jobs=1)
        two, stats2 = scan([str(path)], jobs=2)
        assert (
            stats1.inputs == stats2.inputs == [str(path)] and stats1.skipped == stats2.skipped == []
        )
        assert two.canonical() == one.canonical()
        found = [f.to_json() for f in evaluate(one, settings) if f.code == "RD003"]
        assert found == [f.to_json() for f in evaluate(two, settings) if f.code == "RD003"]
        assert [f["count"] for f in found] == [foreign]


def test_a_json_line_in_an_otlp_file_that_is_broken_otlp_is_rd001_not_rd003(
    tmp_path: Path, stdout_capture: Path
) -> None:
    lines = stdout_capture.read_bytes().splitlines(keepends=True)
    # an OTLP line cut in the middle (the app wrote into it), then the rest
    path = tmp_path / "mixed.stdout"
    path.write_bytes(b"".join(lines[:4]) + lines[6][:60] + b"\n" + b"".join(lines[7:]))
    run = otlint("check", str(path), "--isolated", "-f", "json", "--select", "RD")
    found = {f["code"]: f for f in report(run)["findings"]}
    assert found["RD001"]["locations"][0]["line"] == 5
    assert found["RD003"]["context"]["lines"][:3] == [1, 2, 3]
    assert run.returncode == 1


# -- 3. no telemetry read is exit 2 --------------------------------------------------------


ERROR = re.compile(r"^otlint: error: (?P<where>.+?): no telemetry read: (?P<why>.+)$")


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"traces.jsonl": ""}, "empty; check that the capture step wrote its dump"),
        ({"traces.jsonl": "\n \n"}, "empty; check"),
        ({}, "the folder holds no files"),
        (
            {"app.jsonl": NOT_OTLP["app.jsonl"], "package.json": "{}\n"},
            "no OTLP dump among 2 files (2 not OTLP: ",
        ),
        (
            {"traces.jsonl": "", "app.log": NOT_OTLP["app.log"]},
            "no OTLP dump among 2 files (1 empty, 1 not OTLP: ",
        ),
        ({"traces.json": '{"resourceSpans": []}\n'}, "holds no span, log record or data point"),
    ],
)
def test_nothing_read_is_exit_2_with_one_line(
    tmp_path: Path, files: dict[str, str], why: str, jobs: str
) -> None:
    folder = tmp_path / "capture"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    target = folder / next(iter(files)) if len(files) == 1 else folder
    run = otlint("check", str(target), "--isolated", "--jobs", jobs)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    match = ERROR.match(line)
    assert match and match["where"] == str(target) and why in match["why"], line


def test_empty_stdin_is_exit_2() -> None:
    run = otlint("check", "-", "--isolated", stdin=b"")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [
        "otlint: error: <stdin>: no telemetry read: empty; check that the capture step wrote its dump "
        "(the exporter's path, and that the process flushed it before it exited)"
    ]


def test_an_empty_shard_is_written_and_merge_fails_only_when_all_are_empty(
    world: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    run = otlint("check", str(empty), "--state", str(tmp_path / "empty.otlint"))
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        f"otlint: note: {empty}: skipped: empty",
        f"otlint: note: {empty}: no telemetry read: the shard {tmp_path / 'empty.otlint'} is empty",
    ]
    assert (
        otlint(
            "check", str(world / "traces.jsonl"), "--state", str(tmp_path / "good.otlint")
        ).returncode
        == 0
    )
    alone = otlint("merge", str(tmp_path / "empty.otlint"))
    assert alone.returncode == 2 and alone.stderr.startswith(
        f"otlint: error: {tmp_path / 'empty.otlint'}: no telemetry read: "
    )
    both = otlint(
        "merge",
        str(tmp_path / "empty.otlint"),
        str(tmp_path / "good.otlint"),
        "--isolated",
        "-f",
        "json",
    )
    one = otlint("merge", str(tmp_path / "good.otlint"), "--isolated", "-f", "json")
    assert both.returncode == one.returncode == 0, both.stderr
    assert report(both) == report(one)


# -- 4. the concise form and -q -------------------------------------------------------------

CONCISE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]{2}\d{3}) \[(error|warning|info)\] .+$"
)


def test_check_concise_quiet_prints_only_finding_lines(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    write_world(
        build_world(healthy=False, requests=6, latency_scale=0, batch_every=2),
        broken,
        formats=("jsonl",),
    )
    (broken / "app.jsonl").write_text(NOT_OTLP["app.jsonl"], encoding="utf-8")
    full = otlint("check", str(broken), "--isolated", "--format", "concise")
    quiet = otlint("check", str(broken), "--isolated", "--format", "concise", "-q")
    assert full.returncode == quiet.returncode == 1
    lines = quiet.stdout.splitlines()
    assert lines and all(CONCISE.match(line) for line in lines), quiet.stdout
    assert quiet.stderr == ""  # no notes either
    assert "app.jsonl: skipped" in full.stderr
    assert full.stdout.startswith(quiet.stdout + "\n") and re.search(
        r"\n\d+ findings \(.*\) across \d+ services\n$", full.stdout
    )
    assert any(
        re.match(r"^.+/traces\.jsonl:\d+:1: TR007 \[error\] checkout → inventory: ", line)
        for line in lines
    ), lines


def test_check_config_concise_is_its_text_and_quiet_drops_summary_and_notes(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yaml").write_text(
        "services:\n  payments:\n    image: shop/payments:2.0.1\n    environment:\n      OTEL_PROPAGATORS: b3\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.yaml").write_text("just: notes\n", encoding="utf-8")
    text = otlint("check-config", str(tmp_path), "--isolated")
    concise = otlint("check-config", str(tmp_path), "--isolated", "--format", "concise")
    quiet = otlint("check-config", str(tmp_path), "--isolated", "-q")
    assert text.returncode == concise.returncode == quiet.returncode == 1, text.stdout + text.stderr
    assert concise.stdout == text.stdout and concise.stderr == text.stderr != ""
    assert quiet.stderr == "" and text.stdout.startswith(quiet.stdout + "\n")
    assert quiet.stdout and all(CONCISE.match(line) for line in quiet.stdout.splitlines()), (
        quiet.stdout
    )


def test_the_dumps_hook_runs_check_concise_quiet() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    hooks = {
        h["id"]: h
        for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    }
    assert hooks["otlint-dumps"]["entry"] == "otlint check --format concise -q"


def test_vendored_folders_are_not_walked(world: Path, tmp_path: Path) -> None:
    """Another project's test data under vendor/, third_party/ or node_modules/ is not this capture."""
    from otlint.telemetry.readers import expand

    root = tmp_path / "repo"
    (root / "captures").mkdir(parents=True)
    (root / "captures" / "traces.jsonl").write_bytes((world / "traces.jsonl").read_bytes())
    for folder in ("vendor/github.com/x/y/testdata", "third_party/z", "node_modules/pkg"):
        (root / folder).mkdir(parents=True)
        (root / folder / "traces.jsonl").write_bytes((world / "traces.jsonl").read_bytes())
    assert [p for p, _ in expand([str(root)])] == [str(root / "captures" / "traces.jsonl")]
    # A folder named on the command line is walked whatever its name.
    assert [p for p, _ in expand([str(root / "vendor")])] == [
        str(root / "vendor/github.com/x/y/testdata/traces.jsonl")
    ]
