"""docs/github-actions.md: its YAML is valid, its otlint commands run, its collector config reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from conftest import otlint

DOC = Path(__file__).resolve().parents[1] / "docs" / "github-actions.md"


def _yaml_blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)\n```", text, flags=re.S)]


def _otlint_commands(workflow: Any) -> list[list[str]]:
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                if line.strip().startswith("otlint "):
                    commands.append(shlex.split(line.split("#")[0]))
    return commands


def test_the_workflow_posts_markdown_for_check_config_and_check() -> None:
    workflow, collector = _yaml_blocks()
    assert set(workflow["jobs"]) == {"config", "telemetry"}
    assert workflow["permissions"]["pull-requests"] == "write"
    commands = _otlint_commands(workflow)
    assert [c[1] for c in commands] == ["check-config", "check"]
    for command in commands:
        assert command[command.index("--format") + 1] == "markdown"
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(s.get("uses", "").startswith("actions/github-script") for s in steps)
    assert any("gh pr comment" in s.get("run", "") for s in steps)
    assert sum('>> "$GITHUB_STEP_SUMMARY"' in s.get("run", "") for s in steps) == 2
    assert collector["service"]["pipelines"]["traces"]["exporters"] == ["file/traces"]


def test_the_workflows_commands_run_on_its_own_collector_config(tmp_path: Path) -> None:
    workflow, collector = _yaml_blocks()
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "collector.yaml").write_text(yaml.safe_dump(collector))
    check_config = _otlint_commands(workflow)[0]
    result = otlint(*check_config[1:], cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    report = (tmp_path / "otlint.md").read_text(encoding="utf-8")
    assert report.startswith("## otlint check-config\n")
    assert "ci/collector.yaml" in report
