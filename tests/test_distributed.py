"""``check --dask`` and ``otlint.distributed``: a capture read on a real Dask cluster
reports what a local run reports.

One ``distributed.LocalCluster`` of two worker processes serves the module; the world
is the real SDK's, written as JSON Lines and proto framing, with a file that is not
OTLP and one with broken records, cut into pieces small enough that every large file
is read by several tasks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otlint.cli.main import main
from otlint.core.errors import OtlintError
from otlint.registry import REGISTRY
from otlint.report.report import Report
from otlint.run import check as run_check
from otlint.run import parallel
from otlint.run.scan import find_inputs
from otlint.settings import load_settings

from sdkworld import build_world, write_world

#: Bytes of a piece: the SDK world's files are cut into several.
CHUNK = 20_000


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = build_world(healthy=False, requests=40, latency_scale=0, batch_every=2)
    folder = tmp_path_factory.mktemp("capture")
    write_world(world, folder, formats=("jsonl", "proto"))
    (folder / "notes.txt").write_text("not telemetry\n")
    lines = (folder / "traces.jsonl").read_text().splitlines()
    broken = [lines[0], '{"resourceSpans": 5}']
    (folder / "broken.jsonl").write_text("\n".join([*broken, *lines[1:4], "{not json"]) + "\n")
    return folder


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    import dask
    from distributed import Client, LocalCluster

    # (A worker that dies fails its task at once: the test of it need not kill three.)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )
        with cluster, Client(cluster) as c:
            yield c


def _json(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = report.to_json()
    return json.loads(json.dumps(data))  # type: ignore[no-any-return]


def _local(paths: list[str]) -> Report:
    settings = load_settings(REGISTRY, isolated=True)
    corpus, stats = run_check.scan(paths, jobs=1)
    findings = run_check.evaluate(corpus, settings)
    return run_check.build_report(corpus, findings, stats.inputs, settings=settings)


def test_the_capture_is_cut_into_pieces(capture: Path) -> None:
    units = parallel.plan_inputs(find_inputs([str(capture)], sized=True), 2, CHUNK)
    assert sum(1 for u in units if u.fmt == "jsonl") > 3
    assert sum(1 for u in units if u.fmt == "proto-framed") > 3


def test_report_equals_a_local_run(capture: Path, client: Any) -> None:
    from otlint import distributed

    settings = load_settings(REGISTRY, isolated=True)
    remote = _json(distributed.check([str(capture)], client, settings, chunk=CHUNK))
    local = _json(_local([str(capture)]))
    assert remote["findings"] == local["findings"]
    assert remote["joins"] == local["joins"]
    assert remote["summary"] == local["summary"]
    assert remote == local
    codes = {f["code"] for f in remote["findings"]}
    assert {"RD001", "RD003"} <= codes  # (the broken records, found on a worker)


def test_a_client_on_a_small_budget_spills_and_reports_the_same(
    capture: Path, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client merges the workers' shards on a budget: rows past it go to its own
    temporary folder and are judged by partition; the report is a local run's."""
    import tempfile

    from otlint import distributed
    from otlint.run import spill as spilling

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spills: list[int] = []
    close = spilling.Spill.close

    def counted(self: spilling.Spill) -> None:
        spills.append(self.spills)
        close(self)

    monkeypatch.setattr(spilling.Spill, "close", counted)
    settings = load_settings(REGISTRY, isolated=True)
    bounded = distributed.check([str(capture)], client, settings, chunk=CHUNK, max_memory=1 << 20)
    assert spills and spills[0] >= 2, spills  # (1M leaves the client ~40 KB of rows)
    local = _json(_local([str(capture)]))
    assert _json(bounded) == local
    assert list(tmp_path.iterdir()) == []  # (the spill folder is gone)
    # 0 is no bound, as --max-memory 0 is (not a budget of nothing): nothing spills.
    unbounded = distributed.check([str(capture)], client, settings, chunk=CHUNK, max_memory=0)
    assert len(spills) == 1 and _json(unbounded) == local
    with pytest.raises(ValueError, match="max_memory=-1"):
        distributed.check([str(capture)], client, settings, max_memory=-1)


