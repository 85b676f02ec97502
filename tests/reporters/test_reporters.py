"""Every reporter against one fixed report: golden files, plus the properties each format promises."""

from __future__ import annotations

import copy
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import jsonschema
import pytest

from otlint.core.errors import OtlintError
from otlint.core.finding import Finding, Level, Location
from otlint.core.joins import Join
from otlint.core.redact import MASK
from otlint.report.incident import IncidentPath, Link
from otlint.report.report import JoinStatus, Report, RuleInfo
from otlint.report.reporters import REPORTERS, Reporter, get, github, mermaid, sarif

from conftest import SARIF_SCHEMA, sarif_problems

Golden = Callable[[str, str], None]  # the ``golden`` fixture in conftest.py


# Values in the sample's findings: none may appear unless show_values, the secrets never.
PLAIN_VALUE = "4bf92f3577b34da6a3ce929d0e0e4736"
SECRETS = ("Bearer abc.def.ghi", "hunter2", "ghp_abcdefghijklmnopqrstuvwxyz0123")

SERVICES: list[str | None] = [
    None,
    "unknown_service:python",
    "checkout",
    "payments",
    "frontend/web",
]


def rule(code: str, name: str, join: Join, level: Level, summary: str) -> RuleInfo:
    """A RuleInfo with docs in the shape rule docstrings have."""
    help_text = (
        f"{summary}\n\n**Why it breaks the join:** {join.description}.\n\n"
        f"**Fix:** see `otlint explain {code}`."
    )
    return RuleInfo(code=code, name=name, join=join, level=level, summary=summary, help=help_text)


RULES = {
    r.code: r
    for r in (
        rule(
            "ID001",
            "service-name-missing",
            Join.IDENTITY,
            Level.ERROR,
            "Records carry no service.name.",
        ),
        rule(
            "ID002",
            "service-name-default",
            Join.IDENTITY,
            Level.WARNING,
            "service.name is the SDK default.",
        ),
        rule(
            "TR010",
            "orphan-remote-parent",
            Join.TRACE,
            Level.ERROR,
            "Spans whose remote parent was never seen.",
        ),
        rule(
            "LT003",
            "trace-id-in-attribute",
            Join.LOG_TRACE,
            Level.WARNING,
            "Trace ids carried as log attributes.",
        ),
        rule("DP001", "service-version-missing", Join.DEPLOY, Level.INFO, "No service.version."),
        rule("SC002", "deprecated-attribute", Join.SCHEMA, Level.INFO, "A deprecated semconv key."),
    )
}


def finding(code: str, message: str, **kw: Any) -> Finding:
    """A finding of rule ``code`` with the rule's name, join and level."""
    info = RULES[code]
    return Finding(
        code=code, name=info.name, level=info.level, join=info.join, message=message, **kw
    )


