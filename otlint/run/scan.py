"""Read inputs into a Corpus, one process: open each source, observe each record.

``check.scan`` calls this directly for one job, and ``parallel`` calls it in each worker
process (on whole files, or on byte ranges of a large one).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from otlint.core.errors import OtlintError
from otlint.core.wire import NestingTooDeep
from otlint.telemetry.corpus.corpus import Corpus, Signal
from otlint.telemetry.observe import Observer
from otlint.telemetry.observe_structs import fold
from otlint.telemetry.readers import (
    Columns,
    Foreign,
    Message,
    Skipped,
    Source,
    Unreadable,
    classify,
    expand,
    has_otlp_shape,
    open_source,
    signal_hint,
)


@dataclass
class ScanStats:
    """What a scan read: inputs, skipped files (each with why), records, and the bytes of
    the inputs as stored (compressed for a .gz or .zst: the unit of ``Inputs.total``)."""

    inputs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    bytes: int = 0


if TYPE_CHECKING:  # (a Protocol class costs ~1 ms to make at import)
    from typing import Protocol

    class RowsOut(Protocol):
        """Where rows go past a share of ``--max-memory``: ``run.spill.Spill`` (to disk, by
        trace), or ``run.parallel``'s hand-off of a whole file in parts."""

        def due(self, corpus: Corpus, /) -> bool:
            """Whether the corpus holds more rows than its share."""
            ...

        def spill(self, corpus: Corpus, /) -> Corpus | None:
            """Take the rows (or the whole corpus: then reading goes on in the one returned)."""
            ...

    class Progress(Protocol):
        """Told the inputs' total size once, then called as records are read."""

        def begin(self, total: int | None, /) -> None:
            """The bytes of every input as stored, before any is read (None: a pipe among them)."""
            ...

        def __call__(self, path: str, records: int, done: int, /) -> None:
            """(The current path, records so far, input bytes read so far, as stored.)"""
            ...


@dataclass
class Inputs:
    """The files the paths expand to, what the walk skipped, and (when asked) each file's
    size as stored: None for stdin and pipes."""

    files: list[str]
    notes: list[tuple[str, str]]
    sizes: list[int | None] | None = None

    @property
    def total(self) -> int | None:
        """The bytes of every input, None when one has no size (or sizes were not taken)."""
        if self.sizes is None or None in self.sizes:
            return None
        return sum(size or 0 for size in self.sizes)


def find_inputs(paths: Sequence[str], *, sized: bool = False) -> Inputs:
    """Expand ``paths`` (folders walked once, as ``expand`` does); ``sized``: stat each file."""
    notes: list[tuple[str, str]] = []
    files = [path for path, _explicit in expand(paths, notes)]
    return Inputs(files, notes, [_stored_size(p) for p in files] if sized else None)


def _stored_size(path: str) -> int | None:
    if path == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None  # (opening it says what is wrong)
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def scan_serial(
    paths: Sequence[str],
    corpus: Corpus | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    inputs: Inputs | None = None,
    spill: RowsOut | None = None,
) -> tuple[Corpus, ScanStats]:
    """Read every input into a Corpus in this process. Unreadable records become problems
    (or, strict, an error). ``inputs``: ``paths`` already expanded (and sized, for
    ``progress``). ``spill``: where rows go when the corpus holds more than its share of
    ``--max-memory`` (``run.spill``)."""
    corpus = corpus if corpus is not None else Corpus()
    if inputs is None or (progress is not None and inputs.sizes is None):
        inputs = find_inputs(paths, sized=progress is not None)
    stats = ScanStats(skipped=list(inputs.notes))
    if progress is not None:
        progress.begin(inputs.total)
    observer = Observer(corpus)
    for path in inputs.files:
        read_file(path, observer, stats, strict=strict, progress=progress, spill=spill)
    return observer.corpus, stats  # (a hand-off, ``RowsOut``, may have moved it on)


def read_file(
    path: str,
    observer: Observer,
    stats: ScanStats,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    spill: RowsOut | None = None,
    opened: Callable[[Source], None] | None = None,
) -> None:
    """Open one input and observe it; ``opened`` is shown the source first (it may wrap
    its items).

    A file named on the command line and one found in a folder are read alike: what is
    not OTLP is skipped (in ``stats.skipped``: the caller says so), what is OTLP and
    broken is reported.
    """
    source = open_source(path)
    display = "<stdin>" if path == "-" else path
    if source.skip is not None:
        stats.skipped.append((display, source.skip))
        stats.bytes += source.size or 0
        return
    if opened is not None:
        opened(source)
    if read_source(source, display, observer, stats, strict=strict, progress=progress, spill=spill):
        stats.inputs.append(display)


