"""The pieces under the config rules: reference resolution, OTEL_RESOURCE_ATTRIBUTES parsing,
.env parsing, content detection and the facts readers link across files."""

from __future__ import annotations

from pathlib import Path

import pytest

from otlint.configs.document import looks_like_dotenv, parse_dotenv
from otlint.configs.registry import READERS, Reader
from otlint.configs.resattrs import parse_resource_attributes
from otlint.configs.subst import resolve
from otlint.run.check_config import read_configs


@pytest.mark.parametrize(
    ("raw", "syntax", "env", "text", "unknown"),
    [
        ("${env:ENDPOINT:-collector:4317}", "collector", None, "collector:4317", ()),
        ("${env:ENDPOINT}", "collector", None, None, ("${env:ENDPOINT}",)),
        ("${file:/etc/otel/attrs}", "collector", None, None, ("${file:/etc/otel/attrs}",)),
        ("$${env:LITERAL}", "collector", None, "${env:LITERAL}", ()),
        ("${SERVICE:-checkout}", "sdk", None, "checkout", ()),
        ("${SERVICE:-checkout}", "sdk", {"SERVICE": ""}, "checkout", ()),
        ("$NAME-${TAG-latest}", "compose", {"NAME": "shop"}, "shop-latest", ()),
        ("${TAG-x}", "compose", {"TAG": ""}, "", ()),
        ("${MISSING:?set it}", "compose", {}, None, ("${MISSING:?set it}",)),
        ("${DEBUG:+on}", "compose", {"DEBUG": "1"}, "on", ()),
        ("k8s.pod.uid=$(POD_UID)", "kubernetes", {"POD_UID": None}, None, ("$(POD_UID)",)),
        (
            "a=$(A),b=$(UNDEFINED),c=$$(A)",
            "kubernetes",
            {"A": "1"},
            "a=1,b=$(UNDEFINED),c=$(A)",
            (),
        ),
    ],
)
def test_references_resolve_only_as_far_as_statically_known(
    raw: str,
    syntax: str,
    env: dict[str, str | None] | None,
    text: str | None,
    unknown: tuple[str, ...],
) -> None:
    value = resolve(raw, syntax, env)
    assert value.text == text
    assert value.unknown == unknown


def test_resource_attributes_follow_the_spec() -> None:
    parsed = parse_resource_attributes(
        resolve(" service.namespace = shop ,team.name=Checkout%20Squad,,", "sdk")
    )
    assert parsed.error is None
    assert [(e.key, e.value) for e in parsed.entries] == [
        ("service.namespace", "shop"),
        ("team.name", "Checkout Squad"),
    ]
    bad = parse_resource_attributes(resolve("a=1,b,c=3", "sdk"))
    assert (bad.error, bad.error_offset, bad.keys) == ("entry 2 has no '='", 4, ["a", "c"])
    assert "%25" in str(parse_resource_attributes(resolve("share=50%", "sdk")).error)
    assert "%3D" in str(parse_resource_attributes(resolve("q=a=b", "sdk")).error)
    assert parse_resource_attributes(resolve("=x", "sdk")).error == "entry 1 has an empty key"


def test_unresolved_references_in_resource_attributes() -> None:
    value = resolve(
        "k8s.pod.uid=$(POD_UID),$(EXTRA)", "kubernetes", {"POD_UID": None, "EXTRA": None}
    )
    parsed = parse_resource_attributes(value)
    assert parsed.error is None and parsed.opaque
    assert [(e.key, e.value) for e in parsed.entries] == [("k8s.pod.uid", None)]


def test_dotenv_parsing_and_detection() -> None:
    text = 'export A=1\n# comment\nB="two # not a comment"\nC=three # a comment\nD=\'$LITERAL\'\nE="multi\nline"\n'
    assert looks_like_dotenv(text)
    doc = parse_dotenv(text, ".env")
    assert doc.data == {
        "A": "1",
        "B": "two # not a comment",
        "C": "three",
        "D": "$LITERAL",
        "E": "multi\nline",
    }
    assert doc.value(("C",)).line == 4 and doc.key(("B",)).column == 1
    assert not looks_like_dotenv("use nix\n")
    assert not looks_like_dotenv("key: value\n")


def test_every_reader_satisfies_the_protocol() -> None:
    assert list(READERS) == ["sdk", "operator", "kubernetes", "compose", "collector", "dotenv"]
    for reader in READERS.values():
        assert isinstance(reader, Reader)


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def test_kubernetes_list_configmap_and_operator_injection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path,
        {
            "all.yaml": """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: otel, namespace: shop}
    data: {OTEL_SERVICE_NAME: cart}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cart, namespace: shop}
    spec:
      template:
        metadata:
          annotations:
            instrumentation.opentelemetry.io/inject-java: shop/java
            instrumentation.opentelemetry.io/container-names: app
        spec:
          containers:
            - name: app
              envFrom: [{configMapRef: {name: otel}}]
            - name: sidecar
              env: [{name: OTEL_SDK_DISABLED, value: "true"}]
""",
            "instrumentation.yaml": """\
apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: java, namespace: shop}
spec:
  propagators: [tracecontext, b3]
  java:
    env:
      - {name: OTEL_RESOURCE_ATTRIBUTES, value: "deployment.environment.name=production"}
""",
        },
    )
    monkeypatch.chdir(tmp_path)
    facts = read_configs(["all.yaml", "instrumentation.yaml"])
    units = {u.label: u for u in facts.units}
    app = units["container app (Deployment cart)"]
    assert app.service == "cart"
    assert (
        app.service_name is not None
        and app.service_name.at.path == "all.yaml"
        and app.service_name.at.line == 7
    )
    assert app.effective_propagators == ("tracecontext", "b3")
    assert app.attributes["deployment.environment.name"].at.path == "instrumentation.yaml"
    assert "service.instance.id" in app.attributes  # the Operator sets it
    assert units["container sidecar (Deployment cart)"].disabled
    assert units["Instrumentation shop/java"].used


def test_compose_env_file_and_project_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(
        tmp_path,
        {
            "deploy/.env": "TAG=1.4.2\nNAME=checkout\n",
            "deploy/otel.env": "OTEL_RESOURCE_ATTRIBUTES=service.namespace=shop\nOTEL_PROPAGATORS=tracecontext\n",
            "deploy/docker-compose.yaml": """\
services:
  checkout:
    image: shop/checkout:${TAG}
    env_file: [otel.env, {path: missing.env, required: false}]
    environment:
      OTEL_SERVICE_NAME: ${NAME}
      OTEL_PROPAGATORS: tracecontext,baggage
      JAVA_TOOL_OPTIONS: -javaagent:/otel/opentelemetry-javaagent.jar -Dotel.resource.attributes=service.version=1.4.2
""",
        },
    )
    monkeypatch.chdir(tmp_path)
    facts = read_configs(["deploy/docker-compose.yaml"])
    (unit,) = facts.units
    assert unit.service == "checkout" and not unit.env_gaps
    assert unit.effective_propagators == ("tracecontext", "baggage")  # environment beats env_file
    # The Java system property beats OTEL_RESOURCE_ATTRIBUTES from the env_file.
    assert set(unit.attributes) == {"service.name", "service.version"}
    assert unit.env["OTEL_RESOURCE_ATTRIBUTES"].key_at.path == "deploy/otel.env"
