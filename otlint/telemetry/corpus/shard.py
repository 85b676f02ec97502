"""Corpus shards on disk: ``--state FILE`` writes one, ``otlint merge`` reads many.

The format is otlint's own, versioned, and safe to read from an untrusted source (no
pickle): a zstd frame holding ``MAGIC``, a JSON header, and the raw bytes of the
Corpus' columns. Resources are stored as their encoded bytes and decoded again on
load, exactly as ``observe`` decoded them; a resource whose attributes carry a
credential is stored with it masked (``_stored_keys``).

Nothing here names a fact: the header holds the interned tables, each row table's
columns (typecode and where their bytes are) and each keyed fact as its law encodes
it, all walked from the declarations in ``corpus``. A change of those declarations
that older otlint builds cannot read bumps ``VERSION``; a shard of another version is
refused with a message that says so.
"""

from __future__ import annotations

import base64
import json
import sys
from array import array
from pathlib import Path
from typing import Any, TypeVar, overload

import zstandard
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otlint.core.errors import OtlintError
from otlint.core.redact import MASK, credential_key, is_placeholder, mask_secrets
from otlint.telemetry.corpus.corpus import Corpus, ResourceFacts
from otlint.telemetry.corpus.schema import declared

C = TypeVar("C", bound=Corpus)

MAGIC = b"OTLINT-STATE\n"
#: 2: every row table (span links too) as columns, every keyed fact encoded by its law.
#: 3: the ``secrets`` fact; resources' credentials masked.
VERSION = 3


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _mask_value(key: str, value: AnyValue, depth: int = 0) -> bool:
    """Mask, in place, the credentials an attribute value carries: the whole string under a
    key that names a credential (``redact.credential_key``), else its secret parts
    (``redact.mask_secrets``, which masks whatever a report would). True when it changed."""
    kind = value.WhichOneof("value")
    changed = False
    if kind == "string_value":
        text = value.string_value
        masked = MASK if credential_key(key) and not is_placeholder(text) else mask_secrets(text)
        if masked != text:
            value.string_value = masked
            changed = True
    elif depth < _MASK_DEPTH and kind == "array_value":
        for item in value.array_value.values:
            changed = _mask_value(key, item, depth + 1) or changed
    elif depth < _MASK_DEPTH and kind == "kvlist_value":
        for kv in value.kvlist_value.values:
            changed = _mask_value(f"{key}.{kv.key}", kv.value, depth + 1) or changed
    return changed


_MASK_DEPTH = 8  # (as deep as ``redact.secrets_in`` looks)
_U32 = 1 << 32


def _stored_keys(corpus: Corpus) -> list[bytes]:
    """The resources' keys as a shard stores them: a resource whose attributes carry a
    credential is re-encoded with it masked, so no shard holds one (the secret rules noted
    it while observing). Masking may make two resources one key (they differed only in
    the credential): the later is then told apart by its ``dropped_attributes_count``,
    which no rule reads, so a merge still keeps them apart and neither keeps the credential."""
    keys: list[bytes] = []
    taken = set(corpus.resource_keys)
    for key in corpus.resource_keys:
        try:
            resource = Resource.FromString(key)
        except DecodeError:  # (observe decoded it: unreachable in practice)
            resource = None
        if resource is None:
            keys.append(key)
            continue
        changed = [_mask_value(kv.key, kv.value) for kv in resource.attributes]  # (all of them)
        if any(changed):
            masked = resource.SerializeToString(deterministic=True)
            while masked in taken:
                resource.dropped_attributes_count = (resource.dropped_attributes_count + 1) % _U32
                masked = resource.SerializeToString(deterministic=True)
            taken.add(masked)
            key = masked
        keys.append(key)
    return keys


