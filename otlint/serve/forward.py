"""Forwarding: every request, byte for byte, in order, to the upstream collector.

One sender task sends the queue's head and only then the next, so the upstream sees
requests in the order they arrived. Retryable failures (the OTLP list: UNAVAILABLE,
DEADLINE_EXCEEDED, ...) are retried with exponential backoff, holding the queue; a
non-retryable failure is counted and reported, never silently lost. The queue is
bounded in requests and bytes: when it is full, ``offer`` says no and the receiver
answers UNAVAILABLE / 503 so the client retries.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

import grpc

from otlint.serve.otlp import SPECS
from otlint.telemetry.corpus.corpus import Signal

RETRYABLE = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


@dataclass
class ForwardStats:
    """What the forwarder did, per signal."""

    forwarded: list[int] = field(default_factory=lambda: [0, 0, 0])  # records
    requests: int = 0
    failed: list[int] = field(
        default_factory=lambda: [0, 0, 0]
    )  # records upstream refused for good
    rejected_upstream: list[int] = field(
        default_factory=lambda: [0, 0, 0]
    )  # partial_success counts
    retries: int = 0
    last_error: str = ""


@dataclass
class _Item:
    signal: Signal
    payload: bytes
    records: int
    headers: tuple[tuple[str, str], ...] = ()


class Forwarder:
    """A bounded, ordered, retrying queue to one upstream OTLP/gRPC endpoint."""

    def __init__(
        self,
        target: str,
        *,
        tls: bool = False,
        ca_file: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        max_items: int = 10_000,
        max_bytes: int = 256 << 20,
        timeout: float = 10.0,
        max_message: int = 64 << 20,
    ) -> None:
        self.target = target
        self.tls = tls
        self.ca_file = ca_file
        self.headers = headers
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_message = max_message
        self.stats = ForwardStats()
        self._queue: deque[_Item] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    @property
    def depth(self) -> int:
        """Requests waiting to be forwarded."""
        return len(self._queue)

    def offer(self, signal: Signal, payload: bytes, records: int) -> bool:
        """Queue a request (any thread). False when the queue is full: shed load."""
        with self._lock:
            if (
                self._closing
                or len(self._queue) >= self.max_items
                or self._bytes + len(payload) > self.max_bytes
            ):
                return False
            self._queue.append(_Item(signal, payload, records))
            self._bytes += len(payload)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)
        return True

    def _channel(self) -> grpc.aio.Channel:
        options = [
            ("grpc.max_send_message_length", self.max_message),
            ("grpc.max_receive_message_length", self.max_message),
            # Reconnect soon after the upstream comes back; gRPC's default waits up to 2 minutes.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ]
        if self.tls:
            root = open(self.ca_file, "rb").read() if self.ca_file else None  # noqa: SIM115
            return grpc.aio.secure_channel(
                self.target, grpc.ssl_channel_credentials(root), options=options
            )
        return grpc.aio.insecure_channel(self.target, options=options)

    async def run(self) -> None:
        """Send until ``close`` and the queue is empty (or the drain deadline passes)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        async with self._channel() as channel:
            calls = {
                sig: channel.unary_unary(
                    spec.grpc_method,
                    request_serializer=None,
                    response_deserializer=spec.response.FromString,
                )
                for sig, spec in SPECS.items()
            }
            backoff = 0.1
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                item = self._queue[0]
                try:
                    response = await calls[item.signal](
                        item.payload, timeout=self.timeout, metadata=self.headers or None
                    )
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in RETRYABLE:
                        self.stats.retries += 1
                        self.stats.last_error = f"{exc.code().name}: {exc.details()}"
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, 5.0)
                        continue
                    self.stats.failed[item.signal] += item.records
                    self.stats.last_error = f"{exc.code().name}: {exc.details()}"
                else:
                    self.stats.forwarded[item.signal] += item.records
                    partial = response.partial_success
                    rejected = getattr(partial, SPECS[item.signal].partial_field)
                    if rejected:
                        self.stats.rejected_upstream[item.signal] += rejected
                        self.stats.last_error = (
                            f"upstream rejected {rejected} records: {partial.error_message}"
                        )
                self.stats.requests += 1
                backoff = 0.1
                with self._lock:
                    self._queue.popleft()
                    self._bytes -= len(item.payload)

    def close(self) -> None:
        """Accept nothing more; ``run`` returns once the queue is sent."""
        with self._lock:
            self._closing = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def unsent(self) -> list[int]:
        """Records per signal still queued (counted as not forwarded at shutdown)."""
        out = [0, 0, 0]
        with self._lock:
            for item in self._queue:
                out[item.signal] += item.records
        return out
