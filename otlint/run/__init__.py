"""Orchestration: read, observe, merge and evaluate (``check``, ``scan``, ``parallel``), and
the configuration run (``check_config``). Calls down only."""
