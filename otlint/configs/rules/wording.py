"""How config rule messages name a list of things."""

from __future__ import annotations


def plural(items: list[str], limit: int = 4) -> str:
    """``a, b, c, d and 2 more``: the first ``limit`` items, and how many are left out."""
    shown = items[:limit]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more
