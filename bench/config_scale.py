#!/usr/bin/env python3
"""How ``check-config``'s time grows with what it reads: a row for BENCHMARKS.md.

Writes, into a temporary folder, the inputs issue 13 found quadratic and times the real
CLI on each (``otlint check-config FOLDER --format json --exit-zero``, the interpreter's
start included; the best of ``--repeat`` runs):

- ``compose``: one compose file of N services (N = 2k, 4k, 8k) with what makes a
  big compose file expensive: every fourth service named like another one that runs
  a different image (CF017), half of them on ``b3`` while the rest use
  ``tracecontext`` (CF020), an ``OTEL_RESOURCE_ATTRIBUTES`` each, and a suppression
  comment on every service's first line;
- ``k8s``: one multi-document file of N/4 Deployments (500, 1k, 2k) that mount one
  ConfigMap's SDK configuration, each document after helm's ``# Source:`` comment;
- ``resource attributes``: one ``OTEL_RESOURCE_ATTRIBUTES`` of 100k entries, in a
  ``.env`` file and in a compose service.

Linear time doubles with N; the last column is each time over the one before it.

Usage: ``python bench/config_scale.py [--repeat 3] [--sizes 2000,4000,8000]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CHECK_CONFIG = (sys.executable, "-m", "otlint", "check-config")


def compose(folder: Path, n: int) -> None:
    """N services: duplicate names, disjoint propagators, suppressions, resource attributes."""
    lines = ["services:"]
    for i in range(n):
        name = f"svc{i - i % 4}" if i % 4 == 1 else f"svc{i}"
        lines += [
            f"  s{i}:  # otlint: disable=CF012",
            f"    image: shop/s{i}:1.{i % 7}",
            "    environment:",
            f"      OTEL_SERVICE_NAME: {name}",
            f"      OTEL_PROPAGATORS: {'b3' if i % 2 else 'tracecontext,baggage'}",
            f"      OTEL_RESOURCE_ATTRIBUTES: service.namespace=shop,team=t{i % 13},"
            f"deployment.environment.name=prod",
        ]
    (folder / "docker-compose.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def kubernetes(folder: Path, n: int) -> None:
    """N Deployments mounting one ConfigMap's SDK configuration, helm-rendered."""
    docs = [
        "# Source: shop/templates/sdk.yaml\napiVersion: v1\nkind: ConfigMap\n"
        'metadata: {name: sdk}\ndata:\n  sdk.yaml: |\n    file_format: "0.3"\n'
        "    resource:\n      attributes:\n        - {name: service.name, value: shop}\n"
    ]
    for i in range(n):
        docs.append(
            f"# Source: shop/templates/d{i}.yaml\napiVersion: apps/v1\nkind: Deployment\n"
            f"metadata: {{name: d{i}}}\nspec:\n  template:\n    spec:\n"
            "      volumes: [{name: sdk, configMap: {name: sdk}}]\n      containers:\n"
            f"        - name: app\n          image: shop/app{i}:1\n"
            "          volumeMounts: [{name: sdk, mountPath: /etc/otel}]\n"
            "          env: [{name: OTEL_CONFIG_FILE, value: /etc/otel/sdk.yaml}]\n"
        )
    (folder / "all.yaml").write_text("---\n".join(docs), encoding="utf-8")


def dotenv_attributes(folder: Path, n: int) -> None:
    """An ``OTEL_RESOURCE_ATTRIBUTES`` of N entries in a ``.env`` file."""
    entries = ",".join(f"team.k{i}=v{i}" for i in range(n))
    (folder / ".env").write_text(
        f"OTEL_SERVICE_NAME=checkout\nOTEL_RESOURCE_ATTRIBUTES={entries}\n", encoding="utf-8"
    )


def compose_attributes(folder: Path, n: int) -> None:
    """An ``OTEL_RESOURCE_ATTRIBUTES`` of N entries in a compose service."""
    entries = ",".join(f"team.k{i}=v{i}" for i in range(n))
    (folder / "compose.yaml").write_text(
        "services:\n  checkout:\n    image: shop/checkout:1\n    environment:\n"
        f"      - OTEL_RESOURCE_ATTRIBUTES={entries}\n",
        encoding="utf-8",
    )


def seconds(folder: Path, repeat: int) -> float:
    """The best wall time of ``otlint check-config FOLDER`` over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [*CHECK_CONFIG, str(folder), "--format", "json", "--exit-zero", "--isolated"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print one line per input and size: seconds, and the growth over the size before."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="2000,4000,8000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cases: list[tuple[str, Callable[[Path, int], None], list[int]]] = [
        ("compose services", compose, sizes),
        ("k8s deployments", kubernetes, [n // 4 for n in sizes]),
        ("resource attributes (.env)", dotenv_attributes, [100_000]),
        ("resource attributes (compose)", compose_attributes, [100_000]),
    ]
    with tempfile.TemporaryDirectory() as root:
        for label, write, ns in cases:
            before = None
            for n in ns:
                folder = Path(root) / f"{write.__name__}-{n}"
                folder.mkdir()
                write(folder, n)
                took = seconds(folder, args.repeat)
                growth = f"  x{took / before:.2f}" if before else ""
                print(f"{label:32} {n:>7}  {took:6.2f} s{growth}", flush=True)
                before = took


if __name__ == "__main__":
    main()