def read_source(
    source: Source,
    display: str,
    observer: Observer,
    stats: ScanStats,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    spill: RowsOut | None = None,
) -> bool:
    """Observe every item of one opened source; False if it turned out not to be OTLP (then skipped).

    ``stats.bytes`` grows by the source's size as stored (what was read of it, for a
    pipe); ``progress`` is told the records and the input bytes read so far; ``spill``
    takes the rows when they pass their share of the memory budget.
    """
    before = stats.bytes
    tell = source.consumed
    try:
        return _read_items(source, display, observer, stats, strict, progress, before, tell, spill)
    finally:
        read = 0
        if source.size is not None:
            read = source.size
        elif tell is not None:
            try:
                read = tell()
            except (ValueError, OSError):  # (closed)
                read = 0
        stats.bytes = before + read


def _read_items(
    source: Source,
    display: str,
    observer: Observer,
    stats: ScanStats,
    strict: bool,
    progress: Progress | None,
    before: int,
    tell: Callable[[], int] | None,
    spill: RowsOut | None = None,
) -> bool:
    corpus = observer.corpus
    file = -1  # the path is indexed at its first record: a skipped file leaves no trace
    hint = signal_hint(source.path)
    read = 0
    for item in source.items:
        if isinstance(item, Skipped):
            stats.skipped.append((display, item.reason))
            return False
        if file < 0:
            if isinstance(item, Message) and item.signal is None and _not_otlp(item.payload, hint):
                stats.skipped.append(
                    (
                        display,
                        "not OTLP (protobuf or binary data without the shape of an OTLP request)",
                    )
                )
                return False
            file = corpus.path_index(display, lines=source.lines)
        if isinstance(item, Unreadable):
            _unreadable(corpus, display, item.record, item.message, strict, source.lines, file)
            continue
        if isinstance(item, Foreign):
            _foreign(corpus, item, file, source.lines)
            continue
        stats.records += _observe(observer, corpus, item, file, hint, display, strict, source.lines)
        if spill is not None and spill.due(corpus):
            fresh = spill.spill(corpus)
            if fresh is not None:  # (handed off whole: read on into a new corpus)
                observer.rebind(fresh)
                corpus = fresh
                file = corpus.path_index(display, lines=source.lines)
        if progress is not None:
            if tell is None:  # (a stream that cannot tell: what it decoded stands in)
                read += len(item.payload)
            else:
                try:  # noqa: SIM105 - per record: a try costs nothing, a context manager does
                    read = tell()
                except (ValueError, OSError):  # (closed: the last position stands)
                    pass
            progress(display, stats.records, before + read)
    return True


#: The problem kind of lines that are not OTLP in an OTLP/JSON Lines file (RD003).
FOREIGN = "foreign"
NOT_JSON = "not JSON"
OTHER_JSON = "JSON, not OTLP"


def _foreign(corpus: Corpus, item: Foreign, file: int, lines: bool) -> None:
    # (The rule words the finding from the count and samples: shards of one file add up.)
    detail = OTHER_JSON if item.json else NOT_JSON
    corpus.add_problem(
        FOREIGN,
        detail,
        detail,
        (file, item.record),
        item.record if lines else None,
        item.count,
        samples=item.samples,
    )


def _not_otlp(payload: bytes, hint: Signal | None) -> bool:
    """A file's first message is some other program's protobuf (then the file is skipped)."""
    return bool(payload) and classify(payload, hint) is None and not has_otlp_shape(payload)


def _observe(
    observer: Observer,
    corpus: Corpus,
    msg: Message,
    file: int,
    hint: Signal | None,
    path: str,
    strict: bool,
    lines: bool,
) -> int:
    loc = (file, msg.record)
    line = msg.record if lines else None
    for dev in msg.deviations:
        corpus.add_problem(dev.kind, dev.detail, dev.message, loc, line, dev.count)
    signal = msg.signal if msg.signal is not None else classify(msg.payload, hint)
    if signal is None:
        if not msg.payload:
            return 0
        _unreadable(
            corpus,
            path,
            msg.record,
            "cannot tell whether this protobuf message holds traces, metrics or logs",
            strict,
            lines,
            file,
        )
        return 0
    try:
        if isinstance(msg, Columns):  # (canonical OTLP/JSON, already in columns)
            return fold(observer, msg.prepared, file, msg.record)
        return observer.observe(signal, msg.payload, file, msg.record)
    except NestingTooDeep as exc:
        # (What the message held before the value that nests too deep is kept.)
        _unreadable(corpus, path, msg.record, str(exc), strict, lines, file)
        return 0
    except (DecodeError, ValueError) as exc:
        # ValueError: bytes observe keeps undecoded (attributes, resources) and decodes by
        # hand (``core.wire``) that are no protobuf, which a full parse would refuse too.
        _unreadable(
            corpus,
            path,
            msg.record,
            f"not a valid OTLP {signal.label} message ({exc})",
            strict,
            lines,
            file,
        )
        return 0


def _unreadable(
    corpus: Corpus,
    path: str,
    record: int,
    message: str,
    strict: bool,
    lines: bool,
    file: int | None = None,
) -> None:
    if strict:
        raise OtlintError(
            f"{path}:{record}: {message} (without --strict, unreadable records are reported and skipped)"
        )
    if file is None:
        file = corpus.path_index(path, lines=lines)
    corpus.add_problem(
        "unreadable", message.split(" (", 1)[0], message, (file, record), record if lines else None
    )
