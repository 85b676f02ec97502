"""The data-plane map on a real collector set-up: apps -> agent -> gateway -> two backends
and a Prometheus exporter, split across compose, a Kubernetes Service and collector files.

One compose project written to disk: ``checkout`` and ``cart`` send OTLP to the agent
collector, which adds ``k8sattributes`` to traces and metrics (not logs) and forwards to
the gateway, whose configuration is split over two files (``--config`` order), with a
tail sampler on traces, traces to Tempo, logs to Loki, metrics to a Prometheus exporter,
and a ``spanmetrics`` connector keyed on ``deployment.environment``. ``billing`` sends its
logs to a port of the agent nothing listens on. Every CF05x finding is asserted with its
place, and so is the map (``--format json`` / ``mermaid`` / ``dot``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otlint.configs.dataplane import build
from otlint.run.check_config import read_configs

COMPOSE = """\
services:
  checkout:
    image: shop/checkout:1.4
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-agent:4317
      OTEL_EXPORTER_OTLP_PROTOCOL: grpc
      OTEL_LOGS_EXPORTER: otlp
  cart:
    image: shop/cart:2.0
    environment:
      OTEL_SERVICE_NAME: cart
      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-agent:4318
  billing:
    image: shop/billing:0.9
    environment:
      OTEL_SERVICE_NAME: billing
      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-agent:4318
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: http://otel-agent:5318
  otel-agent:
    image: otel/opentelemetry-collector-contrib:0.119.0
    volumes:
      - ./collector/agent.yaml:/etc/otelcol-contrib/config.yaml
  otel-gateway:
    image: otel/opentelemetry-collector-contrib:0.119.0
    command: ["--config=/etc/otel/base.yaml", "--config=/etc/otel/backends.yaml"]
    volumes:
      - ./collector/gateway:/etc/otel
"""

AGENT = """\
receivers:
  otlp:
    protocols:
      grpc: {}
      http: {}
processors:
  k8sattributes: {}
  batch: {}
exporters:
  otlp:
    endpoint: otel-gateway:4317
    tls: {insecure: true}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [k8sattributes, batch]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [k8sattributes, batch]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"""

GATEWAY_BASE = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
processors:
  tail_sampling:
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: slow, type: latency, latency: {threshold_ms: 500}}
connectors:
  spanmetrics:
    dimensions:
      - name: deployment.environment
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [tail_sampling]
      exporters: [debug]
    metrics:
      receivers: [otlp, spanmetrics]
      exporters: [debug]
    logs:
      receivers: [otlp]
      exporters: [debug]
"""

GATEWAY_BACKENDS = """\
exporters:
  otlp/tempo:
    endpoint: tempo.observability.svc.cluster.local:4317
  otlphttp/loki:
    endpoint: http://loki:3100/otlp
  prometheus:
    endpoint: 0.0.0.0:8889
service:
  pipelines:
    traces:
      exporters: [otlp/tempo, spanmetrics]
    metrics:
      exporters: [prometheus]
    logs:
      exporters: [otlphttp/loki]
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The set-up, written to disk."""
    (tmp_path / "collector" / "gateway").mkdir(parents=True)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "collector" / "agent.yaml").write_text(AGENT)
    (tmp_path / "collector" / "gateway" / "base.yaml").write_text(GATEWAY_BASE)
    (tmp_path / "collector" / "gateway" / "backends.yaml").write_text(GATEWAY_BACKENDS)
    return tmp_path


