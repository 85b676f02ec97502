#!/usr/bin/env python3
"""Measure otlint on real checkouts: per-rule finding counts for folders you point it at.

Precision on real input is what this project lives by, so a maintainer measures it on
repositories nobody here wrote. This script runs ``otlint check-config`` and ``otlint
check`` as subprocesses (``--format json --isolated --exit-zero``, so a checkout's own
``.otlint.yaml`` does not change the figures) over each PATH, and prints, per path and in
total, one row per (rule, level): how many findings, and in how many files. It also prints
what each run read and skipped (the report's file list when it has one, else the
``skipped`` notes otlint writes to stderr), the exit status and the wall time.

Usage::

    # clone or unpack a few repositories somewhere outside the project, then:
    python bench/realworld.py /tmp/rw/opentelemetry-demo /tmp/rw/opentelemetry-helm-charts
    python bench/realworld.py /tmp/rw/* --json /tmp/rw/before.json        # keep the table
    # ... change otlint, then measure again against the table you kept:
    python bench/realworld.py /tmp/rw/* --json /tmp/rw/after.json --compare /tmp/rw/before.json
    # measure another build of otlint (e.g. main's) without switching venvs:
    python bench/realworld.py /tmp/rw/jaeger --otlint /work/main/.venv/bin/otlint
    # keep each raw otlint report, to read the findings one by one while triaging:
    python bench/realworld.py /tmp/rw/jaeger --reports /tmp/rw/reports

``--check-config-only`` / ``--check-only`` run one command; ``--jobs N`` is passed to
``check``; ``--arg=--select=CF`` passes any other option to both commands. The default
otlint is the one installed beside the running Python (the current venv). Counts are
findings as reported (one finding may stand for several occurrences: the JSON table also
keeps ``occurrences``, the sum of each finding's ``count``).

``--compare OLD.json`` prints, per path and in total over the paths found in both
tables, each rule whose count changed: old, new, and the difference. Paths are matched by
their absolute form, else by their last component when that is unambiguous, so a table
taken in another folder still compares.

The table (``--json``) has schema 1: ``{"schema", "otlint", "version", "runs": [...],
"total": {command: [rows]}}``; each run is ``{"path", "command", "status", "exit",
"seconds", "error", "summary", "rules": [rows], "read", "skipped"}`` and each row
``{"code", "level", "count", "files", "occurrences"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

SCHEMA = 1
COMMANDS = ("check-config", "check")
#: ``otlint: note: PATH: skipped: REASON`` (one per skipped file, the first few).
_SKIP_NOTE = re.compile(r"^otlint: note: (?P<path>.+?): skipped: (?P<reason>.+)$")
#: ``otlint: note: skipped N more files ...`` (the rest, without their reasons).
_SKIP_MORE = re.compile(r"^otlint: note: skipped (?P<n>\d+) more files?")
#: ``check`` over a folder with no OTLP in it: exit 2 with one of these, not a broken run.
_NO_OTLP = ("no OTLP dumps found", "no telemetry read")

JSONValue = object


@dataclass(frozen=True, order=True)
class Row:
    """The findings of one rule at one level in one run (or in a total)."""

    code: str
    level: str
    count: int
    files: int
    occurrences: int


@dataclass
class Run:
    """One otlint command over one path: what it found, read and skipped, and how long."""

    path: str
    command: str
    status: str  # "ok", "no-otlp" (check found nothing to read) or "error"
    exit: int
    seconds: float
    error: str | None = None
    summary: dict[str, JSONValue] = field(default_factory=dict)
    rules: list[Row] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    #: (code, level) -> files, kept to add runs up into a total; not written to the table.
    files_by_rule: dict[tuple[str, str], set[str]] = field(default_factory=dict, repr=False)


def default_otlint() -> str:
    """The otlint of the running interpreter's environment, else the first on PATH."""
    beside = Path(sys.executable).parent / "otlint"
    if beside.exists():
        return str(beside)
    found = shutil.which("otlint")
    if found is None:
        raise SystemExit(
            "realworld: error: no otlint beside this Python nor on PATH: give --otlint PATH"
        )
    return found


