"""File kinds: what each file is read as (told by content), YAML inside YAML with its
positions, the ``.env`` grammar compose accepts, and ``check-config --verbose``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from otlint.configs.document import Document, parse_dotenv, string_documents
from otlint.configs.dotenv import settings
from otlint.configs.kinds import is_sdk_configuration
from otlint.core.errors import OtlintError
from otlint.core.yamlpos import load_all_with_marks
from otlint.run.check_config import read_configs


def _host(text: str) -> Document:
    [(data, marks)] = load_all_with_marks(text, "cm.yaml")
    return Document("cm.yaml", 0, data, marks, tuple(text.splitlines()))


def _where(doc: Document, *at: object) -> tuple[int | None, int | None]:
    loc = doc.key(at)
    return loc.line, loc.column


@pytest.mark.parametrize(
    ("header", "body_indent"),
    [("|", 4), ("|-", 4), ("|+", 4), ("|2", 4), ("|-2", 4), ("| # the collector", 4)],
)
def test_a_literal_block_maps_each_position_to_its_line_and_column(
    header: str, body_indent: int
) -> None:
    pad = " " * body_indent
    text = (
        "data:\n"
        f"  relay: {header}\n"
        f"{pad}receivers:\n"
        f"{pad}  otlp: {{}}\n"
        "\n"
        f"{pad}# a comment inside the string\n"
        f"{pad}service:\n"
        f"{pad}  pipelines:\n"
        f"{pad}    traces: {{receivers: [otlp]}}\n"
    )
    host = _host(text)
    [inner] = string_documents(host, ("data", "relay"), host.data["data"]["relay"])
    assert _where(inner, "receivers", "otlp") == (4, 7)
    assert _where(inner, "service", "pipelines", "traces") == (9, 9)
    assert inner.value(("service", "pipelines", "traces", "receivers", 0)).column == 30
    assert inner.path == "cm.yaml" and inner.lines == host.lines


@pytest.mark.parametrize(
    "value",
    [
        '"receivers: {otlp: {}}\\nservice: {pipelines: {}}\\n"',
        "'receivers: {otlp: {}}'",
        ">\n    receivers: {otlp: {}}\n\n    service: {pipelines: {}}",
    ],
)
def test_quoted_and_folded_strings_point_at_their_key(value: str) -> None:
    host = _host(f"data:\n  relay: {value}\n")
    [inner] = string_documents(host, ("data", "relay"), host.data["data"]["relay"])
    assert _where(inner, "receivers", "otlp") == (2, 3)


def test_a_yaml_error_inside_a_string_is_reported_in_the_file() -> None:
    host = _host("spec:\n  config: |\n    receivers:\n      otlp: [a\n    service: {}\n")
    with pytest.raises(OtlintError, match=r"^cm\.yaml:5:12: invalid YAML"):
        string_documents(host, ("spec", "config"), host.data["spec"]["config"])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"file_format": "1.0", "tracer_provider": {}}, True),
        ({"file_format": "1.0-rc.1", "resource": {"attributes": []}}, True),
        ({"file_format": 0.3, "propagator": {"composite": []}}, True),
        ({"file_format": "${CONFIG_VERSION}", "meter_provider": {}}, True),
        ({"file_format": "1.0"}, True),
        ({"file_format": 1, "tracer_provider": {}}, True),
        ({"file_format": "definition/2", "attributes": [{"key": "a"}]}, False),
        ({"file_format": "1.1.0", "schema_url": "https://x/1", "versions": {}}, False),
        ({"file_format": "yaml", "resource": {}}, False),
        ({"file_format": True, "resource": {}}, False),
        (["file_format"], False),
    ],
)
def test_sdk_configuration_is_told_by_version_and_keys(data: object, expected: bool) -> None:
    assert is_sdk_configuration(data) is expected


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_what_each_file_is_read_as_or_skipped_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path,
        {
            ".env.local": "# put your own overrides here\n\n#OTEL_SERVICE_NAME=mine\n",
            "compose.override.yaml": "# services:\n#   extra:\n#     image: x\n",
            "compose.labels.yaml": "services:\n  orders:\n    labels: {team: shop}\n",
            "model/registry.yaml": "file_format: definition/2\nmetrics:\n  - name: shop.orders\n    brief: x\n",
            "model/manifest.yaml": "name: shop\nsemconv_version: 1.30.0\nschema_url: https://x/1\n",
            "k8s/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: orders}\n",
            "schema/resource.yaml": "$defs: {}\ntype: object\nproperties: {attributes: {}}\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
            "chart/templates/cm.yaml": "kind: ConfigMap\ndata:\n  a: {{ .Values.a }}\n",
            "chart/examples/small/values.yaml": "mode: deployment\nconfig:\n  receivers: {}\n",
            "k8s/list.yaml": (
                "apiVersion: v1\nkind: List\nitems:\n"
                "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: gw}\n"
                "    data:\n      collector.yaml: |\n"
                "        receivers: {otlp: {protocols: {grpc: {}}}}\n"
                "        exporters: {debug: {}}\n"
                "        service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    facts = read_configs(["."])
    notes = dict(facts.read_as)
    assert notes[".env.local"] == "read as .env file (0 variables)"
    assert notes["compose.override.yaml"].startswith("skipped: empty")
    assert notes["compose.labels.yaml"] == "read as compose file (1 service)"
    assert "Weaver semantic-convention definition" in notes["model/registry.yaml"]
    assert "Weaver registry manifest" in notes["model/manifest.yaml"]
    assert notes["k8s/svc.yaml"] == "read as Kubernetes Service orders"  # (a collector's host name)
    assert notes["schema/resource.yaml"] == "skipped: a JSON Schema, not configuration"
    assert "Helm chart template (chart chart)" in notes["chart/templates/cm.yaml"]
    assert notes["chart/Chart.yaml"] == "skipped: a Helm chart's Chart.yaml"
    assert notes["chart/examples/small/values.yaml"].startswith("skipped: Helm chart values")
    assert notes["k8s/list.yaml"] == (
        "read as Kubernetes ConfigMap gw; collector config (ConfigMap gw key collector.yaml)"
    )
    [gateway] = facts.collectors
    assert gateway.pipelines[0].id == "traces"
    assert gateway.pipelines[0].at.line == 11
    assert not facts.units and not facts.problems


def test_a_collector_looking_configmap_string_that_is_not_yaml_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path,
        {
            "cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gw}\ndata:\n  relay: |\n"
                "    receivers:\n      otlp: {protocols: {grpc: {}}\n"
                "    service:\n      pipelines: {}\n"
            )
        },
    )
    monkeypatch.chdir(tmp_path)
    [problem] = read_configs(["cm.yaml"]).problems
    assert problem.at.path == "cm.yaml" and problem.at.line is not None and problem.at.line > 5
    assert problem.message.startswith("the collector config in ConfigMap gw key relay: ")


def test_dotenv_reads_what_docker_compose_reads() -> None:
    doc = parse_dotenv(
        "# comment\n"
        "\n"
        "export OTEL_SERVICE_NAME=checkout\n"
        "  OTEL_RESOURCE_ATTRIBUTES = 'service.namespace=shop' # trailing\n"
        "OTEL_PROPAGATORS: tracecontext,baggage\n"
        'OTEL_EXPORTER_OTLP_HEADERS="a=1,\n'
        'b=2"\n'
        "DEPLOY_TOKEN\n",
        ".env",
    )
    assert doc.data == {
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_RESOURCE_ATTRIBUTES": "service.namespace=shop",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1,\nb=2",
        "DEPLOY_TOKEN": None,
    }
    assert doc.value(("OTEL_PROPAGATORS",)).column == 19
    token = settings(doc)["DEPLOY_TOKEN"]
    assert token.text is None and token.unknown == "the environment compose is run in"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("use nix\nlayout python\n", "line 1 is not NAME=value"),
        ("A=1\nB='never closed\nC=3\n", "line 2: the quoted value is not closed"),
    ],
)
def test_a_file_compose_would_refuse_is_skipped_with_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, why: str
) -> None:
    _write(tmp_path, {".envrc": text})
    monkeypatch.chdir(tmp_path)
    assert read_configs([".envrc"]).skipped == [(".envrc", f"not a .env file ({why})")]


def test_verbose_says_what_each_file_was_read_as(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "otel-collector.yaml": (
                "receivers: {otlp: {protocols: {grpc: {}}}}\n"
                "exporters: {debug: {}}\n"
                "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"
            ),
            ".env": "OTEL_SERVICE_NAME=orders\nOTEL_RESOURCE_ATTRIBUTES=service.namespace=shop\n",
            "mkdocs.yml": "site_name: shop\n",
        },
    )
    run = subprocess.run(
        [sys.executable, "-m", "otlint", "check-config", "--isolated", "-v", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    assert run.stderr.splitlines() == [
        "otlint: note: .env: read as .env file (2 variables)",
        "otlint: note: mkdocs.yml: skipped: not an OpenTelemetry collector, SDK, compose, "
        "Kubernetes or .env configuration (top-level keys: site_name)",
        "otlint: note: otel-collector.yaml: read as collector config",
    ]


_POD_WITHOUT_NAME = """\
apiVersion: v1
kind: Pod
metadata:
  namespace: e2e
