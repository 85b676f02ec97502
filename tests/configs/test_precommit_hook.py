"""The real pre-commit runs the otlint-config hook from this repository over a repository of configs.

``pre-commit try-repo`` clones this working tree (uncommitted changes included, as a
temporary commit), installs otlint into a fresh virtualenv with pip and runs the hook
the way a user's ``.pre-commit-config.yaml`` would. It needs the package's
dependencies from the package index (or pip's cache); it takes about 10-20 s here,
most of it the virtualenv install, which the second run reuses.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

CLEAN = {
    "docker-compose.yaml": """\
services:
  checkout:
    image: shop/checkout:1.4.2
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_RESOURCE_ATTRIBUTES: service.namespace=shop,deployment.environment.name=production
  payments:
    image: shop/payments:2.0.1
    env_file: .env
    environment:
      - OTEL_SERVICE_NAME=payments
""",
    ".env": "OTEL_RESOURCE_ATTRIBUTES=service.namespace=shop,deployment.environment.name=production\n",
    "otel-collector.yaml": """\
receivers:
  otlp:
    protocols:
      grpc: {}
processors:
  batch: {}
  resource:
    attributes:
      - {key: service.namespace, value: shop, action: insert}
exporters:
  otlp: {endpoint: "backend:4317"}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [resource, batch], exporters: [otlp]}
""",
    ".github/workflows/ci.yml": "on: [push]\njobs: {}\n",
}

#: The planted breaks: a service on b3 only, and a collector deleting service.version.
BROKEN = {
    "docker-compose.yaml": CLEAN["docker-compose.yaml"].replace(
        "      - OTEL_SERVICE_NAME=payments\n",
        "      - OTEL_SERVICE_NAME=payments\n      - OTEL_PROPAGATORS=b3\n",
    ),
    "otel-collector.yaml": CLEAN["otel-collector.yaml"].replace(
        "      - {key: service.namespace, value: shop, action: insert}\n",
        "      - {key: service.namespace, value: shop, action: insert}\n      - {key: service.version, action: delete}\n",
    ),
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=otlint", "-c", "user.email=otlint@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "configs")


def _try_repo(repo: Path, home: Path, hook: str = "otlint-config") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("OTLINT_DEBUG", None)
    return subprocess.run(
        [
            str(PRE_COMMIT),
            "try-repo",
            str(ROOT),
            hook,
            "--all-files",
            "--color",
            "never",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.skipif(
    not PRE_COMMIT.exists() or shutil.which("git") is None, reason="needs pre-commit and git"
)
def test_pre_commit_hook_fails_on_planted_breaks_and_passes_clean_configs(tmp_path: Path) -> None:
    repo = tmp_path / "configs"
    repo.mkdir()
    _git(repo, "init", "-q")
    _write(repo, CLEAN)
    home = tmp_path / "pre-commit-home"

    clean = _try_repo(repo, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "otlint (OpenTelemetry configuration)" in clean.stdout and "Passed" in clean.stdout

    _write(repo, BROKEN)
    broken = _try_repo(repo, home)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "docker-compose.yaml:12:26: CF020 [error]" in broken.stdout, broken.stdout
    assert "otel-collector.yaml:10:15: CF031 [warning]" in broken.stdout, broken.stdout

    # The dumps hook, in the same environment: one ruff-style line per finding, nothing else.
    from sdkworld import build_world, write_world

    write_world(build_world(healthy=False, requests=4, latency_scale=0, batch_every=2), repo / "fixtures")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "dumps")
    dumps = _try_repo(repo, home, "otlint-dumps")
    assert dumps.returncode == 1, dumps.stdout + dumps.stderr
    assert re.search(r"^fixtures/traces\.jsonl:\d+:1: TR007 \[error\] checkout ", dumps.stdout, re.M), dumps.stdout
    assert "findings (" not in dumps.stdout and "otlint 0.1.0" not in dumps.stdout, dumps.stdout
