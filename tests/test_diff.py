"""``otlint diff BEFORE AFTER`` on two real captures around a real rewriting step.

BEFORE is the healthy shop of ``scripts/sdkworld.py``, written by the real OpenTelemetry
SDK's OTLP/JSON file exporters. AFTER is BEFORE passed through ``_Collector``, a small
processor written here that stands in for a collector: it samples traces (logs and
exemplars are left pointing at the dropped spans), deletes ``service.version`` from
checkout's traces, rewrites payments' environment, gives inventory's spans and logs new
trace ids, and adds a credential to frontend's resource. The assertions count the
records in the written files themselves, so each figure the diff reports is checked
against what the processor did, not against otlint.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import sdkworld
from conftest import ROOT, otlint

REQUESTS = 24
SIGNAL_KEYS = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
SCOPE_KEYS = {"traces": ("scopeSpans", "spans"), "logs": ("scopeLogs", "logRecords")}
#: A GitHub-token-shaped fake credential (joined at run time: no such literal in the source).
TOKEN = "ghp" + "_" + "Zq8" * 12
SCHEMA = json.loads((ROOT / "docs" / "diff-schema.json").read_text(encoding="utf-8"))


def _kept(trace_id: str) -> bool:
    """The sampler: keeps a trace when its id's last hex digit is below 5 (about 31%)."""
    return int(trace_id[-1], 16) < 5


def _new_trace_id(trace_id: str) -> str:
    return hashlib.sha256(trace_id.encode()).hexdigest()[:32]


@dataclass
class _Collector:
    """A collector stand-in over OTLP/JSON lines: sampling, resource processors, id rewriting."""

    sample: Callable[[str], bool] | None = None
    #: (service, signal or "*") -> keys deleted
    delete: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: (service, key) -> the value written instead
    rewrite: dict[tuple[str, str], str] = field(default_factory=dict)
    #: service -> trace ids of its spans and logs replaced
    new_ids_for: str | None = None

    def run(self, src: Path, dst: Path) -> None:
        dst.mkdir(parents=True, exist_ok=True)
        for signal, top in SIGNAL_KEYS.items():
            out = []
            for line in (src / f"{signal}.jsonl").read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                blocks = [b for b in (self._block(signal, b) for b in doc[top]) if b is not None]
                if blocks:
                    out.append(json.dumps({top: blocks}))
            (dst / f"{signal}.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")

    def _block(self, signal: str, block: dict[str, Any]) -> dict[str, Any] | None:
        attrs = block["resource"]["attributes"]
        service = _service(block)
        gone = self.delete.get((service, signal), []) + self.delete.get((service, "*"), [])
        attrs[:] = [a for a in attrs if a["key"] not in gone]
        for a in attrs:
            if (service, a["key"]) in self.rewrite:
                a["value"] = {"stringValue": self.rewrite[(service, a["key"])]}
        if signal == "metrics":
            return block
        scopes_key, items_key = SCOPE_KEYS[signal]
        for scope in block[scopes_key]:
            items = scope[items_key]
            if signal == "traces" and self.sample is not None:
                items[:] = [s for s in items if self.sample(s["traceId"])]
            if service == self.new_ids_for:
                for item in items:
                    if item.get("traceId"):
                        item["traceId"] = _new_trace_id(item["traceId"])
        block[scopes_key] = [s for s in block[scopes_key] if s[items_key]]
        return block if block[scopes_key] else None


def _service(block: dict[str, Any]) -> str:
    for a in block["resource"]["attributes"]:
        if a["key"] == "service.name":
            return str(a["value"]["stringValue"])
    return ""


def _count(folder: Path, signal: str) -> Counter[str]:
    """Records per service in a capture folder, read from the files."""
    counts: Counter[str] = Counter()
    top = SIGNAL_KEYS[signal]
    for line in (folder / f"{signal}.jsonl").read_text(encoding="utf-8").splitlines():
        for block in json.loads(line)[top]:
            if signal == "metrics":
                n = sum(
                    len(m[kind]["dataPoints"])
                    for scope in block["scopeMetrics"]
                    for m in scope["metrics"]
                    for kind in ("sum", "gauge", "histogram")
                    if kind in m
                )
            else:
                scopes_key, items_key = SCOPE_KEYS[signal]
                n = sum(len(s[items_key]) for s in block[scopes_key])
            counts[_service(block)] += n
    return counts


