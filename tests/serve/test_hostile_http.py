"""Hostile OTLP/HTTP clients against a real `otlint serve` on loopback, over raw sockets:
nothing of a body is read before the request is accepted, no declared length or chunk size
reads past the limit, idle connections are closed, every gzip member is read, and no
client makes the sidecar print a traceback."""

from __future__ import annotations

import gzip
import json
import socket
import struct
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from serving import rss_mb, sidecar, threads, traces_request, wait_for

TOKEN = "t0ken"
LIMIT = 65536


def _request(spans: int, name: str = "x") -> bytes:
    ids = [(bytes([1 + i % 200]) * 16, bytes([1 + i % 200]) * 8) for i in range(spans)]
    return traces_request("hostile", ids, name)


def _head(length: str | None = None, token: bool = True, chunked: bool = False) -> bytes:
    lines = ["POST /v1/traces HTTP/1.1", "Host: x", "Content-Type: application/x-protobuf"]
    if token:
        lines.append(f"Authorization: Bearer {TOKEN}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(sock: socket.socket, wait: float = 2.0) -> int | None:
    """The status of the answer on ``sock`` within ``wait`` s (None: no answer)."""
    sock.settimeout(wait)
    data = b""
    try:
        while b"\r\n" not in data:
            piece = sock.recv(4096)
            if not piece:
                break
            data += piece
    except TimeoutError:
        return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def _connect(addr: str) -> socket.socket:
    host, port = addr.split(":")
    return socket.create_connection((host, int(port)), timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hostile")
    with sidecar(
        tmp,
        "--auth-token",
        TOKEN,
        "--max-message-size",
        str(LIMIT),
        "--http-idle-timeout",
        "1",
    ) as sc:
        yield sc
    assert sc["returncode"] == 0, sc["stderr"]
    # Dropped connections, cut bodies and idle timeouts: none is a traceback.
    assert "Traceback" not in sc["stderr"], sc["stderr"]


def test_http_refuses_before_reading_the_body(served: dict[str, Any]) -> None:
    addr = served["http"]
    # (headers, what is answered) -- at once, with no body byte sent: each used to wait
    # for the body (to the end of the connection for -1) before it answered.
    cases = [
        (_head("-1", token=False), 401),
        (_head("60000", token=False), 401),  # under the limit, but not authenticated
        (_head("-1"), 400),
        (_head("+100"), 400),
        (_head(str(10**12)), 413),
        (_head(chunked=True) + b"-1\r\n", 400),
        (_head(chunked=True) + b"0x10\r\n", 400),
        (_head(chunked=True) + b"ffff\r\n" + b"\0" * 0xFFFF + b"\r\nffff\r\n", 413),
    ]
    for head, expected in cases:
        with _connect(addr) as sock:
            sock.sendall(head)
            assert _status(sock) == expected, head[-40:]


def test_an_unauthenticated_endless_body_is_not_read(served: dict[str, Any]) -> None:
    """`Content-Length: -1` without the token: the sidecar answers 401 and closes, so
    sending more fails soon; it used to read (and keep) all of it."""
    before = rss_mb(served["proc"].pid)
    sent = 0
    with _connect(served["http"]) as sock:
        sock.sendall(_head("-1", token=False))
        chunk = b"\0" * (1 << 20)
        with pytest.raises(OSError):
            while sent < 64 << 20:
                sock.sendall(chunk)
                sent += len(chunk)
    assert sent < 32 << 20
    assert rss_mb(served["proc"].pid) - before < 16


def test_every_gzip_member_is_read(served: dict[str, Any]) -> None:
    addr = served["http"]
    first, second = _request(2, "first"), _request(3, "second")
    url = f"http://{addr}/v1/traces"
    headers = {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "gzip",
        "Authorization": f"Bearer {TOKEN}",
    }
    body = gzip.compress(first) + gzip.compress(second)  # = one request of 5 spans
    with urllib.request.urlopen(
        urllib.request.Request(url, data=body, headers=headers), timeout=10
    ) as reply:
        assert reply.status == 200
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(
            urllib.request.Request(url, data=gzip.compress(first) + b"junk", headers=headers),
            timeout=10,
        )
    assert err.value.code == 400
    assert "after the last gzip member" in err.value.read().decode(errors="replace")
    req = urllib.request.Request(
        f"http://{addr}/report", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    live = json.loads(urllib.request.urlopen(req, timeout=30).read())
    assert live["sidecar"]["received"]["traces"] == 5


def test_idle_and_dropped_connections_end(served: dict[str, Any]) -> None:
    pid = served["proc"].pid
    base = threads(pid)
    idle = [_connect(served["http"]) for _ in range(40)]
    wait_for(lambda: threads(pid) >= base + 30, 5, "a thread per connection")
    # A body cut by a reset, and a body that stops coming: each ends its connection.
    with _connect(served["http"]) as cut:
        cut.sendall(_head("1000") + b"\0" * 10)
        cut.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(1.5)  # the idle timeout is 1 s
    for sock in idle:
        sock.settimeout(2)
        assert sock.recv(1) == b"", "the sidecar closes an idle connection"
        sock.close()
    wait_for(lambda: threads(pid) <= base + 2, 5, "the connections' threads to end")