def sample_report(show_values: bool = False) -> Report:
    """A fixed telemetry report touching every branch the reporters have."""
    findings = [
        finding(
            "ID001",
            "resource has no service.name attribute",
            service=None,
            count=40,
            locations=[Location("dumps/traces.jsonl", record=n) for n in (3, 7, 9, 12)],
            context={"signals": ["traces", "logs"]},
        ),
        finding(
            "ID002",
            "service.name is an SDK default",
            service="unknown_service:python",
            count=12,
            locations=[Location("dumps/logs.jsonl", record=1, line=1)],
        ),
        finding(
            "TR010",
            "server spans have a remote parent id that no caller span has",
            service="checkout",
            peer="payments",
            count=3,
            locations=[Location("dumps/traces.jsonl", record=14, line=14)],
            context={"propagators": ["tracecontext", "b3"]},
        ),
        finding(
            "LT003",
            "trace ids in attribute 'trace_id' on 100% of logs, not in the record's field:\nmove them",
            service="payments",
            count=120,
            locations=[Location("dumps/logs.jsonl", record=5, line=5, column=3)],
            context={"key": "trace_id", "type": "string"},
            values={
                "trace_id": PLAIN_VALUE,
                "authorization": SECRETS[0],
                "db.url": f"postgres://admin:{SECRETS[1]}@db:5432/orders",
                "headers": {"x-token": SECRETS[2]},
            },
        ),
        finding(
            "DP001",
            "no service.version on any signal",
            service="frontend/web",
            count=1,
        ),
        finding(
            "SC002",
            "deprecated key deployment.environment (use deployment.environment.name)",
            service="checkout",
            count=7,
            locations=[Location("dumps/odd:name,1.jsonl", record=2)],
        ),
    ]

    def cell(
        join: Join,
        service: str | None,
        status: str,
        records: int,
        broken: int = 0,
        peer: str | None = None,
    ) -> JoinStatus:
        return JoinStatus(
            join=join, service=service, peer=peer, status=status, records=records, broken=broken
        )

    joins = [
        cell(Join.IDENTITY, None, "broken", 40, 40),
        cell(Join.IDENTITY, "unknown_service:python", "broken", 12, 12),
        cell(Join.IDENTITY, "checkout", "intact", 300),
        cell(Join.IDENTITY, "payments", "intact", 250),
        cell(Join.IDENTITY, "frontend/web", "intact", 90),
        cell(Join.TRACE, "checkout", "broken", 300, 3),
        cell(Join.TRACE, "payments", "intact", 130),
        cell(Join.TRACE, "frontend/web", "intact", 90),
        cell(Join.TRACE, None, "no-data", 0),
        cell(Join.LOG_TRACE, "payments", "broken", 120, 120),
        cell(Join.LOG_TRACE, "checkout", "intact", 40),
        cell(Join.LOG_TRACE, "unknown_service:python", "no-data", 0),
        cell(Join.DEPLOY, "frontend/web", "broken", 90, 90),
        cell(Join.DEPLOY, "checkout", "intact", 300),
        cell(Join.TRACE, "frontend/web", "intact", 90, peer="checkout"),
        cell(Join.TRACE, "checkout", "broken", 120, 3, peer="payments"),
        cell(Join.PEER, "checkout", "intact", 120, peer="payments"),
        cell(Join.TRACE, "unknown_service:python", "no-data", 0, peer="checkout"),
    ]
    return Report(
        version="0.1.0",
        findings=findings,
        joins=joins,
        incidents=sample_incidents(),
        totals={"spans": 1204, "logs": 310, "data_points": 52},
        services=list(SERVICES),
        rules=dict(RULES),
        inputs=[
            "dumps/traces.jsonl",
            "dumps/logs.jsonl",
            "dumps/metrics.jsonl",
            "dumps/odd:name,1.jsonl",
        ],
        show_values=show_values,
    )


def sample_incidents() -> list[IncidentPath]:
    """An incident path per sample service: one followable, the others each missing a link."""
    ok = Link("ok", "fine")

    def path(service: str | None, **links: Link) -> IncidentPath:
        return IncidentPath(
            service,
            {name: links.get(name, ok) for name in ("metrics", "traces", "deploy", "downstream")},
        )

    return [
        path(
            None, metrics=Link("broken", "no service.name: its metrics cannot be found by service")
        ),
        path("unknown_service:python", metrics=Link("no-data", "no metrics from this service")),
        path(
            "checkout",
            traces=Link("ok", "12 exemplars resolve to its spans", via="exemplars"),
            downstream=Link("broken", "3 of 120 calls to payments reach no server span of it"),
        ),
        path(
            "payments",
            traces=Link(
                "broken",
                "no exemplars on its metrics, and its metrics and traces carry different"
                " service.instance.id",
            ),
        ),
        path(
            "frontend/web",
            traces=Link("ok", "same identity | <b>bold</b> @here", via="identity"),
            downstream=Link("no-data", "calls no other service in the input"),
        ),
    ]


def config_report() -> Report:
    """A check-config run: findings with lines and columns, unsorted on purpose."""
    config_rules = {
        "CF021": RuleInfo(
            "CF021", "collector-no-resource-detection", Join.INFRA, Level.WARNING, "s", "h"
        ),
        "CF010": RuleInfo(
            "CF010", "env-service-name-missing", Join.IDENTITY, Level.ERROR, "s", "h"
        ),
        "CF030": RuleInfo("CF030", "propagators-mismatch", Join.TRACE, Level.INFO, "s", "h"),
    }

    def cf(code: str, message: str, *locations: Location) -> Finding:
        info = config_rules[code]
        return Finding(code, info.name, info.level, info.join, message, locations=list(locations))

    return Report(
        version="0.1.0",
        findings=[
            cf(
                "CF021",
                "pipeline traces has no resourcedetection processor",
                Location("otel-collector.yaml", line=12, column=5),
            ),
            cf("CF010", "OTEL_SERVICE_NAME is not set", Location("deploy/.env", line=3, column=1)),
            cf(
                "CF030",
                "OTEL_PROPAGATORS differs between services",
                Location("k8s/payments.yaml", line=40, column=9),
                Location("k8s/checkout.yaml", line=38, column=9),
            ),
        ],
        joins=[],
        totals={},
        services=[],
        rules=config_rules,
        inputs=["deploy/.env", "otel-collector.yaml", "k8s/"],
        kind="config",
    )


