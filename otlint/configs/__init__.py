"""Configuration readers: files -> ConfigFacts, each fact with the place that states it.

One module per file kind, each satisfying ``Reader``, listed in ``READERS`` in the
order they are asked: the first whose ``detect`` accepts a document reads it. The
kind is told from the content, never from the file name alone. ``finish`` runs once
every file is read, for facts that span documents (a container's ConfigMaps, the
``Instrumentation`` injected into it).

The registry (``READERS``, ``Reader``) lives in ``otlint.configs.registry``, so that
importing one module of this package (the rules import ``env``) does not load them all.
"""
