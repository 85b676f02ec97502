"""``check-config``'s engine: files -> ConfigFacts -> ranked Findings -> Report.

The same ``Finding``, ranking, settings and reporters as ``otlint check``; what
differs is the input (configuration files, read by ``otlint.configs`` readers), the
rules (those registered with ``target="config"``), and in-file suppressions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from otlint import __version__
from otlint.configs import collector
from otlint.configs.document import Document, dotenv_error, looks_like_dotenv, parse_dotenv
from otlint.configs.facts import ConfigFacts, ConfigProblem, Suppression
from otlint.configs.kinds import (
    describe,
    harness_assertion,
    helm_chart_file,
    helm_template,
    not_configuration,
)
from otlint.configs.registry import READERS, Reader
from otlint.configs.suppress import scan_suppressions
from otlint.core.errors import OtlintError
from otlint.core.finding import Finding, Hit, Location
from otlint.core.fs import SKIP_DIRS
from otlint.core.jsontypes import JSONObject
from otlint.core.textfile import not_readable, read_text
from otlint.core.yamlpos import Budget, LimitError, Marks, load_all_lenient, load_all_with_marks
from otlint.registry import REGISTRY, Rule
from otlint.report.report import Report, levelled, rule_info
from otlint.run.config_incident import config_incident_paths

if TYPE_CHECKING:
    from otlint.settings import Settings

__all__ = [
    "UNUSED_SUPPRESSION",
    "build_config_report",
    "evaluate_configs",
    "is_config_name",
    "read_configs",
]

#: The rule reporting suppressions that silenced nothing; it runs after all the others.
UNUSED_SUPPRESSION = "CF090"

_YAML_SUFFIXES = (".yaml", ".yml", ".json")
#: Kinds ``--verbose`` names in full for one file; past this, a count.
_SHOWN_KINDS = 4
_ERROR_AT = re.compile(r":(?P<line>\d+):(?P<col>\d+): (?P<message>.*)$", re.DOTALL)


def is_config_name(name: str) -> bool:
    """Whether a file name is one a directory walk (and the pre-commit hook) picks up."""
    return name.endswith((".yaml", ".yml")) or name.startswith(".env") or name.endswith(".env")


def read_configs(paths: Sequence[str]) -> ConfigFacts:
    """Read every file (folders: every ``is_config_name`` file below them) into ConfigFacts.

    Files that are no configuration otlint knows are listed in ``facts.skipped``; a
    path that does not exist is an ``OtlintError``.
    """
    facts = ConfigFacts()
    for path, named in _expand(paths, facts):
        _read_file(path, facts, named)
    for reader in READERS.values():
        reader.finish(facts)
    return facts


def _expand(paths: Sequence[str], facts: ConfigFacts) -> Iterable[tuple[str, bool]]:
    """Each file to read, and whether it was named (else a walk of a folder found it).

    A folder that cannot be listed is a note, and the walk goes on.
    """

    def unlisted(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else "a folder"
        _skip(facts, os.path.normpath(where), f"cannot list this folder: {exc.strerror or exc}")

    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path, onerror=unlisted):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                yield from (
                    (os.path.normpath(os.path.join(folder, f)), False)
                    for f in sorted(files)
                    if is_config_name(f)
                )
        elif os.path.lexists(path):
            # A symbolic link to nothing is a note too: the pre-commit hook names every
            # staged file, links included.
            yield os.path.normpath(path), True
        else:
            raise OtlintError(f"{path}: no such file or directory")


def _read_file(path: str, facts: ConfigFacts, named: bool = True) -> None:
    """Read the file at ``path`` into ``facts``. A file a walk found is read only when it
    is a regular one (else a note); one that was named is read whatever it is (a FIFO:
    to its end), but a symbolic link to nothing is a note either way."""
    try:
        why = not_readable(path)
        if why is not None and (not named or not os.path.exists(path)):  # a link to nothing
            _skip(facts, path, why)
            return
        text = read_text(path)
    except UnicodeDecodeError as exc:
        if exc.encoding == "UTF-8":
            _skip(facts, path, "not UTF-8 text (nor UTF-16 or UTF-32 with a byte order mark)")
        else:
            _skip(
                facts, path, f"not {exc.encoding} text, though it starts with its byte order mark"
            )
        return
    except OSError as exc:
        if named:
            raise OtlintError(f"{path}: cannot read: {exc.strerror or exc}") from None
        _skip(facts, path, f"cannot read: {exc.strerror or exc}")
        return
    not_deployed = helm_template(path, text) or harness_assertion(path)
    if not_deployed is not None:
        _skip(facts, path, not_deployed)
        return
    docs = _documents(path, text, facts)
    if docs is None:
        return
    read_as: list[str] = []
    for doc in docs:
        read_as += _read_document(doc, facts)
    if read_as:
        facts.inputs.append(path)
        facts.suppressions += scan_suppressions(text.splitlines(), path)
        facts.read_as.append((path, "read as " + _summary(read_as)))
    else:
        _skip(facts, path, _not_read(docs))


def _skip(facts: ConfigFacts, path: str, why: str) -> None:
    facts.skipped.append((path, why))
    facts.read_as.append((path, f"skipped: {why}"))


def _read_document(doc: Document, facts: ConfigFacts) -> list[str]:
    """Read ``doc`` with the reader of its kind, and the collector configs written in it
    as strings; what it was read as (nothing: no kind otlint reads). A Kubernetes
    ``List`` is opened here: each of its items is read as a document of its own."""
    data = doc.data
    if (
        isinstance(data, dict)
        and data.get("kind") == "List"
        and isinstance(data.get("items"), list)
    ):
        return [
            what
            for index, item in enumerate(data["items"])
            if isinstance(item, dict)
            for what in _read_document(doc.sub(("items", index)), facts)
        ]
    read_as: list[str] = []
    name, reader = next(((n, r) for n, r in READERS.items() if r.detect(doc)), ("", None))
    if reader is not None:
        _guarded(reader, doc, facts)
        read_as.append(describe(name, doc))
    if reader is not collector:
        for where, found in collector.embedded(doc):
            if isinstance(found, OtlintError):
                facts.problems.append(_problem(doc.path, str(found), where))
                read_as.append(f"collector config ({where}; not YAML)")
            else:
                before = len(facts.collectors)
                _guarded(collector, found, facts)
                for read in facts.collectors[before:]:
                    read.names.append(where)  # how the data-plane map finds who runs it
                read_as.append(f"collector config ({where})")
    return read_as


def _guarded(reader: Reader, doc: Document, facts: ConfigFacts) -> None:
    try:
        reader.read(doc, facts)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # A shape no reader expected must not stop the other files being checked.
        facts.problems.append(
            ConfigProblem(
                doc.value(()),
                f"document {doc.index + 1} has a shape otlint cannot read ({type(exc).__name__}: {exc})",
            )
        )


def _summary(read_as: list[str]) -> str:
    """One line for ``--verbose``: each kind once, in order, the first few in full."""
    unique = list(dict.fromkeys(read_as))
    shown = "; ".join(unique[:_SHOWN_KINDS])
    more = len(unique) - _SHOWN_KINDS
    return shown + (f"; and {more} more" if more > 0 else "")


def _not_read(docs: list[Document]) -> str:
    """Why a file none of whose documents any reader took was skipped."""
    if all(doc.data is None for doc in docs):
        return "empty (nothing but comments or blank lines)"
    chart = helm_chart_file(docs[0].path) if docs else None
    if chart is not None:
        return chart
    for doc in docs:
        what = not_configuration(doc.data)
        if what is not None:
            return what
    keys = sorted(
        {k for doc in docs if isinstance(doc.data, dict) for k in doc.data if isinstance(k, str)}
    )
    shown = f" (top-level keys: {', '.join(keys[:5])}{', ...' if len(keys) > 5 else ''})"
    return "not an OpenTelemetry collector, SDK, compose, Kubernetes or .env configuration" + (
        shown if keys else ""
    )


def _documents(path: str, text: str, facts: ConfigFacts) -> list[Document] | None:
    """The file's documents; None when it is skipped or unreadable (recorded in facts)."""
    name = os.path.basename(path)
    budget = Budget(len(text))  # shared with the YAML written in strings of the file
    dotenv_name = name.startswith(".env") or name.endswith(".env")
    if dotenv_name and not name.endswith(_YAML_SUFFIXES):
        why = dotenv_error(text)
        if why is not None:
            _skip(facts, path, f"not a .env file ({why})")
            return None
        return [parse_dotenv(text, path)]
    if looks_like_dotenv(text):
        return [parse_dotenv(text, path)]
    try:
        loaded = load_all_with_marks(text, path, budget=budget)
    except LimitError as exc:
        # Nested or aliased past otlint's bounds: whatever kind of file it is, it is
        # reported (nobody writes configuration like it; a hostile file is not skipped).
        facts.problems.append(_problem(path, str(exc)))
        facts.inputs.append(path)
        facts.read_as.append((path, "past otlint's bounds for YAML (reported as CF001)"))
        return None
    except OtlintError as exc:
        if "{{" in text and "}}" in text:
            _skip(facts, path, "a template ({{ ... }}), not YAML until rendered")
        elif name.endswith(_YAML_SUFFIXES):
            other = _unreadable_other(path, text, str(exc))
            if other is not None:
                _skip(facts, path, other)
                return None
            facts.problems.append(_problem(path, str(exc)))
            facts.inputs.append(path)
            facts.read_as.append((path, "not readable as YAML (reported as CF001)"))
        else:
            _skip(facts, path, "not YAML")
        return None
    lines = tuple(text.splitlines())
    return [
        Document(path, index, data, marks, lines, budget=budget)
        for index, (data, marks) in enumerate(loaded)
    ]


