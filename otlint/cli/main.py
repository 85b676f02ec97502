"""The ``otlint`` command line: ``check``, ``rules``, and the commands built on them.

Exit codes (like ruff): 0 nothing at or above ``--fail-on``; 1 something is; 2 otlint
could not run (one line on stderr, never a traceback).
"""

from __future__ import annotations

import gc
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar, TextIO, TypedDict, TypeVar, Unpack

import click

from otlint import __version__
from otlint.core.errors import OtlintError
from otlint.core.finding import Finding, Level
from otlint.core.jsontypes import as_json
from otlint.core.redact import mask_secrets

if TYPE_CHECKING:
    from otlint.core.jsontypes import JSONObject
    from otlint.core.rule import Rule
    from otlint.report.report import Report
    from otlint.report.reporters import Reporter
    from otlint.run.scan import ScanStats
    from otlint.run.spill import Spill
    from otlint.settings import Settings
    from otlint.telemetry.analysis import Context
    from otlint.telemetry.corpus.corpus import Corpus

FORMATS = ("text", "concise", "json", "sarif", "github", "junit", "mermaid", "dot", "markdown")
DEBUG_ENV = "OTLINT_DEBUG"
"""Set to 1 to get Python tracebacks instead of the one-line error (for bug reports)."""


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


