"""Credentials planted in telemetry and configuration never reach an output of otlint.

Secrets of each kind go into the places a rule quotes: a ``peer.service`` that is a
database URL with a password (PE001 names the peer), a mistyped ``intValue`` that is an
API key (SC004 quotes what it read leniently), a deployment environment that holds a
token inside a longer value (ID006 names the value), and a collector header in a compose
file. Every format of ``check``, with and without ``--show-values``, ``merge`` of a shard,
``check-config``, and the one-line errors are searched for them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from otlint.core.redact import MASK, mask_secrets, redact_values

from conftest import otlint
from otlp_builder import write_input

#: The secret parts planted below: none may appear in any output.
PASSWORD = "S3cretPassw0rd"
API_KEY = "sk_live_" + "abcdefghijklmnop1234"
TOKEN = "ghp_" + "abcdefghijklmnopqrstuvwx"
HEADER_KEY = "Zq9xW2vB7nT4"
SECRETS = (PASSWORD, API_KEY, TOKEN, HEADER_KEY)

FORMATS = ("text", "concise", "json", "sarif", "github", "junit", "mermaid", "dot")


def assert_clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    """No planted secret in stdout or stderr."""
    for secret in SECRETS:
        assert secret not in result.stdout, f"{what}: {secret} on stdout"
        assert secret not in result.stderr, f"{what}: {secret} on stderr"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture whose findings quote the planted secrets."""
    folder = tmp_path_factory.mktemp("planted")
    write_input(
        {
            "traces": [
                {
                    "resource": {
                        "service.name": "checkout",
                        "deployment.environment.name": f"prod?token={TOKEN}",
                    },
                    "spans": [
                        {
                            "trace": 1,
                            "id": 1,
                            "kind": "client",
                            "attrs": {
                                "peer.service": f"postgres://admin:{PASSWORD}@db:5432/orders",
                                "db.query.text": f"SELECT 1 -- password='{PASSWORD}'",
                            },
                        }
                    ],
                }
            ]
        },
        folder,
    )
    doc = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "billing"}},
                        {"key": "retries", "value": {"intValue": API_KEY}},
                    ]
                },
                "scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}],
            }
        ]
    }
    (folder / "logs.json").write_text(json.dumps(doc))
    (folder / ".otlint.yaml").write_text(
        "rules:\n  ID006: {allowed: [production]}\n  PE001:\n  SC004:\n"
    )
    return folder


def test_the_planted_secrets_are_quoted_by_findings(planted: Path) -> None:
    """The capture does make the rules quote those values (else the test below is empty)."""
    result = otlint("check", str(planted), "--format", "json", "--exit-zero", cwd=planted)
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert {"PE001", "ID006", "SC004"} <= codes, result.stdout
    assert "postgres://admin:" + MASK + "@db:5432/orders" in result.stdout


@pytest.mark.parametrize("show", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret(planted: Path, fmt: str, show: bool) -> None:
    """Every format, with and without ``--show-values``."""
    args = ["check", str(planted), "--format", fmt, "--exit-zero"]
    result = otlint(*args, *(["--show-values"] if show else []), cwd=planted)
    assert result.returncode == 0, result.stderr
    assert_clean(result, f"{fmt} show={show}")


def test_merge_of_a_shard_shows_no_secret(planted: Path, tmp_path: Path) -> None:
    """A shard keeps the facts; the report merged from it masks them like any other."""
    shard = tmp_path / "a.otlint-state"
    made = otlint("check", str(planted), "--state", str(shard), "--exit-zero", cwd=planted)
    assert made.returncode == 0, made.stderr
    for fmt in ("text", "json", "sarif"):
        merged = otlint("merge", str(shard), "--format", fmt, "--show-values", "--exit-zero")
        assert merged.returncode == 0, merged.stderr
        assert_clean(merged, f"merge {fmt}")


def test_check_config_shows_no_secret(tmp_path: Path) -> None:
    """A header token and a URL password written into a compose file."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  cart:\n"
        "    image: shop/cart:1\n"
        "    environment:\n"
        f"      OTEL_EXPORTER_OTLP_HEADERS: api-key={HEADER_KEY}\n"
        f"      OTEL_RESOURCE_ATTRIBUTES: service.name=cart,db.url=postgres://u:{PASSWORD}@db\n"
        "      OTEL_PROPAGATORS: b3,tracecontext,\n"
    )
    for fmt in ("text", "json", "sarif"):
        result = otlint("check-config", str(tmp_path), "--format", fmt, "--exit-zero")
        assert result.returncode == 0, result.stderr
        assert_clean(result, f"check-config {fmt}")


def test_error_lines_show_no_secret(tmp_path: Path) -> None:
    """An input path that carries a token is named in the error without it."""
    result = otlint("check", str(tmp_path / f"dump?token={TOKEN}.json"))
    assert result.returncode == 2
    assert result.stderr.startswith("otlint: error: ")
    assert_clean(result, "error line")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"postgres://admin:{PASSWORD}@db:5432", "postgres://admin:****@db:5432"),
        (f"https://api.example.com/v1?token={TOKEN}&page=2", "?token=****&page=2"),
        (f"password='{PASSWORD}'", "password='****'"),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer ****"),
        (f"x-api-key: {HEADER_KEY}", "x-api-key: ****"),
        (f"key {API_KEY} in a sentence", "key **** in a sentence"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "****"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln", "****"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "****"),
    ],
)
def test_the_secret_part_is_masked(text: str, kept: str) -> None:
    """The secret part of a longer value is masked, and the rest is kept."""
    masked = mask_secrets(text)
    assert kept in masked
    for secret in SECRETS:
        assert secret not in masked


@pytest.mark.parametrize(
    "text",
    [
        "checkout",
        "token_count=5",
        "http://payments:8080/charge",
        "service.name=cart,service.namespace=shop",
        "peer.service 'payment-svc' names no service in the input",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    """Names, counts and plain URLs are not secrets."""
    assert mask_secrets(text) == text


def test_redact_values_masks_parts_and_wholes() -> None:
    """``--show-values``: a credential key masks the whole value, any other value its secret part."""
    out = redact_values({"db.password": "x1", "url.full": f"https://u:{PASSWORD}@h/p", "n": 3})
    assert out == {"db.password": MASK, "url.full": "https://u:****@h/p", "n": 3}


def test_a_huge_name_makes_a_small_report(tmp_path: Path) -> None:
    """A 2 MB ``service.name`` is echoed cut to size, and its cells of the matrix still meet
    its findings (the same cut names both)."""
    name = "svc-" + "x" * 2_000_000
    write_input(
        {"traces": [{"resource": {"service.name": name}, "spans": [{"trace": 1, "id": 1}]}]},
        tmp_path,
    )
    for fmt in FORMATS:
        result = otlint("check", str(tmp_path), "--format", fmt, "--exit-zero", "--isolated")
        assert result.returncode == 0, result.stderr
        assert len(result.stdout) < 200_000, (fmt, len(result.stdout))
        assert "(+1,999,748 characters)" in result.stdout or fmt in ("mermaid", "dot"), fmt
    report = json.loads(
        otlint("check", str(tmp_path), "--format", "json", "--exit-zero", "--isolated").stdout
    )
    flagged = {f["service"] for f in report["findings"]}
    cells = {c["service"] for c in report["joins"] if c["status"] == "broken"}
    assert flagged and flagged <= {c["service"] for c in report["joins"]}
    assert cells <= flagged
