"""The collector processors that exported telemetry passes through (CF01x, CF03x, CF04x)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import Collector, ConfigFacts, Pipeline, Processor


def pipeline_processor(collector: Collector, name: str, facts: ConfigFacts) -> Processor | None:
    """A pipeline's processor: from its own document, else the one other document defining it."""
    if name in collector.processors:
        return collector.processors[name]
    found = [c.processors[name] for c in facts.collectors if name in c.processors]
    return found[0] if len(found) == 1 else None


def exported_processors(facts: ConfigFacts) -> Iterator[tuple[Processor, list[Pipeline]]]:
    """Each processor used by pipelines that export, with those pipelines."""
    used: dict[int, tuple[Processor, list[Pipeline]]] = {}
    for collector in facts.collectors:
        for pipeline in collector.pipelines:
            if not pipeline.exports:
                continue
            for name, _at in pipeline.processors:
                processor = pipeline_processor(collector, name, facts)
                if processor is not None:
                    used.setdefault(id(processor), (processor, []))[1].append(pipeline)
    yield from used.values()
