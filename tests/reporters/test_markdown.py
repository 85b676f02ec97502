"""``--format markdown``: structure (fences, tables, Mermaid ids), escaping, the size limit,
and, where node and the Mermaid package are installed, every chart through Mermaid's parser.

The structure checks need nothing but Python. The parser test runs when ``node`` is on
the PATH and Mermaid (with jsdom) is installed in ``$OTLINT_MERMAID_DIR`` (default
``.mermaid/`` in the repository: ``make mermaid`` installs it there); otherwise it is
skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest

from otlint.core.finding import Finding, Level, Location
from otlint.core.joins import Join
from otlint.report.incident import IncidentPath, Link
from otlint.report.report import JoinStatus, Report
from otlint.report.reporters import markdown
from otlint.report.reporters._markdown import GITHUB_COMMENT_LIMIT, cell, code, table
from reporters.test_reporters import config_report, render, sample_report

from conftest import otlint

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_traces"
MERMAID_DIR = Path(os.environ.get("OTLINT_MERMAID_DIR", ROOT / ".mermaid"))
PARSER = Path(__file__).with_name("mermaid_parse.mjs")

_FENCE = re.compile(r"^(`{3,})([A-Za-z0-9_-]*)$")
# A service (``["..."]``), or on the data-plane map a unit (``(["..."])``), a collector
# (``[["..."]]``) or a destination (``[("...")]``).
_NODE = re.compile(r'^    (\S+?)(?:\["|\(\["|\[\["|\[\(")([^"]*)(?:"\]|"\]\)|"\]\]|"\)\])$')
_LINK = re.compile(r'^    (\S+) (-->|-->\|"[^"]*"\||-\.->|-\. "[^"]*" \.->) (\S+)$')
_ID = re.compile(r"(svc|n)_[A-Za-z0-9_]+")


def cells_of(row: str) -> list[str]:
    """The cells of a table row, split on ``|`` not escaped by a backslash."""
    assert row.startswith("|") and row.endswith("|"), row
    return re.split(r"(?<!\\)\|", row[1:-1])


def mermaid_blocks(text: str) -> list[str]:
    """The sources of every ```mermaid block."""
    return [source for language, source in fenced_blocks(text) if language == "mermaid"]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, source) of every fenced block; fails on a fence that never closes."""
    blocks: list[tuple[str, str]] = []
    fence: str | None = None
    language, body = "", []
    for line in text.splitlines():
        if fence is None:
            m = _FENCE.match(line)
            if m:
                fence, language, body = m.group(1), m.group(2), []
        elif line == fence:
            blocks.append((language, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        raise ValueError("a fence that never closes")
    return blocks


def structure_problems(text: str) -> list[str]:
    """What is wrong with a Markdown report's structure; [] when nothing is."""
    problems: list[str] = []
    if len(text) > GITHUB_COMMENT_LIMIT:
        problems.append(f"{len(text)} characters, over GitHub's limit")
    try:
        blocks = fenced_blocks(text)
    except ValueError as exc:
        return [*problems, str(exc)]
    outside: list[str] = []
    in_fence: str | None = None
    for line in text.splitlines():
        if in_fence is None and _FENCE.match(line):
            in_fence = line.rstrip("abcdefghijklmnopqrstuvwxyz")
        elif in_fence is not None and line == in_fence:
            in_fence = None
        elif in_fence is None:
            outside.append(line)
    rows: list[str] = []
    for line in [*outside, ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if rows:
            width = len(cells_of(rows[0]))
            if len(rows) < 2 or not re.fullmatch(r"\|(---\|)+", rows[1]):
                problems.append(f"table without a separator row: {rows[0]}")
            elif len(cells_of(rows[1])) != width:
                problems.append(f"separator of another width: {rows[0]}")
            problems += [
                f"row of {len(cells_of(r))} cells in a table of {width}: {r}"
                for r in rows[2:]
                if len(cells_of(r)) != width
            ]
            rows = []
    for language, source in blocks:
        if language == "mermaid":
            problems += mermaid_problems(source)
    return problems


def mermaid_problems(source: str) -> list[str]:
    """A flowchart as otlint draws it: declared, valid node ids; links between them; styles in range."""
    problems: list[str] = []
    lines = source.splitlines()
    if "flowchart LR" not in lines:
        return ["no flowchart LR"]
    nodes: set[str] = set()
    links = 0
    for line in lines[lines.index("flowchart LR") + 1 :]:
        node, link = _NODE.match(line), _LINK.match(line)
        if node:
            if not _ID.fullmatch(node.group(1)):
                problems.append(f"node id {node.group(1)!r}")
            if any(c in node.group(2) for c in '"<>'):
                problems.append(f"raw markup in label {node.group(2)!r}")
            nodes.add(node.group(1))
        elif link:
            links += 1
            problems += [f"link to undeclared {n}" for n in (link[1], link[3]) if n not in nodes]
        elif line.startswith("    linkStyle "):
            numbers = [int(n) for n in line.split()[1].split(",")]
            problems += [f"linkStyle {n} of {links} links" for n in numbers if n >= links]
        elif line.startswith("    class "):
            problems += [
                f"class on undeclared {n}" for n in line.split()[1].split(",") if n not in nodes
            ]
        elif not line.startswith("    classDef "):
            problems.append(f"unexpected line {line!r}")
    return problems


# -- structure --------------------------------------------------------------


@pytest.mark.parametrize("make", [sample_report, config_report], ids=["check", "check-config"])
def test_structure_of_the_sample_reports(make: object) -> None:
    text = render("markdown", make())  # type: ignore[operator]
    assert structure_problems(text) == []


def test_structure_checks_catch_what_they_check() -> None:
    assert structure_problems("```mermaid\nflowchart LR\n") == ["a fence that never closes"]
    assert structure_problems("| a | b |\n|---|---|\n| 1 |\n") == [
        "row of 1 cells in a table of 2: | 1 |"
    ]
    assert structure_problems("| a |\n| 1 |\n")[0].startswith("table without a separator")
    bad = '```mermaid\nflowchart LR\n    svc_a["a"]\n    svc_a --> svc_b\n    linkStyle 3 x\n```\n'
    assert structure_problems(bad) == ["link to undeclared svc_b", "linkStyle 3 of 1 links"]


