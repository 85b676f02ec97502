"""The real pre-commit runs the otlint-config hook from this repository over a repository of configs.

The hook is installed the way a user's ``.pre-commit-config.yaml`` installs it: pre-commit
clones a repository at a rev and pip-installs otlint into a fresh virtualenv. That
repository is a one-commit snapshot of this working tree (uncommitted and untracked,
not ignored, files included), made once per session; the environment is built once
per session in one ``PRE_COMMIT_HOME`` (``pre-commit install-hooks``, about 7-10 s
here, most of it pip) and every test's run reuses it (about 1 s) and checks that it did.
(``pre-commit try-repo`` cannot share it: it builds a new store in a temporary
directory on every call.) It needs the package's dependencies from the package index
(or pip's cache).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class HookEnv:
    """A snapshot of this working tree as a hook repository, and a built environment for it."""

    config: Path  # a .pre-commit-config.yaml naming the snapshot at its one commit
    home: Path  # PRE_COMMIT_HOME, shared by every run of the session


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("OTLINT_DEBUG", None)
    return env


def _snapshot(dest: Path) -> str:
    """Copy the working tree's files (tracked and untracked, not ignored) into a new
    repository at ``dest`` with one commit; its hash."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "--no-verify", "-m", "otlint working tree")
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=dest, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> HookEnv:
    """Snapshot the hook repository and build its environment, once per session."""
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.skip("needs pre-commit and git")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: there is no working tree to snapshot")
    base = tmp_path_factory.mktemp("pre-commit")
    hooks = base / "otlint"
    hooks.mkdir()
    rev = _snapshot(hooks)
    config = base / "pre-commit-config.yaml"
    config.write_text(
        f"repos:\n  - repo: {hooks.as_uri()}\n    rev: {rev}\n    hooks:\n      - id: otlint-config\n      - id: otlint-dumps\n",
        encoding="utf-8",
    )
    home = base / "home"
    built = subprocess.run(
        [str(PRE_COMMIT), "install-hooks", "-c", str(config), "--color", "never"],
        cwd=hooks,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return HookEnv(config, home)


def _run_hook(repo: Path, hook: HookEnv) -> subprocess.CompletedProcess[str]:
    """``pre-commit run --all-files`` in ``repo``, with the session's environment."""
    run = subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files", "-c", str(hook.config), "--color", "never"],
        cwd=repo,
        env=_env(hook.home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # The environment was built once for the session, not for this run.
    assert "Installing environment" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    """A git repository holding the clean configs."""
    repo = tmp_path / "configs"
    repo.mkdir()
    _git(repo, "init", "-q")
    _write(repo, CLEAN)
    return repo


def test_pre_commit_hook_passes_clean_configs(configs: Path, hook_env: HookEnv) -> None:
    clean = _run_hook(configs, hook_env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "otlint (OpenTelemetry configuration)" in clean.stdout and "Passed" in clean.stdout


def test_pre_commit_hook_fails_on_planted_breaks(configs: Path, hook_env: HookEnv) -> None:
    _write(configs, BROKEN)
    broken = _run_hook(configs, hook_env)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "docker-compose.yaml:12:26: CF020 [error]" in broken.stdout, broken.stdout
    assert "otel-collector.yaml:10:15: CF031 [warning]" in broken.stdout, broken.stdout


def test_pre_commit_dumps_hook_prints_one_line_per_finding(
    configs: Path, hook_env: HookEnv
) -> None:
    from sdkworld import build_world, write_world

    write_world(
        build_world(healthy=False, requests=4, latency_scale=0, batch_every=2), configs / "fixtures"
    )
    _git(configs, "add", "-A")
    _git(configs, "commit", "-q", "-m", "dumps")
    dumps = _run_hook(configs, hook_env)
    assert dumps.returncode == 1, dumps.stdout + dumps.stderr
    assert "otlint (OTLP dumps)" in dumps.stdout and "Failed" in dumps.stdout
    assert re.search(
        r"^fixtures/traces\.jsonl:\d+:1: TR007 \[error\] checkout ", dumps.stdout, re.M
    ), dumps.stdout
    assert "findings (" not in dumps.stdout and "otlint 0.1.0" not in dumps.stdout, dumps.stdout