def _trace_ids(folder: Path) -> set[str]:
    out = set()
    for line in (folder / "traces.jsonl").read_text(encoding="utf-8").splitlines():
        for block in json.loads(line)["resourceSpans"]:
            out |= {s["traceId"] for scope in block["scopeSpans"] for s in scope["spans"]}
    return out


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """BEFORE (the SDK's capture) and AFTER (it through the collector stand-in)."""
    root = tmp_path_factory.mktemp("diff")
    world = sdkworld.build_world(True, requests=REQUESTS, batch_every=6, latency_scale=0)
    before = root / "before"
    sdkworld.write_world(world, before, formats=["jsonl"])
    _Collector(
        sample=_kept,
        delete={("checkout", "traces"): ["service.version"]},
        rewrite={
            ("payments", "deployment.environment.name"): "prod",
            ("frontend", "k8s.pod.name"): f"https://admin:{TOKEN}@pods.example",
        },
        new_ids_for="inventory",
    ).run(before, root / "after")
    return before, root / "after"


@pytest.fixture(scope="module")
def forward(sides: tuple[Path, Path]) -> dict[str, Any]:
    before, after = sides
    run = otlint("diff", str(before), str(after), "-f", "json", "--jobs", "1")
    assert run.returncode == 1, run.stderr
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def _records(data: dict[str, Any], service: str, signal: str) -> dict[str, Any]:
    (row,) = [r for r in data["records"] if r["service"] == service and r["signal"] == signal]
    return row


def _ids(data: dict[str, Any], service: str, signal: str) -> dict[str, Any]:
    (row,) = [
        r for r in data["ids"]["services"] if r["service"] == service and r["signal"] == signal
    ]
    return row


# -- what the collector did, each reported ------------------------------------------------------


def test_the_broken_trace_join_is_said_plainly_and_fails(sides: tuple[Path, Path]) -> None:
    before, after = sides
    run = otlint("diff", str(before), str(after), "--jobs", "1")
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert "this change breaks the trace join checkout → inventory" in lines
    # Logs still point at the spans the sampler dropped.
    assert any(re.fullmatch(r"this change breaks the log-trace join of \w+", ln) for ln in lines)
    assert "this change breaks no join" not in run.stdout


def test_join_cells_side_by_side(forward: dict[str, Any]) -> None:
    (edge,) = [
        c
        for c in forward["joins"]
        if c["join"] == "trace" and c["service"] == "checkout" and c["peer"] == "inventory"
    ]
    assert (edge["before"], edge["after"], edge["change"]) == ("intact", "broken", "broke")
    assert edge["broken_before"] == 0 < edge["broken_after"] == edge["records_after"]
    assert forward["summary"]["broke"] == sum(c["change"] == "broke" for c in forward["joins"])
    assert forward["summary"]["exit_code"] == 1


def test_records_dropped_give_the_sampling_ratio(
    forward: dict[str, Any], sides: tuple[Path, Path]
) -> None:
    before, after = sides
    for signal in ("traces", "logs", "metrics"):
        b, a = _count(before, signal), _count(after, signal)
        for service in b:
            row = _records(forward, service, signal)
            assert (row["before"], row["after"]) == (b[service], a[service]), (service, signal)
            assert row["kept"] == pytest.approx(a[service] / b[service], abs=1e-6)
    spans = _records(forward, "checkout", "traces")
    assert spans["after"] < spans["before"]  # sampled
    assert _records(forward, "checkout", "logs")["kept"] == 1.0  # logs are not


def test_resource_keys_lost_and_rewritten_per_signal(forward: dict[str, Any]) -> None:
    keys = {(k["service"], k["signal"], k["key"]): k["change"] for k in forward["resource_keys"]}
    assert keys[("checkout", "traces", "service.version")] == "lost"
    assert ("checkout", "logs", "service.version") not in keys  # only the traces pipeline
    for signal in ("traces", "metrics", "logs"):
        assert keys[("payments", signal, "deployment.environment.name")] == "rewritten"
    assert not any(s == "shipping" for s, _, _ in keys)
    # Without --show-values no value is written.
    assert not any("values_before" in k or "values_after" in k for k in forward["resource_keys"])


def test_show_values_masks_credentials(sides: tuple[Path, Path]) -> None:
    before, after = sides
    run = otlint("diff", str(before), str(after), "-f", "json", "--jobs", "1", "--show-values")
    data = json.loads(run.stdout)
    by = {(k["service"], k["signal"], k["key"]): k for k in data["resource_keys"]}
    env = by[("payments", "logs", "deployment.environment.name")]
    assert (env["values_before"], env["values_after"]) == (["staging"], ["prod"])
    pod = by[("frontend", "traces", "k8s.pod.name")]
    assert pod["change"] == "rewritten"
    assert "****" in pod["values_after"][0]
    for fmt in ("json", "text", "markdown"):
        out = otlint("diff", str(before), str(after), "-f", fmt, "--jobs", "1", "--show-values")
        assert TOKEN.lower() not in (out.stdout + out.stderr).lower(), fmt
        assert "pods.example" in out.stdout  # (the value is shown, its credential is not)


