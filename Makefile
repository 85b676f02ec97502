# Set-up is two commands: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The SDK's OTLP JSON Lines file exporter pins an older otlp-common than the gRPC
# exporter; installed second and without its pins, both import and work.
JSON_FILE_EXPORTER := opentelemetry-exporter-otlp-json-file==0.66b1 \
	opentelemetry-exporter-otlp-json-common==0.66b1 opentelemetry-proto-json==0.66b2

.PHONY: run test lint typecheck pytest explore bench docs samples clean mermaid

# Mermaid's own parser (and the DOM it needs) for tests/reporters/test_markdown.py, which
# parses every chart otlint draws with it; without node or npm the test is skipped.
MERMAID := mermaid@11.17.2 jsdom@29.1.1

$(BIN)/otlint: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.dev: $(BIN)/otlint
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps $(JSON_FILE_EXPORTER)
	@touch $@

# The two sample dumps are two captures of the same shop: check each on its own.
run: $(BIN)/otlint
	@echo "== sample_traces/healthy: every join holds"
	@$(BIN)/otlint check sample_traces/healthy --exit-zero
	@echo
	@echo "== sample_traces/broken: five planted breaks"
	@$(BIN)/otlint check sample_traces/broken --exit-zero

test: $(VENV)/.dev
	$(BIN)/ruff check otlint tests scripts bench
	$(BIN)/ruff format --check otlint tests scripts bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check otlint tests scripts bench
	$(BIN)/ruff format --check otlint tests scripts bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/python -m pytest

# The property tests with new examples each run (the suite draws the same ones every time).
explore: $(VENV)/.dev
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest tests/readers/test_properties.py \
		tests/configs/test_config_properties.py tests/configs/test_yaml_one_pass.py

docs: $(VENV)/.dev
	$(BIN)/python scripts/gen_rules_doc.py

samples: $(VENV)/.dev
	$(BIN)/python scripts/sdkworld.py sample_traces

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

mermaid: .mermaid/.installed

.mermaid/.installed:
	@command -v npm >/dev/null || { echo "npm not found: the Mermaid parser test will be skipped"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix .mermaid $(MERMAID)
	@touch $@

clean:
	rm -rf $(VENV) .mermaid build *.egg-info .mypy_cache .pytest_cache .ruff_cache
