"""CF070's parts: the names and values ``redact`` calls credentials, where the collector and
SDK readers find them, and a report of them that never shows one.

The fixture cases (tests/configs/fixtures/CF070.yaml) run the rule end to end; these pin
the decisions under it. Every secret here is made up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otlint.configs.credentials import carriers
from otlint.configs.document import Document
from otlint.core.redact import (
    KIND_LABELS,
    credential_header,
    credential_setting,
    credential_value,
    find_secrets,
    is_placeholder,
    mask_secrets,
)
from otlint.core.yamlpos import load_all_with_marks

from conftest import otlint

#: A made-up key, planted below: no output may show it.
KEY = "f3a9c1d27b8e4a6f0d5c"


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("authorization", True),
        ("Authorization", True),
        ("x-api-key", True),
        ("api-key", True),
        ("x-honeycomb-team", True),
        ("lightstep-access-token", True),
        ("signoz-ingestion-key", True),
        ("x-scope-orgid", False),
        ("dd-protocol", False),
        ("x-honeycomb-dataset", False),
    ],
)
def test_header_names_that_name_a_credential(name: str, named: bool) -> None:
    assert credential_header(name) is named


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("HONEYCOMB_API_KEY", True),
        ("NEW_RELIC_LICENSE_KEY", True),
        ("OTEL_EXPORTER_OTLP_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DB_PASSWORD", True),
        ("client_secret", True),
        ("clientSecret", True),
        ("token", True),
        ("tokens", True),
        # the name goes on past the credential: it names a file, a path, an id
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", False),
        ("GRPC_TOKEN_FILE", False),
        ("SECRET_NAME", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("token_url", False),
        ("key_file", False),
        ("PWD", False),
        ("OTEL_EXPORTER_OTLP_HEADERS", False),
    ],
)
def test_setting_names_that_name_a_credential(name: str, named: bool) -> None:
    assert credential_setting(name) is named


@pytest.mark.parametrize(
    "value",
    [
        KEY,
        "Bearer 9f86d081884c7d659a2f",
        "ApiKey b3RlbDpmM2E5YzFk==",
        "Tr0ub4dor-f3a9c1",
        "123e4567-e89b-12d3-a456-426614174000",
    ],
)
def test_values_that_are_credentials(value: str) -> None:
    assert credential_value(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "REDACTED",
        "<your-key>",
        "xxxx",
        "changeme",
        "password",
        "test",
        "1234",
        "otel-demo",
        "Bearer",
        "Bearer ${TOKEN}",
        "${env:TOKEN}",
        "$(TOKEN)",
        "YOUR_API_KEY",
        "%API_KEY%",
        "00000000-0000-0000-0000-000000000000",
        "/var/run/secrets/otlp/token",
        "collector@example.com",
    ],
)
def test_values_that_stand_in_for_a_credential(value: str) -> None:
    assert not credential_value(value)


def test_capitals_are_a_variable_name_but_lower_case_words_are_not_a_placeholder() -> None:
    """The capitals alternative of ``_PLACEHOLDER`` is case-sensitive, though the rest is not."""
    assert is_placeholder("API_KEY") and is_placeholder("REPLACE-ME")
    assert not is_placeholder("otel-demo") and not is_placeholder("my_token")
    assert find_secrets("Authorization: Bearer MY_TOKEN") == []
    assert [k.name for k in find_secrets("Authorization: Bearer my_t0ken")] == ["http-credentials"]


def test_kind_labels_survive_masking() -> None:
    """A finding's message is masked: the words naming a kind must not look like one."""
    for label in KIND_LABELS.values():
        assert mask_secrets(label) == label


def _doc(text: str) -> Document:
    [(data, marks)] = load_all_with_marks(text, "otel.yaml")
    return Document("otel.yaml", 0, data, marks, tuple(text.splitlines()))


def test_carriers_of_a_collector_configuration() -> None:
    doc = _doc(
        "extensions:\n"
        "  bearertokenauth:\n"
        "    scheme: Bearer\n"
        "    tokens: [abc, def]\n"
        "  headers_setter:\n"
        "    headers:\n"
        "      - {key: X-Scope-OrgID, value: tenant1}\n"
        "      - {key: Authorization, from_context: auth}\n"
        "exporters:\n"
        "  datadog:\n"
        "    api: {key: k1, site: datadoghq.eu}\n"
        "  otlphttp:\n"
        "    headers: {x-api-key: k2, dd-protocol: otlp}\n"
        "    tls: {key_file: /etc/tls/key.pem}\n"
        "    endpoint: https://user:S3cr3tPassw0rd@otlp.example.com\n"
        "service:\n"
        "  telemetry:\n"
        "    traces:\n"
        "      processors:\n"
        "        - batch:\n"
        "            exporter:\n"
        "              otlp:\n"
        "                headers_list: api-key=k3\n"
    )
    found = [
        (c.setting.name, c.header, c.listed, c.named, c.setting.value_at.line)
        for c in carriers(doc, doc.data, "collector")
    ]
    assert found == [
        ("extensions.bearertokenauth.tokens[0]", None, False, True, 4),
        ("extensions.bearertokenauth.tokens[1]", None, False, True, 4),
        ("extensions.headers_setter.headers", "X-Scope-OrgID", False, False, 7),
        ("exporters.datadog.api.key", None, False, True, 11),
        ("exporters.otlphttp.headers", "x-api-key", False, True, 13),
        ("exporters.otlphttp.headers", "dd-protocol", False, False, 13),
        ("exporters.otlphttp.endpoint", None, False, False, 15),
        (
            "service.telemetry.traces.processors[0].batch.exporter.otlp.headers_list",
            None,
            True,
            False,
            23,
        ),
    ]


def test_a_reported_credential_is_shown_in_no_format(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  cart:\n"
        "    image: shop/cart:1\n"
        "    environment:\n"
        f"      OTEL_EXPORTER_OTLP_HEADERS: authorization=Bearer {KEY}\n"
        f"      CART_API_KEY: {KEY}\n"
    )
    (tmp_path / "otel.yaml").write_text(
        "extensions:\n"
        f"  bearertokenauth: {{token: {KEY}}}\n"
        "exporters:\n"
        f"  otlphttp: {{endpoint: https://otlp.example.com, headers: {{x-api-key: {KEY}}}}}\n"
        "service:\n"
        "  pipelines:\n"
        "    traces: {receivers: [otlp], exporters: [otlphttp]}\n"
    )
    args = ("check-config", str(tmp_path), "--select", "CF070", "--exit-zero", "--isolated")
    report = json.loads(otlint(*args, "--format", "json").stdout)
    assert len(report["findings"]) == 4
    assert {f["context"]["kind"] for f in report["findings"]} == {
        "http-credentials",
        "credential-key",
    }
    for fmt in ("text", "json", "sarif", "github", "junit"):
        for show in ((), ("--show-values",)):
            result = otlint(*args, "--format", fmt, *show)
            assert result.returncode == 0, result.stderr
            assert KEY not in result.stdout and KEY not in result.stderr, (fmt, show)