class _Progress:
    """The progress of a long scan on stderr: records and bytes read, their rates, and
    with the inputs' total size (``begin``) the share done and an ETA.

    On a terminal one line rewritten in place, from a second into the run and wiped at
    the end; off a terminal (``--progress`` forces it) a plain line every
    ``PLAIN_EVERY`` seconds and a last one at the end. Bytes are the inputs' as stored
    (compressed, for a .gz or .zst), the unit of the total. A call costs a clock read
    until a line is due.
    """

    #: Seconds into the run before the first line on a terminal, and between two lines.
    DELAY = 1.0
    TTY_EVERY = 0.2
    #: Seconds between two plain lines (off a terminal), the first one included.
    PLAIN_EVERY = 5.0

    def __init__(self, stream: IO[str], *, tty: bool = True) -> None:
        self.stream = stream
        self.tty = tty
        self.start = time.monotonic()
        self.last = -math.inf
        self.shown = False
        self.total: int | None = None
        self.first, self.every = (self.DELAY, self.TTY_EVERY) if tty else (self.PLAIN_EVERY,) * 2

    def begin(self, total: int | None) -> None:
        """The bytes of every input as stored, before the scan reads any (None: unknown)."""
        self.total = total

    def __call__(self, path: str, records: int, size: int) -> None:
        now = time.monotonic()
        if now - self.start < self.first or now - self.last < self.every:
            return
        self.last = now
        line = f"{self._status(records, size, now - self.start)}  {path}"
        self.stream.write(f"\r\x1b[K{line}" if self.tty else f"otlint: progress: {line}\n")
        self.stream.flush()
        self.shown = True

    def _status(self, records: int, size: int, took: float, *, final: bool = False) -> str:
        took = max(took, 1e-6)
        rate = size / took
        text = f"{records:,} records ({records / took:,.0f}/s), {size / 1e6:,.1f}"
        if self.total is None:
            return f"{text} MB ({rate / 1e6:,.1f} MB/s)"
        pct = min(100, size * 100 // self.total) if self.total else 100
        text += f" / {self.total / 1e6:,.1f} MB ({pct}%), {rate / 1e6:,.1f} MB/s"
        if final:
            return text
        if size and size < self.total:
            return f"{text}, ETA {eta((self.total - size) / rate)}"
        return text

    def done(self, records: int | None = None, size: int | None = None) -> None:
        """End the progress: wipe the line on a terminal; elsewhere, with the scan's
        ``records`` and ``size``, write the last line."""
        if self.tty:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            return
        if records is not None and size is not None:
            took = time.monotonic() - self.start
            status = self._status(records, size, took, final=True)
            self.stream.write(f"otlint: progress: done: {status} in {took:,.1f}s\n")
            self.stream.flush()


def progress_wanted(flag: bool | None, *, tty: bool, quiet: bool, state: bool) -> bool:
    """Whether ``check`` shows its progress: as ``--progress`` / ``--no-progress`` say, else
    on a terminal, and not with ``-q`` or ``--state`` (a task of a batch run)."""
    if flag is not None:
        return flag
    return tty and not quiet and not state


def eta(seconds: float) -> str:
    """A time left, rounded up: ``7s``, ``1m23s``, ``2h05m``."""
    left = max(0, math.ceil(seconds))
    if left < 60:
        return f"{left}s"
    if left < 3600:
        return f"{left // 60}m{left % 60:02d}s"
    return f"{left // 3600}h{left % 3600 // 60:02d}m"


def _color(choice: str, out: IO[str]) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return out.isatty()


def _exit_code(findings: Sequence[Finding], fail_on: Level | None, exit_zero: bool) -> int:
    if exit_zero or fail_on is None:
        return 0
    return 1 if any(f.level.severity >= fail_on.severity for f in findings) else 0


def _statistics(findings: Sequence[Finding], out: IO[str]) -> None:
    per: dict[tuple[str, str, str], list[int]] = {}
    for f in findings:
        entry = per.setdefault((f.code, f.name, f.join.value), [0, 0])
        entry[0] += 1
        entry[1] += f.count
    for (code, name, join), (n, records) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        out.write(f"{n:5d} {code} {name:32s} {join:16s} {records} records\n")


class _Commands(click.Group):
    """The command group; the sidecar and the config checker are imported only when used."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "serve": ("otlint.cli.serve", "serve"),
        "check-config": ("otlint.cli.check_config", "check_config"),
        "diff": ("otlint.cli.diff", "diff"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            import importlib

            module, attr = self.lazy[name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="otlint")
def cli() -> None:
    """otlint: find the broken joins between OpenTelemetry traces, logs and metrics."""


_common_options = [
    click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="Report format (concise: one `path:line:col: CODE [level] message` line per finding).",
    ),
    click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="Findings only: no header, matrix or summary, and no notes on stderr.",
    ),
    click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True),
        help="Write the report to FILE.",
    ),
    click.option(
        "--config",
        "-c",
        "config",
        type=click.Path(dir_okay=False),
        help="Config file (default: .otlint.yaml or pyproject.toml found upward).",
    ),
    click.option(
        "--isolated", is_flag=True, help="Ignore config files: default rule set plus flags only."
    ),
    click.option(
        "--select",
        multiple=True,
        help="Rules to run: codes, prefixes, join names or ALL (comma-separated).",
    ),
    click.option(
        "--extend-select", multiple=True, help="Rules to run in addition to the configured ones."
    ),
    click.option(
        "--ignore", multiple=True, help="Rules not to run: codes, prefixes or join names."
    ),
    click.option(
        "--fail-on",
        type=click.Choice(["error", "warning", "info", "never"]),
        help="Lowest level that makes the exit code 1 (default: warning).",
    ),
    click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported."),
    click.option(
        "--show-values",
        is_flag=True,
        help="Include attribute values in the report (secret-looking values stay masked).",
    ),
    click.option(
        "--statistics", is_flag=True, help="Print a count per rule instead of the report."
    ),
    click.option(
        "--baseline",
        type=click.Path(dir_okay=False),
        help="A JSON report of an earlier run: its findings are not reported again.",
    ),
    click.option(
        "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
    ),
]


class SettingsOptions(TypedDict, total=False):
    """The options that choose the rules and their levels (``_settings`` reads them)."""

    config: str | None
    isolated: bool
    select: tuple[str, ...]
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]
    fail_on: str | None


class CommonOptions(SettingsOptions, total=False):
    """What ``_common_options`` give a report command, as click passes them."""

    fmt: str
    quiet: bool
    output: str | None
    exit_zero: bool
    show_values: bool
    statistics: bool
    baseline: str | None
    color: str


_Command = TypeVar("_Command", bound=Callable[..., None])


def _with_common(fn: _Command) -> _Command:
    for option in reversed(_common_options):
        fn = option(fn)
    return fn


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@_with_common
@click.option(
    "--strict",
    is_flag=True,
    help="Stop at the first unreadable record (exit 2) instead of reporting it.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to read with (default: the number of cores).",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="Write the Corpus shard to FILE instead of a report (merge shards with `otlint merge`).",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Read on the Dask cluster of this scheduler (tcp://HOST:8786): paths must name the"
    " same files on every worker (needs `pip install 'otlint[dask]'`).",
)
@click.option(
    "--dask-shards",
    type=click.Path(file_okay=False),
    help="With --dask: workers write their shards to this folder, which the client reads"
    " (for big captures), instead of sending them through Dask.",
)
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="Show records, MB read of the total and an ETA on stderr (default: on a terminal,"
    " not with -q or --state; forced on elsewhere: a plain line every few seconds).",
)
@click.option(
    "--max-memory",
    "max_memory",
    metavar="SIZE",
    default=None,
    help="Memory budget of the whole run, all processes (300M, 2G; 0 or none: no bound;"
    " default 512M): past it, span, log and exemplar rows are spilled to a temporary folder"
    " by trace and judged one partition at a time, with the same findings.",
)
def check(
    paths: tuple[str, ...],
    strict: bool,
    jobs: int | None,
    state_file: str | None,
    dask_address: str | None,
    dask_shards: str | None,
    show_progress: bool | None,
    max_memory: str | None,
    **opts: Unpack[CommonOptions],
) -> None:
    """Check captured OTLP dumps (files, folders, or - for stdin) for broken joins.

    Reads collector file-exporter JSON Lines and proto framing (zstd too), SDK JSON
    file exports, raw Export*ServiceRequest protobuf, pretty OTLP/JSON, gzip/zstd.
    """
    from otlint.run.check import scan
    from otlint.run.spill import DEFAULT_BUDGET, Spill, parse_size

    budget = DEFAULT_BUDGET if max_memory is None else parse_size(max_memory)
    settings = _settings(opts)
    _batch_gc()
    tty = sys.stderr.isatty()
    wanted = progress_wanted(show_progress, tty=tty, quiet=opts["quiet"], state=bool(state_file))
    progress = _Progress(sys.stderr, tty=tty) if wanted else None
    processes = jobs or os.cpu_count() or 1
    # (A --state shard holds every row: it is written whole, so nothing is spilled.)
    if dask_address is None and dask_shards is not None:
        raise OtlintError("--dask-shards is where Dask workers write their shards: give --dask too")
    spill = None
    context = None
    if budget is not None and not state_file:
        # (With --dask the budget is the client's, which merges the workers' shards.)
        spill = Spill.for_budget(budget, 1 if dask_address is not None else processes)
    try:
        if dask_address is not None:
            corpus, stats = _scan_on_dask(
                dask_address, paths, strict, jobs, dask_shards, progress, spill
            )
        else:
            corpus, stats = scan(
                paths, strict=strict, progress=progress, jobs=processes, spill=spill
            )
        if progress:
            progress.done(stats.records, stats.bytes)
        if spill is not None and spill.spills:
            context = spill.context(corpus)
    finally:
        if spill is not None:
            spill.close()
    empty = not _read_anything(corpus)
    if not opts["quiet"] and (state_file or not empty):  # (else the one error line says it)
        skip_notes(stats.skipped, "files that are not OTLP")
    if state_file:
        from otlint.telemetry.corpus import shard as state

        # A shard of nothing is fine to merge; ``merge`` says so if all of them are empty.
        if empty and not opts["quiet"]:
            click.echo(
                f"otlint: note: {_where(paths)}: no telemetry read: the shard {state_file} is empty",
                err=True,
            )
        state.write(corpus, state_file)
        return
    if empty:
        raise OtlintError(f"{_where(paths)}: no telemetry read: {_why_nothing(stats)}")
    _finish(corpus, stats.inputs, settings, opts, parallel=processes > 1, context=context)


def _scan_on_dask(
    address: str,
    paths: Sequence[str],
    strict: bool,
    jobs: int | None,
    shards: str | None,
    progress: _Progress | None,
    spill: Spill | None,
) -> tuple[Corpus, ScanStats]:
    """``check --dask``: read on the cluster (dask is imported only here)."""
    if jobs is not None:
        raise OtlintError(
            "--jobs and --dask: with --dask the cluster's workers read; give one of them"
        )
    from otlint.distributed import scan_at

    return scan_at(address, paths, strict=strict, shards=shards, progress=progress, spill=spill)


#: Skipped inputs named one by one on stderr; past this, a count.
MAX_SKIPPED_NOTES = 5


def skip_notes(skipped: Sequence[tuple[str, str]], what: str) -> None:
    """Say on stderr which inputs were not read and why (past a few, how many more)."""
    for path, why in skipped[:MAX_SKIPPED_NOTES]:
        click.echo(f"otlint: note: {path}: skipped: {why}", err=True)
    if len(skipped) > MAX_SKIPPED_NOTES:
        click.echo(
            f"otlint: note: skipped {len(skipped) - MAX_SKIPPED_NOTES} more {what}", err=True
        )


def _where(paths: Sequence[str]) -> str:
    return ", ".join("<stdin>" if p == "-" else p for p in paths)


def _read_anything(corpus: Corpus) -> bool:
    """Whether a span, log record or data point was read, or a record found broken."""
    totals = corpus.totals()
    if totals["spans"] or totals["logs"] or totals["data_points"]:
        return True
    return any(kind == "unreadable" for kind, _, _ in corpus.problems)


_CAPTURE_HINT = "check that the capture step wrote its dump (the exporter's path, and that the process flushed it before it exited)"


def _why_nothing(stats: ScanStats) -> str:
    """Why a run read no telemetry, and what to do (a CI capture that wrote nothing must not pass)."""
    empty = sum(1 for _, why in stats.skipped if why.startswith("empty"))
    other = len(stats.skipped) - empty
    if stats.inputs:
        return (
            f"the OTLP in {', '.join(stats.inputs[:3])}{' ...' if len(stats.inputs) > 3 else ''} holds no span, "
            f"log record or data point; {_CAPTURE_HINT}"
        )
    if not stats.skipped:
        return f"the folder holds no files; {_CAPTURE_HINT}"
    if len(stats.skipped) == 1:
        return f"{stats.skipped[0][1]}; {_CAPTURE_HINT}"
    counts = ", ".join(
        part
        for part in (f"{empty} empty" if empty else "", f"{other} not OTLP" if other else "")
        if part
    )
    names = ", ".join(path for path, _ in stats.skipped[:3]) + (
        " ..." if len(stats.skipped) > 3 else ""
    )
    return (
        f"no OTLP dump among {len(stats.skipped)} files ({counts}: {names}); "
        f"point otlint at the dumps, or {_CAPTURE_HINT}"
    )


@cli.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_with_common
@click.option(
    "--max-memory",
    "max_memory",
    metavar="SIZE",
    default=None,
    help="Memory budget (300M, 2G; 0 or none: no bound; default 512M): past it, the rows of"
    " the shards merged so far are spilled to a temporary folder by trace and judged one"
    " partition at a time, with the same findings (each shard is read whole).",
)
def merge(shards: tuple[str, ...], max_memory: str | None, **opts: Unpack[CommonOptions]) -> None:
    """Report over Corpus shards written by `check --state` or `serve --state`.

    The report equals one run over all the inputs the shards were made from.
    """
    from otlint.run.check import merge_shards
    from otlint.run.spill import DEFAULT_BUDGET, Spill, parse_size

    budget = DEFAULT_BUDGET if max_memory is None else parse_size(max_memory)
    settings = _settings(opts)
    _batch_gc()
    spill = None if budget is None else Spill.for_budget(budget, 1)
    context = None
    try:
        corpus = merge_shards(shards, spill)
        if _read_anything(corpus) and spill is not None and spill.spills:
            context = spill.context(corpus)
    finally:
        if spill is not None:
            spill.close()
    if not _read_anything(corpus):
        # (An empty shard among others is fine: it adds nothing.)
        raise OtlintError(
            f"{_where(shards)}: no telemetry read: the shards hold no span, log record or data point; "
            "check that the runs that wrote them read their dumps"
        )
    _finish(corpus, list(corpus.paths), settings, opts, context=context)


#: The cycle collector's thresholds for a batch run (see ``_batch_gc``).
BATCH_GC = (70_000, 20, 100)


def _batch_gc() -> None:
    """Tune the cycle collector for a run that reads a dump or a tree of configs and exits
    (the command only: `check`, `check-config`).

    Reading allocates millions of short-lived containers and makes almost no cycles,
    yet every 700 allocations the collector walked the young ones, and now and then
    every object alive (evaluate's span graph lost a tenth of its time to it). What
    start-up loaded is frozen out of the walks and collections are 100 times rarer.
    Python calling ``main`` keeps its own collector settings; so does ``serve``.
    """
    if _leave_fast:
        gc.freeze()
        gc.set_threshold(*BATCH_GC)


def _settings(opts: SettingsOptions) -> Settings:
    from otlint.registry import REGISTRY
    from otlint.settings import load_settings

    config = opts.get("config")
    return load_settings(
        REGISTRY,
        config=Path(config) if config else None,
        cwd=Path.cwd(),
        select=_split(opts.get("select") or ()),
        extend_select=_split(opts.get("extend_select") or ()),
        ignore=_split(opts.get("ignore") or ()),
        fail_on=opts.get("fail_on"),
        isolated=bool(opts.get("isolated")),
    )


#: Log and exemplar rows from which a second process resolves them (``--jobs`` > 1).
_BACKGROUND_ROWS = 50_000


def _finish(
    corpus: Corpus,
    inputs: Sequence[str],
    settings: Settings,
    opts: CommonOptions,
    parallel: bool = False,
    context: Context | None = None,
) -> None:
    from otlint.run.check import build_report, evaluate
    from otlint.telemetry.analysis import Context

    ctx = Context(corpus) if context is None else context
    if (
        context is None
        and parallel
        and len(corpus.logs) + len(corpus.exemplars) >= _BACKGROUND_ROWS
        and ctx.resolve_in_background()
    ):
        ctx.graph  # noqa: B018 - built here while the child resolves logs and exemplars
    findings = evaluate(corpus, settings, context=ctx)
    report = build_report(
        corpus, findings, inputs, show_values=opts["show_values"], context=ctx, settings=settings
    )
    emit(report, settings, opts)


def emit(report: Report, settings: Settings, opts: CommonOptions) -> None:
    """Drop baseline findings, render the report where asked, and exit with its code."""
    from otlint.report.reporters import get as get_reporter

    baseline = opts.get("baseline")
    if baseline:
        _apply_baseline(report, baseline)
    report.quiet = bool(opts.get("quiet"))
    reporter = get_reporter(opts["fmt"])
    output = opts.get("output")
    if output:
        try:
            out = open(output, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise OtlintError(
                f"{output}: cannot write the report ({exc.strerror}): give -o a path in a folder that exists"
            ) from None
        with out:
            _render(reporter, report, out, opts, False)
    else:
        _render(reporter, report, sys.stdout, opts, _color(opts["color"], sys.stdout))
    code = _exit_code(report.findings, settings.fail_on, opts["exit_zero"])
    if _leave_fast:
        _leave(code)
    sys.exit(code)


#: Set by ``run`` (the ``otlint`` command itself), never by ``main`` called from Python.
_leave_fast = False


def _leave(code: int) -> None:
    """Exit now, without the interpreter's teardown.

    A report command has written and closed its output, and its worker processes (if
    any) have exited; what is left is freeing a Corpus of millions of small objects one
    by one, which costs tens of milliseconds that nobody waits for on purpose (mypy
    leaves the same way).
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = code or 2
    os._exit(code)


def _baseline_key(
    kind: str, code: object, service: object, peer: object, path: object
) -> tuple[object, object, object, object]:
    # Config findings stay in their file; telemetry findings move between captures.
    return (code, service, peer, path if kind == "config" else None)


def _apply_baseline(report: Report, path: str) -> None:
    """Hide findings a JSON report of an earlier run (``--format json``) already had.

    The join matrix follows: a join that only baselined findings broke shows as
    ``baselined``, not broken.
    """
    import json

    from otlint.report.report import hide

    try:
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        known = {
            _baseline_key(
                report.kind,
                f["code"],
                f.get("service"),
                f.get("peer"),
                (f.get("locations") or [{}])[0].get("path"),
            )
            for f in old["findings"]
        }
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise OtlintError(
            f"{path}: not an otlint JSON report: write a baseline with --format json -o FILE"
        ) from None
    gone = [
        f
        for f in report.findings
        if _baseline_key(
            report.kind, f.code, f.service, f.peer, f.locations[0].path if f.locations else None
        )
        in known
    ]
    hide(report, gone)
    hidden = len(gone)
    if hidden:
        report.notes.append(f"{hidden} findings already in the baseline {path} are not shown")


def _render(
    reporter: Reporter, report: Report, out: TextIO, opts: CommonOptions, color: bool
) -> None:
    if opts["statistics"]:
        _statistics(report.findings, out)
    else:
        reporter.render(report, out, color=color)


@cli.command("rules")
@click.argument("code", required=False)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def rules_cmd(code: str | None, fmt: str) -> None:
    """List every rule, or explain one (``otlint rules TR007``)."""
    import json

    from otlint.registry import REGISTRY

    if code is not None:
        rule = REGISTRY.get(code.upper())
        if rule is None:
            raise OtlintError(f"unknown rule {code!r}: `otlint rules` lists them")
        if fmt == "json":
            click.echo(json.dumps(_rule_json(rule), indent=2))
        else:
            click.echo(
                f"{rule.code} {rule.name} ({rule.join.value}, default {rule.level.value})\n\n{rule.doc}"
            )
            if rule.options:
                click.echo("\nOptions:")
                for k, v in rule.options.items():
                    click.echo(f"  {k}: {json.dumps(v)}")
        return
    if fmt == "json":
        click.echo(json.dumps([_rule_json(r) for r in REGISTRY.values()], indent=2))
        return
    for rule in REGISTRY.values():
        click.echo(
            f"{rule.code}  {rule.name:34s} {rule.join.value:16s} {rule.level.value:8s} {rule.summary}"
        )


def _rule_json(rule: Rule) -> JSONObject:
    return {
        "code": rule.code,
        "name": rule.name,
        "join": rule.join.value,
        "level": rule.level.value,
        "target": rule.target,
        "summary": rule.summary,
        "options": {name: as_json(value) for name, value in rule.options.items()},
        "doc": rule.doc,
    }


#: The exit status of a run stopped by Ctrl-C (SIGINT), as shells give it: 128 + 2.
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the CLI, turning errors into one line and exit 2."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="otlint", standalone_mode=False
        )
    except OtlintError as exc:
        click.echo(f"otlint: error: {mask_secrets(str(exc))}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("otlint: error: interrupted", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as exc:
        message = mask_secrets(exc.format_message())
        click.echo(f"otlint: error: {message} (see otlint --help)", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("otlint: error: interrupted", err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        detail = mask_secrets(f"{type(exc).__name__}: {exc}")
        click.echo(
            f"otlint: error: internal error ({detail}); rerun with {DEBUG_ENV}=1 and report it",
            err=True,
        )
        sys.exit(2)


def run() -> None:
    """The ``otlint`` command: ``main``, with report commands leaving without teardown."""
    global _leave_fast
    _leave_fast = True
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
