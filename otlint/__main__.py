from otlint.cli import run

run()
