from otlint.cli import main

main()
