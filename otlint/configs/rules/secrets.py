"""Config rules CF07x, secrets: credentials written into configuration files.

CF070 reads what the readers keep: every unit's environment (compose, ``.env``
files, Kubernetes containers and ConfigMaps, Operator ``Instrumentation``), and where
collector and SDK configuration files write headers and credentials
(``otlint.configs.credentials``). The shapes of a credential and the names that say
a value is one are ``otlint.core.redact``'s, as the telemetry rules SE001-SE003 use
them; no finding carries the value, only the setting, the header and the kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from otlint.configs.names import EXPORTER_HEADERS, PROJECT_ENV
from otlint.configs.subst import SENTINEL
from otlint.core.finding import Hit, Level, Location
from otlint.core.joins import Join
from otlint.core.redact import (
    CREDENTIAL_KEY,
    KIND_LABELS,
    credential_header,
    credential_setting,
    credential_value,
    find_secrets,
)
from otlint.core.rule import Options, rule

if TYPE_CHECKING:  # the readers are loaded by check-config, not by every rule import
    from otlint.configs.facts import Carrier, ConfigFacts, Setting, Unit
    from otlint.configs.subst import Value

#: Where a value is written -> what to write there instead.
_FIX = {
    "compose service": "a ${VAR} reference set outside the repository (the shell, a secret "
    "or an untracked env_file)",
    "container": "a Secret (valueFrom.secretKeyRef)",
    "Instrumentation": "a Secret (valueFrom.secretKeyRef)",
    "ConfigMap": "a Secret (valueFrom.secretKeyRef, envFrom.secretRef)",
    "env file": "a .env file kept out of the repository, or the deploy's secret store",
    "SDK configuration": "a ${VAR} reference",
    "collector": "a ${env:VAR} reference",
}


def _written(value: Value) -> tuple[str, list[int], list[bool]]:
    """The value's text, for each character the offset in ``raw`` it is written at, and
    whether the file itself holds it: literal text, a ``${VAR:-default}``'s default and
    ``$$`` are written there; a variable substituted from elsewhere is not, and an
    unknown reference (``SENTINEL``) is not."""
    chars: list[str] = []
    offsets: list[int] = []
    written: list[bool] = []
    for seg in value.segments:
        if seg.unknown is not None:
            chars.append(SENTINEL)
            offsets.append(seg.start)
            written.append(False)
        elif seg.literal:
            chars.append(seg.text)
            offsets.extend(range(seg.start, seg.start + len(seg.text)))
            written.extend([True] * len(seg.text))
        else:
            here = seg.defaulted is not None or value.raw[seg.start : seg.end].startswith("$$")
            chars.append(seg.text)
            offsets.extend([seg.start] * len(seg.text))
            written.extend([here] * len(seg.text))
    return "".join(chars), offsets, written


def _whole(value: Value) -> str | None:
    """The value's text when the file holds all of it, else None."""
    text, _, written = _written(value)
    return text if all(written) else None


@dataclass(frozen=True)
class _Pair:
    """One ``key=value`` of a header list, decoded, with where its value is written."""

    header: str | None  # None when the key is not known (a reference)
    value: str
    offset: int  # in the setting's raw value
    written: bool  # the file holds every character of the value


def _pairs(value: Value) -> Iterator[_Pair]:
    """The headers of an ``OTEL_EXPORTER_OTLP_HEADERS``-style list (W3C Baggage without
    properties): ``key=value`` items split on commas, values percent-decoded."""
    text, offsets, written = _written(value)
    start = 0
    for part in text.split(","):
        end = start + len(part)
        key, sep, rest = part.partition("=")
        if sep:
            first = start + len(key) + 1 + (len(rest) - len(rest.lstrip()))
            raw = rest.strip()
            header = key.strip()
            if raw:
                yield _Pair(
                    header if header and SENTINEL not in header else None,
                    unquote(raw),
                    offsets[first],
                    all(written[first : first + len(raw)]),
                )
        start = end + 1