def test_real_capture_through_the_command_line() -> None:
    result = otlint("check", str(SAMPLES / "broken"), "--format", "markdown")
    assert result.returncode == 1, result.stderr
    text = result.stdout
    assert structure_problems(text) == []
    assert text.startswith("## otlint check\n")
    assert "| `checkout` | \u2713 | \u2713 | \u2717 8 |" in text
    assert (
        "| `checkout` | \u2717 deploy | service.version on metrics differs from traces, logs"
        " (also: downstream) |" in text
    )
    [chart] = mermaid_blocks(text)
    assert 'svc_checkout -. "trace \u27178" .-> svc_inventory' in chart
    assert "linkStyle 0 stroke:#d32f2f" in chart
    assert "Legend:" in text
    findings = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(findings) == 7
    assert findings[1].startswith(
        "| 2 | **error** | `TR007` | trace | `checkout \u2192 inventory` |"
    )


def test_healthy_capture_has_no_findings_table() -> None:
    text = otlint("check", str(SAMPLES / "healthy"), "-f", "markdown").stdout
    assert structure_problems(text) == []
    assert "**All joins intact.**" in text
    assert "### Findings\n\nAll joins intact.\n" in text
    assert text.count("| \u2713 |") >= 5


def test_check_config_through_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "otel-collector.yaml").write_text(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n"
        "exporters:\n  otlphttp:\n    endpoint: https://vendor.example.com\n"
        "    headers:\n      authorization: Bearer abcdefghijklmnop1234567890\n"
        "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlphttp]\n"
    )
    (tmp_path / ".env").write_text("OTEL_SERVICE_NAME=checkout\nOTEL_PROPAGATORS=b3\n")
    result = otlint("check-config", str(tmp_path), "--format", "markdown")
    text = result.stdout
    assert result.returncode == 1, result.stderr
    assert structure_problems(text) == []
    assert text.startswith("## otlint check-config\n")
    assert "| # | level | code | join | message | location |" in text
    assert "`CF070`" in text and "otel-collector.yaml:9:" in text
    assert "abcdefghijklmnop1234567890" not in text  # the credential CF070 found
    # No service join graph without joins; the collector's data-plane map instead.
    assert "### Service join graph" not in text and text.count("```mermaid") == 1
    assert "### Data-plane map" in text and "otlphttp vendor.example.com:443" in text


# -- escaping ---------------------------------------------------------------

