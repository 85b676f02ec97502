"""The lint process: folds received requests into a Corpus and writes reports.

It runs apart from the receiving process, so receiving and forwarding never wait on
linting. It reads from a queue bounded in requests and bytes (what did not fit was
forwarded but not linted, and the report says how much; ``consumed`` counts the bytes it
took, so the receiving process knows what is still queued), judges traces once idle
(``otlint.serve.window``), writes the report file every interval and on shutdown, answers
report requests, and writes the Corpus shard (``--state``) when it stops. A request it
fails on is a read problem of that request, not the end of linting; if it dies anyway, the
receiving process starts another (``otlint.serve.worker``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias, TypedDict

from google.protobuf.message import DecodeError

from otlint.core.jsontypes import JSONObject
from otlint.registry import REGISTRY
from otlint.report.report import Report
from otlint.run.check import build_report, evaluate
from otlint.serve.window import Window
from otlint.telemetry.corpus.corpus import Corpus, Signal
from otlint.telemetry.observe import Observer

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.queues import Queue

    from otlint.telemetry.readers.otlp_json import Deviation

LINT_DELAY_ENV = "OTLINT_SERVE_LINT_DELAY"
"""Seconds the lint process sleeps per request: a test knob that makes linting fall behind."""


@dataclass
class LintOptions:
    """What the lint process needs to know (picklable: it crosses a process boundary)."""

    config: str | None = None
    cwd: str = "."
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    isolated: bool = False
    report: str | None = None
    report_format: str = "text"
    report_interval: float = 10.0
    trace_idle: float = 10.0
    max_spans: int = 1_000_000
    state: str | None = None
    show_values: bool = False
    sources: dict[str, int] = field(default_factory=dict)


@dataclass
class Item:
    """One received request, as the lint process gets it."""

    signal: int
    payload: bytes
    received: float  # time.monotonic() at receipt
    source: str  # e.g. "grpc/traces": the "path" of its findings' locations
    deviations: list[Deviation] = field(default_factory=list)


#: What goes through the data queue for one request: signal, offset in the shared ring,
#: length, ring bytes skipped before it, time of receipt, source, JSON deviations.
Notice: TypeAlias = "tuple[int, int, int, int, float, str, list[Deviation]]"


@dataclass
class Forwarding:
    """The forwarder's counters, per signal label where they count records."""

    forwarded: dict[str, int]
    not_forwarded: dict[str, int]  # refused by the upstream, or still queued at shutdown
    retries: int
    last_error: str
    replayed: dict[str, int] | None = None  # from the spool, with --spool only
    refused: dict[str, int] | None = None  # refused by the upstream for good


@dataclass
class IntakeCounters:
    """What the receiving process counted, per signal label: it sends them for the report."""

    received: dict[str, int]
    not_linted: dict[str, int]
    shed: dict[str, int]
    forwarding: Forwarding | None = None  # with --forward only
    lint_restarts: int = 0
    lint_last_failure: str = ""
    lint_lost: dict[str, int] = field(default_factory=dict)  # given to lint processes that died

    def to_json(self) -> JSONObject:
        """The counters as the report's ``sidecar`` object has them."""
        out: JSONObject = {
            "received": self.received,
            "not_linted": self.not_linted,
            "shed": self.shed,
        }
        fw = self.forwarding
        if fw is not None:
            out["forwarded"] = fw.forwarded
            out["not_forwarded"] = fw.not_forwarded
            out["forward_retries"] = fw.retries
            if fw.replayed is not None:
                out["replayed"] = fw.replayed
            if fw.refused is not None:
                out["refused_upstream"] = fw.refused
            if fw.last_error:
                out["forward_last_error"] = fw.last_error
        if self.lint_restarts:
            out["lint_restarts"] = self.lint_restarts
            out["lint_last_failure"] = self.lint_last_failure
        return out


class LintSummary(TypedDict):
    """Finding counts per rule and join, lag and records linted: for the Prometheus metrics."""

    rules: dict[str, int]
    joins: dict[str, int]
    lag: float
    linted: list[int]


#: What the receiving process tells the lint process (its ``control`` queue).
Command: TypeAlias = (
    tuple[Literal["intake"], IntakeCounters]
    | tuple[Literal["report"], int, str]  # request id, format
    | tuple[Literal["stop"], IntakeCounters]
)
#: What the lint process answers (its ``results`` queue).
Result: TypeAlias = (
    tuple[Literal["ready"]]
    | tuple[Literal["report"], int, str]  # request id, the report
    | tuple[Literal["summary"], LintSummary]
    | tuple[Literal["stopped"], str]  # the final JSON report
    | tuple[Literal["crashed"], str, str]  # the error (with where), its traceback
    | tuple[Literal["failed"], str]  # the final report or --state could not be written: why
)