def _kind(text: str, named: bool) -> str | None:
    """The kind of credential a value written in a file holds: a shape
    ``redact.find_secrets`` names, else, under a name that names a credential, a value
    that is one (``redact.credential_value``); None for neither."""
    found = find_secrets(text)
    if found:
        return found[0].name
    if named and credential_value(text):
        return CREDENTIAL_KEY
    return None


@dataclass
class _Found:
    """One credential at one place, and every unit (or collector) it reaches."""

    setting: Setting
    header: str | None
    kind: str
    at: Location
    fix: str
    where: list[str] = field(default_factory=list)
    service: str | None = None


def _fix(setting: Setting, unit: Unit | None) -> str:
    """What to write where the value is written, by the kind of file that holds it."""
    if setting.doc is not None and setting.doc.syntax == "dotenv":
        return _FIX["env file"]
    if setting.source.startswith("ConfigMap"):
        return _FIX["ConfigMap"]
    if unit is None:
        return _FIX["collector"]
    return _FIX.get(unit.kind, _FIX["SDK configuration"])


class _Collected:
    """The credentials found so far, one per place and header: a ``.env`` line read by
    five compose services, an ``Instrumentation`` injected into ten containers, is one."""

    def __init__(self) -> None:
        self.found: dict[tuple[Location, str], _Found] = {}

    def add(
        self,
        setting: Setting,
        header: str | None,
        kind: str,
        at: Location,
        where: str,
        unit: Unit | None = None,
    ) -> None:
        key = (at, header if header is not None else f"\x00{setting.name}")
        entry = self.found.get(key)
        if entry is None:
            entry = self.found[key] = _Found(setting, header, kind, at, _fix(setting, unit))
        if where not in entry.where:
            entry.where.append(where)
        if entry.service is None and unit is not None:
            entry.service = unit.service

    def setting(self, setting: Setting, where: str, unit: Unit | None = None) -> None:
        """An environment variable: a header list, or a value judged by its name and shape."""
        value = setting.value
        if value is None or setting.source == PROJECT_ENV:
            return  # from a Secret or a fieldRef, or written in the project .env
        if setting.name in EXPORTER_HEADERS:
            self.listed(setting, where, unit)
            return
        text = _whole(value)
        kind = _kind(text, credential_setting(setting.name)) if text is not None else None
        if kind is not None:
            self.add(setting, None, kind, setting.value_at, where, unit)

    def listed(self, setting: Setting, where: str, unit: Unit | None = None) -> None:
        """A list of headers: each header written in the file whose value is a credential."""
        assert setting.value is not None
        for pair in _pairs(setting.value):
            if not pair.written:
                continue  # ${TOKEN}, $(TOKEN), Bearer ${TOKEN}: set at deploy time
            named = pair.header is not None and credential_header(pair.header)
            kind = _kind(pair.value, named)
            if kind is not None:
                self.add(setting, pair.header, kind, setting.at_offset(pair.offset), where, unit)

    def carrier(self, carrier: Carrier, where: str, unit: Unit | None = None) -> None:
        """A value a collector or SDK configuration writes where a credential goes."""
        setting = carrier.setting
        if setting.value is None:
            return
        if carrier.listed:
            self.listed(setting, where, unit)
            return
        text = _whole(setting.value)
        kind = _kind(text, carrier.named) if text is not None else None
        if kind is not None:
            self.add(setting, carrier.header, kind, setting.value_at, where, unit)


def _hit(entry: _Found) -> Hit:
    setting = entry.setting
    what = setting.name if entry.header is None else f"{setting.name} header {entry.header}"
    more = len(entry.where) - 1
    where = entry.where[0] + (
        f" (and {more} more {'unit' if more == 1 else 'units'})" if more else ""
    )
    return Hit(
        message=f"{where}: {what} holds {KIND_LABELS[entry.kind]}, written into the file: "
        f"move it into {entry.fix} and rotate it",
        service=entry.service,
        locations=[entry.at],
        context={
            "setting": setting.name,
            "header": entry.header,
            "kind": entry.kind,
            "where": list(entry.where),
        },
    )


