"""The command line: ``main`` (the group, ``check``, ``merge``, ``rules``), ``check_config``
and ``serve``."""
