# Every target sets up what it needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-unit lint bench browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The data plane compiled with mypyc (src/aloft/local/compiled.py), for the sources as they are
# now: a minute when they changed, nothing otherwise. Without it the daemon runs the sources.
setup: $(STAMP)
	@$(PY) -m aloft.local.compiled || echo "make setup: the daemon will run the Python sources"

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

demo: setup
	$(PY) scripts/demo.py

# Test files run on $(TEST_WORKERS) workers (pytest-xdist), each file whole on one worker: its
# module fixtures (a cloud, a corpus check) are set up once. One worker per core, at most 4 (a
# container may show the host's cores); TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
test: setup browser
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests

test-unit: setup
	$(PY) -m pytest -q tests/unit

# radon cc exits 0 whatever it finds: any function graded E or F (cyclomatic complexity over 30)
# it prints fails the lint.
lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --strict src
	@complex="$$($(VENV)/bin/radon cc -n E -s src)"; \
	if [ -n "$$complex" ]; then echo "$$complex"; \
		echo "radon: functions graded E or F above: split them (make lint)"; exit 1; fi

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf .aloft build dist .pytest_cache .mypy_cache .ruff_cache
