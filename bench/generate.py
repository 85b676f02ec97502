#!/usr/bin/env python3
"""Write the benchmark corpus: a seeded, realistic shop of 20 services, in two formats.

What it writes (into ``bench/out/corpus/`` by default)::

    traces.binpb  logs.binpb  metrics.binpb     4-byte big-endian length + TracesData /
                                                LogsData / MetricsData per message (the
                                                collector file exporter's ``format: proto``)
    traces.jsonl  logs.jsonl  metrics.jsonl     the same messages as OTLP/JSON, one per line
                                                (lowerCamelCase, hex ids, 64-bit ints as strings)
    manifest.json                               counts, sizes, planted breaks, and the stamp

What is in it (default scale 1.0):

* 20 services in namespace ``shop``, 2 instances (pods) each, every resource with
  ``service.name``, ``service.namespace``, ``service.instance.id``, ``service.version``,
  ``deployment.environment.name``, ``k8s.*``, ``host.*`` and ``telemetry.sdk.*``.
* 200k spans with ~12 attributes each of mixed types (HTTP, gRPC, database and internal
  spans with current semantic-convention keys, ``server.address``/``server.port`` on CLIENT
  and SERVER spans), in traces of 5-30 spans crossing 2-6 services: each call is a CLIENT
  span in the caller whose SERVER child (flags ``0x300``: remote parent) is in the callee;
  local children carry flags ``0x100``.
* 200k log records, most emitted inside a span (with its trace and span id).
* ~100k histogram and sum data points, each with exemplars that point at real spans.
* Messages of ~512 spans / ~512 log records / ~256 points, one resource each, as an SDK's
  batch processor or periodic metric reader sends them.

Planted breaks (a few per cent, see ``BREAKS``): lost spans (orphans, remote and local), a
propagator mismatch on ``checkout -> pricing``, ``email`` logging its ids as attributes,
deprecated keys (``quote``'s HTTP spans, ``review``'s database spans, ``ad``'s resource),
and exemplars of ``recommendation`` pointing at spans that were never exported.

The output depends only on the seed, the scale and this file: ``manifest.json`` holds a
stamp of the three, and ``ensure()`` regenerates only when the stamp differs.

Usage: ``python bench/generate.py [--out DIR] [--scale F] [--seed N] [--force]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

BENCH = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH / "out" / "corpus"
SEED = 20240601

#: Records at scale 1.0.
SPANS, LOGS, POINTS = 200_000, 200_000, 100_000
SPAN_BATCH, LOG_BATCH, POINT_BATCH = 512, 512, 256
INSTANCES = 2

BREAKS = {
    "lost-spans": "~1% of traces lose one non-root span: its children are orphans "
    "(remote parent 0x300 when the lost span was a CLIENT, local 0x100 otherwise)",
    "propagator-mismatch": "checkout -> pricing: every pricing SERVER span starts a new trace "
    "and checkout's CLIENT spans to pricing have no child",
    "ids-in-log-attributes": "email logs carry trace_id/span_id as attributes, not as fields",
    "deprecated-keys": "quote's HTTP spans use http.method/http.status_code/http.target/net.host.*; "
    "review's database spans use db.system/db.statement; ad's resource uses deployment.environment",
    "exemplars-to-unexported-spans": "3% of recommendation's exemplars point at spans not in the dump",
}

# Span kinds and flags.
INTERNAL, SERVER, CLIENT = 1, 2, 3
LOCAL_PARENT, REMOTE_PARENT = 0x100, 0x300
BASE_TIME = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns
MS = 1_000_000


# -- the shop ------------------------------------------------------------------------
@dataclass
class ServiceSpec:
    """One service of the shop: how it talks, whom it calls, what it stores."""

    name: str
    proto: str  # "http" or "grpc"
    deps: tuple[str, ...] = ()
    db: str | None = None  # db.system.name of the database it queries
    lang: str = "python"
    version: str = "1.0.0"
    legacy_http: bool = False  # deprecated HTTP/net keys on its SERVER spans
    legacy_db: bool = False  # deprecated db keys on its database spans
    legacy_env: bool = False  # deployment.environment instead of deployment.environment.name
    propagator_mismatch: bool = False  # extracts with a propagator its callers do not inject
    ids_in_log_attrs: bool = False
    unexported_exemplars: float = 0.0

    @property
    def port(self) -> int:
        """The port its SERVER spans serve on."""
        return 8080 if self.proto == "http" else 50051


SHOP: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "frontend",
        "http",
        (
            "cart",
            "checkout",
            "product-catalog",
            "recommendation",
            "ad",
            "currency",
            "search",
            "auth",
        ),
        lang="nodejs",
        version="2.7.1",
    ),
    ServiceSpec(
        "api-gateway",
        "http",
        ("auth", "user", "search", "product-catalog", "review", "cart"),
        lang="go",
        version="1.19.0",
    ),
    ServiceSpec("auth", "grpc", ("user",), db="redis", lang="go", version="3.2.0"),
    ServiceSpec("user", "grpc", (), db="postgresql", lang="java", version="5.0.3"),
    ServiceSpec("cart", "grpc", ("product-catalog",), db="redis", lang="dotnet", version="1.8.4"),
    ServiceSpec(
        "checkout",
        "http",
        (
            "cart",
            "payments",
            "shipping",
            "currency",
            "email",
            "inventory",
            "pricing",
            "product-catalog",
        ),
        db="postgresql",
        lang="go",
        version="4.1.0",
    ),
    ServiceSpec(
        "payments",
        "http",
        ("fraud-detection", "accounting"),
        db="postgresql",
        lang="java",
        version="2.3.9",
    ),
    ServiceSpec("shipping", "http", ("quote",), lang="python", version="0.9.2"),
    ServiceSpec("quote", "http", (), lang="php", version="1.1.0", legacy_http=True),
    ServiceSpec("email", "http", (), lang="ruby", version="1.0.7", ids_in_log_attrs=True),
    ServiceSpec("currency", "grpc", (), lang="cpp", version="1.6.0"),
    ServiceSpec(
        "product-catalog", "grpc", ("inventory",), db="postgresql", lang="go", version="3.4.2"
    ),
    ServiceSpec(
        "recommendation",
        "grpc",
        ("product-catalog",),
        lang="python",
        version="2.0.1",
        unexported_exemplars=0.03,
    ),
    ServiceSpec("ad", "grpc", (), lang="java", version="1.4.0", legacy_env=True),
    ServiceSpec(
        "search", "http", ("product-catalog",), db="elasticsearch", lang="java", version="6.2.0"
    ),
    ServiceSpec(
        "review", "http", ("user",), db="mysql", lang="python", version="1.2.5", legacy_db=True
    ),
    ServiceSpec("inventory", "grpc", (), db="postgresql", lang="rust", version="0.8.0"),
    ServiceSpec("pricing", "http", (), lang="java", version="3.0.0", propagator_mismatch=True),
    ServiceSpec("fraud-detection", "grpc", (), db="mongodb", lang="python", version="1.0.2"),
    ServiceSpec("accounting", "http", (), db="postgresql", lang="dotnet", version="2.2.0"),
)
ENTRIES = (("frontend", 0.7), ("api-gateway", 0.3))

ROUTES = (
    "/",
    "/api/products",
    "/api/products/{id}",
    "/api/cart",
    "/api/checkout",
    "/api/orders/{id}",
    "/healthz",
    "/api/users/{id}",
)
METHODS = ("GET", "POST", "PUT")
STATUSES = (200, 200, 200, 200, 201, 204, 404, 500)
RPC_METHODS = ("Get", "List", "Create", "Update", "Delete", "Check")
DB_OPS = ("SELECT", "SELECT", "SELECT", "INSERT", "UPDATE", "DELETE")
TABLES = ("orders", "users", "products", "carts", "payments", "sessions", "stock")
FUNCS = (
    "handle_request",
    "validate",
    "load_items",
    "price_items",
    "apply_discount",
    "serialize",
    "render",
    "authorize",
)
REGIONS = ("eu-west-1", "us-east-1", "ap-south-1")
SDK_VERSIONS = {
    "python": "1.45.2",
    "go": "1.38.0",
    "java": "1.55.0",
    "nodejs": "2.2.0",
    "dotnet": "1.13.0",
    "ruby": "1.9.0",
    "php": "1.7.0",
    "cpp": "1.22.0",
    "rust": "0.30.0",
}

AttrValue = str | bool | int | float
Attrs = list[tuple[str, AttrValue]]
#: One metric of a service: name, unit, "histogram" or "sum", the role of the spans its
#: exemplars point at, and its attribute sets (one data point each per export).
Series = tuple[str, str, str, str, list[Attrs]]


@dataclass
class Resource:
    """One service instance (a pod): its resource attributes and signal buffers."""

    spec: ServiceSpec
    index: int
    attrs: Attrs
    spans: list[Span] = field(default_factory=list)
    logs: list[Log] = field(default_factory=list)
    span_limit: int = SPAN_BATCH
    log_limit: int = LOG_BATCH


@dataclass
class Span:
    """A span before it becomes a message."""

    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    kind: int
    start: int
    end: int
    attrs: Attrs
    flags: int
    scope: str
    res: Resource
    role: str  # server, client, db, internal
    error: bool = False
    lost: bool = False


@dataclass
class Log:
    """A log record before it becomes a message."""

    time: int
    severity: int
    text: str
    body: str
    attrs: Attrs
    trace_id: bytes = b""
    span_id: bytes = b""


@dataclass
class Counts:
    """What was written."""

    spans: int = 0
    logs: int = 0
    points: int = 0
    exemplars: int = 0
    messages: dict[str, int] = field(default_factory=lambda: {"traces": 0, "logs": 0, "metrics": 0})
    orphans: int = 0
    lost_spans: int = 0
    mismatched_calls: int = 0
    logs_in_spans: int = 0


# -- writing: proto framing and OTLP/JSON ----------------------------------------------
_ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_SINT64,
    }
)


def otlp_json(msg: Any) -> dict[str, Any]:
    """A message as an OTLP/JSON object: hex ids, 64-bit integers as strings, enums as numbers.

    ``google.protobuf.json_format`` is not used: it writes ids as base64.
    """
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        conv = _converter(fd)
        out[fd.json_name] = [conv(v) for v in value] if fd.is_repeated else conv(value)
    return out


def _converter(fd: FieldDescriptor) -> Callable[[Any], Any]:
    conv = _CONVERTERS.get(fd)
    if conv is None:
        t = fd.type
        if t == fd.TYPE_MESSAGE:
            conv = otlp_json
        elif t == fd.TYPE_BYTES:
            conv = bytes.hex if fd.name in _ID_FIELDS else _b64
        elif t in _INT64:
            conv = str
        else:
            conv = _same
        _CONVERTERS[fd] = conv
    return conv


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _same(value: Any) -> Any:
    return value


_CONVERTERS: dict[FieldDescriptor, Callable[[Any], Any]] = {}


class Writer:
    """Writes each message framed to ``<signal>.binpb`` and as a line to ``<signal>.jsonl``."""

    def __init__(self, out: Path) -> None:
        self.files: dict[str, tuple[IO[bytes], IO[str]]] = {}
        for signal in ("traces", "logs", "metrics"):
            self.files[signal] = (
                open(out / f"{signal}.binpb.tmp", "wb"),  # noqa: SIM115 - closed in close()
                open(out / f"{signal}.jsonl.tmp", "w", encoding="utf-8"),  # noqa: SIM115
            )
        self.out = out

    def write(self, signal: str, msg: Any) -> None:
        """Append one TracesData / LogsData / MetricsData to both files of its signal."""
        binary, text = self.files[signal]
        payload = msg.SerializeToString()
        binary.write(len(payload).to_bytes(4, "big"))
        binary.write(payload)
        text.write(json.dumps(otlp_json(msg), separators=(",", ":"), ensure_ascii=False))
        text.write("\n")

    def close(self) -> dict[str, int]:
        """Close and move the files into place; returns their sizes."""
        sizes: dict[str, int] = {}
        for signal, (binary, text) in self.files.items():
            binary.close()
            text.close()
            for ext in ("binpb", "jsonl"):
                final = self.out / f"{signal}.{ext}"
                os.replace(self.out / f"{signal}.{ext}.tmp", final)
                sizes[final.name] = final.stat().st_size
        return sizes


def _set_attrs(target: Any, attrs: Attrs) -> None:
    for key, value in attrs:
        kv = target.add()
        kv.key = key
        v = kv.value
        if isinstance(value, str):
            v.string_value = value
        elif isinstance(value, bool):
            v.bool_value = value
        elif isinstance(value, int):
            v.int_value = value
        else:
            v.double_value = value


# -- the generator ------------------------------------------------------------------------
class Generator:
    """Builds the shop's telemetry and writes it through a Writer."""

    def __init__(self, writer: Writer, scale: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.writer = writer
        self.target_spans = max(1, round(SPANS * scale))
        self.target_logs = max(1, round(LOGS * scale))
        self.target_points = max(1, round(POINTS * scale))
        self.counts = Counts()
        self.specs = {s.name: s for s in SHOP}
        self.resources: dict[str, list[Resource]] = {}
        hosts = [(self._uuid(), f"node-{i:02d}.shop.internal") for i in range(8)]
        for spec in SHOP:
            self.resources[spec.name] = [self._resource(spec, i, hosts) for i in range(INSTANCES)]
        # Spans exemplars may point at: service -> role -> [(trace id, span id, time)].
        self.exemplar_spans: dict[str, dict[str, list[tuple[bytes, bytes, int]]]] = {
            s.name: {"server": [], "client": [], "db": []} for s in SHOP
        }
        self.log_rate = 0.95 * self.target_logs / self.target_spans

    # -- ids and resources
    def _uuid(self) -> str:
        return str(uuid.UUID(bytes=self.rng.randbytes(16), version=4))

    def _id(self, n: int) -> bytes:
        raw = self.rng.randbytes(n)
        return raw if any(raw) else b"\x01" + raw[1:]

    def _resource(self, spec: ServiceSpec, i: int, hosts: list[tuple[str, str]]) -> Resource:
        rng = self.rng
        host_id, host_name = hosts[rng.randrange(len(hosts))]
        pod = f"{spec.name}-{rng.randbytes(4).hex()[:9]}-{rng.randbytes(3).hex()[:5]}"
        env_key = "deployment.environment" if spec.legacy_env else "deployment.environment.name"
        attrs: Attrs = [
            ("service.name", spec.name),
            ("service.namespace", "shop"),
            ("service.instance.id", self._uuid()),
            ("service.version", spec.version),
            (env_key, "production"),
            ("k8s.namespace.name", "shop"),
            ("k8s.deployment.name", spec.name),
            ("k8s.pod.name", pod),
            ("k8s.pod.uid", self._uuid()),
            ("k8s.node.name", host_name),
            ("host.id", host_id),
            ("host.name", host_name),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.language", spec.lang),
            ("telemetry.sdk.version", SDK_VERSIONS[spec.lang]),
        ]
        return Resource(
            spec, i, attrs, span_limit=self._batch(SPAN_BATCH), log_limit=self._batch(LOG_BATCH)
        )

    def _batch(self, size: int) -> int:
        # A batch processor exports when the batch is full or its timer fires first.
        return size if self.rng.random() < 0.7 else self.rng.randint(size * 3 // 4, size)

    # -- spans
    def _server_attrs(
        self, spec: ServiceSpec, route: str, method: str, status: int
    ) -> tuple[str, Attrs]:
        rng = self.rng
        if spec.proto == "grpc":
            svc = (
                f"shop.{spec.name.replace('-', '_')}.v1.{spec.name.title().replace('-', '')}Service"
            )
            rpc = RPC_METHODS[rng.randrange(len(RPC_METHODS))]
            code = "OK" if status < 500 else "INTERNAL"
            return f"{svc}/{rpc}", [
                ("rpc.system.name", "grpc"),
                ("rpc.method", f"{svc}/{rpc}"),
                ("rpc.response.status_code", code),
                ("server.address", spec.name),
                ("server.port", spec.port),
                ("network.peer.address", f"10.4.{rng.randrange(256)}.{rng.randrange(256)}"),
                ("network.peer.port", rng.randrange(32768, 61000)),
                ("network.transport", "tcp"),
                ("network.type", "ipv4"),
                ("app.tenant.id", f"tenant-{rng.randrange(40)}"),
                ("app.items", rng.randrange(1, 50)),
                ("app.cache.hit", rng.random() < 0.6),
                ("app.score", round(rng.random(), 4)),
            ]
        path = route.replace("{id}", str(rng.randrange(1, 100_000)))
        if spec.legacy_http:
            return f"{method} {route}", [
                ("http.method", method),
                ("http.target", path),
                ("http.route", route),
                ("http.scheme", "http"),
                ("http.status_code", status),
                ("net.host.name", spec.name),
                ("net.host.port", spec.port),
                ("net.peer.ip", f"10.4.{rng.randrange(256)}.{rng.randrange(256)}"),
                ("http.user_agent", "shop-client/1.0"),
                ("http.flavor", "1.1"),
                ("app.cache.hit", rng.random() < 0.6),
                ("app.score", round(rng.random(), 4)),
            ]
        return f"{method} {route}", [
            ("http.request.method", method),
            ("http.route", route),
            ("url.path", path),
            ("url.scheme", "http"),
            ("http.response.status_code", status),
            ("server.address", spec.name),
            ("server.port", spec.port),
            ("client.address", f"10.4.{rng.randrange(256)}.{rng.randrange(256)}"),
            ("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) shop-web/2.7"),
            ("network.protocol.version", "1.1"),
            ("app.request.bytes", rng.randrange(0, 20_000)),
            ("app.cache.hit", rng.random() < 0.6),
            ("app.score", round(rng.random(), 4)),
        ]

    def _client_attrs(
        self, spec: ServiceSpec, callee: ServiceSpec, method: str, status: int
    ) -> tuple[str, Attrs]:
        rng = self.rng
        # Callers address a callee by its Kubernetes service name, short or fully qualified.
        host = callee.name if rng.random() < 0.7 else f"{callee.name}.shop.svc.cluster.local"
        if callee.proto == "grpc":
            svc = f"shop.{callee.name.replace('-', '_')}.v1.{callee.name.title().replace('-', '')}Service"
            rpc = RPC_METHODS[rng.randrange(len(RPC_METHODS))]
            return f"{svc}/{rpc}", [
                ("rpc.system.name", "grpc"),
                ("rpc.method", f"{svc}/{rpc}"),
                ("rpc.response.status_code", "OK" if status < 500 else "INTERNAL"),
                ("server.address", host),
                ("server.port", callee.port),
                ("network.peer.address", f"10.4.{rng.randrange(256)}.{rng.randrange(256)}"),
                ("network.peer.port", callee.port),
                ("network.transport", "tcp"),
                ("network.type", "ipv4"),
                ("app.deadline_ms", float(rng.choice((250, 500, 1000)))),
                ("app.retry", rng.random() < 0.05),
                ("app.attempt", 1),
            ]
        path = ROUTES[rng.randrange(1, len(ROUTES))].replace("{id}", str(rng.randrange(1, 100_000)))
        return method, [
            ("http.request.method", method),
            ("url.full", f"http://{host}:{callee.port}{path}"),
            ("url.scheme", "http"),
            ("server.address", host),
            ("server.port", callee.port),
            ("http.response.status_code", status),
            ("network.protocol.version", "1.1"),
            ("network.peer.address", f"10.4.{rng.randrange(256)}.{rng.randrange(256)}"),
            ("user_agent.original", f"{spec.name}/{spec.version}"),
            ("http.request.resend_count", 0),
            ("app.retry", rng.random() < 0.05),
            ("app.timeout_s", 2.5),
        ]

    def _db_attrs(self, spec: ServiceSpec) -> tuple[str, Attrs]:
        rng = self.rng
        op = DB_OPS[rng.randrange(len(DB_OPS))]
        table = TABLES[rng.randrange(len(TABLES))]
        system = spec.db or "postgresql"
        query = (
            f"{op} * FROM {table} WHERE id = ?"
            if op == "SELECT"
            else f"{op} {table} SET x = ? WHERE id = ?"
        )
        host, port = {
            "redis": ("redis.shop", 6379),
            "elasticsearch": ("es.shop", 9200),
            "mongodb": ("mongo.shop", 27017),
            "mysql": ("mysql.shop", 3306),
        }.get(system, ("pg.shop", 5432))
        if spec.legacy_db:
            keys = ("db.system", "db.name", "db.operation", "db.sql.table", "db.statement")
        else:
            keys = (
                "db.system.name",
                "db.namespace",
                "db.operation.name",
                "db.collection.name",
                "db.query.text",
            )
        return f"{op} {table}", [
            (keys[0], system),
            (keys[1], "shop"),
            (keys[2], op),
            (keys[3], table),
            (keys[4], query),
            ("server.address", host),
            ("server.port", port),
            ("network.peer.address", f"10.9.0.{rng.randrange(2, 30)}"),
            ("db.response.returned_rows", rng.randrange(0, 200)),
            ("db.client.connection.pool.name", f"{spec.name}-pool"),
            ("app.cache.hit", rng.random() < 0.3),
            ("app.pool.wait_ms", round(rng.random() * 3, 3)),
        ]

    def _internal_attrs(self, spec: ServiceSpec) -> tuple[str, Attrs]:
        rng = self.rng
        fn = FUNCS[rng.randrange(len(FUNCS))]
        return fn, [
            ("code.function.name", f"{spec.name.replace('-', '_')}.{fn}"),
            ("code.file.path", f"/app/{spec.name}/{fn}.src"),
            ("code.line.number", rng.randrange(10, 900)),
            ("thread.id", rng.randrange(1, 64)),
            ("thread.name", f"worker-{rng.randrange(8)}"),
            ("app.user.id", f"u-{rng.randrange(1_000_000)}"),
            ("app.order.id", f"o-{rng.randrange(10_000_000)}"),
            ("app.items", rng.randrange(1, 30)),
            ("app.total", round(rng.random() * 500, 2)),
            ("app.premium", rng.random() < 0.2),
            ("app.region", REGIONS[rng.randrange(len(REGIONS))]),
            ("app.feature_flag", "new-checkout" if rng.random() < 0.5 else "control"),
        ]

    def _new_span(
        self,
        trace_id: bytes,
        parent: Span | None,
        res: Resource,
        role: str,
        start: int,
        dur: int,
        name_attrs: tuple[str, Attrs],
        error: bool,
    ) -> Span:
        name, attrs = name_attrs
        kind = {"server": SERVER, "client": CLIENT, "db": CLIENT, "internal": INTERNAL}[role]
        if parent is None:
            # A root: the remoteness of its (absent) parent is known, and not remote.
            parent_id, flags = b"", LOCAL_PARENT
        else:
            parent_id = parent.span_id
            flags = REMOTE_PARENT if parent.res is not res else LOCAL_PARENT
        scope = {"server": "server", "client": "client", "db": "db", "internal": "app"}[role]
        return Span(
            trace_id,
            self._id(8),
            parent_id,
            name,
            kind,
            start,
            start + dur,
            attrs,
            flags,
            scope,
            res,
            role,
            error,
        )

    def trace(self, index: int) -> list[Span]:
        """One request through the shop: 5-30 spans over 2-6 services."""
        rng = self.rng
        r = rng.random()
        entry = ENTRIES[0][0] if r < ENTRIES[0][1] else ENTRIES[1][0]
        want_services = rng.randint(2, 6)
        want_spans = rng.randint(5, 30)
        trace_id = self._id(16)
        t0 = BASE_TIME + index * 2 * MS + rng.randrange(MS)
        error = rng.random() < 0.02
        instance: dict[str, Resource] = {}

        def res_of(name: str) -> Resource:
            if name not in instance:
                pods = self.resources[name]
                instance[name] = pods[rng.randrange(len(pods))]
            return instance[name]

        spans: list[Span] = []
        method = METHODS[rng.randrange(len(METHODS))]
        route = ROUTES[rng.randrange(len(ROUTES))]
        status = 500 if error else STATUSES[rng.randrange(len(STATUSES) - 1)]
        root = self._new_span(
            trace_id,
            None,
            res_of(entry),
            "server",
            t0,
            rng.randrange(40, 600) * MS,
            self._server_attrs(self.specs[entry], route, method, status),
            error,
        )
        spans.append(root)
        servers = [root]
        seen = {entry}
        # Calls: a CLIENT span in the caller, its SERVER child in the callee.
        tries = 0
        while len(seen) < want_services and len(spans) + 2 <= want_spans and tries < 40:
            tries += 1
            caller_server = servers[rng.randrange(len(servers))]
            caller = caller_server.res.spec
            if not caller.deps:
                continue
            callee = self.specs[caller.deps[rng.randrange(len(caller.deps))]]
            if callee.name in seen and rng.random() < 0.8:
                continue
            seen.add(callee.name)
            servers.append(self._call(spans, caller_server, callee, res_of(callee.name), error))
        # Fill up with local work: internal spans, database queries, repeated calls.
        while len(spans) < want_spans:
            parent = spans[rng.randrange(len(spans))]
            if parent.role not in ("server", "internal"):
                continue
            spec = parent.res.spec
            roll = rng.random()
            start, dur = self._child_time(parent)
            if roll < 0.25 and spec.db:
                spans.append(
                    self._new_span(
                        parent.trace_id,
                        parent,
                        parent.res,
                        "db",
                        start,
                        dur,
                        self._db_attrs(spec),
                        False,
                    )
                )
            elif roll < 0.4 and spec.deps and len(spans) + 2 <= want_spans:
                callee = self.specs[spec.deps[rng.randrange(len(spec.deps))]]
                servers.append(self._call(spans, parent, callee, res_of(callee.name), False))
            else:
                spans.append(
                    self._new_span(
                        parent.trace_id,
                        parent,
                        parent.res,
                        "internal",
                        start,
                        dur,
                        self._internal_attrs(spec),
                        False,
                    )
                )
        return spans

    def _child_time(self, parent: Span) -> tuple[int, int]:
        rng = self.rng
        dur = parent.end - parent.start
        start = parent.start + int(dur * rng.random() * 0.5)
        return start, max(MS // 20, int(dur * (0.05 + rng.random() * 0.4)))

    def _call(
        self,
        spans: list[Span],
        parent: Span,
        callee: ServiceSpec,
        callee_res: Resource,
        error: bool,
    ) -> Span:
        rng = self.rng
        caller = parent.res.spec
        method = METHODS[rng.randrange(len(METHODS))]
        status = 500 if error and rng.random() < 0.5 else STATUSES[rng.randrange(len(STATUSES) - 2)]
        route = ROUTES[rng.randrange(1, len(ROUTES))]
        start, dur = self._child_time(parent)
        client = self._new_span(
            parent.trace_id,
            parent,
            parent.res,
            "client",
            start,
            dur,
            self._client_attrs(caller, callee, method, status),
            error,
        )
        spans.append(client)
        net = max(MS // 10, dur // 20)
        server_attrs = self._server_attrs(callee, route, method, status)
        if callee.propagator_mismatch:
            # The callee extracts a propagator its caller does not inject: a new trace, a root.
            server = self._new_span(
                self._id(16),
                None,
                callee_res,
                "server",
                start + net,
                dur - 2 * net,
                server_attrs,
                error,
            )
            self.counts.mismatched_calls += 1
        else:
            server = self._new_span(
                parent.trace_id,
                client,
                callee_res,
                "server",
                start + net,
                dur - 2 * net,
                server_attrs,
                error,
            )
        spans.append(server)
        return server

    # -- logs
    def _span_logs(self, sp: Span) -> Iterator[Log]:
        rng = self.rng
        n = int(self.log_rate)
        if rng.random() < self.log_rate - n:
            n += 1
        spec = sp.res.spec
        for i in range(n):
            t = sp.start + (sp.end - sp.start) * (i + 1) // (n + 1)
            if sp.error and i == n - 1:
                sev, text, body = 17, "ERROR", f"{sp.name} failed: upstream returned 500"
                attrs: Attrs = [
                    ("exception.type", "UpstreamError"),
                    ("exception.message", "status 500"),
                ]
            elif rng.random() < 0.1:
                sev, text, body = 13, "WARN", f"slow {sp.name}: {(sp.end - sp.start) // MS} ms"
                attrs = [("app.threshold_ms", 200)]
            else:
                sev, text, body = 9, "INFO", f"{sp.name} {'started' if i == 0 else 'progress'}"
                attrs = []
            attrs += [
                ("code.function.name", f"{spec.name.replace('-', '_')}.{FUNCS[i % len(FUNCS)]}"),
                ("code.line.number", 10 + i),
                ("thread.name", f"worker-{rng.randrange(8)}"),
            ]
            if spec.ids_in_log_attrs:
                # A JSON logging pipeline that lost the OTel context: ids as attributes.
                attrs += [("trace_id", sp.trace_id.hex()), ("span_id", sp.span_id.hex())]
                yield Log(t, sev, text, body, attrs)
            else:
                yield Log(t, sev, text, body, attrs, sp.trace_id, sp.span_id)

    def _background_log(self, res: Resource, t: int) -> Log:
        rng = self.rng
        body = rng.choice(
            ("cache refreshed", "health check ok", "config reloaded", "connection pool resized")
        )
        return Log(
            t,
            9,
            "INFO",
            body,
            [
                ("code.function.name", f"{res.spec.name.replace('-', '_')}.background"),
                ("thread.name", "scheduler"),
            ],
        )

    # -- flushing batches
    def _flush_spans(self, res: Resource) -> None:
        batch, res.spans = res.spans, []
        if not batch:
            return
        msg = trace_pb2.TracesData()
        rs = msg.resource_spans.add()
        _set_attrs(rs.resource.attributes, res.attrs)
        rs.schema_url = "https://opentelemetry.io/schemas/1.26.0"
        scopes: dict[str, Any] = {}
        for sp in batch:
            ss = scopes.get(sp.scope)
            if ss is None:
                ss = scopes[sp.scope] = rs.scope_spans.add()
                ss.scope.name = _scope_name(res.spec, sp.scope)
                ss.scope.version = res.spec.version if sp.scope == "app" else "0.49b0"
            m = ss.spans.add()
            m.trace_id = sp.trace_id
            m.span_id = sp.span_id
            if sp.parent_id:
                m.parent_span_id = sp.parent_id
            m.flags = sp.flags | 1
            m.name = sp.name
            m.kind = sp.kind
            m.start_time_unix_nano = sp.start
            m.end_time_unix_nano = sp.end
            _set_attrs(m.attributes, sp.attrs)
            if sp.error:
                m.status.code = 2
                m.status.message = "upstream returned 500"
                if sp.role == "server":
                    ev = m.events.add()
                    ev.name = "exception"
                    ev.time_unix_nano = sp.end - MS // 10
                    _set_attrs(
                        ev.attributes,
                        [("exception.type", "UpstreamError"), ("exception.message", "status 500")],
                    )
        self.writer.write("traces", msg)
        self.counts.messages["traces"] += 1
        self.counts.spans += len(batch)
        res.span_limit = self._batch(SPAN_BATCH)

    def _flush_logs(self, res: Resource) -> None:
        batch, res.logs = res.logs, []
        if not batch:
            return
        msg = logs_pb2.LogsData()
        rl = msg.resource_logs.add()
        _set_attrs(rl.resource.attributes, res.attrs)
        sl = rl.scope_logs.add()
        sl.scope.name = f"{res.spec.name}.logger"
        for lg in batch:
            m = sl.log_records.add()
            m.time_unix_nano = lg.time
            m.observed_time_unix_nano = lg.time + MS // 2
            m.severity_number = lg.severity
            m.severity_text = lg.text
            m.body.string_value = lg.body
            _set_attrs(m.attributes, lg.attrs)
            if lg.trace_id:
                m.trace_id = lg.trace_id
                m.span_id = lg.span_id
                m.flags = 1
                self.counts.logs_in_spans += 1
        self.writer.write("logs", msg)
        self.counts.messages["logs"] += 1
        self.counts.logs += len(batch)
        res.log_limit = self._batch(LOG_BATCH)

    def _add_span(self, sp: Span) -> None:
        res = sp.res
        res.spans.append(sp)
        if len(res.spans) >= res.span_limit:
            self._flush_spans(res)

    def _add_log(self, res: Resource, lg: Log) -> None:
        res.logs.append(lg)
        if len(res.logs) >= res.log_limit:
            self._flush_logs(res)

    def _all_resources(self) -> Iterator[Resource]:
        for pods in self.resources.values():
            yield from pods

    # -- the run
    def traces_and_logs(self) -> None:
        """Generate traces (and the logs inside their spans) until the span target is met."""
        rng = self.rng
        made = logs = index = 0
        while made < self.target_spans:
            spans = self.trace(index)
            index += 1
            spans = spans[: self.target_spans - made]
            if len(spans) > 2 and rng.random() < 0.01:
                # A span lost on the way (an exporter dropped its batch): its children are orphans.
                lost = spans[rng.randrange(1, len(spans))]
                lost.lost = True
                self.counts.lost_spans += 1
                self.counts.orphans += sum(1 for s in spans if s.parent_id == lost.span_id)
            for sp in spans:
                if sp.lost:
                    continue
                made += 1
                self._add_span(sp)
                if sp.role in ("server", "client", "db"):
                    self.exemplar_spans[sp.res.spec.name][sp.role].append(
                        (sp.trace_id, sp.span_id, sp.end)
                    )
                for lg in self._span_logs(sp):
                    if logs < self.target_logs:
                        logs += 1
                        self._add_log(sp.res, lg)
            # Logs outside any span (schedulers, health checks), spread over the run.
            # A busy service logs more in the background too: pick the pod of one of the spans.
            if spans and logs < self.target_logs * made / self.target_spans:
                res = spans[rng.randrange(len(spans))].res
                logs += 1
                self._add_log(res, self._background_log(res, BASE_TIME + index * 2 * MS))
        pods = list(self._all_resources())
        while logs < self.target_logs:
            res = pods[logs % len(pods)]
            logs += 1
            self._add_log(res, self._background_log(res, BASE_TIME + (index + logs) * MS))
        for res in pods:
            self._flush_spans(res)
            self._flush_logs(res)

    def metrics(self) -> None:
        """Export cycles of every instance's metrics until the point target is met."""
        rng = self.rng
        series = {name: self._series(self.specs[name]) for name in self.resources}
        bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
        start = BASE_TIME - 60_000 * MS
        points = cycle = 0
        while points < self.target_points:
            cycle += 1
            for res in self._all_resources():
                if points >= self.target_points:
                    break
                spec = res.spec
                pool = self.exemplar_spans[spec.name]
                msg = metrics_pb2.MetricsData()
                rm = msg.resource_metrics.add()
                _set_attrs(rm.resource.attributes, res.attrs)
                sm = rm.scope_metrics.add()
                sm.scope.name = f"{spec.name}.metrics"
                now = BASE_TIME + cycle * 10_000 * MS
                n = 0
                for name, unit, kind, role, attr_sets in series[spec.name]:
                    if points + n >= self.target_points:
                        break
                    metric = sm.metrics.add()
                    metric.name = name
                    metric.unit = unit
                    if kind == "histogram":
                        metric.histogram.aggregation_temporality = 2
                        dps = metric.histogram.data_points
                    else:
                        metric.sum.aggregation_temporality = 2
                        metric.sum.is_monotonic = True
                        dps = metric.sum.data_points
                    for attrs in attr_sets:
                        if points + n >= self.target_points:
                            break
                        n += 1
                        dp = dps.add()
                        _set_attrs(dp.attributes, attrs)
                        dp.start_time_unix_nano = start
                        dp.time_unix_nano = now
                        count = rng.randrange(1, 5000) * cycle
                        if kind == "histogram":
                            dp.count = count
                            dp.sum = count * rng.random() * 0.3
                            dp.min = rng.random() * 0.004
                            dp.max = 0.5 + rng.random() * 4
                            dp.explicit_bounds.extend(bounds)
                            dp.bucket_counts.extend(_buckets(rng, count, len(bounds) + 1))
                        else:
                            dp.as_int = count
                        for _ in range(rng.randint(1, 2) if kind == "histogram" else 1):
                            self._exemplar(
                                dp.exemplars.add(), spec, pool.get(role) or pool["server"], now
                            )
                self.writer.write("metrics", msg)
                self.counts.messages["metrics"] += 1
                self.counts.points += n
                points += n

    def _exemplar(
        self, ex: Any, spec: ServiceSpec, pool: list[tuple[bytes, bytes, int]], now: int
    ) -> None:
        rng = self.rng
        self.counts.exemplars += 1
        ex.as_double = round(rng.random() * 0.8, 6)
        if not pool or rng.random() < spec.unexported_exemplars:
            # A span the tail sampler dropped: the exemplar points at nothing in the dump.
            ex.trace_id = self._id(16)
            ex.span_id = self._id(8)
            ex.time_unix_nano = now
            return
        trace_id, span_id, t = pool[rng.randrange(len(pool))]
        ex.trace_id = trace_id
        ex.span_id = span_id
        ex.time_unix_nano = t

    def _series(self, spec: ServiceSpec) -> list[Series]:
        """(name, unit, kind, exemplar span role, attribute sets) of one service's metrics."""
        out: list[Series] = []
        server: list[Attrs]
        if spec.proto == "http":
            server = [
                [
                    ("http.request.method", m),
                    ("http.route", r),
                    ("http.response.status_code", s),
                    ("url.scheme", "http"),
                ]
                for m in METHODS[:2]
                for r in ROUTES
                for s in (200, 201, 404, 500)
            ]
            out.append(("http.server.request.duration", "s", "histogram", "server", server))
        else:
            server = [
                [
                    ("rpc.system.name", "grpc"),
                    ("rpc.method", f"{spec.name}/{m}"),
                    ("rpc.response.status_code", c),
                    ("app.region", r),
                ]
                for m in RPC_METHODS
                for c in ("OK", "NOT_FOUND", "INTERNAL", "UNAVAILABLE")
                for r in REGIONS
            ]
            out.append(("rpc.server.call.duration", "s", "histogram", "server", server))
        out.append(("app.requests", "{request}", "sum", "server", server))
        for proto, name in (
            ("http", "http.client.request.duration"),
            ("grpc", "rpc.client.call.duration"),
        ):
            client: list[Attrs] = [
                [("server.address", d), ("server.port", self.specs[d].port), ("app.outcome", o)]
                for d in spec.deps
                if self.specs[d].proto == proto
                for o in ("ok", "error", "timeout")
            ]
            if client:
                out.append((name, "s", "histogram", "client", client))
        if spec.db:
            db: list[Attrs] = [
                [("db.system.name", spec.db), ("db.operation.name", op), ("db.collection.name", t)]
                for op in ("SELECT", "INSERT", "UPDATE", "DELETE")
                for t in TABLES
            ]
            out.append(("db.client.operation.duration", "s", "histogram", "db", db))
        cache: list[Attrs] = [
            [("app.cache.hit", h), ("app.region", r)] for h in (True, False) for r in REGIONS
        ]
        out.append(("app.cache.lookups", "{lookup}", "sum", "server", cache))
        # Background jobs fill each export up to about POINT_BATCH points.
        room = POINT_BATCH - sum(len(s[4]) for s in out)
        if room > 0:
            jobs: list[Attrs] = [
                [("app.job", f"job-{i // 2}"), ("app.outcome", "ok" if i % 2 == 0 else "error")]
                for i in range(room)
            ]
            out.append(("app.job.duration", "s", "histogram", "server", jobs))
        return out


def _buckets(rng: random.Random, count: int, n: int) -> list[int]:
    weights = [rng.random() for _ in range(n)]
    total = sum(weights)
    out = [int(count * w / total) for w in weights]
    out[0] += count - sum(out)
    return out


def _scope_name(spec: ServiceSpec, scope: str) -> str:
    libs = {
        ("http", "server"): "io.opentelemetry.http-server",
        ("grpc", "server"): "io.opentelemetry.grpc-1.6",
        ("http", "client"): "io.opentelemetry.http-client",
        ("grpc", "client"): "io.opentelemetry.grpc-1.6",
    }
    if scope == "app":
        return f"shop.{spec.name}"
    if scope == "db":
        return f"io.opentelemetry.{spec.db or 'jdbc'}"
    return libs[(spec.proto, scope)]


# -- the stamp and the entry points -------------------------------------------------------
def stamp(scale: float, seed: int) -> str:
    """What the corpus depends on: this file's source, the scale and the seed."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(f"{scale!r}:{seed}".encode())
    return h.hexdigest()[:16]


def manifest_path(out: Path) -> Path:
    """Where the manifest of a corpus folder is."""
    return out / "manifest.json"


def load_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a corpus folder, or None when there is none."""
    try:
        data: dict[str, Any] = json.loads(manifest_path(out).read_text())
    except (OSError, ValueError):
        return None
    return data


def generate(out: Path, scale: float = 1.0, seed: int = SEED) -> dict[str, Any]:
    """Write the corpus into ``out`` and return its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path(out).unlink(missing_ok=True)
    t0 = time.perf_counter()
    writer = Writer(out)
    gen = Generator(writer, scale, seed)
    try:
        gen.traces_and_logs()
        gen.metrics()
    finally:
        sizes = writer.close()
    c = gen.counts
    manifest = {
        "stamp": stamp(scale, seed),
        "scale": scale,
        "seed": seed,
        "services": len(SHOP),
        "resources": len(SHOP) * INSTANCES,
        "spans": c.spans,
        "logs": c.logs,
        "logs_in_spans": c.logs_in_spans,
        "points": c.points,
        "exemplars": c.exemplars,
        "messages": c.messages,
        "bytes": sizes,
        "planted": {
            "lost_spans": c.lost_spans,
            "orphans": c.orphans,
            "mismatched_calls": c.mismatched_calls,
            "breaks": BREAKS,
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
    manifest_path(out).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def ensure(
    out: Path = DEFAULT_OUT,
    scale: float = 1.0,
    seed: int = SEED,
    force: bool = False,
    log: IO[str] = sys.stderr,
) -> dict[str, Any]:
    """The corpus in ``out``, generated only if it is missing or stale."""
    manifest = load_manifest(out)
    files = [out / f"{s}.{e}" for s in ("traces", "logs", "metrics") for e in ("binpb", "jsonl")]
    if (
        not force
        and manifest is not None
        and manifest.get("stamp") == stamp(scale, seed)
        and all(f.exists() for f in files)
    ):
        return manifest
    log.write(f"generating the bench corpus (scale {scale}) into {out} ...\n")
    log.flush()
    manifest = generate(out, scale, seed)
    log.write(
        f"  {manifest['spans']:,} spans, {manifest['logs']:,} logs, {manifest['points']:,} points "
        f"in {manifest['seconds']} s\n"
    )
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command line: generate (or refresh) the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: bench/out/corpus)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full corpus (default 1.0)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--force", action="store_true", help="regenerate even when the stamp matches"
    )
    args = parser.parse_args(argv)
    manifest = ensure(args.out, args.scale, args.seed, force=args.force)
    json.dump({k: v for k, v in manifest.items() if k != "planted"}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
