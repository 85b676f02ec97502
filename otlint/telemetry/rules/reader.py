"""Reader (RD): records that otlint could not read, or read only in part, join nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from otlint.core.finding import Hit, Level
from otlint.core.joins import Join
from otlint.core.rule import Options, rule
from otlint.core.wire import invalid_utf8_keys, is_utf8
from otlint.telemetry.analysis import Context
from otlint.telemetry.corpus.corpus import AttrLevel, ReadProblem
from otlint.telemetry.rules.read_problems import problem_hits
from otlint.telemetry.rules.tally import Tally


@rule("RD001", "unreadable-record", Join.INPUT, Level.ERROR)
def unreadable_record(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Records otlint could not read at all.

    What it checks:
        Every record in the input decodes as OTLP (protobuf or OTLP/JSON). Files
        that are not OTLP at all (an app's log, ``package.json``, YAML) are skipped
        with a note on stderr, not reported; the app's own lines in an OTLP/JSON
        Lines file are RD003.

    Why it breaks the join:
        An unreadable record joins nothing, and everything that pointed into it —
        child spans, logs, exemplars — becomes an orphan in the other checks.
        otlint skips it and checks the rest (``--strict`` stops instead).

    Example:
        A JSON Lines file cut mid-line by a crash; a protobuf dump with a truncated
        last frame; two signals in one OTLP/JSON document.

    Fix:
        Recapture the dump; check the exporter's rotation and compression settings.
    """
    yield from problem_hits(ctx, ("unreadable",))


@rule("RD002", "invalid-utf8", Join.INPUT, Level.ERROR)
def invalid_utf8(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Attribute keys, or resource attribute values, that are not valid UTF-8.

    What it checks:
        Every attribute key (resource, span, log, data point) and every string value
        of a resource attribute is valid UTF-8, as protobuf ``string`` fields must be.

    Why it breaks the join:
        Receivers that validate UTF-8 — the OpenTelemetry Collector and every Go or
        Java OTLP receiver — reject the *whole* export request for one bad string, so
        all the spans, logs or points sent with it are lost and every join they carry
        goes with them. otlint reads strings as bytes, so it can point at the key
        instead of failing the request.

    Example:
        A key built from a Latin-1 byte string (``b"caf\xe9.id"``); a resource value
        copied from a binary header.

    Fix:
        Decode or escape the bytes before using them as attribute keys or values
        (or put binary data in a ``bytes`` value).
    """
    per: dict[str | None, Tally] = defaultdict(Tally)
    corpus = ctx.corpus
    for (ri, lvl), counts in corpus.attr_counts.items():
        for (kb, _t), count in counts.items():
            if is_utf8(kb):
                continue
            entry = per[ctx.service_of(ri)]
            entry.count += count
            entry.names.add(f"{AttrLevel(lvl).label} key {kb.decode('utf-8', 'backslashreplace')}")
            entry.locs.append(corpus.attr_first.get((ri, lvl), {}).get((kb, _t)))
    for key, res in zip(corpus.resource_keys, corpus.resources, strict=True):
        bad = invalid_utf8_keys(key)
        if bad:
            entry = per[res.service]
            entry.count += sum(res.counts[:3])
            entry.names.update(f"resource attribute {k}" for k in bad)
            entry.locs.append(ctx.first_location(res))
    for svc, entry in sorted(per.items(), key=lambda kv: kv[0] or ""):
        keys = sorted(entry.names)
        yield Hit(
            message=f"not valid UTF-8: {', '.join(keys)}; a validating receiver rejects each request that carries it",
            service=svc,
            count=entry.count,
            locations=ctx.locations(entry.locs),
            context={"where": keys},
        )


@rule("RD003", "non-otlp-lines", Join.INPUT, Level.INFO)
def non_otlp_lines(ctx: Context, opts: Options) -> Iterator[Hit]:
    """Lines of an OTLP/JSON Lines file that are not OTLP: skipped and counted, one finding per file.

    What it checks:
        In a file with OTLP/JSON lines, every other line: lines that are not JSON
        (a banner, a plain log line) and lines that are JSON but no OTLP document (an
        app's JSON log line, ``{}``) are skipped; this finding counts each kind and
        names the first few line numbers. A line that *is* OTLP and broken (an object
        naming ``resourceSpans`` that does not parse, the last line cut short) is an
        unreadable record (RD001), not one of these.

    Why it breaks the join:
        It does not break one by itself: it says that otlint read only part of the
        file. A capture of a process's stdout, where the SDK's OTLP/JSON exporter
        writes among the app's own output, is read as the exporter wrote it; a line
        where the two were written into each other is lost with its records, and the
        spans that pointed into it show up as orphans.

    Example:
        The app prints ``Starting checkout v1.4.2 on :8080`` and logs
        ``{"level":"info","msg":"ready"}`` to the stdout the ``FileSpanExporter``
        writes its spans to.

    Fix:
        Export to a file of its own (the collector's ``file`` exporter, the SDK
        exporter with a path) or send the app's own output to stderr; or accept the
        capture as it is and ignore this rule for it (``paths:`` in the config).
    """
    corpus = ctx.corpus
    per: dict[int, dict[str, ReadProblem]] = {}
    for (kind, f, detail), problem in corpus.problems.items():
        if kind == "foreign":
            per.setdefault(f, {})[detail] = problem
    for f in sorted(per, key=lambda f: corpus.paths[f]):
        kinds = per[f]
        parts = []
        count = 0
        samples: list[int] = []
        for detail, what in (
            ("not JSON", "not JSON"),
            ("JSON, not OTLP", "JSON but no OTLP document"),
        ):
            prob = kinds.get(detail)
            if prob is None:
                continue
            count += prob.count
            samples += prob.samples
            shown = ", ".join(map(str, prob.samples)) + (
                ", ..." if prob.count > len(prob.samples) else ""
            )
            line_word = "line" if len(prob.samples) == 1 and prob.count == 1 else "lines"
            parts.append(f"{prob.count} {what} ({line_word} {shown})")
        first = min((p.first for p in kinds.values()), key=lambda loc: loc[1])
        yield Hit(
            message=(
                f"{count} {'line is not OTLP and was' if count == 1 else 'lines are not OTLP and were'} skipped: "
                f"{'; '.join(parts)}; "
                "the process's own output is interleaved with the exporter's"
            ),
            service=None,
            count=count,
            locations=[corpus.location(first)],
            services=corpus.services_in(f),
            context={
                "not_json": kinds["not JSON"].count if "not JSON" in kinds else 0,
                "other_json": kinds["JSON, not OTLP"].count if "JSON, not OTLP" in kinds else 0,
                "lines": sorted(samples),
            },
        )


RULES = (
    unreadable_record,
    invalid_utf8,
    non_otlp_lines,
)
