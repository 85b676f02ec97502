"""Endpoints as configurations write them: ``host:port``, ``http://host:port/path``, with
references resolved as far as is statically known.

Used for the data-plane map (``otlint.configs.dataplane``): where an SDK or a collector
exporter sends, and where a collector receiver listens. A host is lower-cased and cut to
its first label when it is a cluster DNS name (``gateway.observability.svc.cluster.local``
is the Service ``gateway``); a port is an int, or None when not written or not known.
"""

from __future__ import annotations

import re

from otlint.configs.facts import Endpoint
from otlint.configs.subst import Env, resolve
from otlint.core.finding import Location

__all__ = ["DEFAULT_PORTS", "LOOPBACK", "parse", "service_host"]

#: The OTLP ports senders use when the endpoint names none.
DEFAULT_PORTS = {"grpc": 4317, "http": 4318}
#: Hosts that reach only the sender's own network namespace.
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::]", "::", ""})

_ENDPOINT = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?:[^@/]*@)?"
    r"(?P<host>\[[0-9a-fA-F:.]*\]|[^:/?#\[\]]*)(?::(?P<port>[^/?#]*))?(?P<rest>[/?#].*)?$",
    re.IGNORECASE,
)
_HOST = re.compile(r"^[a-z0-9_.:-]*$")
_CLUSTER = re.compile(r"^(?P<name>[a-z0-9-]+)(?:\.[a-z0-9-]+)?\.svc(?:\.cluster\.local)?\.?$")


def service_host(host: str) -> str:
    """``host`` as a name a compose service or Kubernetes Service goes by: lower-cased, a
    cluster DNS name cut to its Service (``gw.obs.svc.cluster.local`` -> ``gw``)."""
    host = host.lower().rstrip(".")
    match = _CLUSTER.match(host)
    return match["name"] if match else host


def parse(
    raw: str,
    at: Location,
    syntax: str,
    env: Env | None = None,
    *,
    protocol: str | None = None,
    default_port: int | None = None,
) -> Endpoint:
    """The endpoint ``raw`` (references in ``syntax`` resolved against ``env``)."""
    value = resolve(raw, syntax, env)
    text = value.text
    if text is None:
        # Known in part: ``${env:HOST}:4317`` still names its port.
        flat, _ = value.flat()
        match = _ENDPOINT.match(flat.strip())
        port = _port(match["port"]) if match and match["port"] else None
        return Endpoint(raw, None, port, at, ", ".join(value.unknown), protocol=protocol)
    match = _ENDPOINT.match(text.strip())
    if match is None:
        return Endpoint(raw, None, None, at, "not an endpoint", protocol=protocol)
    host = service_host(match["host"].strip("[]"))
    if not _HOST.match(host):  # ``$(NODE_IP)`` left as written, a template, ...
        return Endpoint(raw, None, None, at, "not a host name", protocol=protocol)
    port = _port(match["port"]) if match["port"] else None
    if match["port"] is None:  # not written: the scheme's, else the default
        port = {"http": 80, "https": 443}.get((match["scheme"] or "").lower(), default_port)
    return Endpoint(raw, host, port, at, protocol=protocol)


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None
