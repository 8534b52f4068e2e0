# flowc: the README's commands. Every target that needs the environment goes through `setup`,
# which is idempotent: it rebuilds .venv only when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup bytecode graphviz-binary chromium-binary demo test lint typecheck pytest bench clean

setup: $(STAMP) graphviz-binary chromium-binary bytecode

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dask,ray,dev]'
	touch $(STAMP)

# An editable install leaves flowc's own modules uncompiled, and where Python may not write
# bytecode (PYTHONDONTWRITEBYTECODE, common in containers) every flowc command would compile
# them all again: about 40 ms of each start. Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q flowc

graphviz-binary:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "warning: could not install graphviz; SVG/PNG output will be unavailable"; \
	  else echo "note: 'dot' not found; install Graphviz for SVG/PNG output"; fi; }

# The HTML view's tests open the page in a real headless browser: Debian's chromium, driven by
# the playwright package (never `playwright install`: it downloads browsers of its own).
chromium-binary:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the HTML view's browser tests will be skipped"; \
	  else echo "note: 'chromium' not found; the HTML view's browser tests will be skipped"; fi; }

demo: setup
	$(BIN)/python examples/demo.py

lint: setup
	$(BIN)/ruff check flowc tests bench examples
	$(BIN)/ruff format --check flowc tests bench examples

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