#: Words that make an unreadable file one to report even when its kind cannot be told.
_OTEL_WORDS = re.compile(r"OTEL_|opentelemetry|otlp|otelcol", re.IGNORECASE)


def _unreadable_other(path: str, text: str, error: str) -> str | None:
    """Why an unreadable YAML file is skipped with a note instead of CF001, or None.

    CF001 is for OpenTelemetry configuration: a file whose documents, read leniently
    (repeated keys, unknown tags; for a syntax error, the lines above it), are a kind
    otlint reads, or that cannot be told and mentions OpenTelemetry. Another project's
    YAML (a CI file with a repeated key, a ``mkdocs.yml`` with a Python tag) is not
    this linter's to fail: it is skipped with the YAML error in the note. The same
    holds for a file named on the command line: the pre-commit hook names every
    staged YAML file.
    """
    rest = error.removeprefix(path)
    match = _ERROR_AT.match(rest)
    said = f"{match['line']}:{match['col']}: {match['message']}" if match else rest.strip(": ")
    datas = load_all_lenient(text)
    if datas is None and match is not None:
        above = "\n".join(text.splitlines()[: int(match["line"]) - 1])
        datas = load_all_lenient(above)
    lines = tuple(text.splitlines())
    docs = [
        Document(path, i, d, Marks(), lines) for i, d in enumerate(datas or []) if d is not None
    ]
    if any(r.detect(doc) for doc in docs for r in READERS.values()) or any(
        isinstance(d.data, dict)
        and str(d.data.get("apiVersion", "")).startswith("opentelemetry.io/")
        for d in docs
    ):
        return None
    if not docs:
        if _OTEL_WORDS.search(text):
            return None
        what = "nothing readable in it says it is OpenTelemetry configuration"
    else:
        what = _not_read(docs)
    return f"not readable as YAML ({said}), and {what}"