def _otlint(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otlint", "check-config", ".", "--isolated", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_map_follows_apps_through_agent_and_gateway(shop: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(shop)
    plane = build(read_configs(["."]))
    labels = sorted(i.label for i in plane.instances)
    assert labels == ["compose service otel-agent", "compose service otel-gateway"]
    gateway = next(i for i in plane.instances if i.label.endswith("otel-gateway"))
    # The split configuration is merged in --config order: the second file's exporters.
    assert [e for e, _ in gateway.flows["traces"].exporters] == ["otlp/tempo", "spanmetrics"]
    assert [p for p, _ in gateway.flows["traces"].processors] == ["tail_sampling"]
    by = {(s.unit.service, s.signal): s for s in plane.senders}
    assert by[("checkout", "traces")].instance is not None
    assert by[("checkout", "traces")].instance.label == "compose service otel-agent"
    assert by[("billing", "logs")].unreached is not None
    agent = next(i for i in plane.instances if i.label.endswith("otel-agent"))
    ends = {
        (r.signal, r.destination.label if r.destination else None, len(r.steps))
        for signal in ("traces", "metrics", "logs")
        for r in plane.routes(agent, signal, 4317)
    }
    assert ends == {
        ("traces", "otlp tempo:4317", 2),  # agent traces -> gateway traces
        ("metrics", "prometheus 0.0.0.0:8889", 3),  # ... -> spanmetrics -> gateway metrics
        ("metrics", "prometheus 0.0.0.0:8889", 2),
        ("logs", "otlphttp loki:3100", 2),
    }


#: (code, level, path, line) of every CF05x finding on the set-up, and a piece of its message.
EXPECTED = {
    (
        "CF050",
        "warning",
        "collector/gateway/base.yaml",
        21,
        "logs point at spans no backend stores",
    ),
    ("CF051", "warning", "collector/agent.yaml", 23, "pipeline logs has no k8sattributes"),
    ("CF052", "info", "collector/gateway/base.yaml", 2, "traces to otlp tempo:4317"),
    ("CF053", "warning", "collector/gateway/backends.yaml", 6, "no exemplars"),
    ("CF053", "info", "collector/gateway/backends.yaml", 6, "only in target_info"),
    ("CF054", "warning", "collector/gateway/base.yaml", 14, "by deployment.environment"),
    ("CF055", "warning", "compose.yaml", 19, "no logs pipeline of compose service otel-agent"),
    ("CF056", "info", "collector/gateway/base.yaml", 12, "without exemplars"),
}


def test_every_boundary_finding_is_reported_once_where_it_is_fixed(shop: Path) -> None:
    done = _otlint(shop, "--select", "CF05", "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    got = {
        (
            f["code"],
            f["level"],
            f["locations"][0]["path"],
            f["locations"][0]["line"],
        )
        for f in report["findings"]
    }
    assert got == {e[:4] for e in EXPECTED}
    assert len(report["findings"]) == len(EXPECTED)
    for code, level, path, line, words in EXPECTED:
        found = [
            f
            for f in report["findings"]
            if (f["code"], f["level"], f["locations"][0]["path"], f["locations"][0]["line"])
            == (code, level, path, line)
        ]
        assert words in found[0]["message"], (code, found[0]["message"])


def test_the_json_report_carries_the_map_with_what_each_edge_loses(shop: Path) -> None:
    report = json.loads(_otlint(shop, "--format", "json", "--exit-zero").stdout)
    plane = report["dataplane"]
    names = {n["id"]: n["label"] for n in plane["nodes"]}
    edges = {(names[e["from"]], names[e["to"]]): e for e in plane["edges"]}
    assert set(edges) == {
        ("checkout", "compose service otel-agent"),
        ("cart", "compose service otel-agent"),
        ("billing", "compose service otel-agent"),
        ("compose service otel-agent", "compose service otel-gateway"),
        ("compose service otel-gateway", "otlp tempo:4317"),
        ("compose service otel-gateway", "prometheus 0.0.0.0:8889"),
        ("compose service otel-gateway", "otlphttp loki:3100"),
    }
    assert edges[("checkout", "compose service otel-agent")]["signals"] == [
        "traces",
        "metrics",
        "logs",
    ]
    lost = {pair: sorted({item["join"] for item in e["lost"]}) for pair, e in edges.items()}
    assert lost[("compose service otel-gateway", "otlp tempo:4317")] == ["sampled"]
    assert lost[("compose service otel-gateway", "otlphttp loki:3100")] == ["log-trace"]
    # (the span metrics are made after the tail sampler: from the sampled traces)
    assert lost[("compose service otel-gateway", "prometheus 0.0.0.0:8889")] == [
        "metric-trace",
        "sampled",
    ]
    assert lost[("billing", "compose service otel-agent")] == ["all"]
    assert lost[("cart", "compose service otel-agent")] == []


def test_mermaid_and_dot_draw_the_map_with_broken_edges_red(shop: Path) -> None:
    mermaid = _otlint(shop, "--format", "mermaid", "--exit-zero").stdout.splitlines()
    assert mermaid[:2] == [mermaid[0], "flowchart LR"] and "data-plane map" in mermaid[0]
    nodes = [line for line in mermaid if re.match(r"    n_\w+(\(\[|\[\[|\[\()", line)]
    assert len(nodes) == 8  # 3 units, 2 collectors, 3 destinations
    links = [line for line in mermaid if "-->" in line or ".->" in line]
    assert len(links) == 7
    broken = [i for i, line in enumerate(links) if ".->" in line]
    style = next(line for line in mermaid if line.strip().startswith("linkStyle"))
    assert style.split()[1] == ",".join(map(str, broken)) and "#d32f2f" in style
    assert any("log-trace" in links[i] for i in broken)
    assert all(line.count('"') % 2 == 0 for line in mermaid)
    dot = _otlint(shop, "--format", "dot", "--exit-zero").stdout
    assert dot.startswith("// otlint") and "digraph dataplane {" in dot
    assert dot.count(" -> ") == 7 and dot.count("style=dashed") == len(broken)


def test_a_run_without_collectors_or_senders_has_no_map(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OTEL_SERVICE_NAME=checkout\n")
    report = json.loads(_otlint(tmp_path, "--format", "json", "--exit-zero").stdout)
    assert "dataplane" not in report


def _incidents(folder: Path) -> dict[str, dict[str, Any]]:
    report = json.loads(_otlint(folder, "--format", "json", "--exit-zero").stdout)
    return {i["service"]: i["incident"] for i in report["incidents"]}


def test_the_incident_path_as_the_configuration_decides_it(shop: Path) -> None:
    paths = _incidents(shop)
    assert sorted(paths) == ["billing", "cart", "checkout"]
    checkout = paths["checkout"]
    assert checkout["links"]["metrics"] == {
        "status": "ok",
        "detail": "metrics to compose service otel-agent",
    }
    # The gateway's Prometheus exporter writes the text format: the spike leads to no trace.
    assert checkout["missing"] == "traces" and checkout["status"] == "broken"
    assert "exporter prometheus of compose service otel-gateway" in checkout["why"]
    # Nothing in the files sets service.version: not known, not guessed broken.
    assert checkout["links"]["deploy"]["status"] == "not-checked"
    assert checkout["links"]["downstream"]["status"] == "ok"


def test_a_followable_path_and_a_version_a_processor_deletes(shop: Path) -> None:
    backends = shop / "collector" / "gateway" / "backends.yaml"
    backends.write_text(
        GATEWAY_BACKENDS.replace(
            "    endpoint: 0.0.0.0:8889\n",
            "    endpoint: 0.0.0.0:8889\n    enable_open_metrics: true\n",
        )
    )
    compose = shop / "compose.yaml"
    compose.write_text(
        COMPOSE.replace(
            "      OTEL_SERVICE_NAME: checkout\n",
            "      OTEL_SERVICE_NAME: checkout\n"
            "      OTEL_RESOURCE_ATTRIBUTES: service.version=1.4.2\n",
        ).replace(
            "      OTEL_SERVICE_NAME: cart\n",
            "      OTEL_SERVICE_NAME: cart\n      OTEL_RESOURCE_ATTRIBUTES: service.version=2.0.0\n",
        )
    )
    agent = shop / "collector" / "agent.yaml"
    agent.write_text(
        AGENT.replace(
            "  batch: {}\n",
            "  batch: {}\n  resource/strip:\n    attributes:\n"
            "      - {key: service.version, action: delete}\n",
        ).replace(
            "      processors: [batch]\n      exporters: [otlp]\n",
            "      processors: [resource/strip, batch]\n      exporters: [otlp]\n",
        )
    )
    paths = _incidents(shop)
    assert paths["checkout"]["followable"] is False
    assert paths["checkout"]["missing"] == "deploy"
    assert paths["checkout"]["why"] == (
        "processor resource/strip of compose service otel-agent deletes service.version on its logs"
    )
    agent.write_text(AGENT)
    paths = _incidents(shop)
    assert paths["checkout"]["followable"] is True, paths["checkout"]
    assert paths["checkout"]["links"]["deploy"]["detail"] == (
        "service.version set by OTEL_RESOURCE_ATTRIBUTES"
    )


def test_diff_of_two_config_trees_names_the_joins_a_change_loses_on_the_map(
    shop: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    before = tmp_path_factory.mktemp("before")
    for path in shop.rglob("*.yaml"):
        target = before / path.relative_to(shop)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    # BEFORE: no sampler on the gateway, and OpenMetrics (exemplars) out of Prometheus.
    base = before / "collector" / "gateway" / "base.yaml"
    base.write_text(base.read_text().replace("      processors: [tail_sampling]\n", ""))
    backends = before / "collector" / "gateway" / "backends.yaml"
    backends.write_text(
        backends.read_text().replace(
            "    endpoint: 0.0.0.0:8889\n",
            "    endpoint: 0.0.0.0:8889\n    enable_open_metrics: true\n",
        )
    )

    def diff(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "otlint", "diff", str(a), str(b), "--isolated", "-f", "json"],
            capture_output=True,
            text=True,
            check=False,
        )

    done = diff(before, shop)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    lost = {
        (b["from"], b["to"], b["signal"], b["join"])
        for b in report["boundaries"]
        if b["change"] == "lost"
    }
    gateway = "compose service otel-gateway"
    assert lost == {
        (gateway, "otlp tempo:4317", "traces", "sampled"),
        (gateway, "otlphttp loki:3100", "logs", "log-trace"),
        (gateway, "prometheus 0.0.0.0:8889", "metrics", "metric-trace"),
        (gateway, "prometheus 0.0.0.0:8889", "metrics", "sampled"),
    }
    assert report["summary"]["lost_on_boundaries"] == 2  # ("sampled" marks, costs nothing itself)
    text = subprocess.run(
        [sys.executable, "-m", "otlint", "diff", str(before), str(shop), "--isolated"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert f"this change loses the log-trace join of logs on {gateway} → otlphttp loki:3100" in text
    back = diff(shop, before)
    assert back.returncode == 0, back.stdout
    assert {b["change"] for b in json.loads(back.stdout)["boundaries"]} == {"restored"}


def test_a_fail_closed_redaction_loses_the_peer_join_and_a_filter_is_marked(tmp_path: Path) -> None:
    (tmp_path / "otel.yaml").write_text(
        "receivers:\n  otlp:\n    protocols:\n      grpc: {}\n"
        "processors:\n"
        "  redaction:\n    allowed_keys: [http.request.method, http.response.status_code]\n"
        "  redaction/open:\n    allow_all_keys: true\n"
        "  groupbyattrs:\n    keys: [host.name]\n"
        "  filter/health:\n    error_mode: ignore\n    traces:\n      span:\n"
        '        - \'attributes["url.path"] == "/healthz"\'\n'
        "exporters:\n  otlp/a:\n    endpoint: a:4317\n  otlp/b:\n    endpoint: b:4317\n"
        "service:\n  pipelines:\n"
        "    traces/a:\n      receivers: [otlp]\n      processors: [filter/health, redaction]\n"
        "      exporters: [otlp/a]\n"
        "    traces/b:\n      receivers: [otlp]\n      processors: [redaction/open, groupbyattrs]\n"
        "      exporters: [otlp/b]\n"
    )
    plane = json.loads(_otlint(tmp_path, "--format", "json", "--exit-zero").stdout)["dataplane"]
    names = {n["id"]: n["label"] for n in plane["nodes"]}
    lost = {names[e["to"]]: sorted(i["join"] for i in e["lost"]) for e in plane["edges"]}
    assert lost == {"otlp a:4317": ["filtered", "peer"], "otlp b:4317": ["regrouped"]}
    chart = _otlint(tmp_path, "--format", "mermaid", "--exit-zero").stdout
    assert '"traces (filtered) ✗ peer"' in chart and '-->|"traces (regrouped)"|' in chart


def test_two_trees_name_a_collector_file_alike(tmp_path: Path) -> None:
    """A collector no runner claims is named by its file: from each tree's root, so two
    copies of one tree compare equal."""
    config = (
        "receivers:\n  otlp:\n    protocols:\n      grpc: {}\n"
        "processors:\n  probabilistic_sampler: {sampling_percentage: 10}\n"
        "exporters:\n  otlp:\n    endpoint: tempo:4317\n"
        "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
        "      processors: [probabilistic_sampler]\n      exporters: [otlp]\n"
        "    logs:\n      receivers: [otlp]\n      exporters: [otlp]\n"
    )
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "otel.yaml").write_text(config)
    done = subprocess.run(
        [sys.executable, "-m", "otlint", "diff", "a", "b", "--isolated", "-f", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["boundaries"] == []


def test_an_sdk_configuration_without_a_meter_provider_exports_no_metrics(tmp_path: Path) -> None:
    (tmp_path / "sdk.yaml").write_text(
        'file_format: "1.0"\nresource:\n  attributes:\n    - {name: service.name, value: ledger}\n'
        "tracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http:\n"
        "            endpoint: https://otlp.example.com/v1/traces\n"
    )
    metrics = _incidents(tmp_path)["ledger"]["links"]["metrics"]
    assert metrics == {
        "status": "broken",
        "detail": "its SDK configuration has no meter_provider: it exports no metrics",
    }