spec:
  containers:
    - name: otc-container
      env:
        - name: OTEL_EXPORTER_OTLP_ENDPOINT
          value: http://collector:4317
"""


@pytest.mark.parametrize(
    ("files", "skipped"),
    [
        # chainsaw: a test file in the folder; its asserts are the expected state.
        (
            {"chainsaw-test.yaml": "kind: Test\n", "01-assert.yaml": _POD_WITHOUT_NAME},
            ["01-assert.yaml"],
        ),
        (
            {"chainsaw-test.yaml": "kind: Test\n", "sidecar-assert.yaml": _POD_WITHOUT_NAME},
            ["sidecar-assert.yaml"],
        ),
        # kuttl: numbered steps; NN-assert and NN-errors files are checked, not applied.
        (
            {
                "00-install.yaml": _POD_WITHOUT_NAME,
                "00-assert-collector.yaml": _POD_WITHOUT_NAME,
                "01-errors.yaml": _POD_WITHOUT_NAME,
            },
            ["00-assert-collector.yaml", "01-errors.yaml"],
        ),
        # The name alone is not enough: no harness beside it, so it is read.
        ({"01-assert.yaml": _POD_WITHOUT_NAME}, []),
        ({"deploy.yaml": _POD_WITHOUT_NAME, "chainsaw-test.yaml": "kind: Test\n"}, []),
    ],
)
def test_test_harness_assertions_are_skipped(
    tmp_path: Path, files: dict[str, str], skipped: list[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    facts = read_configs([str(tmp_path)])
    assertions = sorted(
        Path(p).name for p, why in facts.skipped if why.startswith("a test assertion")
    )
    assert assertions == sorted(skipped)


_NAMED_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: cart
          image: shop/cart:1.0.0
          env:
            - name: OTEL_SERVICE_NAME
              value: cart
"""