HOSTILE = "a|b <img src=x onerror=alert(1)> @octocat `x` $y$ [l](http://e) *z*\nnext"


def hostile_report() -> Report:
    """Every place the reporter prints text from the input holds markup."""
    report = sample_report()
    report.services.append(HOSTILE)
    report.joins += [
        JoinStatus(Join.IDENTITY, HOSTILE, None, "broken", 3, 3),
        JoinStatus(Join.TRACE, HOSTILE, "checkout", "broken", 4, 4),
    ]
    report.findings.insert(
        0,
        Finding(
            "ID001",
            "service-name-missing",
            Level.ERROR,
            Join.IDENTITY,
            HOSTILE,
            service=HOSTILE,
            locations=[Location(f"dumps/{HOSTILE}.jsonl", record=1)],
        ),
    )
    report.incidents.append(
        IncidentPath(
            HOSTILE,
            {
                "metrics": Link("broken", HOSTILE),
                "traces": Link("ok", "x"),
                "deploy": Link("ok", "x"),
                "downstream": Link("ok", "x"),
            },
        )
    )
    report.notes.append(HOSTILE)
    report.inputs.insert(0, HOSTILE)
    return report


_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


def test_markup_from_the_input_is_escaped() -> None:
    text = render("markdown", hostile_report())
    assert structure_problems(text) == []
    # Inside code spans markup is literal and @names notify nobody; outside them it is escaped.
    prose = re.sub(r"```mermaid\n.*?\n```", "", _CODE_SPAN.sub("", text), flags=re.S)
    assert "<img" in prose  # (the check below would pass on a report without the name)
    assert not re.search(r"(?<!\\)<img", prose)
    assert not re.search(r"(?<!\\)\]\(http", prose)
    assert "@octocat" not in prose  # no mention: a zero-width space follows the @
    assert "\\$y\\$" in prose and "\\*z\\*" in prose
    assert "Checked ``a|b <img" in text  # a code span outside a table: no backslash before |
    [chart] = mermaid_blocks(text)
    assert "<img" not in chart and "#lt;img" in chart
    assert "`" not in chart  # "`...`" would be a Markdown label to Mermaid


def test_cell_and_code_helpers() -> None:
    assert cell("a|b") == "a\\|b"
    assert cell("x\ny") == "x y"
    assert cell("<b>&amp;") == "\\<b\\>\\&amp;"
    assert cell("@team") == "@&#8203;team"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b") == "`a\\|b`"
    assert code("a|b", in_table=False) == "`a|b`"
    assert table(["a", "b"], [["1", "2"]]) == ["| a | b |", "|---|---|", "| 1 | 2 |"]
    with pytest.raises(ValueError, match="1 cells in a table of 2"):
        table(["a", "b"], [["1"]])


def test_values_only_with_show_values() -> None:
    plain = render("markdown", sample_report())
    assert "| values |" not in plain
    shown = render("markdown", sample_report(show_values=True))
    assert "| values |" in shown
    assert structure_problems(shown) == []


# -- size -------------------------------------------------------------------


def big_report(services: int, findings: int) -> Report:
    names = [f"service-{n:05d}-with-a-long-name" for n in range(services)]
    joins = [JoinStatus(j, s, None, "broken", 9, 9) for s in names for j in Join]
    joins += [JoinStatus(Join.TRACE, a, b, "broken", 5, 5) for a, b in pairwise(names)]
    return Report(
        version="0.1.0",
        findings=[
            Finding(
                "ID001",
                "service-name-missing",
                Level.ERROR,
                Join.IDENTITY,
                "a long message " * 20,
                service=names[n % services],
                count=n,
            )
            for n in range(findings)
        ],
        joins=joins,
        totals={"spans": 1},
        services=list(names),
        incidents=[
            IncidentPath(
                s,
                {
                    k: Link("broken", "why " * 10)
                    for k in ("metrics", "traces", "deploy", "downstream")
                },
            )
            for s in names
        ],
    )


def test_findings_stop_at_twenty_with_how_many_more() -> None:
    text = render("markdown", big_report(3, 45))
    assert structure_problems(text) == []
    assert len([line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]) == 20
    assert "\u2026 and 25 more findings" in text


