"""Credentials planted in telemetry and configuration never reach an output of otlint (#13).

One secret of every kind goes where it really occurs, made by the real OpenTelemetry SDK:
captured ``authorization``/``cookie``/``x-api-key`` request headers, a URL with
``user:password@`` and ``?token=ghp_...``, a database URL in ``peer.service`` and in
``server.address``, literal passwords in ``db.query.text`` and ``db.statement``, an AWS
access key in a recorded exception (message and stack trace), a JWT, a Stripe key and a
private-key block in plain log bodies, a password in a structured (kvlist) log body, and
API keys and a token in resource attributes (one resource restarted with a rotated key,
so two resources differ only in their credential). A configuration tree (compose, .env,
Kubernetes) carries collector headers and URL passwords, and the sidecar is given an auth
token and an upstream header.

The test checks that the secret rules report each (service, key, kind) once, with its
location, in every format (SE001-SE003; CF070 for the configuration tree); and that no planted secret part (compared case-insensitively)
is in any stdout, stderr, ``-o`` file, ``--state`` shard (decompressed, resource keys
decoded), ``merge`` report, ``--show-values`` report (which shows ``****`` instead),
``check-config`` report, error line, or anything ``otlint serve`` answers, prints or
writes, while its upstream receives the telemetry byte for byte, credentials included.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zstandard

sys.path.insert(0, str(Path(__file__).parent / "serve"))  # (serving: the sidecar's helpers)

from serving import Upstream, free_port, sidecar

from otlint.core.redact import MASK, mask_secrets, redact_values
from otlint.telemetry.corpus.shard import MAGIC

from conftest import otlint, sarif_problems
from otlp_builder import write_input

# -- the planted secrets ---------------------------------------------------------------------

_RNG = random.Random(13)  # (fixed: a failure names the same value on every run)
_ALNUM = string.ascii_letters + string.digits


def _fake(n: int, alphabet: str = _ALNUM) -> str:
    """A random-looking fake credential of ``n`` characters: mixed case and a digit, as
    generated ones have (none of them is, or was ever, a real credential)."""
    while True:
        text = "".join(_RNG.choice(alphabet) for _ in range(n))
        if alphabet != _ALNUM or (
            any(c.isdigit() for c in text)
            and any(c.isupper() for c in text)
            and any(c.islower() for c in text)
        ):
            return text


def _upper(n: int) -> str:
    return _fake(n, string.ascii_uppercase + string.digits)


#: Name -> the secret PART of each value planted in the telemetry (the password, not the
#: URL around it). Prefixes are joined at run time: no credential-shaped literal in the source.
TELEMETRY: dict[str, str] = {
    "authorization header": _fake(32),
    "cookie header": _fake(26),
    "x-api-key header": _fake(30),
    "url password": _fake(14),
    "url token": "ghp" + "_" + _fake(36),
    "peer.service password": _fake(13),
    "server.address password": _fake(13),
    "db.query.text password": _fake(12),
    "db.statement password": _fake(12),
    "aws access key": "AKIA" + _upper(16),
    "jwt": "eyJ" + _fake(24) + ".eyJ" + _fake(40) + "." + _fake(43),
    "private key body": _fake(64),
    "stripe key": "sk" + "_live_" + _fake(24),
    "structured body password": _fake(15),
    "resource api key": _fake(22),
    "rotated resource api key": _fake(22),
    "environment token": "ghp" + "_" + _fake(36),
    "mistyped intValue key": "sk" + "_live_" + _fake(20),
}
#: ... in the configuration tree.
CONFIG: dict[str, str] = {
    "compose header bearer": _fake(28),
    "compose endpoint password": _fake(12),
    "compose resource url password": _fake(12),
    "dotenv api key": _fake(20),
    "dotenv vendor key": _fake(32),
    "dotenv resource url password": _fake(12),
    "k8s basic credentials": base64.b64encode(f"ci:{_fake(16)}".encode()).decode(),
    "k8s resource url password": _fake(12),
}
#: ... given to the sidecar (its flags, and the requests it must refuse).
SIDECAR: dict[str, str] = {
    "serve auth token": _fake(32),
    "serve upstream header": _fake(32),
    "wrong bearer token": _fake(32),
    "query string token": "ghp" + "_" + _fake(36),
}
#: ... in what makes an error: malformed records and files, flags, paths.
ERRORS: dict[str, str] = {
    "malformed record password": _fake(14),
    "malformed record token": "ghp" + "_" + _fake(36),
    "malformed yaml bearer": _fake(28),
    "config rule token": "ghp" + "_" + _fake(36),
    "selector token": "ghp" + "_" + _fake(36),
    "path token": "ghp" + "_" + _fake(36),
}
#: Every planted secret: none may be in any output.
PLANTED: dict[str, str] = TELEMETRY | CONFIG | SIDECAR | ERRORS
assert len(set(PLANTED.values())) == len(PLANTED) == 36
S = PLANTED
_LOWERED = {name: secret.lower() for name, secret in PLANTED.items()}

FORMATS = ("text", "concise", "json", "sarif", "github", "junit", "mermaid", "dot")
CHECKOUT, BILLING, LEDGER = "checkout", "billing", "ledger"
END = ": purge those records and rotate the credential"

#: One finding per (code, service, key, kind): what the capture below must be reported as.
EXPECTED_SE: frozenset[tuple[str, str, str, str]] = frozenset(
    {
        ("SE001", CHECKOUT, "http.request.header.authorization", "credential-key"),
        ("SE001", CHECKOUT, "http.request.header.cookie", "credential-key"),
        ("SE001", CHECKOUT, "http.request.header.x-api-key", "credential-key"),
        ("SE002", CHECKOUT, "url.full", "url-credentials"),
        ("SE003", CHECKOUT, "url.full", "assignment"),
        ("SE003", CHECKOUT, "url.full", "token"),
        ("SE002", CHECKOUT, "peer.service", "url-credentials"),
        ("SE002", CHECKOUT, "server.address", "url-credentials"),
        ("SE003", CHECKOUT, "db.query.text", "assignment"),
        ("SE003", CHECKOUT, "db.statement", "assignment"),
        ("SE003", CHECKOUT, "exception.message", "cloud-key"),
        ("SE003", CHECKOUT, "exception.stacktrace", "cloud-key"),
        ("SE003", CHECKOUT, "deployment.environment.name", "assignment"),
        ("SE003", CHECKOUT, "deployment.environment.name", "token"),
        ("SE003", BILLING, "process.command_line", "assignment"),
        ("SE003", BILLING, "body", "token"),
        ("SE003", BILLING, "body", "jwt"),
        ("SE003", BILLING, "body", "private-key"),
        ("SE001", BILLING, "body.password", "credential-key"),
    }
)


#: The runs of a command line, by what they ran (a format, with or without --show-values).
Runs = dict[Any, subprocess.CompletedProcess[str]]


def leaks(data: str | bytes) -> list[str]:
    """The names of the planted secrets ``data`` holds (case-insensitively: otlint lower-cases
    addresses, and a lower-cased credential is still one)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lowered = text.lower()
    return [name for name, secret in _LOWERED.items() if secret in lowered]


