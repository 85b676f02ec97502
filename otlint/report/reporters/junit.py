"""JUnit XML for CI test dashboards: a failing test per finding, a passing one per intact join.

Listing what holds as passing tests lets a dashboard show a join going from green
to red between runs, not only the breaks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from otlint.core.finding import Finding
from otlint.core.joins import ORDER, Join
from otlint.report.report import JoinStatus, Report
from otlint.report.reporters._common import clean, plural, service_key


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write one ``<testsuite name="otlint">`` (``color`` is ignored)."""
    root = to_xml(report)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def to_xml(report: Report) -> ET.Element:
    """The ``<testsuites>`` element holding the one ``otlint`` suite."""
    intact = sorted(
        (c for c in report.joins if c.status == "intact"),
        key=lambda c: (ORDER.index(c.join), service_key(c.service), service_key(c.peer)),
    )
    suite = ET.Element("testsuite", name="otlint")
    for join in ORDER:  # group a join's breaks and passes so they read together
        for finding in report.findings:
            if finding.join is join:
                suite.append(_failing(finding))
        for cell in intact:
            if cell.join is join:
                suite.append(_passing(cell))
    counts = {
        "tests": str(len(suite)),
        "failures": str(len(report.findings)),
        "errors": "0",
        "skipped": "0",
    }
    suite.attrib.update(counts)
    root = ET.Element("testsuites", {"name": "otlint", **counts})
    root.append(suite)
    return root


def _case_name(service: str | None, peer: str | None) -> str:
    name = clean(service) if service is not None else "-"
    if peer is not None:
        name += f" \u2192 {clean(peer)}"
    return name


def _classname(join: Join) -> str:
    return f"otlint.{join.value}"


def _failing(finding: Finding) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=_classname(finding.join),
        name=f"{finding.code} {_case_name(finding.service, finding.peer)}",
    )
    failure = ET.SubElement(
        case, "failure", type=finding.level.value, message=clean(finding.message)
    )
    body = [f"{finding.code} {finding.name}: {plural(finding.count, 'record')}"]
    body += [clean(str(loc)) for loc in finding.locations]
    failure.text = "\n".join(body)
    return case


def _passing(cell: JoinStatus) -> ET.Element:
    return ET.Element(
        "testcase", classname=_classname(cell.join), name=_case_name(cell.service, cell.peer)
    )
