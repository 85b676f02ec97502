"""Exit statuses a user (and CI) can rely on: Ctrl-C, and a report that cannot be written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from otlp_builder import write_input


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_exits_130(tmp_path: Path) -> None:
    """A run stopped by Ctrl-C exits 130 (128 + SIGINT), as shells expect, with one line."""
    # stdin that never ends: the run is reading when the signal comes.
    proc = subprocess.Popen(
        [sys.executable, "-m", "otlint", "check", "-", "--jobs", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A SIGINT the test process ignores is inherited, and Python keeps ignoring it (as a
        # shell's background job should): start the child with the default disposition.
        preexec_fn=_default_sigint,
    )
    assert proc.stdin is not None
    proc.stdin.write('{"resourceSpans": []}\n')
    proc.stdin.flush()
    time.sleep(1.5)  # past start-up: the CLI's handler is in place
    os.kill(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "otlint: error: interrupted"


def test_output_into_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    """``-o`` into a folder that does not exist: exit 2 and "cannot write", not an internal error."""
    paths = write_input(
        {"traces": [{"resource": {"service.name": "a"}, "spans": [{"id": 1}]}]}, tmp_path
    )
    target = tmp_path / "missing" / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "otlint", "check", *paths, "-o", str(target), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"otlint: error: {target}: cannot write the report")
    assert "internal error" not in result.stderr
