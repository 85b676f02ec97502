"""The shared-memory ring between the receiver and the lint process: requests of many sizes
through a ring a few requests large come out whole, every one linted, the ring empty after."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from serving import exporter, sidecar, traces_request, wait_for

RING = 256 << 10


def _queued(http: str) -> float:
    with urllib.request.urlopen(f"http://{http}/metrics", timeout=10) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith("otlint_lint_queue_bytes "):
                return float(line.split()[1])
    raise AssertionError("no otlint_lint_queue_bytes in /metrics")


def test_requests_wrap_around_a_small_ring_and_all_are_linted(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    sizes = [40_000 + (tag * 7_919) % 70_000 for tag in range(40)]  # 40-110 kB: offsets vary
    with sidecar(
        tmp_path,
        "--lint-queue-bytes",
        str(RING),
        "--report",
        str(report),
        "--format",
        "json",
    ) as sc:
        channel, export = exporter(sc["grpc"])
        for tag, size in enumerate(sizes):
            ids = [(bytes([tag + 1]) * 16, bytes([tag + 1, i + 1]) * 4) for i in range(2)]
            export(traces_request("ring", ids, f"op{tag}", size), timeout=10)
            # One at a time, mostly taken before the next comes: the ring wraps ~15 times.
            wait_for(lambda: _queued(sc["http"]) == 0, 20, "the lint process to take it")
            time.sleep(0.05)
        channel.close()
    assert sc["returncode"] == 0, sc["stderr"]
    assert sum(sizes) > 10 * RING
    side = json.loads(report.read_text())["sidecar"]
    linted, refused = side["linted"]["traces"], side["not_linted"]["traces"]
    # Every request given to the lint process decoded whole; one turned away for want of
    # room (the queue gauge lags a little) is counted, never lost.
    assert linted + refused == 2 * len(sizes)
    assert linted >= len(sizes)
    assert "undecodable" not in report.read_text()
