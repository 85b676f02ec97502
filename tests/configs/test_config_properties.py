"""Property-based tests of the config loaders (issue 13): whatever a file holds, the
loaders raise nothing but their documented errors.

- ``otlint.core.yamlpos``: ``OtlintError`` (``LimitError`` among them) and nothing
  else; every position it records lies in the text; the lenient reading never raises.
- ``.env`` parsing never raises.
- ``check-config``'s whole read and its rules, over real files of any bytes, random
  YAML and documents shaped like each kind of configuration otlint reads: no exception
  at all (a file otlint cannot read is a CF001 finding or a note).
- otlint's own settings (``.otlint.yaml``, ``pyproject.toml``): ``OtlintError`` only.

Hypothesis keeps no example database here (nothing is written into the repository);
a failure prints the example that reproduces it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Hashable
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from otlint.configs.document import dotenv_error, looks_like_dotenv, parse_dotenv
from otlint.core.errors import OtlintError
from otlint.core.yamlpos import load_all_lenient, load_all_with_marks, load_yaml_with_marks
from otlint.registry import REGISTRY
from otlint.run.check_config import build_config_report, evaluate_configs, read_configs
from otlint.settings import load_settings

#: Examples per test; ``OTLINT_EXAMPLES=5000`` for a longer hunt than ``make test``'s.
EXAMPLES = int(os.environ.get("OTLINT_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RULES = load_settings(REGISTRY, isolated=True)

#: Words the readers look for, so that random documents reach past ``detect``.
WORDS = [
    "services",
    "image",
    "environment",
    "env_file",
    "volumes",
    "command",
    "entrypoint",
    "depends_on",
    "include",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_PROPAGATORS",
    "OTEL_CONFIG_FILE",
    "OTEL_SDK_DISABLED",
    "JAVA_TOOL_OPTIONS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
    "service",
    "pipelines",
    "traces",
    "logs",
    "metrics",
    "otlp",
    "batch",
    "attributes",
    "resource",
    "transform",
    "k8sattributes",
    "resourcedetection",
    "actions",
    "key",
    "action",
    "value",
    "delete",
    "hash",
    "upsert",
    "insert",
    "update",
    "extract",
    "metadata",
    "trace_statements",
    "context",
    "statements",
    "override",
    "detectors",
    "apiVersion",
    "kind",
    "List",
    "items",
    "metadata",
    "name",
    "namespace",
    "generateName",
    "annotations",
    "labels",
    "spec",
    "template",
    "containers",
    "initContainers",
    "env",
    "envFrom",
    "valueFrom",
    "fieldRef",
    "fieldPath",
    "configMapKeyRef",
    "configMapRef",
    "secretKeyRef",
    "mountPath",
    "subPath",
    "volumeMounts",
    "configMap",
    "data",
    "config",
    "jobTemplate",
    "Deployment",
    "Pod",
    "CronJob",
    "StatefulSet",
    "ConfigMap",
    "Instrumentation",
    "OpenTelemetryCollector",
    "opentelemetry.io/v1alpha1",
    "apps/v1",
    "v1",
    "file_format",
    "tracer_provider",
    "propagator",
    "composite",
    "resource",
    "attributes",
    "detectors",
    "instrumentation.opentelemetry.io/inject-java",
    "resource.opentelemetry.io/team",
    "tracecontext",
    "baggage",
    "b3",
    "b3multi",
    "jaeger",
    "xray",
    "none",
    "service.name",
    "service.namespace",
    "deployment.environment.name",
    "deployment.environment",
    "0.3",
    "1.0",
    "${ENV}",
    "${env:X:-d}",
    "$(POD)",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(WORDS),
    st.builds(
        lambda pairs: ",".join(f"{k}={v}" for k, v in pairs),
        st.lists(st.tuples(st.sampled_from(WORDS), st.text(max_size=8)), max_size=5),
    ),
)
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.integers(), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


def _env(draw_values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    names = st.sampled_from([w for w in WORDS if w.isupper() or w.startswith("OTEL")])
    return st.one_of(
        st.dictionaries(names, draw_values, max_size=5),
        st.lists(
            st.builds(lambda n, v: f"{n}={v}", names, st.text(max_size=20)) | draw_values,
            max_size=5,
        ),
        st.lists(
            st.fixed_dictionaries(
                {"name": names}, optional={"value": draw_values, "valueFrom": draw_values}
            ),
            max_size=5,
        ),
    )


#: Documents shaped like each kind otlint reads, with anything in their fields.
shaped = st.one_of(
    st.fixed_dictionaries(
        {
            "services": st.dictionaries(
                st.text(min_size=1, max_size=8),
                st.fixed_dictionaries(
                    {"image": scalars},
                    optional={
                        "environment": _env(values),
                        "env_file": values,
                        "volumes": values,
                        "command": values,
                    },
                ),
                max_size=4,
            )
        },
        optional={"include": values, "x-common": values},
    ),
    st.fixed_dictionaries(
        {
            "receivers": values,
            "exporters": values,
            "processors": st.dictionaries(
                st.sampled_from(["attributes", "resource", "transform", "k8sattributes", "batch"]),
                values,
                max_size=3,
            ),
            "service": st.fixed_dictionaries({"pipelines": values}),
        }
    ),
    st.fixed_dictionaries(
        {
            "apiVersion": st.sampled_from(["apps/v1", "v1", "batch/v1"]),
            "kind": st.sampled_from(["Deployment", "Pod", "CronJob", "ConfigMap", "List"]),
            "metadata": st.fixed_dictionaries(
                {"name": scalars}, optional={"annotations": values, "namespace": scalars}
            ),
        },
        optional={
            "spec": st.fixed_dictionaries(
                {
                    "template": st.fixed_dictionaries(
                        {
                            "spec": st.fixed_dictionaries(
                                {
                                    "containers": st.lists(
                                        st.fixed_dictionaries(
                                            {"name": scalars},
                                            optional={
                                                "image": scalars,
                                                "env": _env(values),
                                                "envFrom": values,
                                                "volumeMounts": values,
                                            },
                                        ),
                                        max_size=3,
                                    )
                                },
                                optional={"volumes": values},
                            )
                        },
                        optional={"metadata": values},
                    )
                }
            ),
            "data": st.dictionaries(st.text(max_size=8), values | st.text(), max_size=3),
            "items": st.lists(values, max_size=3),
        },
    ),
    st.fixed_dictionaries(
        {
            "apiVersion": st.just("opentelemetry.io/v1alpha1"),
            "kind": st.sampled_from(["Instrumentation", "OpenTelemetryCollector"]),
            "metadata": values,
            "spec": values,
        }
    ),
    st.fixed_dictionaries(
        {"file_format": st.sampled_from(["0.3", "1.0", "${V}", 0.3])},
        optional={
            "resource": values,
            "propagator": values,
            "tracer_provider": values,
            "disabled": values,
        },
    ),
)

#: Fragments of YAML syntax to splice into text: anchors, aliases, merges, documents.
FRAGMENTS = st.sampled_from(
    [
        "&a ",
        "*a",
        "<<: *a\n",
        "<<: [*a, *a]\n",
        "---\n",
        "? ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        "!!binary ",
        "!Ref ",
        "\t",
        "\n  ",
        "# otlint: disable=CF010\n",
        "{{ .Values.x }}",
        '"',
        "'",
        "|\n  ",
        "\ufeff",
        "\x00",
    ]
)
yamlish = st.lists(
    st.one_of(FRAGMENTS, st.sampled_from(WORDS), st.text(max_size=6)), max_size=40
).map("".join)


def _dump(doc: object) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, TypeError):
        return json.dumps(doc, default=str)


def _positions_inside(text: str, marks_positions: list[tuple[int, int]]) -> None:
    lines = text.split("\n")
    for line, column in marks_positions:
        assert 1 <= line <= len(lines) + 1, (line, column)
        assert column >= 1


def _check_config_reads(files: dict[str, bytes]) -> list[str]:
    """Write ``files`` into a fresh folder; check-config's read, rules and report. The
    problems (CF001) it found, as messages."""
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        facts = read_configs([folder])
        findings = evaluate_configs(facts, RULES)
        build_config_report(facts, findings)
        return [p.message for p in facts.problems]


NAMES = st.sampled_from(
    ["compose.yaml", "otel.yaml", ".env", "app.env", "k8s/deploy.yaml", "conf.yml", "values.yaml"]
)


@SETTINGS
@given(yamlish)
def test_yaml_loading_raises_only_otlint_errors(text: str) -> None:
    try:
        docs = load_all_with_marks(text, "f.yaml")
    except OtlintError as exc:
        assert str(exc).startswith("f.yaml:")
        return
    for _data, marks in docs:
        recorded = [*marks._keys.values(), *marks._values.values()]
        _positions_inside(text, [(p.line, p.column) for p in recorded])
    try:
        load_yaml_with_marks(text, "f.yaml")
    except OtlintError as exc:
        assert str(exc).startswith("f.yaml:")
    lenient = load_all_lenient(text)
    assert lenient is None or isinstance(lenient, list)


@SETTINGS
@given(st.one_of(values, shaped))
def test_dumped_documents_load_as_they_were(doc: object) -> None:
    text = _dump(doc)
    try:
        [(data, _marks)] = load_all_with_marks(text, "f.yaml")
    except OtlintError:
        return  # duplicate keys after YAML's own key equality (1 == True), nesting
    if isinstance(doc, dict) and all(isinstance(k, str) for k in doc):
        assert isinstance(data, dict)
        assert set(data) == set(doc)


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(WORDS), FRAGMENTS), max_size=30))
def test_dotenv_parsing_never_raises(pieces: list[str]) -> None:
    text = "".join(
        f"{p}={q}\n" if i % 3 == 0 else p
        for i, (p, q) in enumerate(zip(pieces, [*pieces[1:], ""], strict=False))
    )
    looks_like_dotenv(text)
    dotenv_error(text)
    doc = parse_dotenv(text, ".env")
    assert isinstance(doc.data, dict)
    for key in doc.data:
        assert isinstance(key, Hashable)


#: Bytes as files hold them: anything, YAML-ish text, and that text with a byte order mark.
contents = st.one_of(
    st.binary(max_size=200),
    yamlish.map(str.encode),
    st.builds(
        lambda text, codec: text.encode(codec, errors="surrogatepass"),
        yamlish,
        st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig"]),
    ),
)


@SETTINGS
@given(st.dictionaries(NAMES, contents, max_size=3))
def test_check_config_reads_any_bytes(files: dict[str, bytes]) -> None:
    _check_config_reads(files)


@SETTINGS
@given(st.dictionaries(NAMES, st.lists(shaped, min_size=1, max_size=3), min_size=1, max_size=3))
@example({"compose.yaml": [{"services": {"0": {"image": None, "env_file": "\x00"}}}]})
def test_check_config_reads_documents_of_every_kind(files: dict[str, list[object]]) -> None:
    """Every reader copes with whatever its fields hold: none falls back on "a shape otlint
    cannot read" (the guard that keeps one document's surprise from ending the run)."""
    problems = _check_config_reads(
        {name: "---\n".join(_dump(doc) for doc in docs).encode() for name, docs in files.items()}
    )
    assert not [p for p in problems if "shape otlint cannot read" in p]


@SETTINGS
@given(
    st.one_of(
        yamlish,
        st.dictionaries(
            st.sampled_from(
                ["extends", "fail-on", "select", "ignore", "rules", "services", "paths"]
            )
            | st.text(max_size=8),
            values,
            max_size=4,
        ).map(_dump),
    ),
    st.sampled_from([".otlint.yaml", "pyproject.toml"]),
)
def test_settings_loading_raises_only_otlint_errors(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if name == "pyproject.toml":
            text = "[tool.otlint]\n" + text
        (Path(folder) / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        with contextlib.suppress(OtlintError):  # the one error settings may raise
            load_settings(REGISTRY, cwd=Path(folder))
