# Two commands: `make demo` and `make test`; each sets itself up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The console chat as 张丽; the demo database (var/demo.sqlite3) is created when missing.
demo: $(STAMP)
	@$(BIN)/jiaolian chat --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy bot handlers scheduler storage
	$(BIN)/python -m pytest -q

# Benchmarks print figures (speed is never a test): the parser, the Feishu webhook, digests,
# delivery under platform faults.
bench: $(STAMP)
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/delivery.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