def to_bytes(corpus: Corpus, level: int = 3) -> bytes:
    """Serialize a corpus (see the module docstring); ``level`` is the zstd level (1 for speed)."""
    blobs: list[bytes] = []
    offset = 0

    def blob(data: bytes) -> list[int]:
        nonlocal offset
        blobs.append(data)
        offset += len(data)
        return [offset - len(data), len(data)]

    tables: dict[str, dict[str, object]] = {}
    for name, rows in corpus.row_tables().items():
        tables[name] = {
            spec.name: {
                "type": data.typecode if isinstance(data, array) else "bytes",
                "at": blob(data.tobytes() if isinstance(data, array) else bytes(data)),
            }
            for spec, data in rows.columns()
        }
    header = {
        "version": VERSION,
        "byteorder": sys.byteorder,
        "paths": corpus.paths,
        "path_lines": corpus.path_lines,
        "strings": corpus.strings,
        "resources": [
            {
                "key": _b64(key),
                **{
                    name: law.encode(getattr(r, name))
                    for name, law in declared(ResourceFacts).facts
                },
            }
            for key, r in zip(_stored_keys(corpus), corpus.resources, strict=True)
        ],
        "tables": tables,
        "facts": {
            name: law.encode(getattr(corpus, name)) for name, law in declared(type(corpus)).facts
        },
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    raw = MAGIC + len(head).to_bytes(8, "big") + head + b"".join(blobs)
    return zstandard.ZstdCompressor(level=level).compress(raw)


@overload
def from_bytes(data: bytes, origin: str = "<state>") -> Corpus: ...


@overload
def from_bytes(data: bytes, origin: str, into: type[C]) -> C: ...


def from_bytes(data: bytes, origin: str = "<state>", into: type[Corpus] = Corpus) -> Corpus:
    """Rebuild a corpus (``into``: of a class that declares more); a file that is not a
    state file of this version is an OtlintError."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34)
    except zstandard.ZstdError:
        raise OtlintError(f"{origin}: not an otlint state file (write one with --state)") from None
    if not raw.startswith(MAGIC):
        raise OtlintError(f"{origin}: not an otlint state file (write one with --state)")
    try:
        n = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "big")
        start = len(MAGIC) + 8
        header = json.loads(raw[start : start + n])
        body = memoryview(raw)[start + n :]
        if header.get("version") != VERSION:
            raise OtlintError(
                f"{origin}: state file version {header.get('version')} needs another otlint (this one reads {VERSION})"
            )
        return _rebuild(header, body, into())
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise OtlintError(
            f"{origin}: damaged otlint state file ({type(exc).__name__}: {exc})"
        ) from None


def _rebuild(header: dict[str, Any], body: memoryview, corpus: Corpus) -> Corpus:
    for path, lines in zip(header["paths"], header["path_lines"], strict=True):
        corpus.path_index(path, lines)
    for s in header["strings"]:
        corpus.string_index(s)
    for r in header["resources"]:
        facts = corpus.resources[corpus.resource_index(base64.b64decode(r["key"]))]
        for name, law in declared(ResourceFacts).facts:
            setattr(facts, name, law.decode(r[name]))
    swap = header["byteorder"] != sys.byteorder
    tables = header["tables"]
    for name, rows in corpus.row_tables().items():
        cols = tables[name]
        for spec, empty in rows.columns():
            stored = cols[spec.name]
            at, size = stored["at"]
            chunk = bytes(body[at : at + size])
            if isinstance(empty, array):
                if stored["type"] != spec.typecode:
                    raise ValueError(
                        f"{name}.{spec.name} holds {stored['type']}, not {spec.typecode}"
                    )
                column = array(spec.typecode)
                column.frombytes(chunk)
                if swap:
                    column.byteswap()
                setattr(rows, spec.name, column)
            else:
                if stored["type"] != "bytes" or size % spec.width:
                    raise ValueError(f"{name}.{spec.name} does not hold {spec.width}-byte rows")
                setattr(rows, spec.name, bytearray(chunk))
        counts = {
            len(data) // spec.width if spec.width else len(data) for spec, data in rows.columns()
        }
        if len(counts) > 1:
            raise ValueError(f"the columns of {name} hold different numbers of rows")
    facts_in = header["facts"]
    for name, law in declared(type(corpus)).facts:
        setattr(corpus, name, law.decode(facts_in[name]))
    return corpus


def write(corpus: Corpus, path: str | Path) -> None:
    """Write a corpus shard to ``path``."""
    try:
        Path(path).write_bytes(to_bytes(corpus))
    except OSError as exc:
        raise OtlintError(f"{path}: cannot write the state file: {exc.strerror}") from None


def read(path: str | Path) -> Corpus:
    """Read a corpus shard from ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read the state file: {exc.strerror}") from None
    return from_bytes(data, str(path))
