"""The lint process, seen from the receiving process: started, fed, asked, restarted, stopped.

* **Fed, bounded by bytes, through shared memory.** ``offer`` never blocks: a request goes to
  the lint process only if it fits both the request bound and the byte bound of what is
  queued and not yet taken; what does not fit is forwarded but not linted, and counted. The
  request's bytes are copied once into a ring of shared memory as large as the byte bound
  (a request that would run past the ring's end starts again at its start, the skipped tail
  counted as taken space), and only a small notice -- where, how long, when, from where --
  goes through the queue. The lint process copies the bytes out and adds what it freed to a
  shared counter, so what is queued never exceeds the ring: no pickling of payloads, no
  payload through a pipe.
* **Restarted.** When the lint process dies (an exception it did not expect, a signal, the
  kernel's OOM killer), it is said on stderr in one line, what it had been given is counted
  as not linted, and a new one is started with fresh queues (at once the first time, then
  with a growing delay while it keeps dying). Forwarding never waits for any of it.
* **Stopped without hanging.** A queue's feeder thread blocks on a full pipe once its reader
  is dead, and ``multiprocessing`` joins it at exit: every queue this module gives up is
  first told not to be joined. Results come back over a pipe whose only writer is the lint
  process, so its death is an end of file, not a wait.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from otlint.core.redact import mask_secrets
from otlint.serve.lint import IntakeCounters, Item, LintOptions, LintSummary, Notice, run

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.queues import Queue

    from otlint.serve.lint import Command, Result

DEBUG_ENV = "OTLINT_DEBUG"
"""Set, a crashed lint process' traceback is printed too (else one line)."""


def _say(text: str) -> None:
    print(mask_secrets(text), file=sys.stderr, flush=True)


def _running(process: SpawnProcess) -> bool:
    """True while ``process`` runs, without reaping it.

    ``Process.is_alive()`` calls ``waitpid``: called from an HTTP thread while the watcher joins
    the dead process, one of the two reaps it and the other reads no exit status at all (and
    says "it stopped answering" of a process the kernel killed). Only the watcher and ``stop``
    reap; everyone else looks at the sentinel, which becomes readable when the process ends.
    """
    return not wait([process.sentinel], timeout=0)


def _exit_code(process: SpawnProcess) -> int | None:
    """The exit status of a process that has ended (waiting a moment for a concurrent reaper)."""
    process.join(timeout=5)
    deadline = time.monotonic() + 1.0
    while process.exitcode is None and not _running(process) and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.exitcode


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"it exited with status {code}"


class _Generation:
    """One lint process and the queues that lead to it."""

    def __init__(self, options: LintOptions, max_items: int, max_bytes: int) -> None:
        mp = multiprocessing.get_context("spawn")
        self.data: Queue[Notice] = mp.Queue(maxsize=max_items)
        self.control: Queue[Command] = mp.Queue()
        self.results, writer = mp.Pipe(duplex=False)
        self.consumed = mp.RawValue(ctypes.c_int64, 0)
        self.ring = shared_memory.SharedMemory(create=True, size=max(1, max_bytes))
        self.ring_size = self.ring.size if max_bytes > 0 else 0
        buf = self.ring.buf
        assert buf is not None
        self.buf: memoryview = buf
        self.process: SpawnProcess = mp.Process(
            target=run,
            args=(self.data, self.control, writer, self.consumed, options, self.ring.name),
            name="otlint-lint",
            daemon=True,
        )
        try:
            self.process.start()
        except BaseException:
            self.ring.close()
            self.ring.unlink()
            raise
        writer.close()  # the lint process holds the only writer: its death is EOF here
        self.put_bytes = 0  # ring bytes reserved (requests and skipped tails), ever
        self.offered = [0, 0, 0]  # records given to this process
        self.crash = ""  # what it said before it died
        self.ready = False

    def queued_bytes(self) -> int:
        return self.put_bytes - int(self.consumed.value)

    def place(self, size: int) -> tuple[int, int] | None:
        """Where in the ring ``size`` bytes go, and the tail skipped to get there; None if
        they do not fit beside what is queued."""
        ring = self.ring_size
        at = self.put_bytes % ring if ring else 0
        skip = ring - at if at + size > ring else 0
        if self.queued_bytes() + skip + size > ring:
            return None
        return (0 if skip else at), skip

    def abandon(self) -> None:
        """Give the queues up without ever waiting on them (the process is dead or done)."""
        for q in (self.data, self.control):
            q.cancel_join_thread()
            q.close()
        self.results.close()
        with contextlib.suppress(OSError, BufferError):
            self.ring.close()
        with contextlib.suppress(OSError):
            self.ring.unlink()


