"""Faults around a real `otlint serve` on loopback: its lint process dies, its upstream is
slow or down at shutdown, linting falls behind with large requests. Forwarding never stops,
nothing acknowledged is lost without being said, and the ledger is exact."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from serving import (
    Upstream,
    exporter,
    free_port,
    lint_pid,
    rss_mb,
    sidecar,
    traces_request,
    wait_for,
)


def _request(spans: int, tag: int, attr_bytes: int = 0) -> bytes:
    """A traces request of ``spans`` spans, unique by ``tag``, with an attribute of ``attr_bytes``."""
    ids = [
        (tag.to_bytes(8, "big") + i.to_bytes(8, "big"), (i + 1).to_bytes(8, "big"))
        for i in range(spans)
    ]
    return traces_request("faults", ids, f"op{tag}", attr_bytes)


def _nested(depth: int) -> bytes:
    """A traces request whose resource has an attribute ``depth`` arrays deep (3.6 KB at 600)."""

    def field(number: int, data: bytes) -> bytes:
        n, size = len(data), b""
        while True:
            size += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                break
        return bytes([number << 3 | 2]) + size + data

    value = field(1, b"x")  # AnyValue.string_value
    for _ in range(depth):
        value = field(5, field(1, value))  # AnyValue.array_value.values
    resource = field(1, field(1, b"service.name") + field(2, field(1, b"deep")))
    resource += field(1, field(1, b"deep") + field(2, value))
    span = field(1, b"\1" * 16) + field(2, b"\2" * 8) + field(5, b"x")
    return field(1, field(1, resource) + field(2, field(2, span)))


def _get(url: str, timeout: float = 30) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        body = reply.read().decode()
    return json.loads(body) if body.startswith("{") else body


def _restarted(http: str) -> bool:
    """Whether the sidecar answers /report from a restarted lint process (503 meanwhile)."""
    try:
        live = _get(f"{http}/report")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503  # the lint process is being restarted
        return False
    return bool(live["sidecar"].get("lint_restarts"))


def _metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition: sample name (with labels) -> value."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_a_dead_lint_process_is_restarted_and_forwarding_never_stops(tmp_path: Path) -> None:
    upstream = Upstream(free_port())
    upstream.start()
    state = tmp_path / "state.otlint"
    report = tmp_path / "report.json"
    sent = [_request(3, tag) for tag in range(1, 7)]
    try:
        with sidecar(
            tmp_path,
            "--forward",
            f"127.0.0.1:{upstream.port}",
            "--state",
            str(state),
            "--report",
            str(report),
            "--format",
            "json",
        ) as sc:
            http = f"http://{sc['http']}"
            channel, export = exporter(sc["grpc"])
            # A resource attribute 600 arrays deep used to kill the lint process for good.
            export(_nested(600), timeout=10)
            export(sent[0], timeout=10)
            assert _get(f"{http}/healthz") == "ok\n"
            live = _get(f"{http}/report")
            assert live["sidecar"]["linted"]["traces"] in (3, 4)  # the deep one may be a problem
            assert "lint_restarts" not in live["sidecar"]
            # Now the kernel kills it (as the OOM killer would).
            os.kill(lint_pid(sc["proc"].pid), signal.SIGKILL)
            for body in sent[1:4]:  # forwarding goes on while it is down
                export(body, timeout=10)
            # (/healthz may still say ok before the death is noticed: wait for the restart.)
            wait_for(lambda: _restarted(http), 10, "a new lint process")
            assert _get(f"{http}/healthz") == "ok\n"
            for body in sent[4:]:
                export(body, timeout=10)
            live = _get(f"{http}/report")
            assert live["sidecar"]["lint_restarts"] == 1
            assert "SIGKILL" in live["sidecar"]["lint_last_failure"]
            assert any("restarted 1 times" in note for note in live["notes"])
            wait_for(lambda: len(upstream.received) == 7, 10, "the upstream to get everything")
            channel.close()
    finally:
        upstream.stop()
    assert sc["returncode"] == 0, sc["stderr"]
    assert "the lint process died (killed by SIGKILL" in sc["stderr"]
    assert "Traceback" not in sc["stderr"]
    assert [b for _, b in upstream.received][1:] == sent
    final = json.loads(report.read_text())
    side = final["sidecar"]
    assert side["forwarded"]["traces"] == side["received"]["traces"] == 19
    # What the dead process had was not linted; the new one linted the rest.
    assert side["linted"]["traces"] + side["not_linted"]["traces"] == 19
    assert state.exists()


def test_sigterm_after_the_lint_process_died_finishes(tmp_path: Path) -> None:
    """More than a pipe's worth queued for a lint process that is then killed: SIGTERM
    still ends the sidecar, with the final report or a clear error (it used to hang)."""
    state = tmp_path / "state.otlint"
    with sidecar(
        tmp_path,
        "--state",
        str(state),
        env={"OTLINT_SERVE_LINT_DELAY": "5"},
        timeout=30,
    ) as sc:
        channel, export = exporter(sc["grpc"])
        for tag in range(12):
            export(_request(1, tag, attr_bytes=20_000), timeout=10)
        os.kill(lint_pid(sc["proc"].pid), signal.SIGKILL)
        time.sleep(0.3)
        sc["proc"].send_signal(signal.SIGTERM)
        channel.close()
    assert not sc.get("hung"), sc["stderr"]
    if sc["returncode"] == 0:
        assert state.exists()
    else:
        assert sc["returncode"] == 2, sc["stderr"]
        assert "otlint serve: error: the lint process" in sc["stderr"]
    assert "Traceback" not in sc["stderr"]


def test_the_lint_queue_is_bounded_by_bytes(tmp_path: Path) -> None:
    """Requests of 1 MiB and a linter that is slow: what waits for it stays under
    --lint-queue-bytes, the rest is forwarded but not linted (and counted)."""
    with sidecar(
        tmp_path,
        "--lint-queue-bytes",
        str(2 << 20),
        env={"OTLINT_SERVE_LINT_DELAY": "3"},
        timeout=30,
    ) as sc:
        pid = sc["proc"].pid
        channel, export = exporter(sc["grpc"])
        export(_request(1, 0), timeout=10)  # the lint process takes it and sleeps
        before = rss_mb(pid)
        for tag in range(1, 41):
            export(_request(1, tag, attr_bytes=1 << 20), timeout=10)
        grew = rss_mb(pid) - before
        metrics = _metrics(_get(f"http://{sc['http']}/metrics"))
        not_linted = metrics.get('otlint_not_linted_records_total{signal="traces"}', 0.0)
        queued = metrics.get("otlint_lint_queue_bytes", -1.0)
        channel.close()
        # The final drain would lint what is queued at 3 s a request: kill the lint process
        # first (a new one, if it starts in time, has nothing queued).
        os.kill(lint_pid(pid), signal.SIGKILL)
    assert not_linted >= 37, f"{not_linted} not linted; the receiver grew by {grew:.0f} MB"
    assert grew < 20, f"the receiver grew by {grew:.0f} MB for 40 MiB not linted"
    assert 0 <= queued <= 2 << 20


def test_nothing_acknowledged_is_lost_at_shutdown(tmp_path: Path) -> None:
    """A slow upstream at SIGTERM: the request in flight is waited for (and counted as the
    upstream got it), the rest goes to --spool and the next start sends it."""
    spool = tmp_path / "spool"
    upstream = Upstream(free_port(), delay=0.6)
    upstream.start()
    sent = [_request(2, tag) for tag in range(1, 5)]
    report = tmp_path / "report.json"
    try:
        with sidecar(
            tmp_path,
            "--forward",
            f"127.0.0.1:{upstream.port}",
            "--spool",
            str(spool),
            "--shutdown-timeout",
            "0.3",
            "--report",
            str(report),
            "--format",
            "json",
        ) as sc:
            channel, export = exporter(sc["grpc"])
            for body in sent:
                export(body, timeout=10)
            channel.close()
        assert sc["returncode"] == 0, sc["stderr"]
        got = len(upstream.received)
        side = json.loads(report.read_text())["sidecar"]
        assert side["forwarded"]["traces"] == 2 * got  # what the upstream got, exactly
        assert side["not_forwarded"]["traces"] == 2 * (4 - got)
        assert f"spooled {4 - got} requests, {2 * (4 - got)} records" in sc["stderr"]
        upstream.delay = 0.0
        with sidecar(tmp_path, "--forward", f"127.0.0.1:{upstream.port}", "--spool", str(spool)):
            wait_for(lambda: len(upstream.received) == 4, 10, "the spool to be replayed")
            wait_for(lambda: not list(spool.glob("otlint-spool-*")), 5, "the spool emptied")
    finally:
        upstream.stop()
    assert [b for _, b in upstream.received] == sent  # each once, in order


def test_an_upstream_that_is_down_is_said_and_what_it_missed_is_counted(tmp_path: Path) -> None:
    port = free_port()
    with sidecar(
        tmp_path,
        "--forward",
        f"127.0.0.1:{port}",
        "--shutdown-timeout",
        "0.5",
        env={"OTLINT_SERVE_STATUS_INTERVAL": "0.5"},
    ) as sc:
        channel, export = exporter(sc["grpc"])
        for tag in range(3):
            export(_request(5, tag), timeout=10)
        health = wait_for(
            lambda: (h := _get(f"http://{sc['http']}/healthz")).startswith("degraded") and h,
            10,
            "/healthz to say degraded",
        )
        assert f"upstream 127.0.0.1:{port} not accepting" in health
        time.sleep(1.5)
        channel.close()
    err = sc["stderr"]
    assert sc["returncode"] == 3, err
    assert err.count(f"upstream 127.0.0.1:{port} is not accepting") == 1
    assert f"upstream 127.0.0.1:{port} still not accepting" in err
    assert "error: 15 records (traces 15) acknowledged to clients were not forwarded" in err
