from otlint.cli.main import run

run()