def test_ids_rewritten_for_one_service(forward: dict[str, Any], sides: tuple[Path, Path]) -> None:
    before, after = sides
    inventory = _ids(forward, "inventory", "traces")
    assert inventory["after"] > 0 and inventory["rewritten"] == inventory["after"]
    assert inventory["kept"] == 0 and inventory["trace_ids_kept"] == 0
    logs = _ids(forward, "inventory", "logs")
    assert logs["rewritten"] == logs["after"] > 0
    for service in ("checkout", "frontend", "payments", "shipping"):
        row = _ids(forward, service, "traces")
        assert row["rewritten"] == 0 and row["kept"] == row["after"] > 0, service
    ids_b, ids_a = _trace_ids(before), _trace_ids(after)
    assert forward["ids"]["trace_ids_kept_share"] == pytest.approx(
        len(ids_b & ids_a) / len(ids_b), abs=1e-6
    )


def test_new_findings_match_on_code_service_peer_key(forward: dict[str, Any]) -> None:
    new = {(f["code"], f["service"], f["peer"]) for f in forward["findings"]["new"]}
    assert ("TR006", "checkout", "inventory") in new  # the ids inventory was given
    assert ("TR004", "inventory", None) in new
    assert ("DP001", "checkout", None) in new  # service.version deleted from its traces
    assert ("SR001", "checkout", None) in new  # ... and only there
    assert ("SE002", "frontend", None) in new  # the URL written into k8s.pod.name
    # One finding per (code, service, peer, key): the sampler's LT001 once per service.
    assert sum(c == "LT001" for c, _, _ in new) == 5
    assert forward["findings"]["fixed"] == []


def test_reverse_heals_and_passes(sides: tuple[Path, Path], forward: dict[str, Any]) -> None:
    before, after = sides
    run = otlint("diff", str(after), str(before), "-f", "json", "--jobs", "1")
    assert run.returncode == 0, run.stdout
    back = json.loads(run.stdout)
    healed = {
        (c["join"], c["service"], c["peer"]) for c in back["joins"] if c["change"] == "healed"
    }
    assert ("trace", "checkout", "inventory") in healed
    codes = sorted((f["code"], f["service"]) for f in back["findings"]["fixed"])
    assert codes == sorted((f["code"], f["service"]) for f in forward["findings"]["new"])
    assert back["findings"]["new"] == []


def test_identical_inputs_change_nothing(sides: tuple[Path, Path]) -> None:
    before, _ = sides
    run = otlint("diff", str(before), str(before), "-f", "json", "--jobs", "1")
    assert run.returncode == 0
    data = json.loads(run.stdout)
    assert data["joins"] == [] and data["resource_keys"] == []
    assert data["findings"] == {"new": [], "fixed": []}
    assert all(r["kept"] == 1.0 for r in data["records"])
    assert data["ids"]["trace_ids_kept_share"] == 1.0
    text = otlint("diff", str(before), str(before), "--jobs", "1").stdout
    assert "this change breaks no join" in text


def test_a_change_that_breaks_no_join_exits_zero(sides: tuple[Path, Path], tmp_path: Path) -> None:
    before, _ = sides
    _Collector(delete={("shipping", "*"): ["service.instance.id"]}).run(before, tmp_path)
    run = otlint("diff", str(before), str(tmp_path), "--jobs", "1")
    assert run.returncode == 0, run.stdout
    assert "shipping traces: service.instance.id lost" in run.stdout
    assert "this change breaks no join" in run.stdout


def test_a_renamed_service_is_followed_by_its_ids(sides: tuple[Path, Path], tmp_path: Path) -> None:
    before, _ = sides
    # The new name carries a credential: it is masked wherever it is named, and breaks trust.
    renamed = f"https://u:{TOKEN}@shipper"
    _Collector(rewrite={("shipping", "service.name"): renamed}).run(before, tmp_path)
    run = otlint("diff", str(before), str(tmp_path), "-f", "json", "-j", "1")
    assert TOKEN not in run.stdout
    data = json.loads(run.stdout)
    assert data["services"]["renamed"] == [
        {"before": "shipping", "after": "https://u:****@shipper"}
    ]
    assert data["services"]["gone"] == [] and data["services"]["new"] == []
    assert {
        "service": "shipping",
        "signal": "all",
        "key": "service.name",
        "change": "rewritten",
    } in data["resource_keys"]
    broke = [(c["join"], c["service"]) for c in data["joins"] if c["change"] == "broke"]
    assert broke == [("trust", "https://u:****@shipper")] and run.returncode == 1


