"""Which folders a walk of a folder given on the command line does not enter.

Both ``check`` (OTLP dumps) and ``check-config`` walk folders; neither enters version
control, virtual environments, caches, or the third-party code a repository vendors
(Go's ``vendor/``, ``third_party/``, ``node_modules/``): what is there is another
project's, and neither its configuration nor its test data is this one's. A folder
named on the command line is walked whatever its name.
"""

from __future__ import annotations

__all__ = ["SKIP_DIRS", "enter"]

#: Folders never entered below a folder that is walked.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".venv",
        "venv",
        "__pycache__",
        "node_modules",
        "vendor",
        "third_party",
        "third-party",
    }
)


def enter(name: str) -> bool:
    """Whether a walk goes into the sub-folder ``name``."""
    return name not in SKIP_DIRS and not name.startswith(".")
