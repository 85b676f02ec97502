"""SARIF 2.1.0 for GitHub code scanning and other static-analysis dashboards.

One run; one rule descriptor per code that has findings; one result per finding,
its first location primary and the rest related. Telemetry locations are record
numbers, not lines: such a result points at line 1 and carries the record number
in ``properties.record``, so the annotation lands on the file and the record can
still be found.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.parse import quote

from otlint.core.finding import Finding, Level, Location
from otlint.core.jsontypes import JSONObject
from otlint.core.redact import redact_values
from otlint.report.report import Report, RuleInfo
from otlint.report.reporters._common import subject

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/otlint/otlint"
#: Key of the fingerprint in ``partialFingerprints``; bump the version if its recipe changes.
FINGERPRINT = "otlint/v1"
#: GitHub keeps at most this many related locations per result; the rest add nothing.
MAX_RELATED = 10

_SARIF_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}


def render(report: Report, out: TextIO, *, color: bool) -> None:
    """Write the report as a SARIF 2.1.0 log (``color`` is ignored)."""
    json.dump(to_sarif(report), out, indent=2)
    out.write("\n")


def to_sarif(report: Report) -> JSONObject:
    """The SARIF log as a JSON-ready dict."""
    codes = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(codes)}
    samples = {f.code: f for f in reversed(report.findings)}  # the first finding per code
    rules = [_rule(report.rules.get(code), samples[code]) for code in codes]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "otlint",
                        "version": report.version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code], report.show_values) for f in report.findings],
            }
        ],
    }


def pascal_case(name: str) -> str:
    """``service-name-missing`` -> ``ServiceNameMissing`` (SARIF rule names are identifiers)."""
    words = name.replace("_", "-").replace(" ", "-").split("-")
    return "".join(w[:1].upper() + w[1:] for w in words if w) or name


def _rule(info: RuleInfo | None, sample: Finding) -> JSONObject:
    # A finding can name a code the report has no RuleInfo for (a custom rule set
    # loaded elsewhere); the finding itself still says enough for a descriptor.
    name = info.name if info else sample.name
    join = info.join if info else sample.join
    level = info.level if info else sample.level
    summary = (info.summary if info else "") or name
    help_text = (info.help if info else "") or summary
    return {
        "id": sample.code,
        "name": pascal_case(name),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": help_text, "markdown": help_text},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _SARIF_LEVEL[level]},
        "properties": {"tags": [join.value]},
    }


def _result(finding: Finding, rule_index: int, show_values: bool) -> JSONObject:
    properties: JSONObject = {
        "join": finding.join.value,
        "service": finding.service,
        "peer": finding.peer,
        "count": finding.count,
        "context": finding.context,
    }
    if finding.services is not None:
        properties["services"] = list(finding.services)
    if finding.blame is not None:
        properties["blame"] = finding.blame
    if show_values and finding.values:
        properties["values"] = redact_values(finding.values)
    result: JSONObject = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.level],
        "message": {"text": f"{subject(finding)}: {finding.message}"},
        "partialFingerprints": {FINGERPRINT: fingerprint(finding)},
    }
    if finding.locations:
        primary, *related = finding.locations
        result["locations"] = [_location(primary)]
        if primary.line is None and primary.record is not None:
            properties["record"] = primary.record
        if related:
            result["relatedLocations"] = [
                {"id": i, **_location(loc)} for i, loc in enumerate(related[:MAX_RELATED], 1)
            ]
    result["properties"] = properties
    return result


def fingerprint(finding: Finding) -> str:
    """A hash of what identifies a finding across runs: code, service, peer, first path.

    Counts, record numbers and messages change from one dump to the next; keeping
    them out lets code scanning track one alert instead of opening a new one per run.
    """
    path = finding.locations[0].path if finding.locations else ""
    key = json.dumps([finding.code, finding.service, finding.peer, path])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _location(location: Location) -> JSONObject:
    region: JSONObject = {"startLine": location.line if location.line is not None else 1}
    if location.line is not None and location.column is not None:
        region["startColumn"] = location.column
    out: JSONObject = {
        "physicalLocation": {"artifactLocation": _artifact(location.path), "region": region}
    }
    if location.line is None and location.record is not None:
        out["properties"] = {"record": location.record}
    return out


def _artifact(path: str) -> JSONObject:
    """An ``artifactLocation``: relative paths against ``%SRCROOT%``, absolute ones as file URIs."""
    if PurePosixPath(path).is_absolute():
        return {"uri": PurePosixPath(path).as_uri()}
    if PureWindowsPath(path).is_absolute():
        return {"uri": PureWindowsPath(path).as_uri()}
    # Percent-encode what a URI cannot hold as is ('#' would start a fragment).
    return {"uri": quote(path.replace("\\", "/"), safe="/"), "uriBaseId": "%SRCROOT%"}