# -- formats ------------------------------------------------------------------------------------


def test_json_follows_the_documented_schema(forward: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(forward, SCHEMA)
    assert (forward["report"], forward["schema"], forward["kind"]) == ("diff", 1, "telemetry")
    assert forward["before"]["input"] == forward["after"]["input"] == "capture"
    broken = dict(forward)
    broken["summary"] = {**forward["summary"], "exit_code": 3}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every pipe table: rows of cells (escaped pipes kept inside their cell)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def test_markdown_is_a_step_summary(sides: tuple[Path, Path]) -> None:
    before, after = sides
    out = tmp = after.parent / "summary.md"
    run = otlint("diff", str(before), str(after), "-f", "markdown", "-o", str(out), "-j", "1")
    assert run.returncode == 1 and run.stdout == ""
    text = tmp.read_text(encoding="utf-8")
    assert text.startswith("## otlint diff\n")
    assert "- this change breaks the trace join checkout → inventory" in text
    headings = re.findall(r"^### (.+)$", text, re.M)
    assert headings[:1] == ["Joins"] and {"Records", "Resource keys", "Ids rewritten"} <= set(
        headings
    )
    tables = _tables(text)
    assert len(tables) == len(headings)
    for table in tables:
        width = len(table[0])
        assert all(len(row) == width for row in table), table
        assert all(re.fullmatch(r"-{3,}", c) for c in table[1])
    joins = tables[0]
    assert joins[0] == ["join", "where", "before", "after", "change"]
    assert ["trace", "checkout → inventory", "intact", "broken", "broke"] in joins


# -- the other inputs: shards, JSON reports, config trees --------------------------------------


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("summary", "services", "joins", "records", "ids")}


def test_shards_diff_as_their_captures(
    sides: tuple[Path, Path], forward: dict[str, Any], tmp_path: Path
) -> None:
    shards = []
    for side in sides:
        shard = tmp_path / f"{side.name}.otlint"
        assert otlint("check", str(side), "--jobs", "1", "--state", str(shard)).returncode == 0
        shards.append(str(shard))
    run = otlint("diff", *shards, "-f", "json")
    assert run.returncode == 1, run.stderr
    data = json.loads(run.stdout)
    assert data["before"]["input"] == data["after"]["input"] == "shard"
    assert _comparable(data) == _comparable(forward)
    mixed = json.loads(otlint("diff", shards[0], str(sides[1]), "-f", "json", "-j", "1").stdout)
    assert (mixed["before"]["input"], mixed["after"]["input"]) == ("shard", "capture")
    assert _comparable(mixed) == _comparable(forward)


def test_json_reports_compare_joins_and_findings(
    sides: tuple[Path, Path], forward: dict[str, Any], tmp_path: Path
) -> None:
    reports = []
    for side in sides:
        report = tmp_path / f"{side.name}.json"
        otlint("check", str(side), "-f", "json", "-o", str(report), "-j", "1")
        reports.append(str(report))
    run = otlint("diff", *reports, "-f", "json")
    assert run.returncode == 1, run.stderr
    data = json.loads(run.stdout)
    assert data["before"]["input"] == "report"
    assert data["joins"] == forward["joins"]
    assert data["findings"] == forward["findings"]
    assert data["records"] == [] and data["ids"]["services"] == []
    assert any("JSON report holds no records" in n for n in data["notes"])


COMPOSE = """\
services:
  checkout:
    image: shop/checkout:1.4.2
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_PROPAGATORS: tracecontext,baggage
      OTEL_RESOURCE_ATTRIBUTES: service.version=1.4.2,deployment.environment.name=staging
  payments:
    image: shop/payments:3.0.1
    environment:
      OTEL_SERVICE_NAME: payments
      OTEL_PROPAGATORS: {propagators}
      OTEL_RESOURCE_ATTRIBUTES: {attributes}deployment.environment.name=staging
"""


def _tree(root: Path, propagators: str, attributes: str) -> Path:
    root.mkdir()
    compose = COMPOSE.format(propagators=propagators, attributes=attributes)
    (root / "docker-compose.yaml").write_text(compose, encoding="utf-8")
    (root / "README.md").write_text("# not configuration\n", encoding="utf-8")
    return root


