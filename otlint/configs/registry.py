"""The registry of configuration readers: files -> ConfigFacts, each fact with the place that states it.

One module per file kind, each satisfying ``Reader``, listed in ``READERS`` in the
order they are asked: the first whose ``detect`` accepts a document reads it. The
kind is told from the content, never from the file name alone. ``finish`` runs once
every file is read, for facts that span documents (a container's ConfigMaps, the
``Instrumentation`` injected into it).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from otlint.configs import collector, compose, dotenv, kubernetes, operator, sdk
from otlint.configs.document import Document
from otlint.configs.facts import ConfigFacts

__all__ = ["READERS", "Reader"]


@runtime_checkable
class Reader(Protocol):
    """What a configuration reader module provides."""

    def detect(self, doc: Document) -> bool:
        """Whether ``doc`` is a document of this reader's kind."""

    def read(self, doc: Document, facts: ConfigFacts) -> None:
        """Add what ``doc`` says to ``facts``."""

    def finish(self, facts: ConfigFacts) -> None:
        """Link facts across documents, once every file has been read."""


#: Every configuration kind otlint reads, by name, in the order detection tries them.
READERS: dict[str, Reader] = {
    "sdk": sdk,
    "operator": operator,
    "kubernetes": kubernetes,
    "compose": compose,
    "collector": collector,
    "dotenv": dotenv,
}
