#!/usr/bin/env python3
"""``make bench``: otlint against the decode-only floor, as whole processes, over rounds.

Each round runs every case below as its own process, in alternating order (forward on
even rounds, backward on odd ones, so neither side always runs on a warmer machine):

============================  ===============================================================
case                          command
============================  ===============================================================
``floor-proto``               ``bench/floor.py`` on ``traces/logs/metrics.binpb``
``otlint-proto-j1``           ``otlint check *.binpb --jobs 1 --format json -o /dev/null
                              --exit-zero --isolated``
``otlint-proto-j2``           the same with ``--jobs 2``
``floor-json``                ``bench/floor.py --json`` on ``*.jsonl``
``floor-orjson``              ``bench/floor.py --json --json-lib orjson`` (issue 15's floor)
``otlint-json-j1``            ``otlint check *.jsonl --jobs 1 ...``
``otlint-json-j2``            the same with ``--jobs 2``
============================  ===============================================================

and each case twice: with the default environment and with glibc malloc tuned
(``TUNED_MALLOC``), so the two are compared like with like. Wall time comes from the
parent's clock around ``Popen``/``wait4``; peak RSS and CPU time from ``os.wait4`` of that
child (for ``--jobs 2`` the kernel reports the largest single process of the tree, so a
sampler also sums the RSS of the whole process tree from ``/proc`` every 20 ms).

Reported: medians over rounds, spans/s and records/s (spans + log records + data points),
the ratio otlint / floor of each pair taken within the same round (then the median),
peak RSS, the machine, and the targets of issue 5 with where otlint lands.

Usage::

    python bench/run.py                 # 5 rounds on the full corpus, prints the results
    python bench/run.py --write         # ... and rewrites the results in BENCHMARKS.md
    python bench/run.py --quick         # 1 round on a 10% corpus: a smoke test (< 60 s)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPUS = BENCH / "out" / "corpus"
QUICK_CORPUS = BENCH / "out" / "corpus-quick"
BENCHMARKS = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SIGNALS = ("traces", "logs", "metrics")

#: glibc malloc settings for the "tuned" environment: two arenas, a large top pad and trim
#: threshold so freed memory is reused instead of returned to the OS and faulted in again.
TUNED_MALLOC = {
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_TOP_PAD_": str(64 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
}

#: Targets of issue 5 (whole processes on the bench corpus, default environment).
RATIO_J1, RATIO_J2, RSS_J1_MB, SIDECAR_SPANS_S = 2.0, 1.2, 300, 250_000
#: Targets of issue 15 for OTLP/JSON Lines: otlint / the ``orjson.loads``-every-line floor.
JSON_J1, JSON_J2 = 1.5, 1.0


@dataclass(frozen=True)
class Case:
    """One command measured as a whole process."""

    key: str  # e.g. "otlint-proto-j1"
    tool: str  # "floor" or "otlint"
    fmt: str  # "proto" or "json"
    jobs: int
    argv: tuple[str, ...]


@dataclass
class Sample:
    """One run of one case."""

    wall: float
    cpu: float  # user + system seconds of the process and the children it waited for
    maxrss_kb: int  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_kb: int  # sampled sum over the process tree
    inner: dict[str, Any] | None = None  # the floor's own report


@dataclass
class Results:
    """Every sample, by environment and case, in round order."""

    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)

    def add(self, env: str, key: str, sample: Sample) -> None:
        """Record one sample."""
        self.samples.setdefault((env, key), []).append(sample)

    def get(self, env: str, key: str) -> list[Sample]:
        """The samples of one case in one environment."""
        return self.samples.get((env, key), [])


# -- running one process --------------------------------------------------------------
class TreeRss:
    """Samples the summed RSS of a process and its descendants from /proc."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self, pid: int) -> list[int]:
        out = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    for child in f.read().split():
                        out += self._tree(int(child))
        except OSError:
            pass
        return out

    def _rss_kb(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as f:
                return int(f.read().split()[1]) * self._page_kb
        except (OSError, IndexError, ValueError):
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(self._rss_kb(p) for p in self._tree(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)


def run_once(case: Case, env: dict[str, str]) -> Sample:
    """Run one case as a child process and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            case.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=ROOT
        )
        with TreeRss(proc.pid) as tree:
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(
                f"bench: {case.key} exited {proc.returncode}:\n  {' '.join(case.argv)}\n{tail}"
            )
        inner = None
        if case.tool == "floor":
            out.seek(0)
            inner = json.loads(out.read())
    return Sample(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss,
        max(tree.peak_kb, usage.ru_maxrss if case.jobs == 1 else 0),
        inner,
    )


def ensure_corpus(corpus: Path, scale: float, force: bool) -> dict[str, Any]:
    """Generate the corpus if it is missing or stale (in a child: the runner stays small)."""
    argv = [
        sys.executable,
        str(BENCH / "generate.py"),
        "--out",
        str(corpus),
        "--scale",
        repr(scale),
    ]
    subprocess.run(
        [*argv, "--force"] if force else argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    manifest: dict[str, Any] = json.loads((corpus / "manifest.json").read_text())
    return manifest


def cases(corpus: Path) -> list[Case]:
    """The five commands, on the corpus in ``corpus``."""
    py = sys.executable
    script = Path(py).parent / "otlint"
    otlint = (str(script),) if script.exists() else (py, "-m", "otlint")
    floor = str(BENCH / "floor.py")
    binpb = tuple(_rel(corpus / f"{s}.binpb") for s in SIGNALS)
    jsonl = tuple(_rel(corpus / f"{s}.jsonl") for s in SIGNALS)
    common = ("--format", "json", "-o", os.devnull, "--exit-zero", "--isolated")
    return [
        Case("floor-proto", "floor", "proto", 1, (py, floor, *binpb)),
        Case(
            "otlint-proto-j1",
            "otlint",
            "proto",
            1,
            (*otlint, "check", *binpb, "--jobs", "1", *common),
        ),
        Case(
            "otlint-proto-j2",
            "otlint",
            "proto",
            2,
            (*otlint, "check", *binpb, "--jobs", "2", *common),
        ),
        Case("floor-json", "floor", "json", 1, (py, floor, "--json", *jsonl)),
        Case(
            "floor-orjson",
            "floor",
            "json",
            1,
            (py, floor, "--json", "--json-lib", "orjson", *jsonl),
        ),
        Case(
            "otlint-json-j1",
            "otlint",
            "json",
            1,
            (*otlint, "check", *jsonl, "--jobs", "1", *common),
        ),
        Case(
            "otlint-json-j2",
            "otlint",
            "json",
            2,
            (*otlint, "check", *jsonl, "--jobs", "2", *common),
        ),
    ]


#: (otlint case, floor case) pairs whose ratio is reported; the last two, ``--jobs 2`` over
#: ``--jobs 1``, are the least moved by a machine whose pace changes between runs (and a
#: floor that slows down more than otlint does).
PAIRS = (
    ("otlint-proto-j1", "floor-proto"),
    ("otlint-proto-j2", "floor-proto"),
    ("otlint-json-j1", "floor-json"),
    ("otlint-json-j1", "floor-orjson"),
    ("otlint-json-j2", "floor-orjson"),
    ("otlint-proto-j2", "otlint-proto-j1"),
    ("otlint-json-j2", "otlint-json-j1"),
)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def base_env() -> dict[str, str]:
    """The inherited environment without MALLOC_* and without PYTHONDONTWRITEBYTECODE.

    With PYTHONDONTWRITEBYTECODE set (some sandboxes do), no ``__pycache__`` is ever
    written for otlint's own modules and every run compiles them again (~0.06 s): an
    installed otlint runs from cached bytecode, so the children do too.
    """
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MALLOC_") and k != "PYTHONDONTWRITEBYTECODE"
    }


def environments(which: str) -> dict[str, dict[str, str]]:
    """The environments to run in: ``default`` (``base_env()``) and/or ``tuned``."""
    base = base_env()
    envs = {"default": base, "tuned": {**base, **TUNED_MALLOC}}
    return envs if which == "both" else {which: envs[which]}


def warm(corpus: Path) -> None:
    """Read every corpus file once, so no round pays for a cold page cache."""
    buf = bytearray(1 << 20)
    for path in sorted(corpus.iterdir()):
        if path.suffix in (".binpb", ".jsonl"):
            with open(path, "rb", buffering=0) as f:
                while f.readinto(buf):
                    pass


def verify(corpus: Path, manifest: dict[str, Any], log: Any) -> None:
    """One untimed otlint run: its counts must equal what the generator wrote."""
    case = cases(corpus)[1]
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        argv = [a if a != os.devnull else report.name for a in case.argv]
        # Untimed; it also writes otlint's bytecode caches (see base_env).
        subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=base_env())
        summary = json.loads(Path(report.name).read_text())["summary"]
    got = (summary["spans"], summary["logs"], summary["data_points"])
    want = (manifest["spans"], manifest["logs"], manifest["points"])
    if got != want:
        raise SystemExit(f"bench: otlint read {got} spans/logs/points, the generator wrote {want}")
    log.write(
        f"verified: otlint reads {got[0]:,} spans, {got[1]:,} logs, {got[2]:,} points; {summary['findings']} findings\n"
    )


def measure(corpus: Path, rounds: int, envs: dict[str, dict[str, str]], log: Any) -> Results:
    """Run every case in every environment for ``rounds`` rounds."""
    results = Results()
    plan = [(env, case) for env in envs for case in cases(corpus)]
    for r in range(rounds):
        order = plan if r % 2 == 0 else plan[::-1]
        for env, case in order:
            sample = run_once(case, envs[env])
            results.add(env, case.key, sample)
            log.write(
                f"  round {r + 1}/{rounds}  {env:7s} {case.key:16s} {sample.wall:7.2f} s  {sample.maxrss_kb / 1024:6.0f} MB\n"
            )
            log.flush()
    return results


# -- the report ---------------------------------------------------------------------------
#: Asked of the interpreter the children run on (not imported here: the runner stays small,
#: since a child's ru_maxrss can never be below the runner's RSS when it forked).
_VERSIONS = (
    "import json, google.protobuf as pb, otlint;"
    "from google.protobuf.internal import api_implementation as impl;"
    "print(json.dumps([pb.__version__, impl.Type(), otlint.__version__]))"
)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _VERSIONS], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
        pb_version, pb_impl, otlint_version = json.loads(out)
    except (OSError, ValueError, subprocess.CalledProcessError):
        pb_version = pb_impl = otlint_version = "unknown"
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "otlint"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (otlint/ modified)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "memory": mem,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "protobuf": f"{pb_version} ({pb_impl})",
        "otlint": f"{otlint_version}, commit {commit}",
    }


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratios(results: Results, env: str, a: str, b: str) -> list[float]:
    return [x.wall / y.wall for x, y in zip(results.get(env, a), results.get(env, b), strict=True)]


def _mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def _rate(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    return f"{n / 1e3:.0f}k"


def render(
    results: Results,
    manifest: dict[str, Any],
    envs: Sequence[str],
    rounds: int,
    quick: bool,
    command: str,
    sidecar: list[dict[str, Any]] | None = None,
) -> str:
    """The results as a markdown section."""
    spans, logs, points = manifest["spans"], manifest["logs"], manifest["points"]
    records = spans + logs + points
    lines: list[str] = []
    add = lines.append
    date = time.strftime("%Y-%m-%d", time.gmtime())
    add(
        f"Measured {date} with `{command}`: {rounds} round{'s' if rounds != 1 else ''}, medians; "
        f"corpus {'(quick, 10%) ' if quick else ''}of {spans:,} spans, {logs:,} log records and "
        f"{points:,} data points ({manifest['exemplars']:,} exemplars) over {manifest['services']} services "
        f"({manifest['resources']} resources)."
    )
    add("")
    add("| machine | |")
    add("|---|---|")
    for k, v in machine().items():
        add(f"| {k} | {v} |")
    add("")

    main_env = "default" if "default" in envs else envs[0]
    j1 = results.get(main_env, "otlint-proto-j1")
    r1 = _median(_ratios(results, main_env, "otlint-proto-j1", "floor-proto"))
    r2 = _median(_ratios(results, main_env, "otlint-proto-j2", "floor-proto"))
    rss1 = _median([s.maxrss_kb for s in j1]) / 1024
    add(f"### Targets ({main_env} environment)")
    add("")
    add("| target | measured | met? |")
    add("|---|---|---|")
    add(
        f"| `check --jobs 1` ≤ {RATIO_J1:g}x the decode floor | {r1:.1f}x | {_met(r1 <= RATIO_J1, r1 / RATIO_J1)} |"
    )
    add(
        f"| `check --jobs 2` ≤ {RATIO_J2:g}x the decode floor | {r2:.1f}x | {_met(r2 <= RATIO_J2, r2 / RATIO_J2)} |"
    )
    add(
        f"| peak RSS of `check --jobs 1` ≤ {RSS_J1_MB} MB | {rss1:.0f} MB | {_met(rss1 <= RSS_J1_MB, rss1 / RSS_J1_MB)} |"
    )
    add(_sidecar_target(sidecar))
    for key, target in (("otlint-json-j1", JSON_J1), ("otlint-json-j2", JSON_J2)):
        rs = _ratios(results, main_env, key, "floor-orjson")
        if rs:
            r = _median(rs)
            add(
                f"| `check --jobs {key[-1]}` on JSON Lines ≤ {target:g}x the orjson floor | {r:.2f}x | {_met(r <= target, r / target)} |"
            )
    add("")

    for env in envs:
        add(
            f"### Whole processes, {env} environment"
            + (f" ({_env_text()})" if env == "tuned" else "")
        )
        add("")
        add(
            "| case | wall (median, min-max) | spans/s | records/s | CPU s | peak RSS (largest process) | peak RSS (process tree, sampled) |"
        )
        add("|---|---|---|---|---|---|---|")
        for case in cases(Path(".")):
            ss = results.get(env, case.key)
            if not ss:
                continue
            wall = _median([s.wall for s in ss])
            add(
                f"| `{case.key}` | {wall:.2f} s ({min(s.wall for s in ss):.2f}-{max(s.wall for s in ss):.2f}) "
                f"| {_rate(spans / wall)} | {_rate(records / wall)} | {_median([s.cpu for s in ss]):.2f} "
                f"| {_mb(_median([s.maxrss_kb for s in ss]))} | {_mb(_median([s.tree_rss_kb for s in ss]))} |"
            )
        add("")
        add("| ratio (same round, median) | value | per round |")
        add("|---|---|---|")
        for a, b in PAIRS:
            rs = _ratios(results, env, a, b)
            if rs:
                add(f"| `{a}` / `{b}` | {_median(rs):.2f}x | {', '.join(f'{x:.2f}' for x in rs)} |")
        add("")

    add("### Inside the floor process (decode only, no start-up)")
    add("")
    add("| environment | format | traces | logs | metrics |")
    add("|---|---|---|---|---|")
    counts = {"traces": spans, "logs": logs, "metrics": points}
    units = {"traces": "spans/s", "logs": "records/s", "metrics": "points/s"}
    for env in envs:
        for key in ("floor-proto", "floor-json", "floor-orjson"):
            ss = results.get(env, key)
            if not ss:
                continue
            cells = []
            for signal in SIGNALS:
                secs = [
                    sum(f["seconds"] for f in s.inner["files"].values() if f["signal"] == signal)
                    for s in ss
                    if s.inner
                ]
                cells.append(f"{_rate(counts[signal] / _median(secs))} {units[signal]}")
            add(f"| {env} | {key.removeprefix('floor-')} | {' | '.join(cells)} |")
    add("")

    if sidecar:
        add(
            "### Sidecar: `otlint serve --forward` under a paced OTLP/gRPC load (`bench/sidecar.py`)"
        )
        add("")
        add(
            "Load generator, sidecar (receiver + lint process) and stand-in upstream share the "
            "machine's cores. One run each, default environment."
        )
        add("")
        from sidecar import (  # bench/sidecar.py, imported late: the runner stays small
            floor_markdown,
        )
        from sidecar import (
            markdown as sidecar_markdown,
        )

        add(sidecar_markdown([r for r in sidecar if "mode" not in r]))
        add("")
        floors = [r for r in sidecar if "mode" in r]
        if floors:
            add(
                "The floors, measured in the same run: the same load without otlint, straight "
                "to the stand-in upstream, and through a bare `grpc.aio` relay (each request "
                "sent on as bytes and answered when the upstream answers: the least a Python "
                "forwarder does)."
            )
            add("")
            add(floor_markdown(floors))
            add("")

    if len(envs) > 1:
        add("### Does tuning malloc matter? (tuned / default, median wall)")
        add("")
        add("| case | tuned / default |")
        add("|---|---|")
        for case in cases(Path(".")):
            d = results.get("default", case.key)
            t = results.get("tuned", case.key)
            if d and t:
                add(
                    f"| `{case.key}` | {_median([s.wall for s in t]) / _median([s.wall for s in d]):.2f} |"
                )
        add("")
    return "\n".join(lines)


def run_sidecar(quick: bool, log: Any) -> list[dict[str, Any]] | None:
    """``bench/sidecar.py`` in a child: at the target rate, then as fast as answered."""
    script = Path(sys.executable).parent / "otlint"
    otlint = [str(script)] if script.exists() else [sys.executable, "-m", "otlint"]
    if subprocess.run([*otlint, "serve", "--help"], capture_output=True, cwd=ROOT).returncode != 0:
        log.write("sidecar: there is no `otlint serve` in this tree: skipped\n")
        return None
    rates = ["--rate", str(SIDECAR_SPANS_S)] + ([] if quick else ["--rate", "0"])
    argv = [sys.executable, str(BENCH / "sidecar.py"), *rates, *(["--quick"] if quick else [])]
    log.write(f"sidecar: {' '.join(rates)} ...\n")
    log.flush()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=base_env())
    if done.returncode != 0:
        log.write(f"sidecar: failed:\n{done.stderr[-2000:]}\n")
        return None
    results: list[dict[str, Any]] = json.loads(done.stdout)
    floors = subprocess.run(
        [*argv, "--mode", "floors"], capture_output=True, text=True, cwd=ROOT, env=base_env()
    )
    if floors.returncode == 0:
        results += json.loads(floors.stdout)
    else:
        log.write(f"sidecar floors: failed:\n{floors.stderr[-2000:]}\n")
    for r in results:
        log.write(
            f"  sidecar {r.get('mode', 'otlint')} offered {r['offered_spans_s']:.0f}: {r['spans_s']:,} spans/s, sustained: {r['sustained']}\n"
        )
    return results


def _sidecar_target(sidecar: list[dict[str, Any]] | None) -> str:
    head = f"| sidecar ≥ {SIDECAR_SPANS_S // 1000}k spans/s sustained on 2 cores, forwarding on |"
    if not sidecar:
        return f"{head} not measured | - |"
    forwarding = [r for r in sidecar if "mode" not in r and r.get("forward", True)]
    at = next((r for r in forwarding if r["offered_spans_s"] == SIDECAR_SPANS_S), None)
    if at is None:
        return f"{head} not measured at the target rate | - |"
    top = max(forwarding, key=lambda r: r["spans_s"])
    text = f"{at['spans_s'] / 1000:.1f}k spans/s offered {SIDECAR_SPANS_S // 1000}k, {at['cpu_cores_during_load']} cores"
    if top is not at:
        text += f"; ceiling {top['spans_s'] / 1000:.0f}k spans/s acked" + (
            "" if top["sustained"] else " (not sustained)"
        )
    relays = [r for r in sidecar if r.get("mode") == "relay"]
    if relays:
        best = max(relays, key=lambda r: r["spans_s"])
        text += f"; floor: a bare `grpc.aio` relay, no linting, {best['spans_s'] / 1000:.0f}k"
    return f"{head} {text} | {'yes' if at['sustained'] else '**no**'} |"


def _met(ok: bool, factor: float) -> str:
    return "yes" if ok else f"**no** ({factor:.1f}x the target)"


def _env_text() -> str:
    return " ".join(f"`{k}={v}`" for k, v in TUNED_MALLOC.items())


def write_benchmarks(section: str) -> None:
    """Replace the text between the bench markers of BENCHMARKS.md with ``section``."""
    text = (
        BENCHMARKS.read_text(encoding="utf-8")
        if BENCHMARKS.exists()
        else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    )
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"bench: {BENCHMARKS.name} has no {BEGIN} ... {END} markers")
    BENCHMARKS.write_text(
        text[: start + len(BEGIN)] + "\n" + section + "\n" + text[end:], encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds (default 5; 1 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round on a 10%% corpus: a smoke test"
    )
    parser.add_argument(
        "--malloc",
        choices=("default", "tuned", "both"),
        default="both",
        help="environments to run in (default both)",
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite the results section of BENCHMARKS.md"
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="regenerate the corpus even if it is up to date"
    )
    parser.add_argument(
        "--no-sidecar", action="store_true", help="skip the sidecar measurement (bench/sidecar.py)"
    )
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records full runs only (drop --quick)")
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 5)
    scale = 0.1 if args.quick else 1.0
    corpus = QUICK_CORPUS if args.quick else CORPUS
    log = sys.stderr
    t0 = time.perf_counter()
    manifest = ensure_corpus(corpus, scale, args.regenerate)
    warm(corpus)
    verify(corpus, manifest, log)
    envs = environments(args.malloc)
    results = measure(corpus, rounds, envs, log)
    sidecar = None if args.no_sidecar else run_sidecar(args.quick, log)
    command = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = render(results, manifest, list(envs), rounds, args.quick, command.strip(), sidecar)
    print(section)
    if args.write:
        write_benchmarks(section)
        log.write(f"wrote the results into {BENCHMARKS.name}\n")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log.write(
        f"bench: done in {time.perf_counter() - t0:.0f} s (the runner's own peak RSS: {own:.0f} MB)\n"
    )


if __name__ == "__main__":
    main()