def otlint_version(otlint: str) -> str:
    """``otlint --version`` as printed, or ``unknown`` when it cannot be run."""
    try:
        done = subprocess.run(
            [otlint, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def rows_from_findings(
    findings: Iterable[Mapping[str, object]],
) -> tuple[list[Row], dict[tuple[str, str], set[str]]]:
    """Per (code, level): findings, files named in their locations, and occurrences."""
    count: Counter[tuple[str, str]] = Counter()
    occurrences: Counter[tuple[str, str]] = Counter()
    files: dict[tuple[str, str], set[str]] = defaultdict(set)
    for finding in findings:
        key = (str(finding.get("code")), str(finding.get("level")))
        count[key] += 1
        n = finding.get("count")
        occurrences[key] += n if isinstance(n, int) else 1
        locations = finding.get("locations")
        for location in locations if isinstance(locations, list) else []:
            if isinstance(location, dict) and isinstance(location.get("path"), str):
                files[key].add(location["path"])
    rows = [
        Row(
            code, level, count[(code, level)], len(files[(code, level)]), occurrences[(code, level)]
        )
        for code, level in count
    ]
    return sorted(rows), dict(files)


def read_files(report: Mapping[str, object]) -> dict[str, int]:
    """Files read, by kind, when the report lists them (``files``/``inputs``); else empty.

    Accepts a list of paths (counted under ``read``), a list of objects with ``kind``
    (or ``format``), or a mapping kind -> count or kind -> list of paths.
    """
    for key in ("files", "inputs", "read"):
        value = report.get(key)
        if isinstance(value, list):
            kinds: Counter[str] = Counter()
            for item in value:
                if isinstance(item, dict):
                    kinds[
                        str(item.get("kind") or item.get("format") or item.get("status") or "read")
                    ] += 1
                else:
                    kinds["read"] += 1
            return dict(kinds)
        if isinstance(value, dict):
            out: dict[str, int] = {}
            for kind, n in value.items():
                if isinstance(n, int):
                    out[str(kind)] = n
                elif isinstance(n, list):
                    out[str(kind)] = len(n)
            return out
    return {}


def skipped_from_stderr(stderr: str) -> dict[str, int]:
    """The ``skipped`` notes otlint writes to stderr, counted by reason."""
    reasons: Counter[str] = Counter()
    for line in stderr.splitlines():
        more = _SKIP_MORE.match(line)
        if more:
            reasons["(more, reason not printed)"] += int(more["n"])
            continue
        note = _SKIP_NOTE.match(line)
        if note:
            reasons[note["reason"]] += 1
    return dict(reasons)


def report_name(path: str) -> str:
    """A file name for the raw report of ``path``: its absolute path with separators as ``_``."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", os.path.abspath(path).strip(os.sep)) or "root"


def run_one(
    otlint: str,
    command: str,
    path: str,
    extra: Sequence[str],
    jobs: int | None,
    reports: Path | None,
) -> Run:
    """Run ``otlint COMMAND PATH`` once and read its JSON report."""
    with tempfile.TemporaryDirectory(prefix="otlint-realworld-") as tmp:
        out = Path(tmp) / "report.json"
        argv = [
            otlint,
            command,
            path,
            "--format",
            "json",
            "--isolated",
            "--exit-zero",
            "--color",
            "never",
            "-o",
            str(out),
            *extra,
        ]
        if command == "check" and jobs is not None:
            argv += ["--jobs", str(jobs)]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds = round(time.perf_counter() - start, 3)
        text = out.read_text(encoding="utf-8") if out.exists() else ""
    skipped = skipped_from_stderr(done.stderr)
    if done.returncode != 0 or not text:
        last = [line for line in done.stderr.splitlines() if line.strip()]
        message = last[-1] if last else f"exit {done.returncode} and no report"
        status = (
            "no-otlp" if command == "check" and any(m in message for m in _NO_OTLP) else "error"
        )
        return Run(path, command, status, done.returncode, seconds, error=message, skipped=skipped)
    report = cast("dict[str, object]", json.loads(text))
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        (reports / f"{report_name(path)}.{command}.json").write_text(text, encoding="utf-8")
    findings = report.get("findings")
    rows, files = rows_from_findings(
        cast("list[dict[str, object]]", findings) if isinstance(findings, list) else []
    )
    summary = report.get("summary")
    return Run(
        path,
        command,
        "ok",
        done.returncode,
        seconds,
        summary=cast("dict[str, object]", summary) if isinstance(summary, dict) else {},
        rules=rows,
        read=read_files(report),
        skipped=skipped,
        files_by_rule=files,
    )


def total(runs: Sequence[Run], command: str) -> list[Row]:
    """The rows of every run of ``command`` added up (files counted once across runs)."""
    count: Counter[tuple[str, str]] = Counter()
    occurrences: Counter[tuple[str, str]] = Counter()
    files: dict[tuple[str, str], set[str]] = defaultdict(set)
    for run in runs:
        if run.command != command:
            continue
        for row in run.rules:
            key = (row.code, row.level)
            count[key] += row.count
            occurrences[key] += row.occurrences
            files[key] |= run.files_by_rule.get(key, set())
    return sorted(
        Row(c, lv, count[(c, lv)], len(files[(c, lv)]), occurrences[(c, lv)]) for c, lv in count
    )


def table(runs: Sequence[Run], version: str) -> dict[str, object]:
    """The JSON table ``--json`` writes and ``--compare`` reads."""
    commands = [c for c in COMMANDS if any(r.command == c for r in runs)]
    return {
        "schema": SCHEMA,
        "otlint": version,
        "runs": [{k: v for k, v in asdict(run).items() if k != "files_by_rule"} for run in runs],
        "total": {c: [asdict(row) for row in total(runs, c)] for c in commands},
    }


def _fmt_rows(rows: Sequence[Row], indent: str = "  ") -> list[str]:
    if not rows:
        return [f"{indent}(no findings)"]
    lines = [f"{indent}{'code':<7}{'level':<9}{'count':>7}{'files':>7}"]
    lines += [f"{indent}{r.code:<7}{r.level:<9}{r.count:>7}{r.files:>7}" for r in rows]
    lines.append(f"{indent}{'all':<7}{'':<9}{sum(r.count for r in rows):>7}")
    return lines


def render(runs: Sequence[Run]) -> str:
    """The human table: one block per run, then the totals per command."""
    lines: list[str] = []
    for run in runs:
        lines.append(
            f"{run.path}  otlint {run.command}  [{run.status}, exit {run.exit}, {run.seconds:.2f} s]"
        )
        if run.error:
            lines.append(f"  {run.error}")
        if run.summary:
            shown = {
                k: v
                for k, v in run.summary.items()
                if k in ("spans", "logs", "data_points", "services") and v
            }
            if shown:
                lines.append("  read: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        if run.read:
            lines.append(
                "  files read: " + ", ".join(f"{k} {v}" for k, v in sorted(run.read.items()))
            )
        if run.skipped:
            lines.append(f"  files skipped: {sum(run.skipped.values())}")
            lines += [
                f"    {n:>5}  {reason}"
                for reason, n in sorted(run.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
        if run.status == "ok":
            lines += _fmt_rows(run.rules)
        lines.append("")
    for command in COMMANDS:
        mine = [r for r in runs if r.command == command]
        if len(mine) > 1:
            seconds = sum(r.seconds for r in mine)
            lines.append(f"TOTAL otlint {command}  [{len(mine)} paths, {seconds:.2f} s]")
            lines += _fmt_rows(total(runs, command))
            lines.append("")
    return "\n".join(lines)


def _rows_of(items: object) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            out[(str(item.get("code")), str(item.get("level")))] = int(item.get("count", 0))
    return out


def deltas(
    old: Mapping[tuple[str, str], int], new: Mapping[tuple[str, str], int]
) -> list[tuple[str, str, int, int]]:
    """(code, level, old, new) for every rule whose count changed, sorted by code, level."""
    return [
        (c, lv, old.get((c, lv), 0), new.get((c, lv), 0))
        for c, lv in sorted(set(old) | set(new))
        if old.get((c, lv), 0) != new.get((c, lv), 0)
    ]


def _key(path: str) -> tuple[str, str]:
    return os.path.abspath(path), Path(path).name


def compare(old_table: Mapping[str, object], new_table: Mapping[str, object]) -> str:
    """Before/after per rule: for each run of the new table, its counterpart in the old."""
    old_runs = [
        r
        for r in cast("list[dict[str, object]]", old_table.get("runs") or [])
        if isinstance(r, dict)
    ]
    by_abs = {(_key(str(r["path"]))[0], r["command"]): r for r in old_runs}
    names = Counter((_key(str(r["path"]))[1], r["command"]) for r in old_runs)
    by_name = {(_key(str(r["path"]))[1], r["command"]): r for r in old_runs}
    by_name = {key: run for key, run in by_name.items() if names[key] == 1}  # unambiguous only
    lines = [
        f"compared with {old_table.get('otlint', '?')} (old) -> {new_table.get('otlint', '?')} (new)"
    ]

    def block(
        title: str, old: Mapping[tuple[str, str], int], new: Mapping[tuple[str, str], int]
    ) -> None:
        changed = deltas(old, new)
        lines.append(f"{title}: {sum(old.values())} -> {sum(new.values())} findings")
        if not changed:
            lines.append("  (no rule changed)")
        lines.extend(f"  {c:<7}{lv:<9}{o:>7} -> {n:<7}{n - o:+d}" for c, lv, o, n in changed)

    old_sum: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    new_sum: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    matched: Counter[str] = Counter()
    for run in cast("list[dict[str, object]]", new_table.get("runs") or []):
        absolute, name = _key(str(run["path"]))
        command = str(run["command"])
        before = by_abs.get((absolute, command)) or by_name.get((name, command))
        title = f"{run['path']}  {command}"
        if before is None:
            lines.append(f"{title}: not in the old table")
            continue
        old_rows, new_rows = _rows_of(before.get("rules")), _rows_of(run.get("rules"))
        block(title, old_rows, new_rows)
        old_sum[command].update(old_rows)
        new_sum[command].update(new_rows)
        matched[command] += 1
    for command in COMMANDS:
        if matched[command] > 1:
            block(
                f"TOTAL {command} over the {matched[command]} paths in both",
                old_sum[command],
                new_sum[command],
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run otlint over each path, print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders (or files) to measure on")
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--check-config-only", action="store_true", help="run only otlint check-config"
    )
    only.add_argument("--check-only", action="store_true", help="run only otlint check")
    parser.add_argument("--otlint", help="the otlint to run (default: the one beside this Python)")
    parser.add_argument(
        "--json", dest="json_out", metavar="OUT", help="write the table as JSON to OUT"
    )
    parser.add_argument(
        "--compare",
        metavar="OLD.json",
        help="print before/after deltas per rule against a table written by --json",
    )
    parser.add_argument(
        "--reports",
        metavar="DIR",
        help="keep each raw otlint JSON report in DIR (PATH_WITH_UNDERSCORES.COMMAND.json)",
    )
    parser.add_argument("--jobs", type=int, help="--jobs for otlint check")
    parser.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra option for both commands (repeatable), e.g. --arg=--select=CF",
    )
    args = parser.parse_args(argv)

    for path in args.paths:
        if not os.path.exists(path):
            parser.error(f"{path}: no such file or folder")
    old: dict[str, object] | None = None
    if args.compare:
        try:
            old = cast(
                "dict[str, object]", json.loads(Path(args.compare).read_text(encoding="utf-8"))
            )
        except (OSError, ValueError) as exc:
            parser.error(f"{args.compare}: cannot read the old table: {exc}")
    otlint = args.otlint or default_otlint()
    commands = (
        ["check-config"]
        if args.check_config_only
        else ["check"]
        if args.check_only
        else list(COMMANDS)
    )
    reports = Path(args.reports) if args.reports else None
    runs = [
        run_one(otlint, command, path, args.arg, args.jobs, reports)
        for path in args.paths
        for command in commands
    ]
    version = otlint_version(otlint)
    print(f"{version} ({otlint})\n")
    print(render(runs))
    result = table(runs, version)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if old is not None:
        print(compare(old, result))
    return 1 if any(run.status == "error" for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
