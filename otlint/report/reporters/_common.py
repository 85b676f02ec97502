"""Small pieces every reporter shares: labels, symbols, counting words, safe text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from typing import TextIO

from otlint.core.finding import Finding, Level
from otlint.report.report import Report

#: How a record with no ``service.name`` is shown: ``None`` is not a name a reader can act on.
NO_SERVICE = "<no service.name>"

# Service names, paths and messages come from the telemetry and the files under
# check, so they can carry escape sequences that would repaint a terminal or make
# an XML report unparsable; they are shown as visible escapes instead.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """``text`` with control characters (other than tab and newline) as ``\\xNN`` escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def one_line(text: str) -> str:
    """``text`` cleaned and on one line, for formats that print a finding per line."""
    return clean(" ".join(text.splitlines()))


def service_label(service: str | None) -> str:
    """A service name for people: ``<no service.name>`` for a missing one."""
    return NO_SERVICE if service is None else clean(service)


def subject(finding: Finding, arrow: str = "\u2192") -> str:
    """The service a finding is about, with ``→ peer`` for an edge; a file's services for a file-level one."""
    if finding.services is not None:
        if not finding.services:
            return "file with no readable records"
        return "file of " + ", ".join(service_label(s) for s in finding.services)
    label = service_label(finding.service)
    if finding.peer is not None:
        label += f" {arrow} {service_label(finding.peer)}"
    return label


def plural(count: int, word: str) -> str:
    """``1 record``, ``2 records``."""
    return f"{count} {word if count == 1 else word + 's'}"


def service_key(service: str | None) -> tuple[bool, str]:
    """Sort key putting the missing service first, the rest by name."""
    return (service is not None, service or "")


def distinct_services(findings: Iterable[Finding]) -> int:
    """How many services (a missing name counts as one) the findings are about.

    File-level findings (an unreadable record, non-canonical OTLP/JSON) are about a
    file, not a service, and count as none.
    """
    return len({f.service for f in findings if f.services is None})


def summary_line(report: Report) -> str:
    """``N findings (E errors, W warnings, I info) across S services``, or the all-clear."""
    if not report.findings:
        return "All joins intact." if report.kind == "telemetry" else "No findings."
    levels = report.by_level()
    counts = ", ".join(
        (
            plural(levels[Level.ERROR.value], "error"),
            plural(levels[Level.WARNING.value], "warning"),
            f"{levels[Level.INFO.value]} info",
        )
    )
    head = f"{plural(len(report.findings), 'finding')} ({counts})"
    if report.kind == "config":
        files = {loc.path for f in report.findings for loc in f.locations}
        return f"{head} in {plural(len(files), 'file')}"
    services = distinct_services(report.findings)
    if not services:
        files = {loc.path for f in report.findings for loc in f.locations}
        return f"{head} in {plural(len(files), 'file')}"
    return f"{head} across {plural(services, 'service')}"


@dataclass(frozen=True)
class Symbols:
    """The glyphs a reporter draws with, Unicode or their ASCII stand-ins."""

    broken: str
    arrow: str
    no_data: str
    ellipsis: str
    dash: str


UNICODE = Symbols(
    broken="\u2717", arrow="\u2192", no_data="\u00b7", ellipsis="\u2026", dash="\u2014"
)
ASCII = Symbols(broken="x", arrow="->", no_data="-", ellipsis="...", dash="-")


def symbols_for(out: TextIO) -> Symbols:
    """Unicode glyphs when ``out`` can encode them, ASCII otherwise.

    A stream without an encoding (``io.StringIO``) holds text, so it takes anything;
    a Windows console or ``LANG=C`` pipe would raise ``UnicodeEncodeError`` mid-report.
    """
    encoding = getattr(out, "encoding", None)
    if not encoding:
        return UNICODE
    sample = "".join(astuple(UNICODE))
    try:
        sample.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


def encodable(text: str, out: TextIO) -> str:
    """``text`` with what ``out``'s encoding cannot hold as backslash escapes.

    Service names and paths are not ours to choose: one non-ASCII name must not
    crash the report on an ASCII stream halfway through.
    """
    encoding = getattr(out, "encoding", None)
    if not encoding:
        return text
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text
