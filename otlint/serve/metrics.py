"""Prometheus metrics of the sidecar (``GET /metrics``), via prometheus-client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from otlint.serve.forward import Forwarder
from otlint.telemetry.corpus.corpus import Signal

if TYPE_CHECKING:
    from otlint.serve.lint import LintSummary
    from otlint.serve.worker import LintWorker


class Sidecar(Protocol):
    """What the metrics need of the sidecar (``server.Sidecar`` is one)."""

    @property
    def forwarder(self) -> Forwarder | None:
        """The forwarder, when ``--forward`` was given."""
        ...

    @property
    def lint(self) -> LintWorker:
        """The lint process, from the receiving process."""
        ...


class Metrics:
    """The sidecar's counters, in a registry of its own."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter(
            "otlint_received_records",
            "Records received, per signal",
            ["signal"],
            registry=self.registry,
        )
        self.requests = Counter(
            "otlint_received_requests",
            "Export requests received, per transport and signal",
            ["transport", "signal"],
            registry=self.registry,
        )
        self._rejected = Counter(
            "otlint_rejected_requests",
            "Requests answered with an error, per reason",
            ["reason"],
            registry=self.registry,
        )
        self.not_linted = Counter(
            "otlint_not_linted_records",
            "Records forwarded but not linted because linting fell behind",
            ["signal"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "otlint_lint_lag_seconds",
            "Age of the last request the lint process read",
            registry=self.registry,
        )
        self._findings: dict[tuple[str, str], int] = {}
        self.registry.register(_Live(sidecar, self))

    def rejected(self, reason: str) -> None:
        """Count a request answered with an error."""
        self._rejected.labels(reason).inc()

    def update(self, summary: LintSummary) -> None:
        """Take the lint process' latest finding counts and lag."""
        self.lag.set(summary.get("lag", 0.0))
        self._findings = {("rule", k): v for k, v in summary.get("rules", {}).items()}
        self._findings.update({("join", k): v for k, v in summary.get("joins", {}).items()})

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Live(Collector):
    """Values read at scrape time from the forwarder and the lint summary."""

    def __init__(self, sidecar: Sidecar, metrics: Metrics) -> None:
        self.sidecar = sidecar
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        forwarder = self.sidecar.forwarder
        if forwarder is not None:
            stats = forwarder.stats
            forwarded = CounterMetricFamily(
                "otlint_forwarded_records", "Records forwarded upstream", labels=["signal"]
            )
            failed = CounterMetricFamily(
                "otlint_forward_failed_records",
                "Records the upstream refused for good",
                labels=["signal"],
            )
            for sig in Signal:
                forwarded.add_metric([sig.label], stats.forwarded[sig])
                failed.add_metric([sig.label], stats.failed[sig])
            yield forwarded
            yield failed
            yield CounterMetricFamily(
                "otlint_forward_retries", "Forward attempts retried", value=stats.retries
            )
            yield GaugeMetricFamily(
                "otlint_forward_queue_depth",
                "Requests waiting to be forwarded",
                value=forwarder.depth,
            )
            yield GaugeMetricFamily(
                "otlint_upstream_up",
                "1 while the upstream accepts requests, 0 while it is down or refusing",
                value=1 if forwarder.upstream_up() else 0,
            )
        lint = self.sidecar.lint
        yield CounterMetricFamily(
            "otlint_lint_restarts",
            "Times the lint process died and was restarted",
            value=lint.restarts,
        )
        yield GaugeMetricFamily(
            "otlint_lint_queue_bytes",
            "Bytes queued for the lint process and not yet taken",
            value=lint.queued_bytes(),
        )
        by_rule = GaugeMetricFamily(
            "otlint_findings_by_rule",
            "Findings in the latest evaluation, per rule",
            labels=["rule"],
        )
        by_join = GaugeMetricFamily(
            "otlint_findings_by_join",
            "Findings in the latest evaluation, per join",
            labels=["join"],
        )
        for (kind, key), value in sorted(self.metrics._findings.items()):
            (by_rule if kind == "rule" else by_join).add_metric([key], value)
        yield by_rule
        yield by_join