def test_config_trees(tmp_path: Path) -> None:
    before = _tree(tmp_path / "before", "tracecontext,baggage", "service.version=3.0.1,")
    after = _tree(tmp_path / "after", "b3", "")
    run = otlint("diff", str(before), str(after))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "this change breaks the trace join payments → checkout" in run.stdout.splitlines()
    data = json.loads(otlint("diff", str(before), str(after), "-f", "json").stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["kind"] == "config" and data["before"]["input"] == "config"
    assert "CF020" in {f["code"] for f in data["findings"]["new"]}
    assert {"service": "payments", "signal": "all", "key": "service.version", "change": "lost"} in (
        data["resource_keys"]
    )
    back = json.loads(otlint("diff", str(after), str(before), "-f", "json").stdout)
    assert back["summary"]["exit_code"] == 0
    assert "CF020" in {f["code"] for f in back["findings"]["fixed"]}
    same = otlint("diff", str(before), str(before))
    assert same.returncode == 0 and "this change breaks no join" in same.stdout


# -- bad input: exit 2, one line ---------------------------------------------------------------


def _one_error(run: Any, *needles: str) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("otlint: error: "), run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]
    return str(lines[0])


def test_bad_inputs(sides: tuple[Path, Path], tmp_path: Path) -> None:
    before, after = sides
    missing = tmp_path / "nope"
    _one_error(otlint("diff", str(missing), str(after)), f"{missing}: no such file")
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words\n", encoding="utf-8")
    _one_error(otlint("diff", str(before), str(notes), "-j", "1"), f"{notes}: nothing to compare")
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"otlint": "0.1", "schema": 1, "findings": 3}', encoding="utf-8")
    _one_error(otlint("diff", str(damaged), str(after)), f"{damaged}: not an otlint JSON report")
    entry = tmp_path / "entry.json"
    entry.write_text('{"otlint": "0.1", "schema": 1, "findings": [7], "joins": []}', "utf-8")
    _one_error(otlint("diff", str(entry), str(after)), f"{entry}:1: not an otlint JSON report")
    cut = tmp_path / "cut.otlint"
    otlint("check", str(before), "-j", "1", "--state", str(cut))
    cut.write_bytes(cut.read_bytes()[:40])
    _one_error(otlint("diff", str(cut), str(after)), str(cut))
    tree = _tree(tmp_path / "tree", "tracecontext", "")
    _one_error(otlint("diff", str(tree), str(after), "-j", "1"), "cannot be compared")


def test_sides_with_no_common_service(sides: tuple[Path, Path], tmp_path: Path) -> None:
    before, _ = sides
    names = ["checkout", "frontend", "payments", "inventory", "shipping"]
    _Collector(rewrite={(s, "service.name"): f"other-{s}" for s in names}).run(before, tmp_path)
    line = _one_error(otlint("diff", str(before), str(tmp_path), "-j", "1"), "share no service")
    assert "other-checkout" in line and "not the same system" in line


def test_markdown_cells_keep_their_pipes_and_markup_escaped() -> None:
    from otlint.report.diff import CellChange, Diff, Side, markdown

    side = Side("a`b", "capture", ["cart|v2"], {})
    diff = Diff("0", "telemetry", side, side, ["cart|v2"])
    diff.joins = [CellChange("trace", "cart|v2", "pay_<b>", "intact", "broken", 0, 3, 5, 5)]
    text = markdown(diff)
    (table,) = _tables(text)
    assert table[2] == ["trace", "cart\\|v2 → pay\\_\\<b\\>", "intact", "broken", "broke"]
    assert "`a'b`" in text  # (a code span escapes nothing: its backticks become quotes)
    assert "- this change breaks the trace join cart|v2 → pay\\_\\<b\\>" in text


def test_select_and_ignore_choose_the_joins_compared(sides: tuple[Path, Path]) -> None:
    before, after = sides
    run = otlint("diff", str(before), str(after), "-f", "json", "-j", "1", "--ignore", "TR,LT,MT")
    data = json.loads(run.stdout)
    joins = {c["join"] for c in data["joins"] if c["change"] == "broke"}
    assert joins and not joins & {"trace", "log-trace", "metric-trace"}, joins
    assert not any(f["code"][:2] in ("TR", "LT", "MT") for f in data["findings"]["new"])
    only = otlint("diff", str(before), str(after), "-j", "1", "--select", "SC")
    assert only.returncode == 0 and "this change breaks no join" in only.stdout