class LintWorker:
    """Runs the lint process for the sidecar, restarting it when it dies."""

    def __init__(
        self,
        options: LintOptions,
        *,
        max_items: int = 1_000,
        max_bytes: int = 64 << 20,
        on_summary: Callable[[LintSummary], None] | None = None,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.options = options
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.on_summary = on_summary
        self.say = say
        self.restarts = 0
        self.last_failure = ""
        self.lost = [0, 0, 0]  # records given to lint processes that died
        self.ready = threading.Event()  # the first lint process is up (or failed to start)
        self._gen: _Generation | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[str]]] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self._stop_wake = threading.Event()
        self._final: str | None = None
        self._final_done = threading.Event()
        self._warned: set[str] = set()
        self._started = 0.0
        self._streak = 0  # deaths in a row, each soon after its start
        self._down_since: float | None = None
        self._thread: threading.Thread | None = None

    # -- life ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the lint process and the thread that reads its results and watches it."""
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name="otlint-lint-watch", daemon=True)
        self._thread.start()

    def _spawn(self) -> None:
        gen = _Generation(self.options, self.max_items, self.max_bytes)
        with self._lock:
            self._gen = gen
            self._started = time.monotonic()
            self._down_since = None

    def alive(self) -> bool:
        """True while a lint process runs (it may still be starting)."""
        gen = self._gen
        return gen is not None and _running(gen.process) and not gen.crash

    def problems(self) -> list[str]:
        """What is wrong with linting now, for ``/healthz``."""
        if self.alive():
            return []
        if self._gen is None:
            return ["lint process starting"]
        since = self._down_since
        down = f" for {time.monotonic() - since:.0f} s" if since is not None else ""
        return [f"lint process down{down} ({self.last_failure or 'starting'}), restarting"]

    # -- feeding ------------------------------------------------------------------------------
    def offer(self, item: Item, records: int) -> bool:
        """Queue a request for linting unless it does not fit (any thread; never blocks)."""
        size = len(item.payload)
        with self._lock:
            gen = self._gen
            if gen is None or gen.crash or self._stopping:
                return False
            if gen.data.full():
                return False
            where = gen.place(size)
            if where is None:
                return False
            at, skip = where
            notice: Notice = (
                item.signal,
                at,
                size,
                skip,
                item.received,
                item.source,
                item.deviations,
            )
            try:
                gen.buf[at : at + size] = item.payload
                gen.data.put_nowait(notice)
            except (queue.Full, ValueError, OSError, TypeError):
                return False
            gen.put_bytes += skip + size
            gen.offered[item.signal] += records
        return True

    def queued_bytes(self) -> int:
        """Bytes queued for the lint process and not yet taken."""
        gen = self._gen
        return gen.queued_bytes() if gen is not None else 0

    def send(self, command: Command) -> bool:
        """A command to the current lint process; False if there is none."""
        with self._lock:
            gen = self._gen
            if gen is None or gen.crash:
                return False
            try:
                gen.control.put(command)
            except (ValueError, OSError):
                return False
        return True

    def request_report(self, fmt: str, counters: IntakeCounters, timeout: float) -> str | None:
        """A report from the lint process now; None if there is none or it does not answer in time."""
        if not self.alive():
            return None
        request_id = next(self._ids)
        done = threading.Event()
        box: list[str] = []
        self._pending[request_id] = (done, box)
        # Fresh counters first, so the report says what was received up to now.
        if self.send(("intake", counters)) and self.send(("report", request_id, fmt)):
            done.wait(timeout)
        self._pending.pop(request_id, None)
        return box[0] if box else None

    # -- watching ------------------------------------------------------------------------------
    def _watch(self) -> None:
        while True:
            gen = self._gen
            assert gen is not None
            try:
                ready = wait([gen.results, gen.process.sentinel], timeout=1.0)
            except OSError:
                ready = [gen.process.sentinel]
            if gen.results in ready:
                try:
                    message: Result = gen.results.recv()
                except (EOFError, OSError):
                    pass  # its only writer is gone: the process is
                else:
                    if self._handle(gen, message):
                        return
                    continue
            elif not ready and _running(gen.process):
                continue
            # The process is gone (or its pipe is): read what it said before, then restart.
            if self._drain(gen):
                return
            if self._died(gen):
                return

    def _drain(self, gen: _Generation) -> bool:
        """Handle what a dead process sent before it died; True if that was its last word."""
        while True:
            try:
                if not gen.results.poll(0):
                    return False
                message: Result = gen.results.recv()
            except (EOFError, OSError):
                return False
            if self._handle(gen, message):
                return True

    def _handle(self, gen: _Generation, message: Result) -> bool:
        """Act on one result; True when the process has stopped for good."""
        if message[0] == "ready":
            gen.ready = True
            self._streak = 0 if time.monotonic() - self._started > 60 else self._streak
            self.ready.set()
        elif message[0] == "report":
            entry = self._pending.get(message[1])
            if entry is not None:
                entry[1].append(message[2])
                entry[0].set()
        elif message[0] == "summary":
            if self.on_summary is not None:
                self.on_summary(message[1])
        elif message[0] == "failed":
            if message[1] not in self._warned:
                self._warned.add(message[1])
                self.say(f"otlint serve: warning: {message[1]}")
        elif message[0] == "crashed":
            gen.crash = message[1]
            if os.environ.get(DEBUG_ENV):
                self.say(message[2])
        elif message[0] == "stopped":
            self._final = message[1]
            self._final_done.set()
            return True
        return False

    def _died(self, gen: _Generation) -> bool:
        """Count, say and restart; True if no restart is due (stopping)."""
        why = gen.crash or _exit_reason(_exit_code(gen.process))
        with self._lock:
            gen.crash = gen.crash or why
            for i, n in enumerate(gen.offered):
                self.lost[i] += n
            lost = sum(gen.offered)
            gen.offered = [0, 0, 0]
            self.last_failure = why
            self._down_since = time.monotonic()
        gen.abandon()
        for done, _box in list(self._pending.values()):
            done.set()
        if self._stopping:
            self._final_done.set()
            return True
        quick = time.monotonic() - self._started < 30
        self._streak = self._streak + 1 if quick else 0
        delay = 0.0 if self._streak <= 1 else min(30.0, 2.0 ** (self._streak - 1))
        self.restarts += 1
        when = f" in {delay:.0f} s" if delay else ""
        self.say(
            f"otlint serve: the lint process died ({why}); restarting it{when} "
            f"(restart {self.restarts}); forwarding goes on, the {lost} records it was "
            "given are counted as not linted"
        )
        self.ready.set()
        if delay and self._stop_wake.wait(delay):
            self._final_done.set()
            return True
        if self._stopping:
            self._final_done.set()
            return True
        try:
            self._spawn()
        except OSError as exc:
            self.say(f"otlint serve: cannot start a lint process ({exc}); forwarding goes on")
            self._final_done.set()
            return True
        return False

    # -- stopping ------------------------------------------------------------------------------
    def stop(self, counters: IntakeCounters, timeout: float) -> tuple[str | None, str | None]:
        """Ask for the final report (and --state); returns it, or None and why not."""
        with self._lock:
            self._stopping = True
            gen = self._gen
        self._stop_wake.set()
        if gen is None or gen.crash or not _running(gen.process):
            self._final_done.wait(5)
            return None, f"the lint process is down ({self.last_failure or 'not started'})"
        try:
            gen.control.put(("stop", counters))
        except (ValueError, OSError):
            return None, f"the lint process is down ({self.last_failure})"
        if not self._final_done.wait(timeout):
            gen.process.kill()
            gen.process.join(5)
            gen.abandon()
            return None, f"the lint process did not write the final report within {timeout:.0f} s"
        if self._final is None:
            return (
                None,
                f"the lint process died while writing the final report ({self.last_failure})",
            )
        gen.process.join(10)
        if gen.process.is_alive():
            gen.process.kill()
        gen.abandon()
        return self._final, None