def test_a_huge_report_is_cut_to_githubs_limit_and_says_so() -> None:
    report = big_report(2000, 500)
    text = render("markdown", report)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert structure_problems(text) == []
    assert "more services cut to fit the size limit" in text
    assert "to fit GitHub's 65,536-character limit" in text
    # A chart cannot be cut in half: it is left out whole, and the document says so.
    assert mermaid_blocks(text) == []
    assert "The join graph left out" in text
    assert markdown.document(report, limit=5000).count("\n") < 200
    assert len(markdown.document(report, limit=5000)) <= 5000


def test_a_report_that_fits_is_not_cut() -> None:
    text = render("markdown", big_report(20, 20))
    assert "cut to fit" not in text and "left out" not in text
    assert len(mermaid_blocks(text)) == 1


# -- the real Mermaid parser ------------------------------------------------


def _parser_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("mermaid", "jsdom"):
        if not (MERMAID_DIR / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed in {MERMAID_DIR} (make mermaid installs it)"
    return None


def map_report() -> Report:
    """A check-config run with a data-plane map: an agent -> gateway hop, a lost join, and
    labels that are Mermaid syntax (quotes, brackets, ``end``, a pipe)."""
    report = config_report()
    report.dataplane = {
        "nodes": [
            {"id": "u1", "kind": "unit", "label": 'check"out | end', "at": None},
            {"id": "c2", "kind": "collector", "label": "compose service otel-agent", "at": None},
            {"id": "c3", "kind": "collector", "label": "Deployment gw [prod]", "at": None},
            {"id": "d4", "kind": "destination", "label": "otlphttp loki:3100", "at": None},
            {"id": "d5", "kind": "destination", "label": "prometheus <0.0.0.0:8889>", "at": None},
        ],
        "edges": [
            {"from": "u1", "to": "c2", "signals": ["traces", "logs"], "lost": []},
            {"from": "c2", "to": "c3", "signals": ["traces", "logs"], "lost": []},
            {
                "from": "c3",
                "to": "d4",
                "signals": ["logs"],
                "lost": [
                    {"join": "log-trace", "why": "their traces are sampled", "signal": "logs"}
                ],
            },
            {
                "from": "c3",
                "to": "d5",
                "signals": ["metrics"],
                "lost": [
                    {
                        "join": "metric-trace",
                        "why": "prometheus writes no exemplars",
                        "signal": "metrics",
                    }
                ],
            },
        ],
    }
    return report


def test_the_data_plane_map_is_drawn_with_its_losses_in_a_table() -> None:
    text = render("markdown", map_report())
    (chart,) = mermaid_blocks(text)
    links = [line for line in chart.splitlines() if "-->" in line or ".->" in line]
    assert len(links) == 4 and sum(".->" in line for line in links) == 2
    assert "linkStyle 2,3 " in chart
    assert "| from | to | signal | join lost | why |" in text
    assert "| Deployment gw \\[prod\\] | otlphttp loki:3100 | logs | log-trace |" in text or (
        "log-trace" in text and "their traces are sampled" in text
    )
    assert render("mermaid", map_report()).strip() == chart.strip()


def every_chart() -> list[str]:
    """Every Mermaid chart otlint emits in these tests: markdown blocks and --format mermaid."""
    charts = []
    for report in (sample_report(), hostile_report(), big_report(5, 2), map_report()):
        charts += mermaid_blocks(render("markdown", report))
        charts.append(render("mermaid", report))
    for world in ("healthy", "broken"):
        charts += mermaid_blocks(otlint("check", str(SAMPLES / world), "-f", "markdown").stdout)
    return charts


@pytest.mark.skipif(_parser_missing() is not None, reason=str(_parser_missing()))
def test_every_chart_parses_with_mermaid() -> None:
    charts = every_chart()
    assert len(charts) == 10
    result = subprocess.run(
        ["node", str(PARSER)],
        input=json.dumps(charts),
        capture_output=True,
        text=True,
        env={**os.environ, "MERMAID_DIR": str(MERMAID_DIR)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [a for a in answers if not a["ok"]] == []
    # The parser is not a rubber stamp: a broken chart fails.
    bad = subprocess.run(
        ["node", str(PARSER)],
        input=json.dumps(["flowchart LR\n    svc_a[[[ --> "]),
        capture_output=True,
        text=True,
        env={**os.environ, "MERMAID_DIR": str(MERMAID_DIR)},
        timeout=120,
        check=False,
    )
    assert json.loads(bad.stdout)[0]["ok"] is False
