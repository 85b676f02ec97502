"""--baseline: findings an earlier JSON report already had are not reported again."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import otlint

ROOT = Path(__file__).resolve().parents[1]


def test_baseline_hides_known_breaks_and_keeps_new_ones(tmp_path: Path) -> None:
    broken = str(ROOT / "sample_traces" / "broken")
    base = tmp_path / "baseline.json"
    first = otlint("check", broken, "--isolated", "-f", "json", "-o", str(base))
    assert first.returncode == 1
    known = len(json.loads(base.read_text())["findings"])
    again = otlint("check", broken, "--isolated", "-f", "json", "--baseline", str(base))
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["findings"] == []
    assert report["notes"] == [f"{known} findings already in the baseline {base} are not shown"]
    # A naming convention the baseline run did not have: its findings are new, and fail.
    wider = otlint(
        "check", broken, "-f", "json", "--baseline", str(base), "-c", str(_config(tmp_path))
    )
    assert wider.returncode == 1, wider.stderr
    assert {f["code"] for f in json.loads(wider.stdout)["findings"]} == {"ID005"}


def _config(tmp_path: Path) -> Path:
    config = tmp_path / ".otlint.yaml"
    config.write_text("rules:\n  ID005:\n    pattern: '[a-z]{1,7}'\n")
    return config


def test_baseline_for_config_files(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yaml"
    compose.write_text(
        "services:\n  api:\n    image: x\n    environment:\n      OTEL_PROPAGATORS: b3\n"
    )
    base = tmp_path / "baseline.json"
    assert (
        otlint("check-config", str(compose), "--isolated", "-f", "json", "-o", str(base)).returncode
        == 1
    )
    assert (
        otlint("check-config", str(compose), "--isolated", "--baseline", str(base)).returncode == 0
    )
    other = tmp_path / "other" / "docker-compose.yaml"
    other.parent.mkdir()
    other.write_text(compose.read_text())
    # The same break in another file is new.
    assert otlint("check-config", str(other), "--isolated", "--baseline", str(base)).returncode == 1


def test_a_baseline_that_is_not_a_report_is_an_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("[1, 2]")
    run = otlint("check", str(ROOT / "sample_traces" / "healthy"), "--baseline", str(bogus))
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        == f"otlint: error: {bogus}: not an otlint JSON report: write a baseline with --format json -o FILE"
    )


def test_baselined_breaks_do_not_show_as_broken_in_the_join_matrix(tmp_path: Path) -> None:
    broken = str(ROOT / "sample_traces" / "broken")
    base = tmp_path / "baseline.json"
    otlint("check", broken, "--isolated", "-f", "json", "-o", str(base))
    before = json.loads(base.read_text())["joins"]
    assert any(c["status"] == "broken" for c in before)
    again = json.loads(
        otlint("check", broken, "--isolated", "-f", "json", "--baseline", str(base)).stdout
    )
    statuses = {(c["join"], c["service"], c["peer"]): c["status"] for c in again["joins"]}
    assert "broken" not in statuses.values()
    for cell in before:
        if cell["status"] == "broken":
            assert statuses[(cell["join"], cell["service"], cell["peer"])] == "baselined"
    text = otlint("check", broken, "--isolated", "--baseline", str(base), "--color", "never").stdout
    assert "\u2717" not in text and "baseline" in text