def render(name: str, report: Report, color: bool = False) -> str:
    """What reporter ``name`` writes for ``report``."""
    out = io.StringIO()
    get(name).render(report, out, color=color)
    return out.getvalue()


# -- registry ---------------------------------------------------------------


def test_registry_lists_every_format_with_text_first() -> None:
    assert list(REPORTERS) == [
        "text",
        "concise",
        "json",
        "sarif",
        "github",
        "junit",
        "mermaid",
        "dot",
        "markdown",
    ]
    for reporter in map(get, REPORTERS):
        assert isinstance(reporter, Reporter)


def test_unknown_format_is_an_error_naming_the_choices() -> None:
    with pytest.raises(
        OtlintError,
        match=r"unknown format 'xml': use one of text, concise, json, sarif, github, junit, mermaid, dot, markdown",
    ):
        get("xml")


# -- goldens ----------------------------------------------------------------

GOLDENS = {
    "text.txt": ("text", sample_report, False),
    "text-color.txt": ("text", sample_report, True),
    "text-config.txt": ("text", config_report, False),
    "concise.txt": ("concise", sample_report, False),
    "concise-color.txt": ("concise", sample_report, True),
    "concise-config.txt": ("concise", config_report, False),
    "json.json": ("json", sample_report, False),
    "sarif.json": ("sarif", sample_report, False),
    "github.txt": ("github", sample_report, False),
    "junit.xml": ("junit", sample_report, False),
    "mermaid.mmd": ("mermaid", sample_report, False),
    "graph.dot": ("dot", sample_report, False),
    "markdown.md": ("markdown", sample_report, False),
    "markdown-config.md": ("markdown", config_report, False),
}


@pytest.mark.parametrize("golden_name", sorted(GOLDENS))
def test_golden(golden_name: str, golden: Golden) -> None:
    fmt, make, color = GOLDENS[golden_name]
    golden(golden_name, render(fmt, make(), color=color))


def test_golden_text_with_values(golden: Golden) -> None:
    golden("text-values.txt", render("text", sample_report(show_values=True)))


def test_golden_text_on_an_ascii_stream(golden: Golden) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", newline="")
    report = sample_report()
    # a name the stream cannot encode either, escaped without breaking the columns
    report.services.append("caf\u00e9")
    report.joins.append(JoinStatus(Join.DEPLOY, "caf\u00e9", None, "broken", 2, 2))
    get("text").render(report, out, color=False)
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert "x3" in text and "checkout -> payments" in text
    matrix = text.split("\n\n")[1].splitlines()
    assert matrix[2].startswith("caf\\xe9 ") and matrix[2].endswith(" x2")
    assert {line.find("x2") for line in matrix if "x2" in line} == {matrix[0].find("deploy")}
    golden("text-ascii.txt", text)


# -- text -------------------------------------------------------------------


def test_text_all_clear() -> None:
    report = sample_report()
    report.findings = []
    text = render("text", report)
    assert text.endswith("\nAll joins intact.\n")


def test_text_summary_counts_levels_and_services() -> None:
    text = render("text", sample_report())
    # 6 findings: 2 errors, 2 warnings, 2 info, about 5 distinct services (None counts)
    assert text.endswith("\n6 findings (2 errors, 2 warnings, 2 info) across 5 services\n")


def test_text_colours_only_when_asked() -> None:
    assert "\x1b[" not in render("text", sample_report(), color=False)
    coloured = render("text", sample_report(), color=True)
    assert "\x1b[31mERROR\x1b[0m" in coloured
    assert "\x1b[33mWARNING\x1b[0m" in coloured
    assert "\x1b[32mok\x1b[0m" in coloured


def test_text_matrix_skips_joins_without_cells() -> None:
    header = render("text", sample_report()).splitlines()[2]
    assert header.split() == ["service", "identity", "trace", "log-trace", "deploy", "incident"]
    report = sample_report()
    report.incidents = []
    header = render("text", report).splitlines()[2]
    assert header.split() == ["service", "identity", "trace", "log-trace", "deploy"]


