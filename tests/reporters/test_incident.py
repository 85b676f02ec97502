"""The incident path per service, on the real SDK captures in sample_traces/.

The healthy capture is followable for every service; each other case takes it through a
small rewriting step written here (standing in for a collector processor or a
misconfigured SDK: exemplars dropped, an instance id rewritten, ``service.version``
removed from one signal, a ``peer.service`` that names nobody, a service's metrics
dropped) and checks that exactly the link it breaks is reported, with why.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otlint.registry import REGISTRY
from otlint.report.incident import IncidentPath
from otlint.report.report import Report
from otlint.report.reporters import get
from otlint.run.check import build_report, evaluate, scan
from otlint.settings import load_settings
from otlint.telemetry.analysis import Context

SAMPLES = Path(__file__).resolve().parents[2] / "sample_traces"
SIGNALS = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}

#: (signal, one resource's OTLP/JSON dict) -> whether to keep it, rewriting it in place.
Rewrite = Callable[[str, dict[str, Any]], bool | None]


def _report(folder: Path) -> Report:
    corpus, stats = scan([str(folder)])
    settings = load_settings(REGISTRY, cwd=folder, isolated=True)
    ctx = Context(corpus)
    findings = evaluate(corpus, settings, context=ctx)
    return build_report(corpus, findings, stats.inputs, context=ctx, settings=settings)


def _rewritten(tmp_path: Path, rewrite: Rewrite) -> Path:
    """The healthy capture after ``rewrite`` ran over every resource of every signal."""
    for signal, key in SIGNALS.items():
        lines = []
        for line in (SAMPLES / "healthy" / f"{signal}.jsonl").read_text().splitlines():
            doc = json.loads(line)
            doc[key] = [r for r in doc[key] if rewrite(signal, r) is not False]
            lines.append(json.dumps(doc))
        (tmp_path / f"{signal}.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def _attrs(resource: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in resource["resource"]["attributes"]}


def _service(resource: dict[str, Any]) -> str:
    return str(_attrs(resource)["service.name"]["stringValue"])


def _set(resource: dict[str, Any], key: str, value: str | None) -> None:
    attrs = [a for a in resource["resource"]["attributes"] if a["key"] != key]
    if value is not None:
        attrs.append({"key": key, "value": {"stringValue": value}})
    resource["resource"]["attributes"] = attrs


def _points(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        point
        for scope in resource["scopeMetrics"]
        for metric in scope["metrics"]
        for kind in ("histogram", "sum", "gauge", "exponentialHistogram")
        if kind in metric
        for point in metric[kind]["dataPoints"]
    ]


def _paths(report: Report) -> dict[str | None, IncidentPath]:
    return {path.service: path for path in report.incidents}


def test_healthy_capture_is_followable_for_every_service() -> None:
    report = _report(SAMPLES / "healthy")
    paths = _paths(report)
    assert set(paths) == {"checkout", "frontend", "inventory", "payments", "shipping"}
    for name, path in paths.items():
        assert path.followable, (name, path.why)
        assert path.links["traces"].via == "exemplars"
        assert path.links["deploy"].detail == "service.version on traces, metrics, logs"
    # A service that calls nobody has nothing downstream to lose.
    assert paths["payments"].links["downstream"].status == "no-data"
    assert paths["checkout"].links["downstream"].status == "ok"
    assert "inventory, payments, shipping" in paths["checkout"].links["downstream"].detail


def test_broken_capture_names_the_first_missing_link() -> None:
    paths = _paths(_report(SAMPLES / "broken"))
    checkout = paths["checkout"]
    # Version drift: the metrics say 1.4.1, traces and logs 1.4.2 (no value is printed).
    assert (checkout.status, checkout.missing) == ("broken", "deploy")
    assert checkout.why == "service.version on metrics differs from traces, logs"
    assert "1.4" not in json.dumps(checkout.to_json())
    # The propagator mismatch also cuts checkout's call into inventory.
    downstream = checkout.links["downstream"]
    assert downstream.status == "broken"
    assert downstream.detail.startswith("8 of 8 calls to inventory reach no server span")
    unnamed = paths["unknown_service:python"]
    assert (unnamed.missing, unnamed.links["metrics"].status) == ("metrics", "broken")
    assert "SDK default" in unnamed.why
    # Inventory's own path holds: the broken edge is checkout's to follow.
    assert paths["inventory"].followable
    assert paths["payments"].followable  # its log-trace break is not on the path


def test_no_exemplars_and_a_rewritten_instance_id_break_metrics_to_traces(
    tmp_path: Path,
) -> None:
    def prometheus_like(signal: str, resource: dict[str, Any]) -> None:
        if signal == "metrics" and _service(resource) == "payments":
            for point in _points(resource):
                point.pop("exemplars", None)
            _set(resource, "service.instance.id", "payments:9464")

    paths = _paths(_report(_rewritten(tmp_path, prometheus_like)))
    payments = paths["payments"]
    assert (payments.status, payments.missing) == ("broken", "traces")
    assert payments.why == (
        "no exemplars on its metrics, and its metrics and traces carry different"
        " service.instance.id"
    )
    assert all(p.followable for name, p in paths.items() if name != "payments")


def test_without_exemplars_the_same_identity_still_leads_to_the_traces(tmp_path: Path) -> None:
    def drop_exemplars(signal: str, resource: dict[str, Any]) -> None:
        if signal == "metrics":
            for point in _points(resource):
                point.pop("exemplars", None)

    paths = _paths(_report(_rewritten(tmp_path, drop_exemplars)))
    for path in paths.values():
        assert path.followable
        assert path.links["traces"].via == "identity"
        assert path.links["traces"].detail.endswith("(no exemplars on its metrics)")


def test_no_service_version_on_logs_breaks_the_deploy_link(tmp_path: Path) -> None:
    def unversioned_logs(signal: str, resource: dict[str, Any]) -> None:
        if signal == "logs" and _service(resource) == "frontend":
            _set(resource, "service.version", None)

    frontend = _paths(_report(_rewritten(tmp_path, unversioned_logs)))["frontend"]
    assert (frontend.status, frontend.missing) == ("broken", "deploy")
    assert frontend.why == "no service.version on logs"
    assert frontend.links["traces"].status == "ok"


def test_a_peer_service_naming_nobody_breaks_the_downstream_link(tmp_path: Path) -> None:
    def misnamed_peer(signal: str, resource: dict[str, Any]) -> None:
        if signal != "traces" or _service(resource) != "checkout":
            return
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                attrs = {a["key"]: a["value"] for a in span.get("attributes", [])}
                address = attrs.get("server.address", {}).get("stringValue", "")
                if span.get("kind") == 3 and address.startswith("payments"):
                    span["attributes"].append(
                        {"key": "peer.service", "value": {"stringValue": "payment-svc"}}
                    )

    report = _report(_rewritten(tmp_path, misnamed_peer))
    checkout = _paths(report)["checkout"]
    assert (checkout.status, checkout.missing) == ("broken", "downstream")
    assert checkout.why == "peer.service 'payment-svc' on 10 calls names no service in the input"
    assert "PE001" in {f.code for f in report.findings if f.service == "checkout"}


def test_a_service_without_metrics_has_no_data_not_a_broken_path(tmp_path: Path) -> None:
    def no_inventory_metrics(signal: str, resource: dict[str, Any]) -> bool:
        return signal != "metrics" or _service(resource) != "inventory"

    report = _report(_rewritten(tmp_path, no_inventory_metrics))
    inventory = _paths(report)["inventory"]
    assert (inventory.status, inventory.missing, inventory.followable) == (
        "no-data",
        "metrics",
        False,
    )
    assert inventory.why == "no metrics from this service in the input"
    text = _render("text", report)
    row = next(line for line in text.splitlines() if line.startswith("inventory "))
    assert row.split()[-1] == "\u00b7metrics"
    assert "\u2717" not in row.split()[-1]


def _render(fmt: str, report: Report) -> str:
    out = io.StringIO()
    get(fmt).render(report, out, color=False)
    return out.getvalue()


def test_text_report_has_the_incident_column_and_section() -> None:
    text = _render("text", _report(SAMPLES / "broken"))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("service "))
    assert header.split()[-1] == "incident"
    checkout = next(line for line in lines if line.startswith("checkout "))
    assert checkout.split()[-1] == "\u2717deploy"
    start = next(i for i, line in enumerate(lines) if line.startswith("incident path"))
    section = lines[start : lines.index("", start)]
    assert len(section) == 1 + 5
    assert any(
        line.split()[:2] == ["checkout", "\u2717deploy"]
        and line.endswith("service.version on metrics differs from traces, logs (also: downstream)")
        for line in section
    )
    assert sum("followable (traces via exemplars)" in line for line in section) == 3


def test_json_report_adds_incidents_and_keeps_every_other_key() -> None:
    report = _report(SAMPLES / "broken")
    doc = json.loads(_render("json", report))
    assert doc["schema"] == 1
    assert list(doc)[:5] == ["otlint", "schema", "summary", "joins", "findings"]
    by_service = {entry["service"]: entry["incident"] for entry in doc["incidents"]}
    assert by_service["checkout"]["followable"] is False
    assert by_service["checkout"]["missing"] == "deploy"
    assert list(by_service["checkout"]["links"]) == ["metrics", "traces", "deploy", "downstream"]
    assert by_service["frontend"] == {
        "followable": True,
        "status": "followable",
        "missing": None,
        "why": by_service["frontend"]["why"],
        "links": by_service["frontend"]["links"],
    }
    assert by_service["frontend"]["links"]["traces"]["via"] == "exemplars"


@pytest.mark.parametrize("world", ["healthy", "broken"])
def test_one_path_per_service_of_the_matrix(world: str) -> None:
    report = _report(SAMPLES / world)
    assert [p.service for p in report.incidents] == sorted(
        report.services, key=lambda s: (s is not None, s or "")
    )


def test_a_baseline_marks_the_paths_it_explains_and_keeps_them_unfollowable() -> None:
    from otlint.report.report import hide

    report = _report(SAMPLES / "broken")
    hide(report, list(report.findings))
    paths = _paths(report)
    assert paths["checkout"].baselined and not paths["checkout"].followable
    assert paths["checkout"].to_json()["incident"]["baselined"] is True
    assert not paths["frontend"].baselined  # followable: nothing to accept
    text = _render("text", report)
    assert "\u2717" not in text
    row = next(line for line in text.splitlines() if line.startswith("checkout "))
    assert row.split()[-1] == "baseline"
