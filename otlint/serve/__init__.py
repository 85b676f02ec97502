"""``otlint serve``: a staging sidecar that receives OTLP, forwards it untouched, and lints it on the side.

Data flow::

    clients ─ gRPC :4317 / HTTP :4318 ─→ intake ─┬→ forward queue ─→ upstream collector (in order, retried)
                                                 └→ lint queue ─→ lint process (Corpus, rules, reports)

The forward path never waits on linting: the lint queue is bounded and, when it is
full, requests are forwarded but not linted (the report says how many). When the
forward queue is full (upstream down too long), clients get UNAVAILABLE / 503, which
OTLP clients retry: nothing is dropped silently.
"""
