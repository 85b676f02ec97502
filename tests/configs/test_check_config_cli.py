"""``otlint check-config`` end to end: real files, the real CLI in a subprocess, every format.

The SARIF output is checked for what SARIF 2.1.0 requires (``conftest.sarif_problems``)
and, where ``../shared/conformance/sarif/`` is beside the repository, validated against
the SARIF 2.1.0 JSON schema shipped there (no network: the schema's ``$ref``s are all local).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from conftest import SARIF_SCHEMA, otlint, sarif_problems

COMPOSE = """\
services:
  checkout:
    image: shop/checkout:1.4.2
    environment:
      OTEL_SERVICE_NAME: checkout
      OTEL_RESOURCE_ATTRIBUTES: service.namespace=shop,deployment.environment.name=production
  payments:
    image: shop/payments:2.0.1
    environment:
      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317
      OTEL_PROPAGATORS: b3
      OTEL_RESOURCE_ATTRIBUTES: "service.namespace=shop,api_key=sk-live_0123456789abcdef0123,team"
      JAVA_TOOL_OPTIONS: -javaagent:/otel/opentelemetry-javaagent.jar
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: app
          image: shop/cart:0.9.0
          env:
            - name: OTEL_SERVICE_NAME
              value: cart
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: service.namespace=shop,deployment.environment=production
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with a compose file, a Deployment, a README and a broken YAML file."""
    (tmp_path / "docker-compose.yaml").write_text(COMPOSE, encoding="utf-8")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "cart.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: shop\nnav: [index.md]\n", encoding="utf-8")
    return tmp_path


def test_text_output_is_path_line_col_code_message(project: Path) -> None:
    run = otlint(
        "check-config",
        "docker-compose.yaml",
        "k8s/cart.yaml",
        "mkdocs.yml",
        "--isolated",
        cwd=project,
    )
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert (
        "docker-compose.yaml:7:3: CF010 [error] compose service payments sets no service name "
        "(the Java agent builds the SDK from configuration only): "
        "its telemetry will be reported as unknown_service" in lines
    )
    assert any(line.startswith("docker-compose.yaml:11:25: CF020 [error]") for line in lines)
    assert any(line.startswith("docker-compose.yaml:12:94: CF014 [error]") for line in lines)
    assert any(
        line.startswith("k8s/cart.yaml:15:45: CF040 [warning] deployment.environment is deprecated")
        for line in lines
    )
    assert "otlint: note: mkdocs.yml: skipped: not an OpenTelemetry" in run.stderr
    assert "Traceback" not in run.stderr


def test_values_are_shown_only_when_asked_and_secrets_stay_masked(project: Path) -> None:
    hidden = otlint(
        "check-config", "docker-compose.yaml", "--isolated", "--select", "CF014", cwd=project
    )
    assert "sk-live" not in hidden.stdout and "values:" not in hidden.stdout
    shown = otlint(
        "check-config",
        "docker-compose.yaml",
        "--isolated",
        "--select",
        "CF014",
        "--show-values",
        cwd=project,
    )
    assert "values: OTEL_RESOURCE_ATTRIBUTES=" in shown.stdout
    assert "sk-live_0123456789abcdef0123" not in shown.stdout and "****" in shown.stdout


def test_sarif_has_what_2_1_0_requires(project: Path) -> None:
    run = otlint("check-config", ".", "--isolated", "--format", "sarif", cwd=project)
    assert run.returncode == 1, run.stderr
    log = json.loads(run.stdout)
    assert sarif_problems(log) == []
    results = log["runs"][0]["results"]
    assert {"CF010", "CF014", "CF020", "CF040"} <= {r["ruleId"] for r in results}
    for result in results:
        loc = result["locations"][0]["physicalLocation"]
        assert (project / loc["artifactLocation"]["uri"]).is_file()  # relative to the run
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1


@pytest.mark.needs_shared
def test_sarif_validates_against_the_sarif_2_1_0_schema(project: Path) -> None:
    run = otlint("check-config", ".", "--isolated", "--format", "sarif", cwd=project)
    assert run.returncode == 1, run.stderr
    log = json.loads(run.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, [e.message for e in errors[:5]]
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CF020"]["name"] == "PropagatorsDisjoint"
    assert "Why it breaks the join" in rules["CF020"]["help"]["text"]
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "CF020")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (11, 25)
    assert (
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "docker-compose.yaml"
    )


def test_json_github_and_junit(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = otlint("check-config", ".", "--isolated", "-f", "json", "-o", str(out), cwd=project)
    assert run.returncode == 1
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schema"] == 1 and report["joins"] == []
    codes = [f["code"] for f in report["findings"]]
    assert codes[0] == "CF010"  # identity ranks first
    loc = next(f for f in report["findings"] if f["code"] == "CF040")["locations"][0]
    assert (loc["path"], loc["line"], loc["column"]) == ("k8s/cart.yaml", 15, 45)

    github = otlint("check-config", ".", "--isolated", "-f", "github", cwd=project)
    assert (
        "::error file=docker-compose.yaml,line=7,col=3,title=CF010 config-service-name-missing::"
        in github.stdout
    )

    junit = otlint("check-config", ".", "--isolated", "-f", "junit", cwd=project)
    suite = ET.fromstring(junit.stdout).find("testsuite")
    assert suite is not None and int(suite.attrib["failures"]) == len(codes)


def test_suppressions_and_fail_on(project: Path) -> None:
    text = COMPOSE.replace(
        "      OTEL_PROPAGATORS: b3\n",
        "      OTEL_PROPAGATORS: b3  # otlint: disable=CF020,CF021\n",
    )
    (project / "docker-compose.yaml").write_text(
        "# otlint: disable-file=CF010\n" + text, encoding="utf-8"
    )
    run = otlint("check-config", "docker-compose.yaml", "--isolated", cwd=project)
    assert "CF020" not in run.stdout and "CF010" not in run.stdout
    assert "CF014" in run.stdout
    passed = otlint(
        "check-config", "docker-compose.yaml", "--isolated", "--select", "CF022,CF040", cwd=project
    )
    assert passed.returncode == 0, passed.stdout
    assert "No findings." in passed.stdout


def test_no_files_unknown_files_and_missing_files(tmp_path: Path) -> None:
    none = otlint("check-config", cwd=tmp_path)
    assert none.returncode == 0 and "no files to check" in none.stderr
    (tmp_path / "notes.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (tmp_path / ".envrc").write_text("use nix\nlayout python\n", encoding="utf-8")
    skipped = otlint("check-config", "notes.yaml", ".envrc", cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stdout
    assert (
        "notes.yaml: skipped" in skipped.stderr
        and ".envrc: skipped: not a .env file" in skipped.stderr
    )
    missing = otlint("check-config", "nope.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "otlint: error: nope.yaml: no such file or directory"


def test_unreadable_yaml_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "otel.yaml").write_text(
        "receivers:\n  otlp: {protocols: {grpc: {}}\nexporters: {}\n", encoding="utf-8"
    )
    # Not b"\xff\xfe...": that is a UTF-16 byte order mark, and the file is decoded by it.
    (tmp_path / "binary.yaml").write_bytes(b"\x80\xfe\x00garbage")
    run = otlint("check-config", "otel.yaml", "binary.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.startswith("otel.yaml:3:1: CF001 [error] cannot read this file: invalid YAML")
    assert "binary.yaml: skipped: not UTF-8 text" in run.stderr
    assert "Traceback" not in run.stderr


def test_vendored_folders_are_not_walked(tmp_path: Path) -> None:
    """A Go module's vendor/ holds other projects' YAML (CI files with duplicate keys): not read."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "compose.yaml").write_text(
        "services:\n  api:\n    image: shop/api:1.0.0\n    environment:\n      OTEL_SERVICE_NAME: api\n"
    )
    for folder in ("vendor/github.com/a/b", "third_party/c", "node_modules/d"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / ".travis.yml").write_text("language: go\nlanguage: go\n")
    run = otlint("check-config", ".", "--isolated", "--format", "json", "-v", cwd=tmp_path)
    assert "vendor" not in run.stderr and "third_party" not in run.stderr, run.stderr
    assert [f["code"] for f in json.loads(run.stdout)["findings"] if f["code"] == "CF001"] == []