class Linter:
    """The lint process' state: corpus, trace window, settings, counters."""

    def __init__(self, options: LintOptions) -> None:
        from otlint.settings import load_settings

        self.options = options
        self.settings = load_settings(
            REGISTRY,
            config=Path(options.config) if options.config else None,
            cwd=Path(options.cwd),
            select=options.select,
            extend_select=options.extend_select,
            ignore=options.ignore,
            isolated=options.isolated,
        )
        self.corpus = Corpus()
        self.observer = Observer(self.corpus)
        self.window = Window(self.corpus, options.trace_idle, options.max_spans)
        self.records = [0, 0, 0]
        self.requests: dict[str, int] = {}
        self.lag = 0.0
        self.intake: IntakeCounters | None = None  # what the receiving process sends
        self.delay = float(os.environ.get(LINT_DELAY_ENV) or 0)

    def feed(self, item: Item) -> None:
        """Observe one request."""
        if self.delay:
            time.sleep(self.delay)
        number = self.requests.get(item.source, 0) + 1
        self.requests[item.source] = number
        file = self.corpus.path_index(item.source)
        loc = (file, number)
        for dev in item.deviations:
            self.corpus.add_problem(dev.kind, dev.detail, dev.message, loc, None, dev.count)
        signal = Signal(item.signal)
        try:
            self.records[signal] += self.observer.observe(signal, item.payload, file, number)
        except DecodeError as exc:
            self.corpus.add_problem(
                "unreadable",
                "undecodable request",
                f"not a valid OTLP {signal.label} request ({exc})",
                loc,
                None,
            )
        except (RecursionError, MemoryError, ValueError, TypeError, KeyError, IndexError) as exc:
            # Input the reader did not expect must not end linting: the request was
            # forwarded; here it is a read problem of its own.
            self.corpus.add_problem(
                "unreadable",
                "request the linter failed on",
                f"the linter failed on this OTLP {signal.label} request "
                f"({type(exc).__name__}: {str(exc)[:200]}); it was forwarded, not linted",
                loc,
                None,
            )
        self.window.touch()
        self.lag = max(0.0, time.monotonic() - item.received)

    def evaluate(self, final: bool = False) -> Report:
        """Judge what is held: everything if ``final``, else the traces idle long enough."""
        from otlint.telemetry.analysis import Context

        corpus = self.corpus if final else self.window.ready()
        ctx = Context(corpus, self.window.freed)
        findings = evaluate(corpus, self.settings, context=ctx)
        rep = build_report(
            corpus,
            findings,
            sorted(self.requests),
            show_values=self.options.show_values,
            context=ctx,
            settings=self.settings,
        )
        rep.sidecar = self.sidecar_stats()
        rep.notes = self.notes()
        return rep

    def report(self, fmt: str, final: bool = False, rep: Report | None = None) -> str:
        """Render a report (evaluating now unless ``rep`` is given)."""
        from io import StringIO

        from otlint.report.reporters import get

        out = StringIO()
        get(fmt).render(rep or self.evaluate(final), out, color=False)
        return out.getvalue()

    def sidecar_stats(self) -> JSONObject:
        """Counters for the report's ``sidecar`` object."""
        out: JSONObject = {
            "linted": {s.label: self.records[s] for s in Signal},
            "lint_lag_seconds": round(self.lag, 3),
            "traces_settled": self.corpus.settled_traces,
            "traces_evaluated_early": self.window.evicted_early,
        }
        if self.intake is not None:
            out.update(self.intake.to_json())
        return out

    def notes(self) -> list[str]:
        """Caveats a reader of the report must know."""
        out = []
        intake = self.intake
        if intake is not None and intake.lint_restarts:
            lost = ", ".join(f"{n} {sig}" for sig, n in intake.lint_lost.items() if n) or "no"
            out.append(
                f"the lint process died and was restarted {intake.lint_restarts} times "
                f"(last: {intake.lint_last_failure}): what it had linted is lost; the {lost} "
                "records given to it are counted as not linted"
            )
        sampled = intake.not_linted if intake is not None else {}
        if any(sampled.values()):
            parts = ", ".join(f"{n} {sig}" for sig, n in sampled.items() if n)
            out.append(
                f"linting fell behind or restarted: {parts} records were forwarded but not linted (a sample was linted)"
            )
        forwarding = intake.forwarding if intake is not None else None
        unsent = forwarding.not_forwarded if forwarding is not None else {}
        if any(unsent.values()):
            parts = ", ".join(f"{n} {sig}" for sig, n in unsent.items() if n)
            out.append(
                f"not forwarded: {parts} records (upstream refused them or was down at shutdown)"
            )
        if self.window.evicted_early:
            out.append(
                f"{self.window.evicted_early} traces were judged before they were idle because --max-spans was reached"
            )
        return out

    def write_report(self, final: bool = False, rep: Report | None = None) -> None:
        """Rewrite the report file atomically."""
        if not self.options.report:
            return
        text = self.report(self.options.report_format, final=final, rep=rep)
        target = Path(self.options.report)
        fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)

    def summary(self, rep: Report) -> LintSummary:
        """Finding counts per rule and join, for the receiving process' Prometheus metrics."""
        per_rule: dict[str, int] = {}
        per_join: dict[str, int] = {}
        for f in rep.findings:
            per_rule[f.code] = per_rule.get(f.code, 0) + 1
            per_join[f.join.value] = per_join.get(f.join.value, 0) + 1
        return {"rules": per_rule, "joins": per_join, "lag": self.lag, "linted": list(self.records)}