def test_text_shows_no_more_than_three_locations() -> None:
    text = render("text", sample_report())
    assert "dumps/traces.jsonl:#9" in text
    assert "dumps/traces.jsonl:#12" not in text
    assert "1 more location" in text


def test_text_escapes_control_characters_from_telemetry() -> None:
    report = sample_report()
    report.findings[0].service = "evil\x1b[2J"
    report.services.append("evil\x1b[2J")
    text = render("text", report)
    assert "\x1b" not in text
    assert "evil\\x1b[2J" in text


def test_config_lines_are_sorted_by_path_and_line() -> None:
    lines = render("text", config_report()).splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [
        "deploy/.env",
        "k8s/checkout.yaml",
        "k8s/payments.yaml",
        "otel-collector.yaml",
    ]
    assert lines[0] == "deploy/.env:3:1: CF010 [error] OTEL_SERVICE_NAME is not set"
    assert lines[-1] == "3 findings (1 error, 1 warning, 1 info) in 4 files"


# -- concise ----------------------------------------------------------------


def quiet(report: Report) -> Report:
    return replace(report, quiet=True)


def test_golden_quiet(golden: Golden) -> None:
    golden("concise-quiet.txt", render("concise", quiet(sample_report())))
    golden("text-quiet.txt", render("text", quiet(sample_report())))


def test_concise_config_is_what_text_prints_for_config() -> None:
    assert render("concise", config_report()) == render("text", config_report())
    assert render("concise", quiet(config_report())) == render("text", quiet(config_report()))


def test_concise_lines_are_path_line_col_code_level() -> None:
    lines = render("concise", sample_report()).splitlines()
    findings = lines[: len(sample_report().findings)]
    pattern = re.compile(
        r"^(-|[^:]+(:[^:]+)?\.jsonl):\d+:\d+: [A-Z]{2}\d{3} \[(error|warning|info)\] "
    )
    assert all(pattern.match(line) for line in findings), findings
    # no location: "-:0:0"; a record-only location: its record in the line's place, column 1
    assert findings[0].startswith("-:0:0: DP001 [info] frontend/web: no service.version")
    assert "dumps/traces.jsonl:3:1: ID001 [error] resource has no service.name attribute" in lines
    # one line per telemetry finding, at its first location; the message on one line
    assert sum(line.count(" ID001 ") for line in lines) == 1
    assert (
        "dumps/logs.jsonl:5:3: LT003 [warning] payments: trace ids in attribute 'trace_id'"
        in render("concise", sample_report())
    )
    assert lines[-1] == "6 findings (2 errors, 2 warnings, 2 info) across 5 services"


def test_quiet_prints_findings_only() -> None:
    for fmt in ("concise", "text"):
        text = render(fmt, quiet(sample_report()))
        assert "6 findings" not in text and "otlint 0.1.0" not in text, fmt
        assert "ID001" in text
    empty = quiet(sample_report())
    empty.findings = []
    assert render("concise", empty) == render("text", empty) == ""


# -- values -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_no_values_without_show_values(fmt: str) -> None:
    text = render(fmt, sample_report(show_values=False))
    for value in (PLAIN_VALUE, *SECRETS):
        assert value not in text


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_secrets_masked_even_with_show_values(fmt: str) -> None:
    text = render(fmt, sample_report(show_values=True))
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_show_values_shows_plain_values_and_masks(fmt: str) -> None:
    text = render(fmt, sample_report(show_values=True))
    assert PLAIN_VALUE in text
    assert MASK in text


# -- json -------------------------------------------------------------------


def test_json_is_report_to_json() -> None:
    report = sample_report(show_values=True)
    assert json.loads(render("json", report)) == report.to_json()


# -- sarif ------------------------------------------------------------------


def sarif_log(report: Report | None = None) -> dict[str, Any]:
    return json.loads(render("sarif", report or sample_report()))  # type: ignore[no-any-return]