@pytest.mark.parametrize("through", ["dask", "folder"])
def test_a_compressed_file_comes_back_from_a_worker_in_parts(
    capture: Path, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    """On a budget a worker hands a file it cannot cut back in parts (kept as shards until
    its task ends), which the client merges and spills as they come; same report."""
    import gzip
    import shutil

    from otlint import distributed

    folder = tmp_path / "packed"
    folder.mkdir()
    for name in ("traces.binpb", "logs.binpb", "metrics.binpb"):
        shutil.copy(capture / name, folder / name)
    traces = folder / "traces.binpb"
    (folder / "traces.binpb.gz").write_bytes(gzip.compress(traces.read_bytes()))
    traces.unlink()
    merged: dict[str, int] = {}
    add = parallel.Merger.add

    def counted(merger: parallel.Merger, i: int, result: Any) -> None:
        merged[merger.units[i].path] = merged.get(merger.units[i].path, 0) + 1
        add(merger, i, result)

    monkeypatch.setattr(parallel.Merger, "add", counted)
    settings = load_settings(REGISTRY, isolated=True)
    shards = tmp_path / "shards"
    shards.mkdir()
    bounded = distributed.check(
        [str(folder)],
        client,
        settings,
        chunk=CHUNK,
        max_memory=1 << 17,  # (~5 KB of rows a part: these traces hold 19 KB)
        shards=str(shards) if through == "folder" else None,
    )
    assert merged[str(folder / "traces.binpb.gz")] >= 3, merged  # (parts, then the last)
    assert _json(bounded) == _json(_local([str(folder)]))
    assert list(shards.iterdir()) == []


def test_shards_through_a_folder(capture: Path, client: Any, tmp_path: Path) -> None:
    from otlint import distributed

    paths = [str(capture / "traces.jsonl"), str(capture / "logs.binpb")]
    corpus, stats = distributed.scan(paths, client, shards=str(tmp_path), chunk=CHUNK)
    one, stats1 = run_check.scan(paths, jobs=1)
    assert corpus.canonical() == one.canonical()
    assert (stats.inputs, stats.skipped, stats.records) == (
        stats1.inputs,
        stats1.skipped,
        stats1.records,
    )
    assert list(tmp_path.iterdir()) == []  # (each shard file removed once read)


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        main(args)
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


def test_cli_dask_equals_local(
    capture: Path, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    address = client.scheduler.address
    args = ["check", str(capture), "--isolated", "-f", "json", "--exit-zero"]
    code, remote, err = _cli([*args, "--dask", address], capsys)
    assert code == 0, err
    code, local, err_local = _cli([*args, "--jobs", "1"], capsys)
    assert json.loads(remote) == json.loads(local)
    assert err == err_local  # (the same notes: notes.txt skipped)
    assert "notes.txt: skipped" in err


def test_errors_are_the_local_ones(
    capture: Path, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    address = client.scheduler.address
    for args in (
        ["check", str(capture / "missing.binpb"), "-q"],
        ["check", str(capture / "broken.jsonl"), "--strict", "-q", "--isolated"],
        ["check", str(capture / "notes.txt"), "-q"],
    ):
        local = _cli([*args, "--jobs", "1"], capsys)
        remote = _cli([*args, "--dask", address], capsys)
        assert remote == local
        assert remote[0] == 2 and remote[2].count("\n") == 1 and "Traceback" not in remote[2]
    code, _, err = _cli(["check", str(capture), "--dask", address, "--jobs", "2"], capsys)
    assert code == 2 and "--jobs and --dask" in err
    code, _, err = _cli(["check", str(capture), "--dask-shards", str(capture)], capsys)
    assert code == 2 and "give --dask too" in err


def test_unreachable_scheduler(
    capture: Path, client: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from otlint import distributed

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", 0.5)
    code, _, err = _cli(["check", str(capture), "--dask", "tcp://127.0.0.1:9"], capsys)
    assert code == 2 and "cannot reach the Dask scheduler" in err and err.count("\n") == 1


def test_without_dask_one_line_and_no_import_at_startup(capture: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys

        class NoDask:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("dask", "distributed"):
                    raise ModuleNotFoundError(name)

        import otlint.cli.main
        assert not any(m.partition(".")[0] in ("dask", "distributed") for m in sys.modules)
        sys.meta_path.insert(0, NoDask())
        otlint.cli.main.main(["check", {str(capture)!r}, "--dask", "tcp://127.0.0.1:9"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=os.environ
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "otlint: error: --dask needs dask.distributed, which is not installed: "
        "pip install 'otlint[dask]'\n"
    )


def test_strict_stops_at_the_first_broken_line_as_a_local_run(
    capture: Path, client: Any, tmp_path: Path
) -> None:
    """The first broken line is in a small file, read last (the largest pieces go first);
    the pieces of the big file after it fail before: the small file's error is reported."""
    from otlint import distributed

    lines = (capture / "traces.jsonl").read_text().splitlines()
    small = tmp_path / "a.jsonl"
    small.write_text(f'{lines[0]}\n{{"resourceSpans": 5}}\n')
    big = tmp_path / "b.jsonl"
    big.write_text("\n".join(line for x in lines for line in (x, '{"resourceSpans": 5}')) + "\n")
    paths = [str(small), str(big)]
    with pytest.raises(OtlintError) as local:
        run_check.scan(paths, jobs=1, strict=True)
    with pytest.raises(OtlintError) as remote:
        distributed.scan(paths, client, strict=True, chunk=CHUNK)
    assert str(remote.value) == str(local.value)
    assert str(local.value).startswith(f"{small}:2: ")


def test_a_dead_worker_is_a_clear_error(client: Any) -> None:
    """(Last: the nanny restarts the worker it kills.)"""
    from otlint import distributed

    futures = {client.submit(os._exit, 1, pure=False): 0}
    with pytest.raises(OtlintError, match=r"^/capture/x\.binpb: the Dask worker reading it died"):
        list(distributed._gathered(futures, [parallel.Unit("/capture/x.binpb")]))
