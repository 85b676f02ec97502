"""``otlint check-config FILE...``: the pre-commit hook that stops join breaks before they ship.

``otlint.cli.main`` loads this module when the command is used.
"""

from __future__ import annotations

import sys
from typing import Unpack

import click

from otlint.cli.main import CommonOptions, _batch_gc, _settings, _with_common, emit

__all__ = ["check_config"]

#: Skipped files named one by one on stderr; past this, a count.
MAX_SKIPPED_NOTES = 5


@click.command("check-config")
@click.argument("files", nargs=-1)
@_with_common
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say on stderr what each file was read as, and why each skipped file was skipped.",
)
def check_config(files: tuple[str, ...], verbose: bool, **opts: Unpack[CommonOptions]) -> None:
    """Check configuration files for join breaks before any telemetry exists.

    Reads OpenTelemetry Collector YAML, the SDK declarative configuration, .env files,
    docker-compose files, Kubernetes workloads and ConfigMaps, and OpenTelemetry
    Operator Instrumentation resources (multi-document YAML too), detected from their
    content (collector configs in ConfigMaps and OpenTelemetryCollector resources
    too); folders are searched for *.yaml, *.yml, .env* and *.env. Other files are
    skipped with a note; --verbose says what each file was read as. Suppress a
    finding with `# otlint: disable=CODE` on its line, or `# otlint:
    disable-file=CODE`.
    """
    from otlint.run.check_config import build_config_report, evaluate_configs, read_configs

    settings = _settings(opts)
    _batch_gc()  # the YAML node trees are millions of containers and no cycles
    if not files:
        click.echo("otlint: note: no files to check", err=True)
        sys.exit(0)
    facts = read_configs(files)
    if verbose:
        for path, what in facts.read_as:
            click.echo(f"otlint: note: {path}: {what}", err=True)
    elif not opts["quiet"]:
        _notes(facts.skipped)
    findings = evaluate_configs(facts, settings)
    report = build_config_report(facts, findings, show_values=opts["show_values"])
    emit(report, settings, opts)


def _notes(skipped: list[tuple[str, str]]) -> None:
    """Say on stderr which files were not checked, and why (briefly when there are many)."""
    for path, why in skipped[:MAX_SKIPPED_NOTES]:
        click.echo(f"otlint: note: {path}: skipped: {why}", err=True)
    if len(skipped) > MAX_SKIPPED_NOTES:
        click.echo(
            f"otlint: note: skipped {len(skipped) - MAX_SKIPPED_NOTES} more files that are not "
            "configuration otlint reads (--verbose names each)",
            err=True,
        )
