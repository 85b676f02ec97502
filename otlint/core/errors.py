"""The one error type for what the user must fix: otlint prints it as one line, exit 2."""

from __future__ import annotations


class OtlintError(Exception):
    """Something otlint cannot work around: bad options, an unreadable config, no input.

    The message is printed as ``otlint: error: MESSAGE`` and otlint exits 2. Write it
    as ``PATH:LINE: what is wrong and what to do`` whenever a place is known.
    """