_CHAINSAW_TEST = """\
apiVersion: chainsaw.kyverno.io/v1alpha1
kind: Test
metadata:
  name: cart
spec:
  steps:
    - try:
        - apply:
            file: 00-install.yaml
        - apply:
            file: 01-error.yaml
        - assert:
            file: expected-pods.yaml
        - error:
            file: ../shared/absent-*.yaml
"""


def test_a_chainsaw_test_says_which_files_are_assertions(tmp_path: Path) -> None:
    """The test's own operations decide over names: an asserted file named anyhow is
    skipped, a file named like an error check that the test applies is read."""
    test = tmp_path / "e2e" / "cart"
    shared = tmp_path / "e2e" / "shared"
    test.mkdir(parents=True)
    shared.mkdir()
    (test / "chainsaw-test.yaml").write_text(_CHAINSAW_TEST)
    for name in ("00-install.yaml", "01-error.yaml", "expected-pods.yaml"):
        (test / name).write_text(_NAMED_DEPLOYMENT)
    (shared / "absent-cart.yaml").write_text(_NAMED_DEPLOYMENT)
    facts = read_configs([str(tmp_path)])
    assertions = sorted(
        Path(p).name for p, why in facts.skipped if why.startswith("a test assertion")
    )
    assert assertions == ["expected-pods.yaml"]
    assert sorted(Path(p).name for p in facts.inputs) == [
        "00-install.yaml",
        "01-error.yaml",
        "absent-cart.yaml",
    ]


def test_kuttl_applies_a_step_named_error_singular(tmp_path: Path) -> None:
    """kuttl checks ``NN-errors.yaml`` but applies ``NN-error.yaml`` (its name part is not ``errors``)."""
    (tmp_path / "00-install.yaml").write_text(_NAMED_DEPLOYMENT)
    (tmp_path / "00-error.yaml").write_text(_NAMED_DEPLOYMENT)
    (tmp_path / "00-errors.yaml").write_text(_NAMED_DEPLOYMENT)
    facts = read_configs([str(tmp_path)])
    assert [Path(p).name for p, why in facts.skipped if why.startswith("a test assertion")] == [
        "00-errors.yaml"
    ]


def test_a_workload_with_no_name_is_no_unit(tmp_path: Path) -> None:
    """A Pod with neither metadata.name nor generateName cannot be applied: a partial
    object (an assertion outside a harness, a patch); no ``Pod <unnamed>`` unit."""
    (tmp_path / "expected.yaml").write_text(_POD_WITHOUT_NAME)
    generated = _POD_WITHOUT_NAME.replace("  namespace: e2e\n", "  generateName: probe-\n")
    generated = generated.replace("otc-container", "prober")
    (tmp_path / "probe.yaml").write_text(generated)
    facts = read_configs([str(tmp_path)])
    assert [u.label for u in facts.units if u.deployable] == ["container prober (Pod probe-*)"]
    assert dict((Path(p).name, why) for p, why in facts.skipped) == {
        "expected.yaml": "a Pod with no metadata.name (a partial object: a test assertion "
        "or a patch), not a deployment"
    }
