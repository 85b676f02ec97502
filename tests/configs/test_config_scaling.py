"""``check-config`` stays linear in the size of what it reads (issue 13, item 8).

Each test reads real files of ``n`` and ``4n`` units (services, entries, documents,
comments) and compares the times: a step that is linear takes about 4 times as long,
one that is quadratic about 16 times. The sizes are those where the quadratic steps
this issue found dominated the run; the bound (8) leaves room for a noisy machine,
and each size is timed three times, the best kept.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

from otlint.registry import REGISTRY
from otlint.run.check_config import evaluate_configs, read_configs
from otlint.settings import load_settings

#: How much longer 4n may take than n: 4 is linear, 16 quadratic.
BOUND = 8.0


def _best(run: Callable[[], object], times: int) -> float:
    took = []
    gc.collect()
    gc.disable()  # collections of the previous runs' garbage are no part of the step timed
    try:
        for _ in range(times):
            start = time.perf_counter()
            run()
            took.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(took)


def _check(
    tmp_path: Path, write: Callable[[Path, int], None], n: int, *, rules: bool = True
) -> None:
    """``write(folder, size)`` lays out the files; check-config's read (and rules) run over them."""
    settings = load_settings(REGISTRY, isolated=True)

    def run(folder: Path) -> None:
        facts = read_configs([str(folder)])
        if rules:
            evaluate_configs(facts, settings)

    took = []
    for size, times in ((n, 3), (4 * n, 2)):
        folder = tmp_path / str(size)
        folder.mkdir()
        write(folder, size)
        took.append(_best(lambda f=folder: run(f), times))
    small, large = took
    assert large < BOUND * small, f"{n}: {small:.3f} s, {4 * n}: {large:.3f} s"


def test_resource_attributes_with_many_entries(tmp_path: Path) -> None:
    """Every entry's column was found by slicing the value up to it."""

    def write(folder: Path, size: int) -> None:
        entries = ",".join(f"team.k{i}=v{i}" for i in range(size))
        (folder / ".env").write_text(
            f"OTEL_SERVICE_NAME=checkout\nOTEL_RESOURCE_ATTRIBUTES={entries}\n", encoding="utf-8"
        )

    _check(tmp_path, write, 12_000, rules=False)


def _services(env: str) -> Callable[[Path, int], None]:
    """A writer of one compose file of ``size`` services, each with the environment line ``env``."""

    def write(folder: Path, size: int) -> None:
        lines = ["services:"]
        for i in range(size):
            lines += [f"  s{i}:", f"    image: shop/s{i}:1", "    environment:", f"      {env}"]
        (folder / "compose.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    return write


def test_many_services_under_one_name(tmp_path: Path) -> None:
    """CF017 compared each service with every earlier one under its name."""

    _check(tmp_path, _services("OTEL_SERVICE_NAME: checkout"), 1_000)


def test_many_suppressed_findings(tmp_path: Path) -> None:
    """Every finding asked every suppression comment of the run whether it covers it."""

    _check(
        tmp_path,
        _services("OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4317  # otlint: disable=CF010"),
        1_000,
    )


def test_suppression_comments_on_lines_of_their_own(tmp_path: Path) -> None:
    """Each such comment walked every comment line after it to find the line it silences."""

    def write(folder: Path, size: int) -> None:
        comments = "\n".join("# otlint: disable=CF010" for _ in range(size))
        (folder / ".env").write_text(f"{comments}\nOTEL_SERVICE_NAME=checkout\n", encoding="utf-8")

    _check(tmp_path, write, 2_000)


def test_many_documents_in_one_file(tmp_path: Path) -> None:
    """Each Kubernetes workload copied every line above it, looking for helm's ``# Source:``."""
    comments = "# a comment between documents\n" * 600

    def write(folder: Path, size: int) -> None:
        pod = (
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n"
            "spec: {{containers: [{{name: a, image: shop/a:1, env: "
            "[{{name: OTEL_SERVICE_NAME, value: a}}]}}]}}\n"
        )
        text = "---\n".join(comments + pod.format(i=i) for i in range(size))
        (folder / "pods.yaml").write_text(text, encoding="utf-8")

    _check(tmp_path, write, 200)


def test_many_services_with_disjoint_propagators(tmp_path: Path) -> None:
    """CF020 listed the services it was disjoint from once per disjoint service."""

    def write(folder: Path, size: int) -> None:
        lines = ["services:"]
        for i in range(size):
            lines += [
                f"  s{i}:",
                f"    image: shop/s{i}:1",
                "    environment:",
                f"      OTEL_SERVICE_NAME: s{i}",
                f"      OTEL_PROPAGATORS: {'b3' if i % 2 else 'tracecontext'}",
            ]
        (folder / "compose.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    _check(tmp_path, write, 1_000)


def test_a_finding_per_disjoint_service_names_a_bounded_number_of_others(tmp_path: Path) -> None:
    """Each CF020 finding named every other service: 4k such findings made 480 MB of JSON."""
    lines = ["services:"]
    for i in range(200):
        propagators = "b3" if i % 2 else "tracecontext"
        lines += [
            f"  s{i}:",
            f"    image: shop/s{i}:1",
            f"    environment: {{OTEL_SERVICE_NAME: s{i}, OTEL_PROPAGATORS: {propagators}}}",
        ]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    findings = evaluate_configs(
        read_configs([str(tmp_path)]), load_settings(REGISTRY, isolated=True)
    )
    disjoint = [f for f in findings if f.code == "CF020"]
    assert len(disjoint) == 100
    for finding in disjoint:
        assert finding.count == 100
        assert len(finding.context["units"]) == 50
        assert finding.peer is not None and finding.peer.endswith(
            ", s114 and 90 more"
        )  # sorted as text