@pytest.mark.needs_shared
def test_sarif_validates_against_the_2_1_0_schema() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    validator = jsonschema.Draft4Validator(schema)
    for report in (sample_report(), sample_report(show_values=True), config_report()):
        errors = sorted(validator.iter_errors(sarif_log(report)), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_sarif_has_what_2_1_0_requires() -> None:
    """The structural check that needs nothing beside the repository (the schema test above
    needs ../shared); telemetry and config reports, values hidden and shown."""
    for report in (sample_report(), sample_report(show_values=True), config_report()):
        log = sarif_log(report)
        assert sarif_problems(log) == []
        results = log["runs"][0]["results"]
        assert results and any("locations" in r for r in results)  # not vacuously true


def _broken(log: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``log`` with the value at ``path`` (dot-separated keys and indexes) replaced or, for
    ``...``, deleted."""
    out = copy.deepcopy(log)
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    holder: Any = out
    for key in parents:
        holder = holder[key]
    if value is ...:
        del holder[last]
    else:
        holder[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("version", "2.0.0", 'version is "2.1.0"'),
        ("$schema", ..., "$schema"),
        ("runs", [], "runs is a non-empty array"),
        ("runs.0.tool.driver.name", "", "tool.driver.name"),
        ("runs.0.tool.driver.rules.1.id", "DP001", "rule ids are unique"),
        (
            "runs.0.tool.driver.rules.0.defaultConfiguration.level",
            "info",
            "defaultConfiguration.level",
        ),
        ("runs.0.results.0.ruleIndex", 0, "ruleIndex 0 is rule"),
        ("runs.0.results.0.ruleIndex", 99, "is an index into the rules"),
        ("runs.0.results.0.ruleId", ..., "ruleId is a non-empty string"),
        ("runs.0.results.0.level", "info", "results[0].level 'info'"),
        ("runs.0.results.0.message", {"markdown": "x"}, "results[0].message.text"),
        (
            "runs.0.results.0.locations.0.physicalLocation.region.startLine",
            0,
            "startLine is an integer >= 1",
        ),
        (
            "runs.0.results.0.locations.0.physicalLocation.artifactLocation",
            {},
            "uri is a non-empty string",
        ),
        (
            "runs.0.results.0.locations.0.physicalLocation.artifactLocation.uri",
            "dumps\\t.jsonl",
            "URI reference",
        ),
        (
            "runs.0.results.2.locations.0.physicalLocation.region.startColumn",
            0,
            "startColumn is an integer >= 1",
        ),
    ],
)
def test_sarif_structure_check_catches_what_is_missing(path: str, value: Any, words: str) -> None:
    problems = sarif_problems(_broken(sarif_log(), path, value))
    assert any(words in p for p in problems), problems


def test_sarif_rules_and_results_line_up() -> None:
    run = sarif_log()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    by_id = {r["id"]: r for r in rules}
    assert by_id["ID001"]["name"] == "ServiceNameMissing"
    assert by_id["DP001"]["defaultConfiguration"]["level"] == "note"
    assert by_id["LT003"]["properties"]["tags"] == ["log-trace"]
    assert by_id["TR010"]["help"]["markdown"].startswith("Spans whose remote parent")
    results = run["results"]
    assert len(results) == 6
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert [r["level"] for r in results] == ["error", "warning", "error", "warning", "note", "note"]


def test_sarif_locations() -> None:
    results = {r["ruleId"]: r for r in sarif_log()["runs"][0]["results"]}
    id001 = results["ID001"]
    assert id001["properties"]["record"] == 3
    assert id001["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "dumps/traces.jsonl", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
    assert len(id001["relatedLocations"]) == 3
    lt003 = results["LT003"]["locations"][0]["physicalLocation"]["region"]
    assert lt003 == {"startLine": 5, "startColumn": 3}
    assert "record" not in results["LT003"]["properties"]
    assert "locations" not in results["DP001"]
    assert results["TR010"]["message"]["text"].startswith("checkout \u2192 payments: ")


def test_sarif_fingerprints_are_stable_and_ignore_counts() -> None:
    report = sample_report()
    first = [r["partialFingerprints"]["otlint/v1"] for r in sarif_log(report)["runs"][0]["results"]]
    assert len(set(first)) == len(first)
    report.findings = [
        replace(f, count=f.count + 1, message=f.message + "!") for f in report.findings
    ]
    again = [r["partialFingerprints"]["otlint/v1"] for r in sarif_log(report)["runs"][0]["results"]]
    assert again == first


def test_sarif_absolute_paths_become_file_uris() -> None:
    report = sample_report()
    report.findings = [
        replace(report.findings[0], locations=[Location("/var/dumps/a b.json", record=1)])
    ]
    artifact = sarif_log(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"
    ]
    assert artifact == {"uri": "file:///var/dumps/a%20b.json"}


def test_sarif_rule_without_rule_info_falls_back_to_the_finding() -> None:
    report = sample_report()
    report.rules = {}
    rules = sarif_log(report)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["name"] for r in rules}["TR010"] == "OrphanRemoteParent"
    assert sarif.pascal_case("trace-id-in-attribute") == "TraceIdInAttribute"


# -- github -----------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def test_github_one_command_per_finding() -> None:
    lines = render("github", sample_report()).splitlines()
    assert len(lines) == 6
    kinds = [COMMAND.match(line).group(1) for line in lines]  # type: ignore[union-attr]
    assert kinds == ["error", "warning", "error", "warning", "notice", "notice"]


def test_github_escapes_properties_and_data() -> None:
    lines = render("github", sample_report()).splitlines()
    # the path has ':' and ',' which would end the property or the command
    assert lines[5].startswith(
        "::notice file=dumps/odd%3Aname%2C1.jsonl,title=SC002 deprecated-attribute::"
    )
    # '%' and a newline in the message
    assert "100%25 of logs" in lines[3] and "field:%0Amove them" in lines[3]
    assert lines[3].startswith(
        "::warning file=dumps/logs.jsonl,line=5,col=3,title=LT003 trace-id-in-attribute::"
    )
    for line in lines:
        match = COMMAND.match(line)
        assert match, line
        for prop in match.group(2).split(","):
            key, _, value = prop.partition("=")
            assert key in {"file", "line", "col", "title"} and ":" not in value and "," not in value


def test_github_finding_without_location_has_no_file() -> None:
    line = render("github", sample_report()).splitlines()[4]
    assert line.startswith("::notice title=DP001 service-version-missing::frontend/web: ")


def test_github_escaping_functions() -> None:
    assert github.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


# -- junit ------------------------------------------------------------------


def junit_suite(report: Report) -> ET.Element:
    root = ET.fromstring(render("junit", report))
    assert root.tag == "testsuites"
    (suite,) = list(root)
    return suite


def test_junit_counts() -> None:
    report = sample_report()
    suite = junit_suite(report)
    intact = [c for c in report.joins if c.status == "intact"]
    cases = suite.findall("testcase")
    assert suite.get("name") == "otlint"
    assert len(cases) == len(report.findings) + len(intact) == 6 + 9
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == "6" == str(len(suite.findall("testcase/failure")))


def test_junit_names_and_failures() -> None:
    suite = junit_suite(sample_report())
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    failure = cases[("otlint.identity", "ID001 -")].find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message") == "resource has no service.name attribute"
    assert "dumps/traces.jsonl:#12" in (failure.text or "")
    assert cases[("otlint.trace", "TR010 checkout \u2192 payments")].find("failure") is not None
    passing = cases[("otlint.peer", "checkout \u2192 payments")]
    assert passing.find("failure") is None


def test_junit_survives_hostile_service_names() -> None:
    report = sample_report()
    report.findings[0].service = 'a<b>&"c"\x00\x1b'
    suite = junit_suite(report)
    assert suite.find("testcase[@name='ID001 a<b>&\"c\"\\x00\\x1b']") is not None


# -- mermaid ----------------------------------------------------------------


def test_mermaid_ids_are_safe_and_unique() -> None:
    names: list[str | None] = [None, "none", "a.b", "a_b", "a:b/c", "end", "x-ray", "o"]
    ids = mermaid.node_ids(names)
    assert len(set(ids.values())) == len(names)
    for node in ids.values():
        assert re.fullmatch(r"svc_[A-Za-z0-9_]+", node)


def test_mermaid_edges_and_styles() -> None:
    lines = render("mermaid", sample_report()).splitlines()
    assert lines[1] == "flowchart LR"
    links = [line.strip() for line in lines if "->" in line]
    assert links == [
        'svc_checkout -. "trace \u27173" .-> svc_payments',
        "svc_frontend_web --> svc_checkout",
        "svc_unknown_service_python -.-> svc_checkout",
    ]
    assert "    linkStyle 0 stroke:#d32f2f,stroke-width:2px,color:#d32f2f" in lines
    assert "    class svc_none,svc_unknown_service_python broken" in lines
    assert '    svc_none["#lt;no service.name#gt;"]' in lines
