"""The telemetry pipeline, in the order data flows through it.

``readers`` (bytes in files and requests -> OTLP messages) -> ``observe`` (messages ->
facts) -> ``corpus`` (the facts, mergeable across shards) -> ``analysis`` (the span graph
and the indexes rules share) -> ``rules`` (one module per rule family). Imports run the
other way: the corpus is the data model the readers and observe write into, and nothing
in this package imports from the configuration pipeline (``otlint.configs``) or from the
layers above (registry, report, run, serve, cli).
"""
