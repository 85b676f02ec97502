"""bench/realworld.py on a tiny folder of its own: a compose file and a JSON Lines OTLP capture.

The script runs the real otlint of this venv as a subprocess; the test checks its per-rule
counts against what it planted (one deprecated propagator, one deprecated span attribute)
and against otlint's own JSON report of the same folder, counted here independently.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "realworld.py"
OTLINT = Path(sys.executable).parent / "otlint"

COMPOSE = """\
services:
  checkout:
    image: example/checkout:1.4
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_RESOURCE_ATTRIBUTES: service.version=1.4,service.namespace=shop,deployment.environment.name=prod
      OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4318
      OTEL_PROPAGATORS: tracecontext,baggage,jaeger
"""


def _span_line() -> str:
    """One OTLP/JSON TracesData line: a root SERVER span with a deprecated key (http.method)."""
    resource = {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": "checkout"}},
            {"key": "service.version", "value": {"stringValue": "1.4"}},
        ]
    }
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "GET /cart",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
        "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}],
    }
    data = {
        "resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}
        ]
    }
    return json.dumps(data, separators=(",", ":"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A checkout of two files: a compose file and a capture."""
    root = tmp_path / "shop"
    root.mkdir()
    (root / "docker-compose.yaml").write_text(COMPOSE, encoding="utf-8")
    (root / "traces.jsonl").write_text(_span_line() + "\n", encoding="utf-8")
    return root


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realworld", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realworld"] = module
    spec.loader.exec_module(module)
    return module


def _own_count(command: str, folder: Path) -> Counter[tuple[str, str]]:
    """otlint's report of ``folder``, counted per (code, level) without the script."""
    argv = [str(OTLINT), command, str(folder), "--format", "json", "--isolated", "--exit-zero"]
    if command == "check":
        argv += ["--jobs", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return Counter((f["code"], f["level"]) for f in json.loads(done.stdout)["findings"])


def test_counts_per_rule_match_what_was_planted_and_the_report(
    folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "table.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(folder),
            "--otlint",
            str(OTLINT),
            "--jobs",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = json.loads(out.read_text(encoding="utf-8"))
    runs = {run["command"]: run for run in table["runs"]}
    assert set(runs) == {"check-config", "check"}
    assert all(run["status"] == "ok" and run["seconds"] > 0 for run in runs.values())

    config = {(r["code"], r["level"]): r for r in runs["check-config"]["rules"]}
    assert config[("CF023", "warning")]["count"] == 1  # the jaeger propagator
    assert config[("CF023", "warning")]["files"] == 1
    capture = {(r["code"], r["level"]): r for r in runs["check"]["rules"]}
    assert capture[("SC001", "warning")]["count"] == 1  # http.method
    assert runs["check"]["summary"]["spans"] == 1

    for command in ("check-config", "check"):
        mine = Counter({(r["code"], r["level"]): r["count"] for r in runs[command]["rules"]})
        assert mine == _own_count(command, folder)
        assert table["total"][command] == runs[command]["rules"]  # one path: the total is that path
    assert "CF023" in done.stdout and "TOTAL" not in done.stdout


def test_compare_prints_only_the_rules_that_changed() -> None:
    realworld = _load()

    def run(path: str, command: str, *rules: tuple[str, str, int]) -> dict[str, object]:
        return {
            "path": path,
            "command": command,
            "rules": [{"code": c, "level": lv, "count": n} for c, lv, n in rules],
        }

    old = {
        "otlint": "a",
        "runs": [
            run("/elsewhere/shop", "check-config", ("CF010", "error", 4), ("CF023", "warning", 1)),
            run("/elsewhere/bank", "check-config", ("CF010", "error", 2)),
        ],
    }
    new = {
        "otlint": "b",
        "runs": [
            run("/tmp/rw/shop", "check-config", ("CF010", "info", 4), ("CF023", "warning", 1)),
            run("/tmp/rw/bank", "check-config"),
            run("/tmp/rw/new", "check-config", ("CF012", "warning", 9)),
        ],
    }
    text = realworld.compare(old, new)
    rows = [line.split() for line in text.splitlines()]
    assert ["CF010", "error", "4", "->", "0", "-4"] in rows  # shop, matched by the folder's name
    assert ["CF010", "info", "0", "->", "4", "+4"] in rows
    assert "CF023" not in text
    assert "/tmp/rw/new  check-config: not in the old table" in text
    # The total is over the two paths in both tables: new's CF012 is not in it.
    total = text[text.index("TOTAL check-config over the 2 paths in both") :].splitlines()
    assert total[0].endswith(": 7 -> 5 findings")
    assert ["CF010", "error", "6", "->", "0", "-6"] in [line.split() for line in total]
    assert "CF012" not in "\n".join(total)


def test_skip_notes_are_counted_by_reason() -> None:
    realworld = _load()
    stderr = (
        "otlint: note: a/x.yaml: skipped: not YAML\n"
        "otlint: note: a/y.yaml: skipped: not YAML\n"
        "otlint: note: skipped 7 more files that are not configuration otlint reads\n"
    )
    assert realworld.skipped_from_stderr(stderr) == {"not YAML": 2, "(more, reason not printed)": 7}