def assert_clean(what: str, *outputs: str | bytes) -> None:
    """No planted secret in any of ``outputs``; the message shows where one is."""
    for data in outputs:
        found = leaks(data)
        if found:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            at = text.lower().find(_LOWERED[found[0]])
            raise AssertionError(f"{what}: leaks {found}: ...{text[max(0, at - 120) : at + 80]!r}")


def assert_run_clean(what: str, result: subprocess.CompletedProcess[str]) -> None:
    assert_clean(f"{what} (stdout)", result.stdout)
    assert_clean(f"{what} (stderr)", result.stderr)


def run_all(calls: Mapping[Any, Sequence[str]], cwd: Path | None = None) -> Runs:
    """Run the CLI once per entry of ``calls``, two at a time (the runs are independent)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {
            key: pool.submit(otlint, *args, cwd=cwd, timeout=120) for key, args in calls.items()
        }
        return {key: future.result() for key, future in futures.items()}


def shard_bytes(path: Path) -> bytes:
    """Everything a ``--state`` file holds, readable: the file, its zstd frame decompressed,
    and the resources' keys (base64 in its header) decoded."""
    data = path.read_bytes()
    raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 30)
    assert raw.startswith(MAGIC)
    size = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "big")
    header = json.loads(raw[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
    keys = [base64.b64decode(r["key"]) for r in header["resources"]]
    assert keys, "a shard of the capture holds its resources"
    return b"\n".join([data, raw, *keys])


def se_tuples(findings: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(code, service, key, kind) of the SE findings of a JSON report."""
    return [
        (f["code"], f["service"], f["context"]["key"], f["context"]["kind"])
        for f in findings
        if f["code"].startswith("SE")
    ]


# -- the planted telemetry, made by the real SDK ---------------------------------------------


@dataclass
class Capture:
    """The planted telemetry: files in ``folder`` and the OTLP requests they hold; reports
    and shards of it go to ``out``."""

    folder: Path
    out: Path
    traces: bytes  # an ExportTraceServiceRequest, as the SDK's exporters send it
    logs: bytes  # an ExportLogsServiceRequest
    spans: Any  # the SDK's finished spans and log records they encode
    records: Any
    traces_file: Path
    logs_file: Path
    legacy_file: Path


def _sdk_spans() -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": CHECKOUT,
                "service.instance.id": "checkout-5d9f7",
                "service.version": "2.3.1",
                # A token inside a longer value: ID006 quotes it (with --show-values).
                "deployment.environment.name": f"prod?token={S['environment token']}",
            }
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("shop.checkout", "2.3.1")
    server = {
        "http.request.method": "POST",
        "url.path": "/cart",
        # Header capture (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST) keeps lists.
        "http.request.header.authorization": (f"Bearer {S['authorization header']}",),
        "http.request.header.cookie": (f"session={S['cookie header']}; theme=dark",),
        "http.request.header.x-api-key": (S["x-api-key header"],),
    }
    with tracer.start_as_current_span("POST /cart", kind=SpanKind.SERVER, attributes=server):
        url = (
            f"https://admin:{S['url password']}@api.partner.test/v1/orders"
            f"?token={S['url token']}&page=2"
        )
        attrs: dict[str, Any] = {
            "http.request.method": "GET",
            "url.full": url,
            "server.address": "api.partner.test",
        }
        with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT, attributes=attrs):
            pass
        attrs = {
            "db.system.name": "postgresql",
            "peer.service": f"postgres://app:{S['peer.service password']}@db:5432/orders",
            "db.query.text": f"UPDATE users SET password='{S['db.query.text password']}' WHERE id=7",
        }
        with tracer.start_as_current_span("UPDATE users", kind=SpanKind.CLIENT, attributes=attrs):
            pass
        attrs = {
            "db.system": "mysql",
            "server.address": f"mysql://root:{S['server.address password']}@legacy-db",
            "db.statement": (
                f"UPDATE accounts SET password = '{S['db.statement password']}' WHERE name = 'bob'"
            ),
        }
        with tracer.start_as_current_span(
            "UPDATE accounts", kind=SpanKind.CLIENT, attributes=attrs
        ):
            pass
        with tracer.start_as_current_span("upload receipt") as span:
            try:
                raise PermissionError(f"S3 PutObject denied for access key {S['aws access key']}")
            except PermissionError as exc:
                span.record_exception(exc)  # exception.message and exception.stacktrace
    provider.shutdown()
    return memory.get_finished_spans()


def _sdk_logs() -> Any:
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    records: list[Any] = []
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{S['private key body']}\n-----END RSA PRIVATE KEY-----"
    # The same instance restarted with a rotated key: two resources that differ only in it.
    for key in ("resource api key", "rotated resource api key"):
        provider = LoggerProvider(
            resource=Resource.create(
                {
                    "service.name": BILLING,
                    "service.instance.id": "billing-7c4d2",
                    "service.version": "1.0.4",
                    "deployment.environment.name": "production",
                    "process.command_line": f"/srv/billing --port 8080 --api-key={S[key]}",
                }
            )
        )
        memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
        logger = provider.get_logger("billing")
        if key == "resource api key":
            info = SeverityNumber.INFO
            logger.emit(
                body=f"stripe client ready with key {S['stripe key']}", severity_number=info
            )
            logger.emit(body=f"rejected expired JWT {S['jwt']}", severity_number=info)
            logger.emit(body=f"loaded signing key:\n{pem}", severity_number=info)
            logger.emit(
                body={"event": "login", "user": "bob", "password": S["structured body password"]},
                severity_number=info,
            )
        else:
            logger.emit(body="billing started", severity_number=SeverityNumber.INFO)
        provider.shutdown()
        records += memory.get_finished_logs()
    return records


def _legacy_json() -> dict[str, Any]:
    """An OTLP/JSON document a bridge mistyped: an API key as an ``intValue`` (SC004 quotes
    what it read leniently)."""
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": LEDGER}},
                        {"key": "retries", "value": {"intValue": S["mistyped intValue key"]}},
                    ]
                },
                "scopeLogs": [{"logRecords": [{"body": {"stringValue": "posted"}}]}],
            }
        ]
    }


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    folder = tmp_path_factory.mktemp("planted")
    spans, records = _sdk_spans(), _sdk_logs()
    traces = encode_spans(spans).SerializeToString()
    logs = encode_logs(records).SerializeToString()
    traces_file, logs_file = folder / "traces.pb", folder / "logs.pb"
    legacy_file = folder / "legacy.json"
    traces_file.write_bytes(traces)
    logs_file.write_bytes(logs)
    legacy_file.write_text(json.dumps(_legacy_json()))
    (folder / ".otlint.yaml").write_text("rules:\n  ID006: {allowed: [production]}\n")
    everything = traces + logs + legacy_file.read_bytes()
    missing = [name for name, secret in TELEMETRY.items() if secret.encode() not in everything]
    assert not missing, f"not planted: {missing}"
    out = tmp_path_factory.mktemp("reports")
    return Capture(folder, out, traces, logs, spans, records, traces_file, logs_file, legacy_file)


# -- otlint check ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checked(capture: Capture) -> Runs:
    """Every format of ``check`` to stdout, and again with ``--show-values`` to ``-o`` files;
    ``--statistics``; and two ``--state`` shards (the traces, the logs)."""
    out = capture.out
    base = ["check", ".", "--exit-zero", "-j", "1"]
    calls: dict[Any, list[str]] = {}
    for fmt in FORMATS:
        calls[(fmt, False)] = [*base, "--format", fmt]
        calls[(fmt, True)] = [*base, "--format", fmt, "--show-values", "-o", str(out / fmt)]
    calls["statistics"] = [*base, "--statistics"]
    calls["shard traces"] = ["check", "traces.pb", "--state", str(out / "traces.otlint-state")]
    calls["shard logs"] = [
        *("check", "logs.pb", "legacy.json"),
        *("--state", str(out / "logs.otlint-state")),
    ]
    results = run_all(calls, cwd=capture.folder)
    for key, result in results.items():
        assert result.returncode == 0, (key, result.stderr)
    return results


def _report(checked: Runs) -> Any:
    return json.loads(checked[("json", False)].stdout)


def test_every_planted_secret_is_found_once_per_service_key_and_kind(
    capture: Capture, checked: Runs
) -> None:
    """SE001/SE002/SE003: one finding per (service, key, kind), with a location, and a
    message the masking left whole."""
    findings = _report(checked)["findings"]
    found = se_tuples(findings)
    assert sorted(found) == sorted(EXPECTED_SE)  # each once: no duplicates, none missing
    for f in findings:
        if f["code"].startswith("SE"):
            assert f["level"] == "error" and f["join"] == "trust" and f["count"] >= 1, f
            assert f["locations"] and all(loc["path"] for loc in f["locations"]), f
            assert f["message"].endswith(END), f["message"]
    paths = {
        (f["service"], loc["path"])
        for f in findings
        if f["code"].startswith("SE")
        for loc in f["locations"]
    }
    assert {p for s, p in paths if s == CHECKOUT} == {"./traces.pb"}
    assert {p for s, p in paths if s == BILLING} == {"./logs.pb"}


def _se_findings(checked: Runs) -> Any:
    return [f for f in _report(checked)["findings"] if f["code"].startswith("SE")]


@pytest.mark.parametrize("show", [False, True], ids=["stdout", "show-values-o-file"])
def test_every_format_reports_the_findings_with_key_service_and_location(
    capture: Capture, checked: Runs, show: bool
) -> None:
    """The same SE findings, by code, service and message (which names the key and the
    kind), with their location, in each format that lists findings."""
    expected = _se_findings(checked)
    out = capture.out

    def report(fmt: str) -> str:
        return (out / fmt).read_text() if show else checked[(fmt, False)].stdout

    sarif = json.loads(report("sarif"))
    assert sarif_problems(sarif) == []
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"].startswith("SE")]
    got = {
        (
            r["ruleId"],
            r["properties"]["service"],
            r["properties"]["context"]["key"],
            r["properties"]["context"]["kind"],
        )
        for r in results
    }
    assert got == EXPECTED_SE and len(results) == len(EXPECTED_SE)
    for r in results:
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in r["locations"]}
        assert uris and uris <= {"./traces.pb", "./logs.pb"}, r

    text, concise, github = report("text").splitlines(), report("concise"), report("github")
    junit = ET.fromstring(report("junit"))
    cases = {
        (case.get("name"), failure.get("message")): failure.text or ""
        for case in junit.iter("testcase")
        for failure in case.iter("failure")
    }
    for f in expected:
        code, service, message = f["code"], f["service"], f["message"]
        path = f["locations"][0]["path"]
        line = f"ERROR   {code} {f['name']}  {service}  {message}  ("
        at = [i for i, text_line in enumerate(text) if text_line.strip().startswith(line)]
        assert len(at) == 1, (code, service, message)
        assert text[at[0] + 1].strip().startswith(path), (code, message)  # its location
        assert f"{path}:1:1: {code} [error] {service}: {message}\n" in concise, (code, message)
        assert f"::error file={path},title={code} {f['name']}::{service}: {message}" in github
        assert path in cases[(f"{code} {service}", message)], (code, message)
    # The graphs list no findings: each service is a node, marked broken.
    mermaid, dot = report("mermaid"), report("dot")
    assert f"    class svc_{BILLING},svc_{CHECKOUT},svc_{LEDGER} broken" in mermaid.splitlines()
    for service in (BILLING, CHECKOUT):
        assert f'"{service}" [label="{service}" style=filled' in dot, dot


@pytest.mark.parametrize("show", [False, True], ids=["stdout", "show-values-o-file"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret(capture: Capture, checked: Runs, fmt: str, show: bool) -> None:
    """Every format, to stdout and, with ``--show-values``, to an ``-o`` file."""
    result = checked[(fmt, show)]
    assert_run_clean(f"check --format {fmt} show-values={show}", result)
    if show:
        written = (capture.out / fmt).read_bytes()
        assert written and not result.stdout
        assert_clean(f"check -o ({fmt})", written)
    else:
        assert result.stdout


def test_show_values_shows_the_rest_and_masks_the_secret_part(
    checked: Runs, capture: Capture
) -> None:
    """``--show-values`` shows the value around the credential, ``****`` in its place; the
    peer and the mistyped value a rule quotes are masked the same way."""
    shown = json.loads((capture.out / "json").read_text())["findings"]
    env = [f["values"] for f in shown if f["code"] == "ID006"]
    assert env == [{"deployment.environment.name": [f"prod?token={MASK}"]}], env
    peers = {f["peer"] for f in shown if f["code"] == "PE001"}
    assert peers == {f"postgres://app:{MASK}@db:5432/orders"}
    lenient = [f["message"] for f in shown if f["code"] == "SC004"]
    assert lenient and all(MASK in m for m in lenient), lenient
    text = (capture.out / "text").read_text()
    assert f'deployment.environment.name=["prod?token={MASK}"]' in text


def test_statistics_show_no_secret(checked: Runs) -> None:
    result = checked["statistics"]
    assert "SE003 secret-in-value" in result.stdout
    assert_run_clean("check --statistics", result)


# -- shards and merge ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def merged(capture: Capture, checked: Runs) -> Runs:
    shards = [str(capture.out / f"{n}.otlint-state") for n in ("traces", "logs")]
    calls = {
        (fmt, show): ["merge", *shards, "--format", fmt, "--exit-zero"]
        + (["--show-values"] if show else [])
        for fmt in FORMATS
        for show in (False, True)
    }
    return run_all(calls, cwd=capture.folder)


def test_shards_hold_no_secret(capture: Capture, checked: Runs) -> None:
    """A shard keeps which key held which kind, never the value: not in its interned peer
    names and addresses, nor in its resources (two that differ only in a rotated key)."""
    for name in ("traces", "logs"):
        assert_run_clean(f"check --state ({name})", checked[f"shard {name}"])
        assert_clean(f"{name} shard", shard_bytes(capture.out / f"{name}.otlint-state"))


@pytest.mark.parametrize("show", [False, True], ids=["plain", "show-values"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_merge_of_the_shards_shows_no_secret(merged: Runs, fmt: str, show: bool) -> None:
    result = merged[(fmt, show)]
    assert result.returncode == 0, result.stderr
    assert result.stdout
    assert_run_clean(f"merge --format {fmt} show-values={show}", result)


def test_merge_reports_what_one_run_reports(
    capture: Capture,
    checked: Runs,
    merged: Runs,
) -> None:
    """The masked shards still give every SE finding, and the values masked alike."""
    one = json.loads((capture.out / "json").read_text())
    two = json.loads(merged[("json", True)].stdout)
    assert sorted(se_tuples(two["findings"])) == sorted(EXPECTED_SE)
    merged_findings = {(f["code"], f["service"], f["message"]) for f in two["findings"]}
    one_run = {(f["code"], f["service"], f["message"]) for f in one["findings"]}
    assert merged_findings == one_run, merged_findings ^ one_run
    env = [f["values"] for f in two["findings"] if f["code"] == "ID006"]
    assert env == [{"deployment.environment.name": [f"prod?token={MASK}"]}]


# -- check-config ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Compose, .env and a Kubernetes Deployment with collector headers and URL passwords."""
    root = tmp_path_factory.mktemp("configs")
    (root / "compose.yaml").write_text(
        "services:\n"
        "  cart:\n"
        "    image: shop/cart:1\n"
        "    environment:\n"
        "      OTEL_SERVICE_NAME: cart\n"
        "      OTEL_EXPORTER_OTLP_ENDPOINT: "
        f"https://otel:{S['compose endpoint password']}@collector.internal:4318\n"
        f"      OTEL_EXPORTER_OTLP_HEADERS: authorization=Bearer {S['compose header bearer']}\n"
        "      OTEL_RESOURCE_ATTRIBUTES: service.namespace=shop,"
        f"db.url=postgres://u:{S['compose resource url password']}@db,team\n"
        "      OTEL_PROPAGATORS: b3,tracecontext,\n"
    )
    (root / ".env").write_text(
        "OTEL_SERVICE_NAME=payments\n"
        f"OTEL_EXPORTER_OTLP_HEADERS=x-api-key={S['dotenv api key']},"
        f"dd-api-key={S['dotenv vendor key']}\n"
        "OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=prod,"
        f"config.url=https://deploy:{S['dotenv resource url password']}@config.internal/app\n"
    )
    (root / "k8s").mkdir()
    (root / "k8s" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: inventory\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: inventory\n"
        "          image: shop/inventory:2\n"
        "          env:\n"
        "            - name: OTEL_SERVICE_NAME\n"
        "              value: inventory\n"
        "            - name: OTEL_EXPORTER_OTLP_HEADERS\n"
        f'              value: "authorization=Basic {S["k8s basic credentials"]}"\n'
        "            - name: OTEL_RESOURCE_ATTRIBUTES\n"
        '              value: "service.namespace=shop,'
        f'vcs.url=https://ci:{S["k8s resource url password"]}@git.internal/shop.git,broken"\n'
    )
    return root


@pytest.fixture(scope="module")
def configs_checked(config_tree: Path) -> Runs:
    calls = {
        (fmt, show): ["check-config", ".", "--isolated", "--exit-zero", "--format", fmt]
        + (["--show-values", "--verbose"] if show else [])
        for fmt in FORMATS
        for show in (False, True)
    }
    return run_all(calls, cwd=config_tree)


@pytest.mark.parametrize("show", [False, True], ids=["plain", "show-values"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_check_config_shows_no_secret(configs_checked: Runs, fmt: str, show: bool) -> None:
    result = configs_checked[(fmt, show)]
    assert result.returncode == 0, result.stderr
    assert result.stdout
    assert_run_clean(f"check-config --format {fmt} show-values={show}", result)


def test_check_config_reads_every_file_and_masks_the_values_it_shows(
    configs_checked: Runs,
) -> None:
    """The tree is read (else the test above is empty), and the malformed attribute lists
    CF014 shows keep their other entries, ``****`` for the secret ones."""
    verbose = configs_checked[("text", True)].stderr
    for name in ("compose.yaml", ".env", "k8s/deploy.yaml"):
        assert f"{name}: read as" in verbose, verbose
    shown = json.loads(configs_checked[("json", True)].stdout)["findings"]
    values = sorted(v for f in shown if f["code"] == "CF014" for v in f["values"].values())
    assert values == [
        f"service.namespace=shop,db.url={MASK},team",
        f"service.namespace=shop,vcs.url={MASK},broken",
    ]


#: CF070: one finding per (service, file, setting, header, kind) of the tree above.
EXPECTED_CF070 = {
    ("cart", "compose.yaml", "OTEL_EXPORTER_OTLP_ENDPOINT", None, "url-credentials"),
    ("cart", "compose.yaml", "OTEL_EXPORTER_OTLP_HEADERS", "authorization", "http-credentials"),
    ("cart", "compose.yaml", "OTEL_RESOURCE_ATTRIBUTES", None, "url-credentials"),
    ("payments", ".env", "OTEL_EXPORTER_OTLP_HEADERS", "x-api-key", "credential-key"),
    ("payments", ".env", "OTEL_EXPORTER_OTLP_HEADERS", "dd-api-key", "credential-key"),
    ("payments", ".env", "OTEL_RESOURCE_ATTRIBUTES", None, "url-credentials"),
    ("inventory", "deploy.yaml", "OTEL_EXPORTER_OTLP_HEADERS", "authorization", "http-credentials"),
    ("inventory", "deploy.yaml", "OTEL_RESOURCE_ATTRIBUTES", None, "url-credentials"),
}


def test_check_config_reports_each_credential_written_into_the_tree(
    configs_checked: Runs,
) -> None:
    """CF070 names the setting, the header and the kind, at the line of each; never the value."""
    findings = json.loads(configs_checked[("json", False)].stdout)["findings"]
    got = [
        (
            f["service"],
            Path(f["locations"][0]["path"]).name,
            f["context"]["setting"],
            f["context"]["header"],
            f["context"]["kind"],
        )
        for f in findings
        if f["code"] == "CF070"
    ]
    assert sorted(got, key=str) == sorted(EXPECTED_CF070, key=str)
    assert all(f["locations"][0]["line"] for f in findings if f["code"] == "CF070")


# -- error paths -----------------------------------------------------------------------------


def test_error_lines_show_no_secret(capture: Capture, tmp_path: Path) -> None:
    """Errors that name a malformed record, an unknown rule or selector, a missing file or
    an unreadable config file keep their credentials masked."""
    record = (
        '{"resourceSpans":[{"resource":{"attributes":[{"key":"db.url","value":{"stringValue":'
        f'"postgres://u:{S["malformed record password"]}@db?token={S["malformed record token"]}"'
        "}}]}"
    )
    (tmp_path / "cut.jsonl").write_text(json.dumps(_legacy_json()) + "\n" + record + "\n")
    (tmp_path / "cut.pb").write_bytes(_cut_after(capture.traces, S["url password"].encode()))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / ".otlint.yaml").write_text(
        f'rules:\n  "prod?token={S["config rule token"]}": {{}}\n'
    )
    (tmp_path / "bad" / "x.jsonl").write_text(json.dumps(_legacy_json()) + "\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  cart:\n"
        "    environment:\n"
        f"      OTEL_EXPORTER_OTLP_HEADERS: authorization=Bearer {S['malformed yaml bearer']}\t: x\n"
    )
    calls: dict[str, tuple[list[str], Path]] = {
        "strict malformed record": (["check", "cut.jsonl", "--isolated", "--strict"], tmp_path),
        "strict cut record": (["check", "cut.pb", "--isolated", "--strict"], tmp_path),
        "unknown rule": (["check", "x.jsonl"], tmp_path / "bad"),
        "unknown selector": (
            ["check", "cut.jsonl", "--isolated", "--select", f"token={S['selector token']}"],
            tmp_path,
        ),
        "missing input": (["check", f"dump?token={S['path token']}.json", "--isolated"], tmp_path),
        "missing baseline": (
            ["check", "cut.jsonl", "--isolated", "--baseline", f"b?token={S['path token']}"],
            tmp_path,
        ),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(otlint, *a, cwd=cwd, timeout=60) for k, (a, cwd) in calls.items()}
        results = {k: f.result() for k, f in futures.items()}
    for what, result in results.items():
        assert result.returncode == 2, (what, result.stdout, result.stderr)
        assert result.stderr.startswith("otlint: error: "), (what, result.stderr)
        assert_run_clean(what, result)
    assert "'prod?token=****'" in results["unknown rule"].stderr
    assert "token=****" in results["unknown selector"].stderr
    # Without --strict the malformed record is a finding, and its shard holds no secret.
    shard = tmp_path / "cut.otlint-state"
    lenient = otlint("check", "cut.jsonl", "--isolated", "--state", str(shard), cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert_run_clean("lenient malformed record", lenient)
    assert_clean("shard of a malformed record", shard_bytes(shard))
    config = otlint("check-config", "compose.yaml", "--isolated", "--format", "json", cwd=tmp_path)
    assert config.returncode == 1, config.stderr
    assert [f["code"] for f in json.loads(config.stdout)["findings"]] == ["CF001"]
    assert_run_clean("malformed compose file", config)


def _cut_after(data: bytes, secret: bytes) -> bytes:
    """``data`` cut just after ``secret``: a record whose last bytes are a credential."""
    return data[: data.index(secret) + len(secret)]


# -- otlint serve ----------------------------------------------------------------------------


@dataclass
class Served:
    """What one sidecar run answered, printed and wrote, and what its upstream received."""

    answers: dict[str, bytes]
    stderr: str
    returncode: int
    report: bytes
    state: bytes
    received: list[tuple[str, bytes]]
    merged: subprocess.CompletedProcess[str]


def _get(url: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        body: bytes = r.read()
        return body


def _refused(request: urllib.request.Request) -> bytes:
    """The body of an error answer (the request must be refused)."""
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as err:
        body: bytes = err.read()
        return b"%d " % err.code + body
    raise AssertionError(f"{request.full_url} was accepted")


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(capture: Capture, tmp_path_factory: pytest.TempPathFactory) -> Served:
    """One sidecar with an auth token and an upstream header, fed the capture over real
    OTLP/HTTP (traces, by the SDK's exporter) and OTLP/gRPC (logs), queried, then stopped."""
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    tmp = tmp_path_factory.mktemp("serve")
    token = S["serve auth token"]
    upstream = Upstream(free_port())
    upstream.start()
    report, state = tmp / "report.sarif", tmp / "sidecar.otlint-state"
    answers: dict[str, bytes] = {}
    try:
        with sidecar(
            tmp,
            "--forward",
            f"127.0.0.1:{upstream.port}",
            "--forward-header",
            f"authorization=Bearer {S['serve upstream header']}",
            "--auth-token",
            token,
            "--report",
            str(report),
            "--format",
            "sarif",
            "--report-interval",
            "0.5",
            "--state",
            str(state),
            "--trace-idle",
            "0.2",
            "--show-values",
        ) as sc:
            http = f"http://{sc['http']}"
            spans = OTLPSpanExporter(
                endpoint=f"{http}/v1/traces", headers={"Authorization": f"Bearer {token}"}
            )
            assert spans.export(capture.spans) == SpanExportResult.SUCCESS
            logs = OTLPLogExporter(
                endpoint=sc["grpc"], insecure=True, headers={"authorization": f"Bearer {token}"}
            )
            assert logs.export(capture.records).name == "SUCCESS"
            # Refused requests: a wrong token, a token in a mistyped endpoint's query string.
            answers["wrong token"] = _refused(
                urllib.request.Request(
                    f"{http}/v1/traces",
                    data=capture.traces,
                    headers={
                        "Content-Type": "application/x-protobuf",
                        "Authorization": f"Bearer {S['wrong bearer token']}",
                    },
                )
            )
            answers["wrong path"] = _refused(
                urllib.request.Request(
                    f"{http}/v1/trace?token={S['query string token']}",
                    data=capture.traces,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                )
            )
            _wait(lambda: len(upstream.received) >= 2, 30, "the upstream to receive both")

            def linted() -> bool:
                summary = json.loads(_get(f"{http}/report", token))["summary"]
                return bool(summary["spans"] == 5 and summary["logs"] == 5)

            _wait(linted, 30, "the sidecar to lint both requests")
            time.sleep(0.6)  # (the idle traces judged, the report file rewritten)
            answers["/report"] = _get(f"{http}/report", token)
            answers["/metrics"] = _get(f"{http}/metrics", token)
            answers["/healthz"] = _get(f"{http}/healthz")
            answers["live report file"] = report.read_bytes()
        assert sc["returncode"] == 0, sc["stderr"]
    finally:
        upstream.stop()
    merged = otlint("merge", str(state), "--format", "json", "--show-values", "--exit-zero")
    return Served(
        answers=answers,
        stderr=sc["stderr"],
        returncode=sc["returncode"],
        report=report.read_bytes(),
        state=shard_bytes(state),
        received=list(upstream.received),
        merged=merged,
    )


def test_serve_forwards_the_telemetry_untouched(served: Served, capture: Capture) -> None:
    """Forwarding is not masking: the upstream gets the user's data byte for byte."""
    assert sorted(served.received) == sorted([("traces", capture.traces), ("logs", capture.logs)])
    received = b"".join(body for _, body in served.received)
    assert set(leaks(received)) == set(TELEMETRY) - {"mistyped intValue key"}  # (not sent)


def test_serve_answers_and_prints_no_secret(served: Served) -> None:
    """/report, /metrics, /healthz, the refusals, stderr, and the live report file."""
    assert json.loads(served.answers["/report"])["summary"]["spans"] == 5
    assert b"otlint_received_records_total" in served.answers["/metrics"]
    assert served.answers["/healthz"].startswith(b"ok")
    assert served.answers["wrong token"].startswith(b"401 ")
    assert served.answers["wrong path"].startswith(b"404 ")
    for what, body in served.answers.items():
        assert_clean(f"serve {what}", body)
    assert_clean("serve stderr", served.stderr)


def test_serve_reports_and_writes_no_secret(served: Served) -> None:
    """The final SARIF report at SIGTERM and the --state shard hold the findings, not the
    credentials; the shard merges to the same SE findings."""
    for what in ("/report", "live report file"):
        assert served.answers[what]
    sarif = json.loads(served.report)
    assert sarif_problems(sarif) == []
    got = {
        (
            r["ruleId"],
            r["properties"]["service"],
            r["properties"]["context"]["key"],
            r["properties"]["context"]["kind"],
        )
        for r in sarif["runs"][0]["results"]
        if r["ruleId"].startswith("SE")
    }
    assert got == EXPECTED_SE
    live = json.loads(served.answers["/report"])
    assert sorted(se_tuples(live["findings"])) == sorted(EXPECTED_SE)
    peers = {r["properties"]["peer"] for r in sarif["runs"][0]["results"] if r["ruleId"] == "PE001"}
    assert peers == {f"postgres://app:{MASK}@db:5432/orders"}
    assert_clean("serve final report", served.report)
    assert_clean("serve --state", served.state)
    assert served.merged.returncode == 0, served.merged.stderr
    assert sorted(se_tuples(json.loads(served.merged.stdout)["findings"])) == sorted(EXPECTED_SE)
    assert_run_clean("merge of the sidecar's shard", served.merged)


# -- the masking function itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"postgres://admin:{S['peer.service password']}@db:5432", "postgres://admin:****@db:5432"),
        (f"https://api.example.com/v1?token={S['url token']}&page=2", "?token=****&page=2"),
        (f"password='{S['db.query.text password']}'", "password='****'"),
        (f"Authorization: Bearer {S['authorization header']}", "Authorization: Bearer ****"),
        (f"x-api-key: {S['x-api-key header']}", "x-api-key: ****"),
        (f"key {S['stripe key']} in a sentence", "key **** in a sentence"),
        (S["aws access key"], "****"),
        (S["jwt"], "****"),
        (
            f"-----BEGIN RSA PRIVATE KEY-----\n{S['private key body']}\n-----END RSA PRIVATE KEY-----",
            "****",
        ),
    ],
    ids=["url", "query", "assignment", "bearer", "header", "stripe", "aws", "jwt", "pem"],
)
def test_the_secret_part_is_masked(text: str, kept: str) -> None:
    """The secret part of a longer value is masked, and the rest is kept."""
    masked = mask_secrets(text)
    assert kept in masked
    assert not leaks(masked)


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
    pw = S["url password"]
    out = redact_values({"db.password": "x1", "url.full": f"https://u:{pw}@h/p", "n": 3})
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
