"""Forwarding: every request, byte for byte, in order, to the upstream collector.

Each signal has its own lane and one sender task: a lane's head is sent and only then its
next, so the upstream sees each signal's requests in the order they arrived, and the
three signals travel side by side on one channel (a collector orders nothing between
signals; three lanes take three times the requests a round trip allows). Retryable failures (the OTLP list: UNAVAILABLE,
DEADLINE_EXCEEDED, ...) are retried with exponential backoff, holding the queue; a
non-retryable failure is counted and reported, never silently lost. The queue is
bounded in requests and bytes: when it is full, ``offer`` says no and the receiver
answers UNAVAILABLE / 503 so the client retries.

The ledger is exact: every record accepted (``offer`` said yes) or replayed from the spool
is, at any time, forwarded, refused by the upstream for good, or still held (the queue,
the request in flight included). At shutdown ``drain`` waits for the queue to empty, then
for the request in flight to be answered (never cancelled: a cancelled call may or may
not have reached the upstream), and what is still held is spooled or reported lost.

The state of the upstream is said on stderr: once when it stops accepting (and once when
it refuses requests for good), then a count every ``status_interval`` while that lasts,
and once when it accepts again; ``problems`` says the same for ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import grpc

from otlint.core.redact import mask_secrets
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


def _say(text: str) -> None:
    print(mask_secrets(text), file=sys.stderr, flush=True)


@dataclass
class ForwardStats:
    """What the forwarder did, per signal."""

    accepted: list[int] = field(default_factory=lambda: [0, 0, 0])  # records offered and taken
    replayed: list[int] = field(default_factory=lambda: [0, 0, 0])  # records loaded from the spool
    forwarded: list[int] = field(default_factory=lambda: [0, 0, 0])  # records
    requests: int = 0
    failed: list[int] = field(
        default_factory=lambda: [0, 0, 0]
    )  # records upstream refused for good
    rejected_upstream: list[int] = field(
        default_factory=lambda: [0, 0, 0]
    )  # partial_success counts
    retries: int = 0
    timeouts: int = 0  # calls that got no answer in time: the upstream may hold a duplicate
    last_error: str = ""


@dataclass
class Held:
    """One request held for the upstream."""

    signal: Signal
    payload: bytes
    records: int
    replayed: bool = False  # loaded from the spool at start
    seq: int = 0  # arrival order across lanes


class _Status:
    """What is said about the upstream, and when: once on a change, then a count per interval."""

    def __init__(self, target: str, interval: float, say: Callable[[str], None]) -> None:
        self.target = target
        self.interval = interval
        self.say = say
        self.down_since: float | None = None
        self.failures = 0  # failed attempts since the last line
        self.refused = [0, 0]  # requests, records refused for good since the last line
        self.refusing_until = 0.0
        self.last_line = 0.0
        self.last_error = ""

    def failed(self, error: str, held: int, now: float) -> None:
        self.last_error = error
        self.failures += 1
        if self.down_since is None:
            self.down_since = now
            self.failures = 0
            self.last_line = now
            self.say(
                f"otlint serve: upstream {self.target} is not accepting ({error}); "
                f"holding {held} requests and retrying"
            )

    def delivered(self, now: float) -> None:
        if self.down_since is not None:
            self.say(
                f"otlint serve: upstream {self.target} is accepting again after "
                f"{now - self.down_since:.1f} s"
            )
            self.down_since = None
            self.failures = 0

    def refused_for_good(self, error: str, records: int, now: float) -> None:
        self.last_error = error
        first = now >= self.refusing_until
        self.refusing_until = now + self.interval
        if first:
            self.say(
                f"otlint serve: upstream {self.target} refused a request for good ({error}): "
                f"{records} records not forwarded; further refusals are counted"
            )
            self.last_line = now
        else:
            self.refused[0] += 1
            self.refused[1] += records

    def tick(self, held: int, now: float) -> None:
        """The interval's count, when one is due."""
        if now - self.last_line < self.interval:
            return
        if self.down_since is not None:
            self.say(
                f"otlint serve: upstream {self.target} still not accepting after "
                f"{now - self.down_since:.0f} s: {self.failures} failed attempts in the last "
                f"{self.interval:.0f} s, {held} requests held ({self.last_error})"
            )
            self.failures = 0
            self.last_line = now
        if self.refused[0]:
            self.say(
                f"otlint serve: upstream {self.target} refused {self.refused[0]} more requests "
                f"({self.refused[1]} records) in the last {self.interval:.0f} s ({self.last_error})"
            )
            self.refused = [0, 0]
            self.last_line = now

    def problems(self, now: float) -> list[str]:
        out = []
        if self.down_since is not None:
            out.append(
                f"upstream {self.target} not accepting for {now - self.down_since:.0f} s "
                f"({self.last_error})"
            )
        if now < self.refusing_until:
            out.append(f"upstream {self.target} is refusing requests ({self.last_error})")
        return out


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
        status_interval: float = 30.0,
        say: Callable[[str], None] = _say,
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
        self.status = _Status(target, status_interval, say)
        self._lanes: dict[Signal, deque[Held]] = {sig: deque() for sig in Signal}
        self._seq = 0
        self._bytes = 0
        self._lock = threading.Lock()
        self._wakes: dict[Signal, asyncio.Event] = {}
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False  # accept nothing more; return once the queue is sent
        self._aborting = False  # send nothing more; return once the call in flight is answered

    @property
    def closing(self) -> bool:
        """True once ``close`` was called: ``offer`` says no from then on."""
        return self._closing

    @property
    def depth(self) -> int:
        """Requests waiting to be forwarded."""
        return sum(len(lane) for lane in self._lanes.values())

    def offer(self, signal: Signal, payload: bytes, records: int) -> bool:
        """Queue a request (any thread). False when the queue is full: shed load."""
        with self._lock:
            if (
                self._closing
                or self.depth >= self.max_items
                or self._bytes + len(payload) > self.max_bytes
            ):
                return False
            lane = self._lanes[signal]
            idle = not lane  # else its sender is busy and takes this one next, unwoken
            self._seq += 1
            lane.append(Held(signal, payload, records, seq=self._seq))
            self._bytes += len(payload)
            self.stats.accepted[signal] += records
        if idle:
            self._wake_up(signal)
        return True

    def preload(self, held: Iterable[Held]) -> int:
        """Put requests replayed from the spool at the head of the queue, before any ``offer``
        (the queue's bounds do not apply: they were acknowledged already). Returns how many."""
        n = 0
        with self._lock:
            for item in held:
                item.replayed = True
                self._seq += 1
                item.seq = self._seq
                self._lanes[item.signal].append(item)
                self._bytes += len(item.payload)
                self.stats.replayed[item.signal] += item.records
                n += 1
        return n

    def replay_pending(self) -> int:
        """Requests from the spool not yet forwarded or refused."""
        with self._lock:
            return sum(1 for lane in self._lanes.values() for item in lane if item.replayed)

    def _wake_up(self, signal: Signal | None = None) -> None:
        loop = self._loop
        if loop is None:
            return
        for sig, wake in self._wakes.items():
            if signal is None or sig is signal:
                loop.call_soon_threadsafe(wake.set)

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

    async def _pause(self, seconds: float) -> None:
        """Sleep before a retry, unless ``abort`` is called meanwhile."""
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def run(self) -> None:
        """Send until ``close`` and the queue is empty, or until ``abort``."""
        self._stop = asyncio.Event()
        self._wakes = {sig: asyncio.Event() for sig in Signal}
        self._loop = asyncio.get_running_loop()
        if self._aborting:
            self._stop.set()
        async with self._channel() as channel:
            await asyncio.gather(*(self._lane(channel, sig) for sig in Signal))

    async def _lane(self, channel: grpc.aio.Channel, signal: Signal) -> None:
        """One signal's sender: its queue's head, then the next, retrying as the module says."""
        spec = SPECS[signal]
        call = channel.unary_unary(
            spec.grpc_method,
            request_serializer=None,
            response_deserializer=spec.response.FromString,
        )
        lane = self._lanes[signal]
        wake = self._wakes[signal]
        backoff = 0.1
        while not self._aborting:
            if not lane:
                if self._closing:
                    return
                wake.clear()
                if lane:  # offered between the test and the clear
                    continue
                await wake.wait()
                continue
            item = lane[0]
            try:
                response = await call(
                    item.payload, timeout=self.timeout, metadata=self.headers or None
                )
            except grpc.aio.AioRpcError as exc:
                now = time.monotonic()
                error = f"{exc.code().name}: {exc.details()}"
                self.stats.last_error = error
                if exc.code() in RETRYABLE:
                    self.stats.retries += 1
                    if exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
                        self.stats.timeouts += 1
                    self.status.failed(error, self.depth, now)
                    await self._pause(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                self.status.delivered(now)
                self.status.refused_for_good(error, item.records, now)
                self.stats.failed[item.signal] += item.records
            else:
                self.status.delivered(time.monotonic())
                self.stats.forwarded[item.signal] += item.records
                partial = response.partial_success
                rejected = getattr(partial, spec.partial_field)
                if rejected:
                    self.stats.rejected_upstream[item.signal] += rejected
                    self.stats.last_error = (
                        f"upstream rejected {rejected} records: {partial.error_message}"
                    )
            self.stats.requests += 1
            backoff = 0.1
            with self._lock:
                lane.popleft()
                self._bytes -= len(item.payload)

    def close(self) -> None:
        """Accept nothing more; ``run`` returns once the queue is sent."""
        with self._lock:
            self._closing = True
        self._wake_up()

    def abort(self) -> None:
        """Send nothing more: ``run`` returns once the call in flight (if any) is answered."""
        self._aborting = True
        self._wake_up()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def drain(self, task: asyncio.Task[None], timeout: float) -> None:
        """Close, wait up to ``timeout`` s for the queue to be sent, then abort and wait for the
        call in flight (at most the call timeout): afterwards ``held`` is exact."""
        self.close()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            self.abort()
            done, _ = await asyncio.wait({task}, timeout=self.timeout + 5.0)
        if not done:  # the channel did not give the call back: it counts as not forwarded
            task.cancel()

    def held(self) -> list[Held]:
        """The requests still held, in the order they arrived (at shutdown: not forwarded)."""
        with self._lock:
            return sorted(
                (item for lane in self._lanes.values() for item in lane), key=lambda h: h.seq
            )

    def unsent(self) -> list[int]:
        """Records per signal still queued (counted as not forwarded at shutdown)."""
        with self._lock:
            return [sum(item.records for item in self._lanes[sig]) for sig in Signal]

    def tick(self, now: float | None = None) -> None:
        """Say the interval's count about the upstream, when one is due (called every second)."""
        self.status.tick(self.depth, time.monotonic() if now is None else now)

    def upstream_up(self) -> bool:
        """False while the upstream is not accepting or is refusing requests."""
        return not self.status.problems(time.monotonic())

    def problems(self, now: float | None = None) -> list[str]:
        """What is wrong with the upstream now, for ``/healthz``."""
        out = self.status.problems(time.monotonic() if now is None else now)
        depth = self.depth
        if depth >= 0.8 * self.max_items or self._bytes >= 0.8 * self.max_bytes:
            out.append(f"forward queue {depth} requests, {self._bytes} bytes: near full")
        return out
