"""A killed lint process is named by its signal even while other threads look at it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

from otlint.serve.worker import _exit_code, _exit_reason, _running


def _sleep() -> None:
    time.sleep(60)


def test_the_exit_status_survives_a_concurrent_reaper() -> None:
    """``is_alive()`` in another thread used to reap the child first (CI read "stopped answering")."""
    mp = multiprocessing.get_context("spawn")
    for _ in range(8):
        process = mp.Process(target=_sleep, daemon=True)
        process.start()
        assert _running(process)
        stop = threading.Event()

        def poll(
            p: multiprocessing.process.BaseProcess = process, stop: threading.Event = stop
        ) -> None:
            while not stop.is_set():
                p.is_alive()  # what /healthz did before it looked at the sentinel

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            os.kill(process.pid or 0, signal.SIGKILL)
            code = _exit_code(process)
        finally:
            stop.set()
            poller.join()
        assert not _running(process)
        assert _exit_reason(code) == "killed by SIGKILL (out of memory?)"