@rule("CF070", "credential-in-config", Join.TRUST, Level.ERROR, target="config")
def credential_in_config(facts: ConfigFacts, opts: Options) -> Iterator[Hit]:
    """A token, key or password written into a configuration file instead of a Secret.

    What it checks:
        ``OTEL_EXPORTER_OTLP_HEADERS`` (and its ``TRACES``, ``METRICS`` and ``LOGS``
        forms) in every unit's environment (compose ``environment``, ``.env`` files,
        Kubernetes container ``env`` and ConfigMaps, Operator ``Instrumentation``
        ``env`` and ``<language>.env``), read as the SDK reads it: ``key=value`` pairs, values
        percent-decoded. A header whose value the file holds (literal text, or the
        default of a ``${TOKEN:-default}``; not a ``${TOKEN}`` or ``$(TOKEN)``
        reference, nor a ``valueFrom.secretKeyRef``) is reported when its name names
        a credential (``authorization``, ``x-api-key``, ``x-honeycomb-team``,
        anything with ``token``, ``key``, ``auth``, ``secret`` or ``password`` in it)
        and the value is one, or when the value has the shape of one
        (``Bearer``/``Basic`` credentials, a JWT, a service token, a cloud key, a
        private key block, a URL with a password). Any other variable of those units
        is reported when its name names a credential (``*_API_KEY``, ``*_TOKEN``,
        ``*_PASSWORD``, ``*_SECRET``) and the file holds its value, or when the value
        has such a shape. In collector configurations: every ``headers`` map or list
        (any exporter, ``headers_setter``), keys that name a credential
        (``bearertokenauth`` ``token``, ``basicauth`` ``client_auth.password``,
        ``oauth2client`` ``client_secret``, Datadog's ``api.key``) and strings with
        the shape of one; in SDK declarative configurations, exporters' ``headers``
        and ``headers_list``. Placeholders (empty, ``REDACTED``, ``<your-key>``,
        ``xxxx``, ``changeme``, ``YOUR_API_KEY``) and words or numbers (``test``,
        ``1234``) are not credentials; a value built on a reference (``Bearer
        ${TOKEN}``) is set at deploy time. One finding per place and header, however
        many units read it; the value is never shown.

    Why it breaks the join:
        A credential in a committed file is readable by everyone who can read the
        repository, its forks and its history, and by every image or chart built
        from it: who may send telemetry as the service, and who may read its
        backend, is no longer decided by who holds the secret. It has to be rotated,
        and until it is, the telemetry sent with it cannot be trusted to come from
        the service.

    Example:
        ``OTEL_EXPORTER_OTLP_HEADERS: authorization=Bearer f3a9c1...`` in a compose
        file's ``environment``, or ``headers: {x-api-key: 0123abcd...}`` under a
        collector's ``otlphttp`` exporter.

    Fix:
        Write a reference and keep the value in a secret store: in a collector
        configuration ``authorization: "Bearer ${env:OTLP_TOKEN}"`` (or the
        ``bearertokenauth`` extension reading a ``filename``); in Kubernetes an
        ``env`` entry with ``valueFrom.secretKeyRef``, and ``$(OTLP_TOKEN)`` where a
        header list needs it; in compose and SDK configurations ``${OTLP_TOKEN}``
        set outside the repository. Then rotate the credential: it stays in the
        repository's history.
    """
    found = _Collected()
    for unit in facts.units:
        for setting in [*unit.env.values(), *unit.language_env]:
            found.setting(setting, unit.label, unit)
        for carrier in unit.carriers:
            found.carrier(carrier, unit.label, unit)
    for collector in facts.collectors:
        for carrier in collector.carriers:
            found.carrier(carrier, f"collector config {collector.path}")
    for entry in found.found.values():
        yield _hit(entry)


RULES = (credential_in_config,)
