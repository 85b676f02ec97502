"""``otlint diff BEFORE AFTER``: what a boundary, a deploy or a config change did to the joins.

``otlint.cli.main`` loads this module when the command is used.
"""

from __future__ import annotations

import os
import sys

import click

from otlint.cli.main import _leave, _settings, skip_notes
from otlint.core.errors import OtlintError

__all__ = ["diff"]


@click.command("diff")
@click.argument("before")
@click.argument("after")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Diff format (markdown: tables for a GitHub step summary or a PR comment).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the diff to FILE."
)
@click.option("--quiet", "-q", is_flag=True, help="No notes on stderr (errors are still printed).")
@click.option(
    "--config",
    "-c",
    "config",
    type=click.Path(dir_okay=False),
    help="Config file (default: .otlint.yaml or pyproject.toml found upward).",
)
@click.option(
    "--isolated", is_flag=True, help="Ignore config files: default rule set plus flags only."
)
@click.option(
    "--select",
    multiple=True,
    help="Rules to run: codes, prefixes, join names or ALL (comma-separated).",
)
@click.option(
    "--extend-select", multiple=True, help="Rules to run in addition to the configured ones."
)
@click.option("--ignore", multiple=True, help="Rules not to run: codes, prefixes or join names.")
@click.option(
    "--show-values",
    is_flag=True,
    help="Include resource values that changed (secret-looking values stay masked).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when a join broke.")
@click.option(
    "--strict",
    is_flag=True,
    help="Stop at the first unreadable record of a capture (exit 2) instead of reporting it.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to read each capture with (default: the number of cores).",
)
def diff(
    before: str,
    after: str,
    fmt: str,
    output: str | None,
    quiet: bool,
    config: str | None,
    isolated: bool,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    show_values: bool,
    exit_zero: bool,
    strict: bool,
    jobs: int | None,
) -> None:
    """Compare two runs of the same services: joins broken or healed, resource keys lost
    or rewritten, ids rewritten, records dropped, findings new and fixed.

    BEFORE and AFTER are each a capture (files or folders of OTLP dumps), a Corpus shard
    (`check --state`), a JSON report (`check --format json`), or a folder of
    configuration files (what `check-config` reads). Exit 1 when a join broke, 0 when
    none did, 2 when an input cannot be read.
    """
    from otlint.report.diff import render
    from otlint.run.diff import compare, load

    settings = _settings(
        {
            "config": config,
            "isolated": isolated,
            "select": select,
            "extend_select": extend_select,
            "ignore": ignore,
        }
    )
    n = jobs or os.cpu_count() or 1
    sides = [
        load(p, settings, show_values=show_values, jobs=n, strict=strict) for p in (before, after)
    ]
    if not quiet:
        for side in sides:
            if side.stats is not None:
                skip_notes(side.stats.skipped, "files that are not OTLP")
    result = compare(*sides, show_values=show_values)
    if output:
        try:
            out = open(output, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise OtlintError(
                f"{output}: cannot write the diff ({exc.strerror}): give -o a path in a folder that exists"
            ) from None
        with out:
            render(result, out, fmt)
    else:
        render(result, sys.stdout, fmt)
    code = 0 if exit_zero else result.exit_code
    from otlint.cli import main

    if main._leave_fast:
        _leave(code)
    sys.exit(code)
