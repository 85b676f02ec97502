"""What every fuzzer does with its bytes: read them as an input of one format, to the end.

A fuzzer (``fuzz_<reader>.py``) hands each input to one function here; whatever it raises
is a crash, except the documented errors (``OtlintError``, for a file that cannot be
opened). The readers are driven as ``check`` drives them: detect, read every item, and
observe every message into a Corpus. Seeds come from ``seeds()``: a small OTLP request in
every format.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from otlint.core import wire  # noqa: E402
from otlint.core.errors import OtlintError  # noqa: E402
from otlint.run.scan import ScanStats, read_source  # noqa: E402
from otlint.telemetry.corpus.corpus import Corpus  # noqa: E402
from otlint.telemetry.observe import Observer  # noqa: E402
from otlint.telemetry.readers import (  # noqa: E402
    Source,
    classify,
    has_otlp_shape,
    open_range,
    open_source,
    split_points,
)
from otlint.telemetry.readers.framed import framed, raw  # noqa: E402
from otlint.telemetry.readers.jsonl import json_document, jsonl  # noqa: E402
from otlint.telemetry.readers.sniff import PEEK  # noqa: E402
from otlint.telemetry.readers.streams import Budget, guard  # noqa: E402

_DIR = Path(os.environ.get("OTLINT_FUZZ_TMP") or tempfile.gettempdir())
_FILE = _DIR / f"otlint-fuzz-{os.getpid()}.bin"


def _observe(source: Source) -> None:
    """Read every item of ``source`` into a Corpus, as ``check`` does."""
    if source.skip is not None:
        source.close()
        return
    read_source(source, source.path, Observer(Corpus()), ScanStats())


def _stream(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(io.BytesIO(data), PEEK)  # type: ignore[arg-type]


def read_file(data: bytes) -> None:
    """``data`` as a file on disk, its format detected (every reader behind ``open_source``)."""
    _FILE.write_bytes(data)
    try:
        source = open_source(str(_FILE))
    except OtlintError:
        return
    _observe(source)


def read_jsonl(data: bytes) -> None:
    """``data`` as JSON Lines (decided, and not: a process's output)."""
    for decided in (True, False):
        items = guard(jsonl(_stream(data), b"", decided), [])
        _observe(Source("fuzz.jsonl", "jsonl", True, items, decided=decided))


def read_json(data: bytes) -> None:
    """``data`` as one OTLP/JSON document."""
    _observe(Source("fuzz.json", "json", False, guard(json_document(_stream(data), b""), [])))


def read_framed(data: bytes) -> None:
    """``data`` as length-prefixed frames (with zstd frames among them, if it has any)."""
    items = guard(framed(_stream(data), "fuzz", budget=Budget.of_size(len(data))), [])
    _observe(Source("fuzz.binpb", "proto-framed", False, items))


def read_raw(data: bytes) -> None:
    """``data`` as one raw protobuf message, and what the shape tests say of it."""
    classify(data)
    has_otlp_shape(data)
    _observe(Source("fuzz.pb", "protobuf", False, guard(raw(_stream(data), "fuzz"), [])))


def read_gzip(data: bytes) -> None:
    """``data`` as a gzip stream as it is, and gzip-compressed (its content fuzzed)."""
    read_file(b"\x1f\x8b" + data)
    read_file(gzip.compress(data, compresslevel=1))


def read_zstd(data: bytes) -> None:
    """``data`` as a zstd stream as it is, and zstd-compressed (its content fuzzed)."""
    import zstandard

    read_file(b"\x28\xb5\x2f\xfd" + data)
    read_file(zstandard.ZstdCompressor(level=1).compress(data))


def read_pieces(data: bytes) -> None:
    """``data`` cut into pieces at record boundaries, as ``--jobs`` does, each piece read."""
    _FILE.write_bytes(data)
    for fmt in ("jsonl", "proto-framed"):
        for start, end, first in split_points(str(_FILE), fmt, len(data), 64):
            _observe(open_range(str(_FILE), fmt, start, end, first))


def read_wire(data: bytes) -> None:
    """``data`` as an encoded Resource, KeyValue and AnyValue (bad bytes raise ValueError)."""
    with contextlib.suppress(wire.NestingTooDeep):
        wire.decode_resource(data)
    for decode in (wire.decode_anyvalue, wire.decode_keyvalue, wire.key_and_type):
        with contextlib.suppress(ValueError):
            decode(data)
    wire.invalid_utf8_keys(data)


def seeds() -> dict[str, bytes]:
    """A small OTLP request of each signal, in each format the readers know (with credentials
    in the places the secret rules search: URLs, headers, log bodies, a resource attribute)."""
    import zstandard

    from otlp_builder import logs, metrics, traces

    t = traces(
        [
            {
                "resource": {
                    "service.name": "shop",
                    "deep": [[1, {"a": "b"}]],
                    "app.dsn": "postgres://u:Pw9xQz1@db",
                },
                "spans": [
                    {"trace": 1, "id": 1, "kind": "server", "attrs": {"http.route": "/x"}},
                    {
                        "trace": 1,
                        "id": 2,
                        "parent": 1,
                        "kind": "client",
                        "attrs": {
                            "peer.service": "db",
                            "server.port": 5432,
                            "url.full": "https://a:Zz9PwQ1x@h/x?token=ghp_0123456789abcdefghijABCDEFGHIJ",
                            "http.request.header.authorization": [
                                "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig0123"
                            ],
                        },
                    },
                ],
            }
        ]
    ).SerializeToString()
    lg = logs(
        [
            {
                "resource": {"service.name": "shop"},
                "records": [
                    {
                        "trace": 1,
                        "span": 1,
                        "body": "login password=hunter22 key AKIAZ5XQ7RTYUIOPLKJH",
                    },
                    {
                        "body": {
                            "user": "bob",
                            "password": "S3cret!",
                            "auth": ["Basic dXNlcjpwdw=="],
                        }
                    },
                ],
            }
        ]
    )
    m = metrics(
        [
            {
                "resource": {"service.name": "shop"},
                "points": [{"exemplars": [{"trace": 1, "span": 1}]}],
            }
        ]
    )
    msgs = {"traces": t, "logs": lg.SerializeToString(), "metrics": m.SerializeToString()}
    line = (
        b'{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":'
        b'{"stringValue":"shop"}}]},"scopeSpans":[{"spans":[{"traceId":'
        b'"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"x",'
        b'"kind":2,"attributes":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"}]}}}]}]}]}]}'
    )
    out: dict[str, bytes] = {"jsonl": line + b"\nbanner\n" + line + b"\n", "json": line}
    for name, msg in msgs.items():
        out[f"{name}.pb"] = msg
        out[f"{name}.framed"] = len(msg).to_bytes(4, "big") + msg
        z = zstandard.ZstdCompressor().compress(msg)
        out[f"{name}.zframed"] = len(z).to_bytes(4, "big") + z
    out["framed.empty-first"] = bytes(4) + out["traces.framed"]
    return out
