"""The bottom layer: what every other part of otlint may use, and which uses none of them.

Errors, the join vocabulary, positions in files, redaction, findings and hits, the rule
declaration, the protobuf wire format, the semantic-convention registry, the file walk and
the position-keeping YAML loader. Nothing here imports from another otlint package.
"""
