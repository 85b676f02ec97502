"""The configuration rules (CF), over the facts the config readers extract.

One module per decade, named for what it checks: ``reading`` (CF00x), ``identity``
(CF01x), ``propagation`` (CF02x), ``processors`` (CF03x, the collector's),
``schema`` (CF04x), ``boundaries`` (CF05x, the data-plane map), ``values`` (CF06x), ``secrets`` (CF07x), ``suppressions``
(CF09x); ``otlint.registry`` lists them. Helpers several decades share: ``units``, ``pipelines``, ``wording``.
"""
