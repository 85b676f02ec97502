"""Read a capture on a Dask cluster: ``otlint check --dask ADDRESS`` and ``check(paths, client)``.

The work is cut as ``--jobs`` cuts it (``run.parallel``): whole files, and pieces of
large JSON Lines or proto-framed files at record boundaries, about four per worker
thread. Every path is opened on the workers, never on the client: a worker expands
the paths and cuts the pieces (one task), then each piece is one task, largest first.
A worker reads its piece into a Corpus shard and hands it back in the safe shard
format (``telemetry.corpus.shard``, zstd-compressed columns, no pickle of the corpus):
as bytes over Dask's own connections, or, with ``shards=DIR`` (``--dask-shards``), as
a file in a folder both the workers and the client can reach, of which only the name
travels. The client merges the shards as they come in (a piece of a JSON Lines file
after the pieces before it, whose lines shift its line numbers), then evaluates:
findings, matrix and summary equal a local run's. On a budget (``spill``) the client
spills what it merged past it, and a worker hands a file it cannot cut (compressed)
back in parts of the client's share, as ``--jobs`` workers do.

Paths travel as given and must name the same files on every worker: give absolute
paths on storage the workers share (or run the workers in the client's folder). The
findings name them as given, as a local run does.

What a local run reports, this reports: an unreadable record or a file that is not
OTLP is a problem or a note found on the worker, a missing path or ``--strict`` on a
broken record the same one-line error (the worker's ``OtlintError`` is raised here:
the first one in reading order, once the pieces before its piece are in).
A worker that dies (Dask retries its task on another worker first) is an
``OtlintError`` naming the piece; so is a scheduler that cannot be reached, or
workers that run another otlint.

Dask is optional (``pip install 'otlint[dask]'``) and imported only here, when used.
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from otlint import __version__
from otlint.core.errors import OtlintError
from otlint.run.check import build_report, evaluate
from otlint.run.parallel import Merger, Unit, plan_inputs, read_unit
from otlint.run.scan import ScanStats, find_inputs
from otlint.run.spill import DEFAULT_BUDGET, Spill
from otlint.telemetry.corpus import shard
from otlint.telemetry.corpus.corpus import Corpus

if TYPE_CHECKING:
    from distributed import Client

    from otlint.report.report import Report
    from otlint.run.scan import Progress
    from otlint.settings import Settings

#: What to install when dask is missing.
INSTALL = "pip install 'otlint[dask]'"
#: Seconds to wait for the scheduler, and for a first worker when none has joined.
CONNECT_TIMEOUT = 10
WORKER_TIMEOUT = 30


def connect(address: str) -> Client:
    """A Dask client of the scheduler at ``address`` (``tcp://host:8786``); an OtlintError
    when dask is not installed or the scheduler cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise OtlintError(
            f"--dask needs dask.distributed, which is not installed: {INSTALL}"
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise OtlintError(
            f"{address}: cannot reach the Dask scheduler ({type(exc).__name__}: {exc}); "
            "give --dask the scheduler's address, as tcp://HOST:8786"
        ) from None


def scan_at(
    address: str,
    paths: Sequence[str],
    *,
    strict: bool = False,
    shards: str | None = None,
    progress: Progress | None = None,
    spill: Spill | None = None,
) -> tuple[Corpus, ScanStats]:
    """``scan`` on the cluster of the scheduler at ``address``, connected for this call."""
    _no_stdin(paths)
    client = connect(address)
    try:
        return scan(paths, client, strict=strict, shards=shards, progress=progress, spill=spill)
    finally:
        client.close()


def scan(
    paths: Sequence[str],
    client: Client,
    *,
    strict: bool = False,
    shards: str | None = None,
    progress: Progress | None = None,
    chunk: int | None = None,
    spill: Spill | None = None,
) -> tuple[Corpus, ScanStats]:
    """Read every input on the cluster into one Corpus, as ``run.check.scan`` does here.

    ``shards``: a folder the workers write their shards to and the client reads them
    from (for shards too big to pass through Dask); ``chunk``: the bytes of a piece
    (default: the inputs over four pieces per worker thread, at least 8 MB); ``spill``
    (``--max-memory``): past its budget, the rows the client has merged go to disk by
    trace (then ``spill.context`` gives what to evaluate over), so the client holds
    at most its budget of rows and one shard, whatever the capture.
    """
    from distributed import wait

    _no_stdin(paths)
    threads = _threads(client)
    plan = client.submit(_plan, list(paths), threads, chunk, pure=False)
    wait([plan])
    units, sizes, notes, versions = _unwrap(
        plan, plan.result() if plan.status == "finished" else None, None, "expanding the paths"
    )
    if versions != (__version__, shard.VERSION):
        raise OtlintError(
            f"the Dask workers run otlint {versions[0]} (shards v{versions[1]}), this is "
            f"{__version__} (v{shard.VERSION}): install the same otlint on both"
        )
    if not units:  # (nothing but notes: the caller says why nothing was read)
        return Corpus(), ScanStats(skipped=list(notes))
    if progress is not None:
        progress.begin(sum(sizes))
    run = uuid.uuid4().hex[:12]
    parts = None if spill is None else spill.limit
    futures = {
        client.submit(
            _read,
            unit,
            strict,
            None if shards is None else os.path.join(shards, f"otlint-{run}-{i}.state"),
            parts,
            priority=size,
            pure=False,
            key=f"otlint-read-{run}-{i}",
        ): i
        for i, (unit, size) in enumerate(zip(units, sizes, strict=True))
    }
    merger = Merger(units, spill)
    records = done = 0
    # The first input's error, as a local run stops at it: an error of a later
    # piece waits for the pieces before it, which may hold an earlier one.
    failed: tuple[int, OtlintError] | None = None
    pending = set(range(len(units)))
    try:
        for i, outcome in _gathered(futures, units):
            pending.discard(i)
            if isinstance(outcome, OtlintError):
                failed = (i, outcome) if failed is None or i < failed[0] else failed
            elif failed is None:
                data, stats, last = outcome
                for part in data[:-1]:  # (a whole file on a budget, handed over in parts)
                    merger.add(i, (_load(part, units[i]), ScanStats(), last))
                merger.add(i, (_load(data[-1], units[i]), stats, last))
                records += stats.records
                done += stats.bytes
                if progress is not None:
                    progress(units[i].path, records, done)
            if failed is not None and min(pending, default=len(units)) > failed[0]:
                raise failed[1]
    finally:
        client.cancel(list(futures))
        if shards is not None:  # (what a failed run left behind, parts too)
            for left in glob.glob(os.path.join(glob.escape(shards), f"otlint-{run}-*.state*")):
                with contextlib.suppress(OSError):
                    os.unlink(left)
    corpus, stats = merger.finish()
    stats.skipped[:0] = notes
    return corpus, stats


def check(
    paths: Sequence[str],
    client: Client,
    settings: Settings | None = None,
    *,
    strict: bool = False,
    shards: str | None = None,
    show_values: bool = False,
    chunk: int | None = None,
    max_memory: int | None = DEFAULT_BUDGET,
) -> Report:
    """The Report of ``otlint check PATHS`` with the inputs read on the cluster of ``client``.

    ``settings`` default to the ones ``otlint check`` finds from the working folder;
    ``shards`` and ``chunk`` are ``scan``'s; ``max_memory``: the client's budget in
    bytes, as ``check --max-memory`` gives it (None or 0: no bound, as ``--max-memory 0``),
    past which the rows it has merged are spilled to a temporary folder (``TMPDIR``).
    An input that holds no telemetry at all is an OtlintError, as on the command line.
    """
    from otlint.registry import REGISTRY
    from otlint.settings import load_settings
    from otlint.telemetry.analysis import Context

    if settings is None:
        settings = load_settings(REGISTRY)
    if max_memory is not None and max_memory < 0:
        raise ValueError(f"max_memory={max_memory}: give bytes, or None (or 0) for no bound")
    spill = Spill.for_budget(max_memory, 1) if max_memory else None
    try:
        corpus, stats = scan(paths, client, strict=strict, shards=shards, chunk=chunk, spill=spill)
        totals = corpus.totals()
        if not (totals["spans"] or totals["logs"] or totals["data_points"]) and not any(
            kind == "unreadable" for kind, _, _ in corpus.problems
        ):
            raise OtlintError(f"{', '.join(paths)}: no telemetry read")
        ctx = spill.context(corpus) if spill is not None and spill.spills else Context(corpus)
    finally:
        if spill is not None:
            spill.close()
    findings = evaluate(corpus, settings, context=ctx)
    return build_report(
        corpus, findings, stats.inputs, show_values=show_values, context=ctx, settings=settings
    )


# -- on the workers ---------------------------------------------------------------------


def _plan(
    paths: list[str], threads: int, chunk: int | None
) -> tuple[list[Unit], list[int], list[tuple[str, str]], tuple[str, int]]:
    """(On a worker.) The units and their sizes, the walk's notes, and this otlint's versions."""
    inputs = find_inputs(paths, sized=True)
    units = plan_inputs(inputs, threads, chunk)
    sizes = [u.end - u.start if u.fmt is not None else _stored(u.path) for u in units]
    return units, sizes, inputs.notes, (__version__, shard.VERSION)


def _stored(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # (reading it says what is wrong)


def _read(
    unit: Unit, strict: bool, path: str | None, parts: int | None = None
) -> tuple[list[bytes | str], ScanStats, int]:
    """(On a worker.) Read one unit into shards: each one's bytes, or the file it was written
    to (``path``, and ``path.N`` for the parts before it). One shard, but for a whole file
    on a budget (``parts``: the bytes of rows held before a part is handed over,
    ``run.parallel._Parts``): its parts, kept as shards (about a third of their rows' bytes)."""
    handed: list[bytes | str] = []

    def hand_over(part: tuple[Corpus, ScanStats, int]) -> None:
        handed.append(_sent(part[0], None if path is None else f"{path}.{len(handed)}"))

    corpus, stats, last = read_unit(unit, strict, None, parts, hand_over if parts else None)
    return [*handed, _sent(corpus, path)], stats, last


def _sent(corpus: Corpus, path: str | None) -> bytes | str:
    """A shard as bytes, or written to ``path`` (then its name)."""
    data = shard.to_bytes(corpus, level=1)
    if path is None:
        return data
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise OtlintError(
            f"{path}: a Dask worker cannot write its shard ({exc.strerror}): give --dask-shards "
            "a folder every worker can write and the client can read"
        ) from None
    return path


# -- on the client ----------------------------------------------------------------------


def _no_stdin(paths: Sequence[str]) -> None:
    if "-" in paths:
        raise OtlintError(
            "--dask reads files the workers open: stdin (-) cannot be sent; give paths"
        )


def _threads(client: Client) -> int:
    """The worker threads of the cluster, once at least one worker has joined."""
    threads = int(sum(client.nthreads().values()))
    if threads:
        return threads
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        raise OtlintError(
            f"no Dask worker joined the scheduler in {WORKER_TIMEOUT} s: start workers "
            "(dask worker SCHEDULER) or give --dask the address of a cluster that has them"
        ) from None
    return max(1, int(sum(client.nthreads().values())))


def _gathered(futures: dict[Any, int], units: Sequence[Unit]) -> Iterator[tuple[int, Any]]:
    """(unit number, result) of each task as it finishes, or (unit number, the OtlintError
    the worker raised); what else went wrong raised as an OtlintError."""
    from distributed import as_completed

    try:
        for future, result in as_completed(futures, with_results=True, raise_errors=False):
            # (Dropped once taken: the workers free the shard while the others are read.)
            i = futures.pop(future)
            if future.status == "error" and isinstance(future.exception(), OtlintError):
                yield i, future.exception().with_traceback(None)
            else:
                yield i, _unwrap(future, result, units[i])
    except OSError as exc:
        raise OtlintError(
            f"lost the Dask scheduler ({exc}): rerun when the cluster is up"
        ) from None


def _unwrap(future: Any, result: Any, unit: Unit | None, doing: str = "") -> Any:
    """A finished task's result, or its error: the worker's OtlintError as it was raised
    (the same line a local run gives), a dead worker as an OtlintError naming the piece."""
    if future.status == "finished":
        return result
    from distributed import KilledWorker

    what = doing or _unit_name(unit)
    if future.status == "cancelled":
        raise OtlintError(f"{what}: the Dask task was cancelled (the cluster closed?)")
    exc = future.exception()
    if isinstance(exc, OtlintError):
        raise exc.with_traceback(None) from None
    if isinstance(exc, ImportError):
        raise OtlintError(
            f"{what}: a Dask worker cannot import what otlint needs ({exc}): install this "
            "otlint, with its dependencies, on the workers"
        ) from None
    if isinstance(exc, KilledWorker):
        raise OtlintError(
            f"{what}: the Dask worker reading it died, each time Dask retried it ({exc}): "
            "check the workers' memory limit and logs"
        ) from None
    if isinstance(exc, BaseException):
        raise exc
    raise OtlintError(f"{what}: the Dask task ended {future.status}")


def _unit_name(unit: Unit | None) -> str:
    if unit is None:
        return "<dask>"
    return unit.path if unit.fmt is None else f"{unit.path} (bytes {unit.start}-{unit.end})"


def _load(data: bytes | str, unit: Unit) -> Corpus:
    """The shard a worker sent: its bytes, or the file it wrote (read, then removed)."""
    if isinstance(data, bytes):
        return shard.from_bytes(data, _unit_name(unit))
    corpus = shard.read(data)
    with contextlib.suppress(OSError):
        os.unlink(data)
    return corpus