class Results:
    """The lint process' side of its results pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, message: Result) -> None:
        """Send one result (blocks while the receiving process reads the one before)."""
        self.conn.send(message)


class Ring:
    """The lint process' side of the shared ring the receiving process copies requests into."""

    def __init__(self, name: str, consumed: ctypes.c_int64) -> None:
        from multiprocessing import shared_memory

        self.memory = shared_memory.SharedMemory(name=name)
        buf = self.memory.buf
        assert buf is not None
        self.buf: memoryview = buf
        self.consumed = consumed

    def take(self, notice: Notice) -> Item:
        """The request a notice points at, copied out; its ring space is given back at once."""
        signal, at, size, skip, received, source, deviations = notice
        payload = bytes(self.buf[at : at + size])
        self.consumed.value += skip + size
        return Item(signal, payload, received, source, deviations)


def run(
    data: Queue[Notice],
    control: Queue[Command],
    results: Connection,
    consumed: ctypes.c_int64,
    options: LintOptions,
    ring_name: str,
) -> None:
    """The lint process' main loop (the target of ``multiprocessing.Process``)."""
    import signal

    # The receiving process says when to stop: a Ctrl-C or a SIGTERM sent to the whole
    # process group (systemd does) must not end linting before the final report.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = Results(results)
    try:
        _loop(data, control, out, Ring(ring_name, consumed), options)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1:]
        at = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
        with contextlib.suppress(OSError):  # else the receiving process is gone
            out.put(
                ("crashed", f"{type(exc).__name__}: {str(exc)[:300]}{at}", traceback.format_exc())
            )


def _loop(
    data: Queue[Notice],
    control: Queue[Command],
    results: Results,
    ring: Ring,
    options: LintOptions,
) -> None:
    linter = Linter(options)
    results.put(("ready",))
    parent = os.getppid()
    next_report = time.monotonic() + options.report_interval
    next_evict = time.monotonic() + 1.0
    while True:
        if os.getppid() != parent:
            return  # the receiving process is gone (killed): nobody to lint for
        try:
            notice = data.get(timeout=0.1)
        except queue.Empty:
            notice = None
        if notice is not None:
            linter.feed(ring.take(notice))
        while True:
            try:
                command = control.get_nowait()
            except queue.Empty:
                break
            if command[0] == "intake":
                linter.intake = command[1]
            elif command[0] == "report":
                _, request_id, fmt = command
                results.put(("report", request_id, linter.report(fmt)))
            elif command[0] == "stop":
                linter.intake = command[1]
                _drain(data, linter, ring)
                _finish(linter, options, results)
                return
        now = time.monotonic()
        if now >= next_evict:
            linter.window.evict(linter.settings)
            next_evict = now + 1.0
        if now >= next_report:
            rep = linter.evaluate()
            try:
                linter.write_report(rep=rep)
            except OSError as exc:
                results.put(
                    ("failed", f"--report {options.report}: cannot write ({exc.strerror or exc})")
                )
            results.put(("summary", linter.summary(rep)))
            # Judging a large window takes a while: spend at most a tenth of the time on it
            # (under a heavy load the report is rewritten less often, never linted less).
            took = time.monotonic() - now
            next_report = time.monotonic() + max(options.report_interval, 9 * took)


def _finish(linter: Linter, options: LintOptions, results: Results) -> None:
    """The final report (file and answer) and ``--state``; a file that cannot be written is
    said, and the rest is still done."""
    rep = linter.evaluate(final=True)
    problems = []
    try:
        linter.write_report(final=True, rep=rep)
    except OSError as exc:
        problems.append(f"--report {options.report}: cannot write ({exc.strerror or exc})")
    if options.state:
        from otlint.telemetry.corpus import shard as state

        try:
            state.write(linter.corpus, options.state)
        except OSError as exc:
            problems.append(f"--state {options.state}: cannot write ({exc.strerror or exc})")
    if problems:
        results.put(("failed", "; ".join(problems)))
    results.put(("stopped", linter.report("json", rep=rep)))


def _drain(data: Queue[Notice], linter: Linter, ring: Ring) -> None:
    """Lint whatever is still queued (the receiver has stopped accepting)."""
    while True:
        try:
            notice = data.get(timeout=0.2)
        except queue.Empty:
            return
        linter.feed(ring.take(notice))