def _problem(path: str, message: str, where: str | None = None) -> ConfigProblem:
    """An unreadable file (or string ``where`` in it) as a ConfigProblem at the line and column
    the YAML error names."""
    rest = message.removeprefix(path)
    match = _ERROR_AT.match(rest)
    if match is None:
        return ConfigProblem(Location(path, line=1, column=1), message)
    said = (
        match["message"]
        if where is None
        else f"the collector config in {where}: {match['message']}"
    )
    return ConfigProblem(Location(path, line=int(match["line"]), column=int(match["col"])), said)


def evaluate_configs(
    facts: ConfigFacts, settings: Settings, registry: Mapping[str, Rule] = REGISTRY
) -> list[Finding]:
    """Run every enabled config rule over ``facts``; apply levels and suppressions; rank.

    Suppressions apply after levels (a finding config turned off uses none); the
    unused-suppression rule runs last, over what the others left unused.
    """
    findings: list[Finding] = []
    codes = sorted(c for c in settings.rules if registry[c].target == "config")
    # Rules that leave a cause to another rule ask whether it runs (CF012 and CF040).
    facts.enabled = frozenset(settings.rules)
    facts.known_codes = frozenset(registry)
    for code in (c for c in codes if c != UNUSED_SUPPRESSION):
        findings += _findings(registry[code], facts, settings)
    covering = _by_line(facts.suppressions)
    findings = [f for f in _unique(findings) if not _suppressed(f, covering)]
    if UNUSED_SUPPRESSION in codes:
        findings += _findings(registry[UNUSED_SUPPRESSION], facts, settings)
    findings.sort(key=Finding.sort_key)
    return findings


