"""The join matrix agrees with the findings: who must change, what was not checked, what is a file's."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from otlint.registry import REGISTRY
from otlint.report.reporters import text
from otlint.report.reporters._common import summary_line
from otlint.run.check import build_report, evaluate, scan
from otlint.settings import load_settings
from otlint.telemetry.analysis import Context

from otlp_builder import write_input

MISMATCH: dict[str, Any] = {
    "traces": [
        {
            "resource": {"service.name": "checkout"},
            "spans": [
                {"trace": 1, "id": 1, "kind": "server"},
                {
                    "trace": 1,
                    "id": 2,
                    "parent": 1,
                    "kind": "client",
                    "attrs": {"peer.service": "inventory"},
                },
            ],
        },
        {
            "resource": {"service.name": "inventory"},
            "spans": [{"trace": 9, "id": 9, "kind": "server"}],
        },
    ]
}


def _report(spec: dict[str, Any], tmp_path: Path, **select: list[str]) -> Any:
    corpus, stats = scan(write_input(spec, tmp_path))
    settings = load_settings(REGISTRY, cwd=tmp_path, isolated=True, **select)
    ctx = Context(corpus)
    findings = evaluate(corpus, settings, context=ctx)
    return build_report(corpus, findings, stats.inputs, context=ctx, settings=settings)


def _cells(report: Any) -> dict[tuple[str, str | None, str | None], str]:
    return {(c.join.value, c.service, c.peer): c.status for c in report.joins}


def test_a_propagator_mismatch_marks_the_callee_that_must_change(tmp_path: Path) -> None:
    report = _report(MISMATCH, tmp_path)
    tr007 = next(f for f in report.findings if f.code == "TR007")
    assert (tr007.service, tr007.peer, tr007.blame) == ("checkout", "inventory", "inventory")
    assert "Fix inventory (the callee)" in tr007.message
    cells = _cells(report)
    assert cells[("trace", "inventory", None)] == "broken"
    assert cells[("trace", "checkout", None)] == "broken"


def test_deselected_joins_are_not_checked_not_intact(tmp_path: Path) -> None:
    report = _report(MISMATCH, tmp_path, select=["ID001"])
    cells = _cells(report)
    assert cells[("identity", "checkout", None)] == "intact"
    assert cells[("trace", "checkout", None)] == "not-checked"
    assert cells[("trace", "checkout", "inventory")] == "not-checked"
    assert cells[("schema", "inventory", None)] == "not-checked"
    out = io.StringIO()
    text.render(report, out, color=False)
    row = next(line for line in out.getvalue().splitlines() if line.startswith("checkout "))
    assert "\u2717" not in row and "\u00b7" in row
    assert "ok" in row.split()[1]
    ignored = _cells(_report(MISMATCH, tmp_path, ignore=["trace"]))
    assert ignored[("trace", "inventory", None)] == "not-checked"
    assert ignored[("identity", "inventory", None)] != "not-checked"


def test_file_level_findings_name_the_files_services_and_count_as_none(tmp_path: Path) -> None:
    span = (
        '{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /",'
        '"kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000"}'
    )

    def resource(name: str) -> str:
        return (
            '{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'
            + name
            + '"}}]},'
            '"scopeSpans":[{"spans":[' + span + "]}]}"
        )

    spec = {
        "files": {
            "traces.json": '{"resourceSpans":['
            + resource("checkout")
            + ","
            + resource("payments")
            + "]}\n",
            "other.json": '{"resourceSpans":['
            + resource("nameless").replace("nameless", "")
            + "]}\n",
        }
    }
    report = _report(spec, tmp_path, select=["SC004"])
    by_file = {f.locations[0].path.rsplit("/", 1)[-1]: f for f in report.findings}
    assert by_file["traces.json"].services == ["checkout", "payments"]
    assert by_file["traces.json"].service is None
    assert by_file["traces.json"].to_json()["services"] == ["checkout", "payments"]
    out = io.StringIO()
    text.render(report, out, color=False)
    assert "file of checkout, payments" in out.getvalue()
    # Findings about files are about no service: the summary counts files instead.
    assert summary_line(report).endswith("in 2 files")
    assert by_file["other.json"].services == [None]
    assert "file of <no service.name>" in out.getvalue()