def _findings(rule: Rule, facts: ConfigFacts, settings: Settings) -> list[Finding]:
    # Config rules take ConfigFacts (telemetry rules the telemetry Context).
    hits: Iterable[Hit] = rule.check(facts, settings.options_for(rule.code))
    return levelled(rule, hits, settings)


def _unique(findings: list[Finding]) -> list[Finding]:
    """Drop repeats: a ``.env`` file read on its own and through a compose service says
    the same thing at the same place."""
    seen: set[tuple[str, str, tuple[Location, ...]]] = set()
    out = []
    for f in findings:
        key = (f.code, f.message, tuple(f.locations))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _by_line(
    suppressions: Iterable[Suppression],
) -> dict[tuple[str, int | None], list[Suppression]]:
    """Suppressions by the file and line they silence (None: the whole file), so that a
    finding asks only those that may cover it (thousands of both in a big file)."""
    out: dict[tuple[str, int | None], list[Suppression]] = {}
    for suppression in suppressions:
        out.setdefault((suppression.path, suppression.line), []).append(suppression)
    return out


def _suppressed(
    finding: Finding, suppressions: Mapping[tuple[str, int | None], list[Suppression]]
) -> bool:
    if not finding.locations:
        return False
    loc = finding.locations[0]
    candidates = [
        *suppressions.get((loc.path, loc.line), ()),
        *suppressions.get((loc.path, None), ()),
    ]
    covering = [s for s in candidates if s.covers(finding.code, loc.path, loc.line)]
    for suppression in covering:
        suppression.used.add(finding.code)
    return bool(covering)


def build_config_report(
    facts: ConfigFacts, findings: list[Finding], show_values: bool = False
) -> Report:
    """The ranked config Report: the same shape ``otlint check`` reports in every format."""
    names = sorted({u.service for u in facts.units if u.deployable and u.service is not None})
    services: list[str | None] = list(names)
    return Report(
        version=__version__,
        findings=findings,
        joins=[],
        totals={},
        services=services,
        rules=rule_info(),
        inputs=list(facts.inputs),
        show_values=show_values,
        kind="config",
        dataplane=_map(facts),
        incidents=config_incident_paths(facts, findings),
    )


def _map(facts: ConfigFacts) -> JSONObject | None:
    """The data-plane map of the run, None when it holds no collector and no sender."""
    from otlint.configs.dataplane import build, graph

    drawn = graph(build(facts))
    return drawn if drawn["nodes"] else None
